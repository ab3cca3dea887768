"""Faults with full accounting: after each fault, every job known before it is listed once, as it should be.

Three kernels started through notebook sessions (ipykernel 7 and 6), each
with a known set of jobs: finished (with a result), failed (with a
traceback), killed through the REST API, and running (sleeping). Then, one
after the other:

1. SIGKILL of kernel A's process (its restarter brings it back);
2. a restart of kernel B through ``POST api/kernels/{id}/restart``;
3. the relay's ZeroMQ channels to kernel C closed under it (the kernel lives on);
4. kernel C closing the relay's events comm;
5. the server stopped, and a new server started on the same SQLite history
   (a subprocess: jupyter_server does not adopt the kernels of another
   server, so the jobs that were running there are ``lost``).

After each fault ``GET jupyter-bgjobs/jobs`` must list every job of the
ledger exactly once, finished results and failed tracebacks unchanged,
running jobs ``lost`` where their kernel died or restarted and still running
where it survived, and a job started after the fault must be tracked.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from jupyter_bgjobs import protocol

from .server_helpers import Api, Fetch, KernelTab, Notebooks, check_against_openapi, start_kernel
from .server_process import ServerProcess

# What stays the same, whatever happens to a job.
IDENTITY = ("uid", "kernel_id", "number", "name", "code", "kind", "group", "created", "started", "paths")
SETTLE = 90.0  # seconds: generous, the machine is shared


@pytest.fixture
def history_file(tmp_path: Path) -> Path:
    return tmp_path / "history" / "jobs.sqlite"


@pytest.fixture
def jp_server_config(server_kernelspecs: None, history_file: Path) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_bgjobs": True}},
        # The restarter notices a dead kernel within half a second (3 s by default).
        "KernelRestarter": {"time_to_dead": 0.5},
        "BgJobsApp": {"history_file": str(history_file)},
    }


@dataclass
class Ledger:
    """Every job the test made, as REST showed it once settled, and the status it must have now."""

    known: dict[str, dict[str, Any]] = field(default_factory=dict)  # uid -> job
    expected: dict[str, str] = field(default_factory=dict)  # uid -> status
    lost_because: dict[str, str] = field(default_factory=dict)  # uid -> JobLost evalue
    faults: list[str] = field(default_factory=list)
    checks: int = 0  # jobs checked, summed over every accounting

    def add(self, job: dict[str, Any]) -> None:
        assert job["uid"] not in self.known
        self.known[job["uid"]] = job
        self.expected[job["uid"]] = job["status"]

    def lose(self, kernel_id: str, reason: str) -> None:
        """The kernel's running jobs must now be lost, for this reason."""
        for uid, job in self.known.items():
            if job["kernel_id"] == kernel_id and self.expected[uid] == "running":
                self.expected[uid] = "lost"
                self.lost_because[uid] = reason

    def named(self, name: str) -> dict[str, Any]:
        (job,) = [job for job in self.known.values() if job["name"] == name]
        return job

    def settled(self, jobs: list[dict[str, Any]]) -> bool:
        statuses = {job["uid"]: job["status"] for job in jobs}
        return all(statuses.get(uid) == status for uid, status in self.expected.items())

    def account(self, page: dict[str, Any]) -> int:
        """Check a full ``GET jobs`` page against the ledger, with exact values; how many jobs."""
        jobs = page["jobs"]
        uids = [job["uid"] for job in jobs]
        assert len(uids) == len(set(uids)), Counter(uids).most_common(3)
        assert set(uids) == set(self.known), set(uids) ^ set(self.known)
        assert page["next_cursor"] is None
        for job in jobs:
            before, status = self.known[job["uid"]], self.expected[job["uid"]]
            assert job["status"] == status, (job, status)
            assert {key: job[key] for key in IDENTITY} == {key: before[key] for key in IDENTITY}
            if status == "lost":
                assert job["error"] == {"ename": "JobLost", "evalue": self.lost_because[job["uid"]], "traceback": []}
                assert job["ended"] is not None
                assert (job["result_repr"], job["kill_requested"], job["blocked_in"]) == (None, False, None)
            elif status == "running":
                assert (job["ended"], job["error"], job["result_repr"]) == (None, None, None)
            else:  # ended before the fault: nothing of it may change
                assert job == {**before, "elapsed": job["elapsed"]}
                assert job["elapsed"] == pytest.approx(before["elapsed"], abs=0.002)
        groups = Counter(protocol.GROUP_OF_STATE[status] for status in self.expected.values())
        assert page["counts"] == {group: groups[group] for group in protocol.GROUPS}
        self.checks += len(jobs)
        return len(jobs)


GetJobs = Callable[[], Awaitable[dict[str, Any]]]


