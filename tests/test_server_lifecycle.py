"""Kernels come and go: restart, death by a signal, shutdown, attaching late, detaching."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from typing import Any

import pytest

from jupyter_bgjobs import protocol
from jupyter_bgjobs.server.hub import RelayHub
from jupyter_bgjobs.server.query import Query
from jupyter_bgjobs.server.store import JobStore

from .server_helpers import Api, Fetch, KernelTab, Notebooks, start_kernel


@pytest.fixture
def jp_server_config(server_kernelspecs: None) -> dict[str, Any]:
    # The restarter notices a dead kernel within half a second (3 s by default).
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_bgjobs": True}},
        "KernelRestarter": {"time_to_dead": 0.5},
    }


def statuses(jobs: list[dict[str, Any]]) -> dict[str, str]:
    return {f"{job['name']}": job["status"] for job in jobs}


async def two_jobs(api: Api, tab: KernelTab, kernel_id: str) -> dict[str, dict[str, Any]]:
    """A finished job ("done") and a running one ("sleeper") in the kernel."""
    await tab.run("import time")
    await tab.run("%job -n done 6*7")
    await tab.run("%job -n sleeper time.sleep(60)")
    await api.wait_for_kernel(kernel_id)
    jobs = await api.wait_for_jobs(lambda jobs: statuses(jobs) == {"done": "finished", "sleeper": "running"})
    return {job["name"]: job for job in jobs}


async def test_restart_loses_running_jobs_keeps_finished_ones_and_tracks_new_ones(
    jp_fetch: Fetch, api: Api, notebooks: Notebooks
) -> None:
    kernel_id, tab = await notebooks.open("restart.ipynb")
    before = await two_jobs(api, tab, kernel_id)
    await jp_fetch("api", "kernels", kernel_id, "restart", method="POST", body="")
    jobs = await api.wait_for_jobs(lambda jobs: statuses(jobs) == {"done": "finished", "sleeper": "lost"})
    after = {job["name"]: job for job in jobs}
    assert after["done"] == {**before["done"], "elapsed": after["done"]["elapsed"]}
    assert after["done"]["result_repr"] == "42"
    lost = after["sleeper"]
    assert lost["error"] == {"ename": "JobLost", "evalue": "the kernel was restarted", "traceback": []}
    assert lost["ended"] is not None
    assert lost["paths"] == ["restart.ipynb"]

    await api.wait_for_kernel(kernel_id)
    await tab.run("%job -n fresh 'new'")
    jobs = await api.wait_for_jobs(lambda jobs: statuses(jobs).get("fresh") == "finished")
    fresh = jobs[0]
    assert (fresh["name"], fresh["number"], fresh["kernel_id"], fresh["result_repr"]) == (
        "fresh",
        0,
        kernel_id,
        "'new'",
    )
    assert len(jobs) == 3


async def test_a_kernel_killed_by_a_signal_loses_its_running_jobs_and_is_followed_after_its_restart(
    api: Api, notebooks: Notebooks
) -> None:
    kernel_id, tab = await notebooks.open("doomed.ipynb")
    await two_jobs(api, tab, kernel_id)
    os.kill(await tab.value("__import__('os').getpid()"), signal.SIGKILL)
    jobs = await api.wait_for_jobs(lambda jobs: statuses(jobs) == {"done": "finished", "sleeper": "lost"}, timeout=30)
    assert {job["name"]: job["error"] for job in jobs}["sleeper"]["evalue"] == "the kernel died"
    assert {job["name"]: job["result_repr"] for job in jobs}["done"] == "42"

    await api.wait_for_kernel(kernel_id, timeout=60)
    tab.close()
    tab = notebooks.tab(kernel_id)
    await tab.run("%job -n reborn 1+1")
    jobs = await api.wait_for_jobs(lambda jobs: statuses(jobs).get("reborn") == "finished")
    assert [job["name"] for job in jobs] == ["reborn", "sleeper", "done"]


async def test_shutdown_loses_running_jobs_and_history_keeps_the_paths(
    jp_fetch: Fetch, jp_serverapp: Any, api: Api, notebooks: Notebooks
) -> None:
    kernel_id, tab = await notebooks.open("gone.ipynb")
    await two_jobs(api, tab, kernel_id)
    tab.close()
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")
    jobs = await api.wait_for_jobs(lambda jobs: statuses(jobs) == {"done": "finished", "sleeper": "lost"})
    assert {job["paths"][0] for job in jobs} == {"gone.ipynb"}
    assert [job["name"] for job in await api.jobs(path="gone.ipynb", status="dead")] == ["sleeper"]
    assert await api.get("kernels") == []
    assert kernel_id not in jp_serverapp.web_app.settings["bgjobs_hub"].relays
    reply = await api.call("POST", "kernels/{kernel_id}/kill", expect=404, kernel_id=kernel_id)
    assert "no running kernel" in reply.body["message"]


async def test_a_relay_attaches_to_kernels_that_ran_before_it_and_detaches_cleanly(
    jp_serverapp: Any, api: Api, notebooks: Notebooks
) -> None:
    kernel_id, tab = await notebooks.open("early.ipynb")
    count_comms = (
        "sum(1 for c in get_ipython().kernel.comm_manager.comms.values() if c.target_name.startswith('jupyter_bgjobs'))"
    )
    await two_jobs(api, tab, kernel_id)
    assert await tab.value(count_comms) == 2

    # A hub started now, as the extension of a server started after the
    # kernel would be: it finds the kernel and its jobs.
    store = JobStore()
    late = RelayHub(jp_serverapp.kernel_manager, jp_serverapp.session_manager, store)
    await late.start(None)
    try:
        assert await late.relays[kernel_id].wait_ready(30)
        page, _, counts = store.query(Query())
        assert {record["name"]: record["status"] for record in page} == {"done": "finished", "sleeper": "running"}
        assert counts == {"running": 1, "finished": 1, "dead": 0}
        assert {tuple(record["paths"]) for record in page} == {("early.ipynb",)}
        assert await tab.value(count_comms) == 4
    finally:
        await late.stop()
    for _ in range(100):  # the comm_close messages are on their way
        if await tab.value(count_comms) == 2:
            break
        await asyncio.sleep(0.05)
    assert await tab.value(count_comms) == 2
    # The kernel and the server's own relay are unaffected.
    await tab.run("%job -n after 'still here'")
    await api.wait_for_jobs(lambda jobs: statuses(jobs).get("after") == "finished")


async def test_the_relay_reads_only_its_own_comm_traffic(
    jp_fetch: Fetch, jp_serverapp: Any, api: Api, notebooks: Notebooks
) -> None:
    kernel_id = await start_kernel(jp_fetch, "loud.ipynb")
    await api.wait_for_kernel(kernel_id)
    relay = jp_serverapp.web_app.settings["bgjobs_hub"].relays[kernel_id]
    tab = notebooks.tab(kernel_id)
    before = relay.iopub_messages
    await tab.run("for i in range(20000): print('line', i)")
    await tab.run("from IPython.display import display; [display({'n': i}, raw=True) for i in range(200)];")
    assert relay.iopub_messages == before
    await tab.run("%job -n quiet 1")
    await api.wait_for_jobs(lambda jobs: statuses(jobs) == {"quiet": "finished"})
    assert 1 <= relay.iopub_messages - before <= 3  # the job's updates on the events comm


async def test_the_relay_refuses_bad_pushes_and_resyncs_on_a_gap(api: Api, notebooks: Notebooks) -> None:
    kernel_id, tab = await notebooks.open("gaps.ipynb")
    await tab.run("%job -n real 1")
    await api.wait_for_kernel(kernel_id)
    await api.wait_for_jobs(lambda jobs: statuses(jobs) == {"real": "finished"})
    fake = {
        **(await api.jobs())[0],
        "uid": "fake",
        "name": "fake",
        "created": 1.0,
        "started": None,
        "ended": None,
        "status": "running",
    }
    del fake["kernel_id"], fake["paths"], fake["elapsed"]
    pushes = [
        {"v": 1, "type": "update", "seq": 10_000, "jobs": [fake]},  # a gap
        {"v": 1, "type": "update", "seq": 1, "jobs": [{**fake, "status": "sleeping"}]},  # a bad job
        {"v": 1, "type": "jumble"},
        {"v": 1, "type": "error", "error": {"code": "bad_request", "message": "test"}},
        "not even an object",
    ]
    await tab.run(
        "events = [c for c in get_ipython().kernel.comm_manager.comms.values()"
        f" if c.target_name == {protocol.EVENTS_TARGET!r}]\n"
        f"for push in __import__('json').loads({json.dumps(json.dumps(pushes))}):\n"
        "    for comm in events: comm.send(push)"
    )
    await tab.run("%job -n later 2")
    jobs = await api.wait_for_jobs(lambda jobs: statuses(jobs).get("later") == "finished")
    assert statuses(jobs) == {"later": "finished", "real": "finished"}
