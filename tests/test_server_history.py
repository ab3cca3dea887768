"""History in SQLite: a new server on the same file lists the jobs of the old one."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from jupyter_bgjobs.server.history import History
from jupyter_bgjobs.server.store import JobStore, Query

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
