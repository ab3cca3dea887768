"""History in SQLite: a new server on the same file lists the jobs of the old one."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from jupyter_bgjobs.server.history import History
from jupyter_bgjobs.server.query import Query
from jupyter_bgjobs.server.store import JobStore

from .server_helpers import Api, Notebooks, check_against_openapi
from .server_process import ServerProcess


@pytest.fixture
def history_file(tmp_path: Path) -> Path:
    return tmp_path / "history" / "jobs.sqlite"


@pytest.fixture
def jp_server_config(server_kernelspecs: None, history_file: Path) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_bgjobs": True}},
        "BgJobsApp": {"history_file": str(history_file)},
    }


def exists(path: Path) -> bool:
    return path.exists()


def files_like(directory: Path, pattern: str) -> list[bytes]:
    """The contents of the files in ``directory`` whose names match ``pattern``."""
    return [path.read_bytes() for path in directory.glob(pattern)]


async def test_a_new_server_on_the_same_file_lists_the_history(
    jp_serverapp: Any, history_file: Path, api: Api, notebooks: Notebooks
) -> None:
    _, tab = await notebooks.open("kept.ipynb")
    await tab.run("import time")
    await tab.run("%job -n done 6*7")
    await tab.run("%job -n broken 1/0")
    await tab.run("%job -n sleeper time.sleep(60)")
    settled = {"done": "finished", "broken": "failed", "sleeper": "running"}
    before = await api.wait_for_jobs(lambda jobs: {job["name"]: job["status"] for job in jobs} == settled)
    tab.close()
    # Stop the extension as a server shutdown does (it stops before the kernels).
    (app,) = jp_serverapp.extension_manager.extension_apps["jupyter_bgjobs"]
    await app.stop_extension()
    assert exists(history_file)

    server = ServerProcess(args=[f"--BgJobsApp.history_file={history_file}"])
    await server.start()
    try:
        page = await server.json("GET", "jupyter-bgjobs/jobs")
        check_against_openapi("GET", "jobs", 200, page)
        after = {job["name"]: job for job in page["jobs"]}
        assert {name: job["status"] for name, job in after.items()} == {
            "done": "finished",
            "broken": "failed",
            "sleeper": "lost",
        }
        old = {job["name"]: job for job in before}
        for name in ("done", "broken"):
            assert after[name] == {**old[name], "elapsed": after[name]["elapsed"]}
        assert after["done"]["result_repr"] == "42"
        assert after["broken"]["error"]["traceback"] == old["broken"]["error"]["traceback"]
        assert after["sleeper"]["error"]["evalue"] == "the server stopped before the job ended"
        assert {tuple(job["paths"]) for job in after.values()} == {("kept.ipynb",)}
        assert page["counts"] == {"running": 0, "finished": 1, "dead": 2}
        kernels = await server.json("GET", "jupyter-bgjobs/kernels")
        assert kernels == []
    finally:
        await server.stop()


def record(uid: str, kernel_id: str, ended: float, status: str = "finished") -> dict[str, Any]:
    return {
        "uid": uid,
        "number": 0,
        "name": uid,
        "code": "1",
        "kind": "expr",
        "status": status,
        "group": None,
        "created": ended - 1,
        "started": ended - 1,
        "ended": ended,
        "result_repr": "1",
        "error": None,
        "output_tail": "",
        "progress": None,
        "kill_requested": False,
        "blocked_in": None,
    }


async def test_retention_forgets_old_jobs_of_gone_kernels_on_disk_too(tmp_path: Path) -> None:
    path = str(tmp_path / "retention.sqlite")
    log = logging.getLogger("test")
    now = time.time()
    store = JobStore(History(path, log), max_age_days=1, max_jobs=2)
    await store.open()
    store.apply_snapshot("gone", [record(f"g{i}", "gone", now - 60 * i) for i in range(4)])
    store.apply_snapshot("ancient", [record("a0", "ancient", now - 3 * 86400)])
    store.apply_snapshot("live", [record(f"l{i}", "live", now - 5 * 86400 - i) for i in range(3)])
    await store.prune(["live"], now)
    kept = sorted(job["uid"] for job in (await store.page(Query(limit=100)))[0])
    assert kept == ["g0", "g1", "l0", "l1", "l2"]  # the two newest of gone kernels; live kernels keep all
    await store.close()

    again = JobStore(History(path, log), max_age_days=1, max_jobs=2)
    await again.open(["live"])
    assert sorted(job["uid"] for job in (await again.page(Query(limit=100)))[0]) == kept
    await again.close()


async def test_an_unreadable_history_file_is_moved_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    store = JobStore(History(str(path), logging.getLogger("test")))
    await store.open()
    store.apply_snapshot("k", [record("u1", "k", time.time())])
    await store.close()
    aside = files_like(tmp_path, "broken.sqlite.unreadable-*")
    assert len(aside) == 1
    assert aside[0].startswith(b"this is not a database")
    assert "is unreadable" in caplog.text

    again = JobStore(History(str(path), logging.getLogger("test")))
    await again.open()
    assert [job["uid"] for job in (await again.page(Query()))[0]] == ["u1"]
    await again.close()


async def test_a_record_sqlite_cannot_take_does_not_stop_the_history(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = str(tmp_path / "bad-record.sqlite")
    history = History(path, logging.getLogger("test"), batch_window=0)
    history.start()
    # A lone surrogate in the uid: SQLite cannot bind it.
    history.put({**record("\ud800", "k", time.time()), "kernel_id": "k"})
    await asyncio.wrap_future(history.flush())
    history.put({**record("u2", "k", time.time()), "kernel_id": "k"})
    await asyncio.wrap_future(history.flush())
    stored = await asyncio.wrap_future(history.call(lambda db: [uid for (uid,) in db.execute("SELECT uid FROM jobs")]))
    assert stored == ["u2"]
    assert "could not write 1 job(s)" in caplog.text
    await asyncio.wrap_future(history.close())


V1_SCHEMA = """
CREATE TABLE jobs (uid TEXT PRIMARY KEY, kernel_id TEXT NOT NULL, created REAL NOT NULL, ended REAL,
                   updated REAL NOT NULL, record TEXT NOT NULL);
