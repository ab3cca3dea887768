"""Clearing the history of one kernel or notebook: ``DELETE jupyter-bgjobs/jobs?kernel_id=&path=``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .server_helpers import Api, Fetch, Notebooks
from .test_server_events import EventStream


@pytest.fixture
def jp_server_config(server_kernelspecs: None, tmp_path: Path) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_bgjobs": True}},
        "BgJobsApp": {"history_file": str(tmp_path / "clear.sqlite")},
    }


def statuses(jobs: list[dict[str, Any]]) -> dict[str, str]:
    return {job["name"]: job["status"] for job in jobs}


async def test_clearing_removes_the_ended_jobs_of_a_kernel_or_path_and_nothing_else(
    jp_fetch: Fetch, jp_ws_fetch: Any, jp_serverapp: Any, api: Api, notebooks: Notebooks
) -> None:
    # A notebook whose kernel is gone: its jobs are history (one of them lost).
    gone_id, gone = await notebooks.open("gone.ipynb")
    await gone.run("import time")
    await gone.run("%job -n old-answer 6*7")
    await gone.run("%job -n old-sleeper time.sleep(600)")
    await api.wait_for_jobs(lambda jobs: statuses(jobs) == {"old-answer": "finished", "old-sleeper": "running"})
    gone.close()
    await jp_fetch("api", "kernels", gone_id, method="DELETE")
    await api.wait_for_jobs(lambda jobs: statuses(jobs)["old-sleeper"] == "lost")
    # Once the kernel is gone its jobs leave the server's memory for the history file.
    store = jp_serverapp.web_app.settings["bgjobs_store"]
    await api.wait_for_jobs(lambda jobs: all(store.get(job["uid"]) is None for job in jobs))

    kept_id, tab = await notebooks.open("kept.ipynb")
    other_id, other = await notebooks.open("other.ipynb")
    await tab.run("import time")
    await tab.run("%job -n done 6*7")
    await tab.run("%job -n broken 1/0")
    await tab.run("%job -n doomed time.sleep(600)")
    await tab.run("%job -n sleeper time.sleep(600)")
    await tab.run("waiting = jobs.run_expression('1', globals(), name='waiting', start=False)")
    await other.run("%job -n elsewhere 'b'")
    doomed = next(
        job for job in await api.wait_for_jobs(lambda jobs: "doomed" in statuses(jobs)) if job["name"] == "doomed"
    )
    await api.wait_for_kernel(kept_id)
    await api.call("POST", "jobs/{uid}/kill", expect=202, uid=doomed["uid"])
    everything = {
        "old-answer": "finished",
        "old-sleeper": "lost",
        "done": "finished",
        "broken": "failed",
        "doomed": "killed",
        "sleeper": "running",
        "waiting": "queued",
        "elsewhere": "finished",
    }
    jobs = await api.wait_for_jobs(lambda jobs: statuses(jobs) == everything)
    uid = {job["name"]: job["uid"] for job in jobs}

    # Neither filter, or an empty one: refused, nothing removed.
    reply = await api.call("DELETE", "jobs", params={"other": "x"}, expect=400)
    assert (
        reply.body["message"] == "give kernel_id or path (or both): the kernel or notebook whose ended jobs to remove"
    )
    for params in ({"kernel_id": ""}, {"kernel_id": "", "path": "kept.ipynb"}, {"path": "", "kernel_id": kept_id}):
        reply = await api.call("DELETE", "jobs", params=params, expect=400)
        empty = next(name for name, value in params.items() if value == "")
        assert reply.body["message"] == (
            f"{empty} is empty; give the kernel id or notebook path whose ended jobs to remove"
        )
    # Filters that match no ended job: nothing removed.
    assert (await api.call("DELETE", "jobs", params={"kernel_id": "nosuchkernel"})).body == {"removed": 0}
    both = {"kernel_id": other_id, "path": "kept.ipynb"}
    assert (await api.call("DELETE", "jobs", params=both)).body == {"removed": 0}
    assert statuses(await api.jobs()) == everything

    stream = EventStream(await jp_ws_fetch("api", "events", "subscribe"))
    try:
        # A running kernel: its ended jobs go, in the server and in the kernel; queued and running stay.
        reply = await api.call("DELETE", "jobs", params={"kernel_id": kept_id})
        assert reply.body == {"removed": 3}
        events = await stream.until(lambda events: len([u for e in events for u in e["removed"]]) >= 3)
        assert sorted(u for event in events for u in event["removed"]) == sorted(
            [uid["done"], uid["broken"], uid["doomed"]]
        )
        assert statuses(await api.jobs(kernel_id=kept_id)) == {"sleeper": "running", "waiting": "queued"}
        assert await tab.value("sorted((j.name, j.status) for j in jobs.list())") == [
            ["sleeper", "running"],
            ["waiting", "queued"],
        ]
        page = await api.get("jobs", kernel_id=kept_id)
        assert page["counts"] == {"running": 2, "finished": 0, "dead": 0}

        # A notebook whose kernel is gone, by its path.
        stream.events.clear()
        reply = await api.call("DELETE", "jobs", params={"path": "gone.ipynb"})
        assert reply.body == {"removed": 2}
        events = await stream.until(lambda events: len([u for e in events for u in e["removed"]]) >= 2)
        assert sorted(u for event in events for u in event["removed"]) == sorted(
            [uid["old-answer"], uid["old-sleeper"]]
        )
        await api.call("GET", "jobs/{uid}", expect=404, uid=uid["old-answer"])
        assert (await api.call("DELETE", "jobs", params={"path": "gone.ipynb"})).body == {"removed": 0}
    finally:
        stream.socket.close()

    # Everything else is as it was.
    left = {name: status for name, status in everything.items() if name in ("sleeper", "waiting", "elsewhere")}
    page = await api.get("jobs")
    assert statuses(page["jobs"]) == left
    assert page["counts"] == {"running": 2, "finished": 1, "dead": 0}
    assert await other.value("[j.name for j in jobs.list()]") == ["elsewhere"]