async def settle(get_jobs: GetJobs, ledger: Ledger, fault: str | None = None) -> None:
    """Wait until every job has its expected status, then account for all of them (after ``fault``)."""
    deadline = time.monotonic() + SETTLE
    while True:
        page = await get_jobs()
        if ledger.settled(page["jobs"]):
            break
        assert time.monotonic() < deadline, f"after {fault}: {[(j['name'], j['status']) for j in page['jobs']]}"
        await asyncio.sleep(0.1)
    if fault is not None:
        ledger.faults.append(fault)
    ledger.account(page)


async def wait_named(get_jobs: GetJobs, name: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE
    while True:
        named = [job for job in (await get_jobs())["jobs"] if job["name"] == name]
        if named and named[0]["status"] == status:
            assert len(named) == 1, named
            return named[0]
        assert time.monotonic() < deadline, f"{name} never {status}: {named}"
        await asyncio.sleep(0.1)


async def populate(api: Api, get_jobs: GetJobs, tab: KernelTab, tag: str, ledger: Ledger) -> None:
    """Four jobs in the kernel of ``tab``: finished, failed, killed, running."""
    await tab.run("import time")
    await tab.run(f"%job -n {tag}-done 6*7")
    await tab.run(f"%job -n {tag}-broken 1/0")
    await tab.run(f"%job -n {tag}-victim time.sleep(600)")
    await tab.run(f"%job -n {tag}-sleeper time.sleep(600)")
    victim = await wait_named(get_jobs, f"{tag}-victim", "running")
    await api.call("POST", "jobs/{uid}/kill", expect=202, uid=victim["uid"])
    done = await wait_named(get_jobs, f"{tag}-done", "finished")
    broken = await wait_named(get_jobs, f"{tag}-broken", "failed")
    killed = await wait_named(get_jobs, f"{tag}-victim", "killed")
    sleeper = await wait_named(get_jobs, f"{tag}-sleeper", "running")
    assert done["result_repr"] == "42"
    assert (broken["error"]["ename"], broken["error"]["evalue"]) == ("ZeroDivisionError", "division by zero")
    assert "1/0" in "".join(broken["error"]["traceback"])
    assert killed["error"]["ename"] == "JobKilled"
    for job in (done, broken, killed, sleeper):
        ledger.add(job)


async def track_new(get_jobs: GetJobs, tab: KernelTab, name: str, ledger: Ledger) -> None:
    """A job started now is listed, finished, with its result."""
    await tab.run(f"%job -n {name} {name!r}.upper()")
    job = await wait_named(get_jobs, name, "finished")
    assert job["result_repr"] == repr(name.upper())
    ledger.add(job)


async def new_tab(api: Api, notebooks: Notebooks, kernel_id: str) -> KernelTab:
    await api.wait_for_kernel(kernel_id, timeout=SETTLE)
    return notebooks.tab(kernel_id)


@pytest.mark.timeout(400)
async def test_every_job_is_accounted_for_after_each_fault(
    jp_fetch: Fetch,
    jp_serverapp: Any,
    history_file: Path,
    api: Api,
    notebooks: Notebooks,
    subtests: pytest.Subtests,
) -> None:
    # The faults come one after the other on the same kernels and ledger (a
    # fault must leave the other kernels' jobs as they were): each is a
    # subtest named for what must hold after it.
    began = time.monotonic()
    ledger = Ledger()

    async def get_jobs() -> dict[str, Any]:
        page: dict[str, Any] = await api.get("jobs", limit=1000)
        return page

    kernels = {
        "a": await start_kernel(jp_fetch, "a.ipynb"),
        "b": await start_kernel(jp_fetch, "b.ipynb", name="python3-ipk6"),
        "c": await start_kernel(jp_fetch, "c.ipynb"),
    }
    tabs = {tag: await new_tab(api, notebooks, kernel_id) for tag, kernel_id in kernels.items()}
    hub = jp_serverapp.web_app.settings["bgjobs_hub"]
    for tag, tab in tabs.items():
        await populate(api, get_jobs, tab, tag, ledger)
    await settle(get_jobs, ledger)

    # 1. SIGKILL of a kernel's process: its running jobs are lost, it comes back.
    with subtests.test("SIGKILL of kernel a: its running jobs lost, the other jobs unchanged, a new job tracked"):
        os.kill(await tabs["a"].value("__import__('os').getpid()"), signal.SIGKILL)
        ledger.lose(kernels["a"], "the kernel died")
        await settle(get_jobs, ledger, "SIGKILL of kernel a")
        tabs["a"].close()
        tabs["a"] = await new_tab(api, notebooks, kernels["a"])
        await track_new(get_jobs, tabs["a"], "a-after-sigkill", ledger)

    # 2. A restart through the REST API.
    with subtests.test("REST restart of kernel b: its running jobs lost, the other jobs unchanged, a new job tracked"):
        await jp_fetch("api", "kernels", kernels["b"], "restart", method="POST", body="")
        ledger.lose(kernels["b"], "the kernel was restarted")
        await settle(get_jobs, ledger, "REST restart of kernel b")
        tabs["b"].close()
        tabs["b"] = await new_tab(api, notebooks, kernels["b"])
        await track_new(get_jobs, tabs["b"], "b-after-restart", ledger)

    # 3. The relay's connection to a live kernel breaks: there is no public
    # way to break a ZeroMQ connection, so its channels are closed under it.
    # A job started meanwhile must be listed once the relay is back.
    with subtests.test("relay channels to kernel c closed: a job started meanwhile listed, nothing lost"):
        dropped = hub.relays[kernels["c"]]
        dropped.transport.client.stop_channels()
        await tabs["c"].run("%job -n c-during-drop 'during'.upper()")
        job = await wait_named(get_jobs, "c-during-drop", "finished")
        assert hub.relays[kernels["c"]] is not dropped
        assert job["result_repr"] == "'DURING'"
        ledger.add(job)
        await settle(get_jobs, ledger, "relay channels to kernel c closed")
        await track_new(get_jobs, tabs["c"], "c-after-drop", ledger)
        assert (await api.wait_for_kernel(kernels["c"]))["counts"] == {"running": 1, "finished": 3, "dead": 2}

    # 4. The kernel closes the relay's events comm: the relay opens another.
    with subtests.test("events comm closed by kernel c: the relay opens another, kills and new jobs still heard"):
        await tabs["c"].run(
            "for _comm in [c for c in get_ipython().kernel.comm_manager.comms.values()"
            f" if c.target_name == {protocol.EVENTS_TARGET!r}]: _comm.close()"
        )
        await track_new(get_jobs, tabs["c"], "c-after-comm-close", ledger)
        events_comms = (
            "[c.target_name for c in get_ipython().kernel.comm_manager.comms.values()"
            " if c.target_name.startswith('jupyter_bgjobs')]"
        )
        assert sorted(await tabs["c"].value(events_comms)) == [protocol.CONTROL_TARGET, protocol.EVENTS_TARGET]
        await settle(get_jobs, ledger, "events comm of kernel c closed by the kernel")
        sleeper = ledger.named("c-sleeper")
        assert (await api.call("POST", "jobs/{uid}/kill", expect=202, uid=sleeper["uid"])).body["kill_requested"]
        ledger.expected[sleeper["uid"]] = "killed"
        ledger.known[sleeper["uid"]] = await wait_named(get_jobs, "c-sleeper", "killed")
        await tabs["c"].run("%job -n c-sleeper-2 time.sleep(600)")
        ledger.add(await wait_named(get_jobs, "c-sleeper-2", "running"))
        await settle(get_jobs, ledger)
        notebooks.close()  # the tabs close before the server's extension stops

    # 5. The server stops (its extension first, as at a shutdown); a new
    # server on the same history lists every job, the running ones lost.
    with subtests.test("server restart on the same history: each job listed once, running ones lost, new jobs tracked"):
        (app,) = jp_serverapp.extension_manager.extension_apps["jupyter_bgjobs"]
        await app.stop_extension()
        ledger.lose(kernels["c"], "the server stopped before the job ended")
        second = ServerProcess(args=[f"--BgJobsApp.history_file={history_file}"], start_timeout=SETTLE)
        await second.start()

        async def second_jobs() -> dict[str, Any]:
            page: dict[str, Any] = await second.json("GET", "jupyter-bgjobs/jobs", params={"limit": "1000"})
            check_against_openapi("GET", "jobs", 200, page)
            return page

        try:
            await settle(second_jobs, ledger, "server restart on the same history")
            kernel_id = await second.start_session("fresh.ipynb")
            client = await second.kernel_client(kernel_id, timeout=SETTLE)
            try:
                await client.execute_interactive("%job -n fresh 'new server'", timeout=60, output_hook=lambda msg: None)
                fresh = await wait_named(second_jobs, "fresh", "finished")
            finally:
                client.stop_channels()
            assert (fresh["kernel_id"], fresh["result_repr"], fresh["paths"]) == (
                kernel_id,
                "'new server'",
                ["fresh.ipynb"],
            )
            ledger.add(fresh)
            ledger.account(await second_jobs())
        finally:
            await second.stop()

    statuses = Counter(ledger.expected.values())
    print(
        f"\nfaults: {len(ledger.faults)} survived ({', '.join(ledger.faults)});"
        f" {len(ledger.known)} jobs accounted for ({dict(sorted(statuses.items()))}),"
        f" {ledger.checks} job checks, in {time.monotonic() - began:.0f} s"
    )
