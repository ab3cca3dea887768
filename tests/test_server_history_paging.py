"""A server on a history bigger than what it holds in memory: pages, filters, search and counts
over the jobs of running kernels (memory) and of gone ones (SQLite), exactly as one list."""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path
from typing import Any

import pytest

from jupyter_bgjobs.server.history import History
from jupyter_bgjobs.server.search import searchable

from .server_helpers import Api, Notebooks

GONE_KERNELS = 5
PER_KERNEL = 500
STATES = ["finished", "finished", "failed", "killed", "lost"]


def past_record(index: int, now: float, rng: random.Random) -> dict[str, Any]:
    kernel = index % GONE_KERNELS
    status = STATES[index % len(STATES)]
    if index == 1234:
        status = "running"  # the server stopped while it ran: lost when the server opens the file
    # Created from an hour before to an hour after now, so the running notebook's jobs fall in
    # between; every 50th shares its creation time with the job before it (the uid decides).
    created = now - 3600 + rng.random() * 7200
    return {
        "uid": f"past{index:05d}x{rng.randrange(16**6):06x}",
        "number": index // GONE_KERNELS,
        "name": f"Needle {index}" if index % 97 == 0 else f"job {index}",
        "code": f"work({index})",
        "kind": "func",
        "status": status,
        "group": None,
        "created": created,
        "started": created,
        "ended": None if status == "running" else created + 1,
        "result_repr": "1" if status == "finished" else None,
        "error": {"ename": "E", "evalue": f"broke {index}", "traceback": ["t"]} if status == "failed" else None,
        "output_tail": "",
        "progress": None,
        "kill_requested": False,
        "blocked_in": None,
        "where": None,
        "kernel_id": f"gone{kernel}",
        "paths": [f"past/nb{kernel}.ipynb"],
    }


@pytest.fixture
def past_jobs(tmp_path: Path) -> list[dict[str, Any]]:
    """2,500 jobs of 5 gone kernels, written to the history file through ``History`` before the server starts."""
    rng = random.Random(13)
    now = time.time()
    records = [past_record(index, now, rng) for index in range(GONE_KERNELS * PER_KERNEL)]
    for index in range(50, len(records), 50):
        records[index]["created"] = records[index - 1]["created"]
    history = History(str(tmp_path / "paging.sqlite"), logging.getLogger("test"), batch_window=0)
    history.start()
    for record in records:
        history.put(record, past=True)
    history.flush().result(60)
    history.close().result(60)
    return records


@pytest.fixture
def jp_server_config(server_kernelspecs: None, tmp_path: Path, past_jobs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_bgjobs": True}},
        "BgJobsApp": {"history_file": str(tmp_path / "paging.sqlite"), "history_max_jobs": 100_000},
    }


def group(status: str) -> str:
    return {"queued": "running", "running": "running", "finished": "finished"}.get(status, "dead")


async def walk(api: Api, limit: int, **params: str) -> list[dict[str, Any]]:
    """Every page of GET jobs, following next_cursor."""
    jobs: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await api.get("jobs", limit=str(limit), **params, **({"cursor": cursor} if cursor else {}))
        assert len(page["jobs"]) <= limit
        jobs.extend(page["jobs"])
        cursor = page["next_cursor"]
        if cursor is None:
            return jobs


