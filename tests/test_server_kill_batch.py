"""Single kills through REST that arrive together go to the kernel as ``kill_many`` requests.

Real kernels (ipykernel 7 and 6) through a real server; the kernel records
which control operations it parsed, so that the test sees what the server
sent. A kernel whose extension has no ``kill_many`` (simulated by taking the
op out of the kernel's protocol module: it then answers ``unknown_op`` as an
older extension does) gets one ``kill`` per job, with the same answers.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from .conftest import KERNELS
from .server_helpers import Api, KernelTab, Notebooks

COUNT = 20

# In the kernel: remember the op of every control request it parses.
RECORD_OPS = """
import jupyter_bgjobs.protocol as _protocol
_parsed_ops = []
_parse_request = _protocol.parse_request
def _recording(data):
    parsed = _parse_request(data)
    _parsed_ops.append(parsed[1])
    return parsed
_protocol.parse_request = _recording
"""

# In the kernel: an extension from before kill_many (it answers unknown_op).
WITHOUT_KILL_MANY = "_protocol.OPS = tuple(op for op in _protocol.OPS if op != 'kill_many')"


async def start_sleepers(tab: KernelTab, api: Api, kernel_id: str) -> dict[str, dict[str, Any]]:
    await tab.run("import time")
    await tab.run("%job -n done 6 * 7")
    await tab.run(f"for i in range({COUNT}): jobs.new(time.sleep, 60, name=f's{{i}}')")
    await api.wait_for_kernel(kernel_id)
    jobs = await api.wait_for_jobs(
        lambda jobs: [job["status"] for job in jobs].count("running") == COUNT and len(jobs) == COUNT + 1
    )
    return {job["name"]: job for job in jobs}


async def kill_together(api: Api, uids: list[str], expect: list[int]) -> list[Any]:
    replies = await asyncio.gather(
        *(api.call("POST", "jobs/{uid}/kill", expect=code, uid=uid) for uid, code in zip(uids, expect))
    )
    return [reply.body for reply in replies]


@pytest.mark.parametrize("kernel_name", KERNELS)
async def test_single_kills_arriving_together_are_batched_with_exact_answers(
    kernel_name: str, api: Api, notebooks: Notebooks
) -> None:
    kernel_id, tab = await notebooks.open("kills.ipynb", kernel_name)
    await tab.run(RECORD_OPS)
    jobs = await start_sleepers(tab, api, kernel_id)
    sleepers = [jobs[f"s{i}"]["uid"] for i in range(COUNT)]

    bodies = await kill_together(api, [*sleepers, jobs["done"]["uid"], "no-such-job"], [202] * COUNT + [409, 404])
    for uid, body in zip(sleepers, bodies):
        assert (body["uid"], body["status"], body["kill_requested"], body["paths"]) == (
            uid,
            "running",
            True,
            ["kills.ipynb"],
        )
    assert bodies[COUNT]["message"] == f"job {jobs['done']['uid']} is not running (it is finished)"
    assert bodies[COUNT + 1]["message"] == "no job with uid no-such-job"

    final = await api.wait_for_jobs(lambda jobs: [job["status"] for job in jobs].count("killed") == COUNT)
    assert {job["name"]: job["status"] for job in final} == {
        "done": "finished",
        **{f"s{i}": "killed" for i in range(COUNT)},
    }
    assert {job["error"]["ename"] for job in final if job["status"] == "killed"} == {"JobKilled"}
    ops = await tab.value("_parsed_ops")
    # Every kill went in a kill_many; those that came while one was under way went together.
    assert set(ops) == {"kill_many"}
    assert len(ops) < COUNT

    # Killed already: the store says so (409), the kernel is not asked.
    body = (await kill_together(api, [sleepers[0]], [409]))[0]
    assert body["message"] == f"job {sleepers[0]} is not running (it is killed)"


@pytest.mark.parametrize("kernel_name", KERNELS)
async def test_a_kernel_without_kill_many_gets_single_kills(kernel_name: str, api: Api, notebooks: Notebooks) -> None:
    kernel_id, tab = await notebooks.open("old.ipynb", kernel_name)
    await tab.run(RECORD_OPS)
    await tab.run(WITHOUT_KILL_MANY)
    jobs = await start_sleepers(tab, api, kernel_id)
    sleepers = [jobs[f"s{i}"]["uid"] for i in range(COUNT)]

    bodies = await kill_together(api, sleepers[:5], [202] * 5)
    for uid, body in zip(sleepers, bodies):
        # As the kernel answered it: asked to die, and perhaps dead already.
        assert (body["uid"], body["kill_requested"]) == (uid, True)
        assert body["status"] in ("running", "killed")
    # The first batch's kill_many was refused (not recorded: it did not parse); then one kill each.
    assert await tab.value("_parsed_ops") == ["kill"] * 5
    # Later kills go one by one at once.
    await kill_together(api, sleepers[5:], [202] * (COUNT - 5))
    assert await tab.value("_parsed_ops") == ["kill"] * COUNT
    final = await api.wait_for_jobs(lambda jobs: [job["status"] for job in jobs].count("killed") == COUNT)
    assert {job["name"]: job["status"] for job in final}["done"] == "finished"