CREATE INDEX jobs_ended ON jobs (ended);
PRAGMA user_version = 1;
"""


def file_pragma(path: Path, name: str) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute(f"PRAGMA {name}").fetchone()[0])


async def test_a_history_file_of_version_1_is_migrated(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "v1.sqlite"
    now = time.time()
    old = [{**record(f"v{i}", "gone", now - i), "kernel_id": "gone", "paths": ["old.ipynb"]} for i in range(30)]
    old.append({**record("r0", "gone", now - 100, status="running"), "kernel_id": "gone", "paths": []})
    with closing(sqlite3.connect(path)) as db:
        db.executescript(V1_SCHEMA)
        rows = [(r["uid"], r["kernel_id"], r["created"], r["ended"], now, json.dumps(r)) for r in old]
        db.executemany("INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?)", [*rows, ("bad", "k", now, None, now, "{not json")])
        db.commit()
    assert file_pragma(path, "auto_vacuum") == 0
    caplog.set_level(logging.INFO)

    store = JobStore(History(str(path), logging.getLogger("test")))
    await store.open()
    page, cursor, counts = await store.page(Query(limit=1000))
    assert [job["uid"] for job in page] == ["v0", *(f"v{i}" for i in range(1, 30)), "r0"]
    assert cursor is None
    assert counts == {"running": 0, "finished": 30, "dead": 1}
    assert page[-1]["error"]["evalue"] == "the server stopped before the job ended"
    assert [job["uid"] for job in (await store.page(Query(text="OLD.IPYNB", statuses=frozenset({"finished"}))))[0]] == [
        f"v{i}" for i in range(30)
    ]
    assert store.get("v0") is None  # in the file, not in memory
    await store.close()
    assert "migrated 31 job(s)" in caplog.text
    assert (file_pragma(path, "user_version"), file_pragma(path, "auto_vacuum")) == (2, 2)  # 2: incremental

    again = JobStore(History(str(path), logging.getLogger("test")))
    await again.open()
    assert len((await again.page(Query(limit=1000)))[0]) == 31
    await again.close()


def big_record(uid: str, kernel_id: str, ended: float) -> dict[str, Any]:
    return {**record(uid, kernel_id, ended), "kernel_id": kernel_id, "paths": ["soak.ipynb"], "output_tail": "x" * 4000}


async def test_pruning_gives_the_space_back_and_never_touches_a_running_job(tmp_path: Path) -> None:
    path = tmp_path / "soak.sqlite"
    history = History(str(path), logging.getLogger("test"), batch_window=0)
    store = JobStore(history, max_age_days=30, max_jobs=200)
    await store.open()
    assert await store.prune([]) == 0  # after the one opening starts, on an empty file
    running = {**record("runs", "live", time.time() - 10 * 86400), "status": "running", "ended": None}
    store.apply_snapshot("live", [running, record("live-done", "live", time.time() - 40 * 86400)])
    sizes = []
    for round_ in range(4):
        now = time.time()
        for i in range(2000):
            history.put(big_record(f"r{round_}-{i}", f"gone{round_}", now - i), past=True)
        await store.flush()
        grown = path.stat().st_size
        removed = await store.prune(["live"], now)
        assert removed == (1800 if round_ == 0 else 2000)
        await asyncio.wrap_future(history.call(lambda db: db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()))
        sizes.append((grown, path.stat().st_size))
        page, _, counts = await store.page(Query(limit=1000))
        assert counts == {"running": 1, "finished": 201, "dead": 0}
        assert [job["uid"] for job in page if job["kernel_id"] == "live"] == ["runs", "live-done"]
    # Each round wrote about 9 MB; after its prune the file is back to what 200 jobs take.
    assert all(grown > 8_000_000 for grown, _ in sizes), sizes
    assert all(kept < 2_500_000 for _, kept in sizes), sizes
    assert max(kept for _, kept in sizes) < 1.5 * min(kept for _, kept in sizes), sizes
    # Retention by age spares the running kernel's jobs, even a 40-day-old one, and never a running job.
    store.max_jobs = 0
    await store.prune(["live"], time.time() + 365 * 86400)
    page, _, counts = await store.page(Query(limit=1000))
    assert [job["uid"] for job in page] == ["runs", "live-done"]
    await store.close()