async def test_pages_filters_search_and_counts_span_memory_and_history(
    jp_serverapp: Any, api: Api, notebooks: Notebooks, past_jobs: list[dict[str, Any]]
) -> None:
    kernel_id, tab = await notebooks.open("live.ipynb")
    await tab.run("import time")
    await tab.run("%job -n needle-live 6*7")
    await tab.run("%job -n broken 1/0")
    await tab.run("%job -n sleeper time.sleep(600)")
    settled = {"needle-live": "finished", "broken": "failed", "sleeper": "running"}
    live = await api.wait_for_jobs(
        lambda jobs: {job["name"]: job["status"] for job in jobs} == settled, kernel_id=kernel_id
    )
    store = jp_serverapp.web_app.settings["bgjobs_store"]
    assert len(store) == 3  # memory holds the running kernel's jobs only

    everything = await walk(api, 100)
    by_uid = {job["uid"]: job for job in everything}
    assert len(everything) == len(by_uid) == len(past_jobs) + 3
    # Newest first, then by uid: the order of the API, across memory and the file.
    created = {r["uid"]: r["created"] for r in past_jobs}
    for job in live:
        created[job["uid"]] = store.get(job["uid"])["created"]
    expected_order = sorted(created, key=lambda uid: (-created[uid], uid))
    assert [job["uid"] for job in everything] == expected_order

    # What the file held is served as it was written; the job that ran when the server stopped is lost.
    record = next(r for r in past_jobs if r["name"] == "job 7")
    served = by_uid[record["uid"]]
    assert (served["kernel_id"], served["paths"], served["status"], served["code"]) == (
        "gone2",
        ["past/nb2.ipynb"],
        "failed",
        "work(7)",
    )
    lost = by_uid[past_jobs[1234]["uid"]]
    assert (lost["status"], lost["error"]["evalue"]) == ("lost", "the server stopped before the job ended")

    def expect(keep: Any) -> list[str]:
        return [uid for uid in expected_order if keep(by_uid[uid])]

    def counted(jobs: list[dict[str, Any]]) -> dict[str, int]:
        counts = dict.fromkeys(("running", "finished", "dead"), 0)
        for job in jobs:
            counts[group(job["status"])] += 1
        return counts

    cases: list[tuple[dict[str, str], Any]] = [
        ({}, lambda job: True),
        ({"status": "dead"}, lambda job: group(job["status"]) == "dead"),
        ({"status": "running,killed"}, lambda job: job["status"] in ("running", "killed")),
        ({"kernel_id": "gone3"}, lambda job: job["kernel_id"] == "gone3"),
        (
            {"kernel_id": "gone3", "status": "finished"},
            lambda job: job["kernel_id"] == "gone3" and job["status"] == "finished",
        ),
        (
            {"path": "past/nb1.ipynb", "status": "dead"},
            lambda job: job["paths"] == ["past/nb1.ipynb"] and group(job["status"]) == "dead",
        ),
        ({"path": "past/nb1.ipynb", "kernel_id": "gone1"}, lambda job: job["kernel_id"] == "gone1"),
        ({"path": "past/nb1.ipynb", "kernel_id": "gone2"}, lambda job: False),
        ({"q": "NEEDLE"}, lambda job: "needle" in searchable(job)),  # trigram index, and memory
        (
            {"q": "needle", "status": "finished"},
            lambda job: "needle" in searchable(job) and job["status"] == "finished",
        ),
        ({"q": "ob 12"}, lambda job: "ob 12" in searchable(job)),  # many matches: walked in order
        ({"q": "e1"}, lambda job: "e1" in searchable(job)),  # two characters: no trigram, every row checked
        (
            {"q": "broke 1", "kernel_id": "gone1"},
            lambda job: "broke 1" in searchable(job) and job["kernel_id"] == "gone1",
        ),
        ({"q": "no such text"}, lambda job: False),
        ({"q": "100%_"}, lambda job: False),  # LIKE's wildcards are text
    ]
    for params, keep in cases:
        jobs = await walk(api, 37, **params)
        assert [job["uid"] for job in jobs] == expect(keep), params
        without_status = {key: value for key, value in params.items() if key != "status"}
        first = await api.get("jobs", limit="1", **params)
        assert first["counts"] == counted(
            [by_uid[uid] for uid in expected_order if _matches(by_uid[uid], without_status)]
        )

    # One past job: read, then removed, from the file.
    uid = expected_order[-1]
    assert await api.get("jobs/{uid}", uid=uid) == by_uid[uid]
    await api.call("DELETE", "jobs/{uid}", expect=204, uid=uid)
    await api.call("GET", "jobs/{uid}", expect=404, uid=uid)
    after = await api.get("jobs", limit="1")
    assert sum(after["counts"].values()) == len(everything) - 1


def _matches(job: dict[str, Any], params: dict[str, str]) -> bool:
    """Whether a job passes the filters other than status (as the API's counts count)."""
    if "kernel_id" in params and job["kernel_id"] != params["kernel_id"]:
        return False
    if "path" in params and params["path"] not in job["paths"]:
        return False
    return "q" not in params or params["q"].casefold() in searchable(job)
