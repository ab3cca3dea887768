"""The REST contract held by schemathesis (issue 14).

schemathesis (pinned in the test extras) reads the shipped openapi.json and
runs every one of its checks over the examples, coverage, fuzzing and
stateful phases against this test's live server with the extension. The
server has a real kernel whose jobs are in every state (queued, running,
finished, failed, killed) and the lost jobs of a kernel that was shut down:
every job on this server is the test's own, so the kills and deletions that
schemathesis makes touch nothing else. A fixed seed and a bounded number of
examples keep the run reproducible and under a minute.

The run passes only when schemathesis reports no failure at all: the
document says exactly what the server takes and answers, 403 included.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from jupyter_bgjobs.server.contract import OPENAPI_PATH

from .server_helpers import Api, Fetch, KernelTab, start_kernel

SEED = 20261201
MAX_EXAMPLES = 25
PHASES = "examples,coverage,fuzzing,stateful"

EVERY_STATE = {
    "waiting": "queued",
    "sleeper": "running",
    "sleepers [1/2]": "running",
    "sleepers [2/2]": "running",
    "answer": "finished",
    "broken": "failed",
    "doomed": "killed",
}


@pytest.fixture
def jp_base_url() -> str:
    # A base URL of plain characters: schemathesis joins it to the paths itself.
    return "/bgjobs-st/"


def schemathesis_command(base_url: str, token: str, report: Path) -> list[str]:
    """``st run`` as docs/rest.md shows it, bounded for a test."""
    return [
        str(Path(sys.executable).with_name("st")),
        "run",
        str(OPENAPI_PATH),
        f"--url={base_url}",
        f"--header=Authorization: token {token}",
        "--checks=all",
        f"--phases={PHASES}",
        f"--seed={SEED}",
        f"--max-examples={MAX_EXAMPLES}",
        "--workers=1",
        "--request-timeout=30",
        "--report=junit",
        f"--report-junit-path={report}",
    ]


async def make_jobs_in_every_state(api: Api, jp_fetch: Fetch, serverapp: Any) -> tuple[str, KernelTab]:
    """A kernel with a job in each state but lost, and the lost jobs of a kernel shut down."""
    gone_id = await start_kernel(jp_fetch, "gone.ipynb")
    gone = KernelTab(serverapp, gone_id)
    try:
        await gone.run("import time")
        await gone.run("%job -n orphan time.sleep(600)")
        await api.wait_for_jobs(lambda jobs: [job["status"] for job in jobs] == ["running"], kernel_id=gone_id)
    finally:
        gone.close()
    await jp_fetch("api", "kernels", gone_id, method="DELETE")

    kernel_id = await start_kernel(jp_fetch, "contract.ipynb")
    tab = KernelTab(serverapp, kernel_id)
    await tab.run("import time")
    await tab.run("%job -n answer 6*7")
    await tab.run("%job -n broken 1/0")
    await tab.run("%job -n sleeper time.sleep(600)")
    await tab.run("%job -n doomed time.sleep(600)")
    await tab.run("group = jobs.map(time.sleep, [600, 600], workers=2, name='sleepers')")
    # Made and never started: it stays queued.
    await tab.run("waiting = jobs.run_expression('1', globals(), name='waiting', start=False)")
    jobs = await api.wait_for_jobs(lambda jobs: len(jobs) == len(EVERY_STATE), kernel_id=kernel_id)
    doomed = next(job for job in jobs if job["name"] == "doomed")
    await api.call("POST", "jobs/{uid}/kill", expect=202, uid=doomed["uid"])
    await api.wait_for_jobs(
        lambda jobs: {job["name"]: job["status"] for job in jobs} == EVERY_STATE, kernel_id=kernel_id
    )
    await api.wait_for_jobs(lambda jobs: [job["status"] for job in jobs] == ["lost"], kernel_id=gone_id)
    await api.wait_for_kernel(kernel_id)
    return kernel_id, tab


@pytest.mark.timeout(180)
async def test_schemathesis_finds_no_failure_against_a_live_server(
    jp_fetch: Fetch, jp_serverapp: Any, jp_http_port: int, jp_base_url: str, tmp_path: Path
) -> None:
    api = Api(jp_fetch)
    kernel_id, tab = await make_jobs_in_every_state(api, jp_fetch, jp_serverapp)
    try:
        report = tmp_path / "junit.xml"
        command = schemathesis_command(
            f"http://127.0.0.1:{jp_http_port}{jp_base_url.rstrip('/')}", jp_serverapp.identity_provider.token, report
        )
        started = time.monotonic()
        # A subprocess: the server runs on this test's event loop, which stays free while it waits.
        process = await asyncio.create_subprocess_exec(
            *command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=tmp_path,
            env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""},
        )
        output, _ = await process.communicate()
        seconds = time.monotonic() - started
        text = output.decode(errors="replace")
        (tmp_path / "schemathesis.txt").write_text(text)  # kept by pytest for a look after a failure
        assert process.returncode == 0, text[-20000:]
        assert "No issues found" in text, text[-5000:]
        assert seconds < 60, f"schemathesis took {seconds:.0f} s"
        # The kernel lived through it, and still answers.
        await tab.run("assert 6 * 7 == 42")
        kernels = {kernel["kernel_id"]: kernel for kernel in await api.get("kernels")}
        assert kernels[kernel_id]["bgjobs"] == "ready"
        print(json.dumps({"schemathesis_seconds": round(seconds, 1)}))
    finally:
        tab.close()
