"""History at scale (issue 13): a server on a history of 1,000,000 jobs of gone kernels.

Fills a SQLite history file directly with the extension's own schema and
row format (``history_schema``: fast, no kernels), as ``history_max_jobs =
1,000,000`` lets a team keep: 500 gone kernels x 2,000 jobs, 70 % finished,
20 % failed, 10 % killed or lost, one notebook path per kernel. Then starts a
real server on it (``tests/server_process.py``) and measures, against the
bars of docs/reliability.md:

- start-up: from starting the server process until ``GET jupyter-bgjobs/jobs``
  answers, against a server on an empty history in the same run (bar < 2 s);
- server RSS after start, and after walking every page (memory that does
  not grow with the history), against the server on an empty history;
- p50/p95 of ``GET jobs?status=dead&limit=100``, of ``GET jobs?limit=100``,
  of ``q=`` searches (a rare text and a common one), ``kernel_id=`` and
  ``path=`` (bar p95 < 50 ms);
- paging with the cursor: time per page of 100 at the start, middle and end
  of the history (constant?), and a walk through every job with pages of
  1,000, checking that each job is seen exactly once.

    .venv/bin/python bench/bench_history.py [--rows 1000000] [--samples 200] [--no-walk] [--keep | --file F]

Requests are sent one at a time from this process (``http.client``); the
figures include the client's own time.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from harness import ServerProcess, percentile

from jupyter_bgjobs.server import history_schema
from jupyter_bgjobs.server.cursor import encode_cursor
from jupyter_bgjobs.server.search import searchable

JOBS_PER_KERNEL = 2000
RARE = "zebracorn"  # in 1 job of 1,000
STATUS_CYCLE = ["finished"] * 7 + ["failed"] * 2 + ["killed", "lost"]


def fake_record(index: int, kernel: str, created: float) -> dict[str, Any]:
    """A job as the store writes it: a mix of states, with code, output, a traceback for failures."""
    status = STATUS_CYCLE[index % 11]
    rare = f" # {RARE}" if index % 1000 == 7 else ""
    error = None
    if status == "failed":
        error = {"ename": "ValueError", "evalue": f"bad value {index}", "traceback": ["Traceback ...", "ValueError"]}
    elif status == "lost":
        error = {"ename": "JobLost", "evalue": "the kernel is gone", "traceback": []}
    return {
        "uid": secrets.token_hex(16),
        "number": index % JOBS_PER_KERNEL,
        "name": f"load batch {index % 97}",
        "code": f"fetch_and_clean(source={index % 53}, day={index % 365}){rare}",
        "kind": "func",
        "status": status,
        "group": None,
        "created": created,
        "started": created + 0.01,
        "ended": created + 1.5,
        "result_repr": f"<{index} rows>" if status == "finished" else None,
        "error": error,
        "output_tail": f"reading source {index % 53}\nwrote {index} rows\n",
        "progress": {"done": 10, "total": 10, "desc": "rows"},
        "kill_requested": False,
        "blocked_in": None,
        "where": None,
        "kernel_id": kernel,
        "paths": [f"team/notebook-{kernel[:8]}.ipynb"],
    }


def fill(path: Path, rows: int) -> None:
    """Write ``rows`` past jobs into a new history file."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA auto_vacuum = INCREMENTAL")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    history_schema.create(db)
    # Bulk: rows first, then what the triggers would have kept (job_paths, counts, search index).
    for trigger in ("jobs_insert", "jobs_update", "jobs_delete", "paths_insert", "paths_delete"):
        db.execute(f"DROP TRIGGER {trigger}")
    start = time.time() - 86400 * 20
    kernels = [secrets.token_hex(18) for _ in range(max(1, rows // JOBS_PER_KERNEL))]
    batch = []
    for index in range(rows):
        created = start + index * 0.5
        record = fake_record(index, kernels[index // JOBS_PER_KERNEL % len(kernels)], created)
        batch.append(history_schema.row_values(record, True, created + 2, searchable))
        if len(batch) == 10_000:
            db.executemany(history_schema.UPSERT, batch)
            batch = []
    db.executemany(history_schema.UPSERT, batch)
    db.execute(
        "INSERT INTO job_paths SELECT DISTINCT p.value, j.status, j.key, j.uid"
        " FROM jobs AS j, json_each(j.record, '$.paths') AS p"
    )
    db.execute("INSERT INTO counts SELECT 'all', '', status, count(*) FROM jobs GROUP BY status")
    db.execute("INSERT INTO counts SELECT 'kernel', kernel_id, status, count(*) FROM jobs GROUP BY kernel_id, status")
    db.execute("INSERT INTO counts SELECT 'path', path, status, count(*) FROM job_paths GROUP BY path, status")
    if history_schema.has_search_index(db):
        db.execute("INSERT INTO search_index (search_index) VALUES ('rebuild')")
    history_schema.create(db)  # the triggers again
    db.execute(f"PRAGMA user_version = {history_schema.SCHEMA_VERSION}")
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def landmarks(path: Path) -> dict[str, Any]:
    """A kernel and a path of the history, and cursors at its middle and 5,000 jobs before its end."""
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT count(*) FROM jobs").fetchone()[0]
        order = "SELECT created, uid, kernel_id, record FROM jobs ORDER BY key, uid LIMIT 1 OFFSET ?"
        created, uid, kernel, _ = db.execute(order, (rows // 2,)).fetchone()
        end_created, end_uid, _, record = db.execute(order, (max(0, rows - min(5000, rows // 10)),)).fetchone()
    return {
        "rows": rows,
        "kernel": kernel,
        "path": json.loads(record)["paths"][0],
        "middle": encode_cursor(created, uid),
        "end": encode_cursor(end_created, end_uid),
    }


def file_mb(folder: Path) -> float:
    """The size of the history file and its write-ahead log."""
    return sum(path.stat().st_size for path in folder.glob("history.sqlite*")) / 1e6


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Client:
    """Blocking GETs to the server, one at a time, timed."""

    def __init__(self, server: ServerProcess) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port)
        self.headers = {"Authorization": f"token {server.token}"}

    def get(self, params: dict[str, str]) -> tuple[float, Any]:
        began = time.perf_counter()
        self.connection.request("GET", "/jupyter-bgjobs/jobs?" + urlencode(params), headers=self.headers)
        response = self.connection.getresponse()
        body = response.read()
        seconds = time.perf_counter() - began
        assert response.status == 200, (response.status, body[:300])
        return seconds, json.loads(body)

    def timed(self, params: dict[str, str], samples: int) -> list[float]:
        self.get(params)  # warm
        return [self.get(params)[0] for _ in range(samples)]


async def started(args: list[str], log: Path) -> tuple[ServerProcess, float]:
    server = ServerProcess(args=args, log=str(log))
    began = time.perf_counter()
    await server.start()
    return server, time.perf_counter() - began


def line(what: str, times: list[float], bar: float | None = None) -> None:
    p50, p95 = percentile(times, 0.5) * 1000, percentile(times, 0.95) * 1000
    verdict = "" if bar is None else f"  (bar p95 < {bar:.0f} ms: {'PASS' if p95 < bar else 'FAIL'})"
    print(f"  {what:<44} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms{verdict}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--no-walk", action="store_true", help="skip the walk through every page")
    parser.add_argument("--keep", action="store_true", help="keep the history file (about 2 KB a job)")
    parser.add_argument("--file", type=Path, help="a history file kept by --keep: use it instead of filling one")
    options = parser.parse_args()

    if options.file is not None:
        folder = options.file.parent
        history = options.file
        options.keep = True
    else:
        folder = Path(tempfile.mkdtemp(prefix="bench-history-"))
        history = folder / "history.sqlite"
        began = time.perf_counter()
        fill(history, options.rows)
        print(f"filled {options.rows:,} jobs in {time.perf_counter() - began:.1f} s")
    known = landmarks(history)
    options.rows = known["rows"]
    where = history if options.keep else "a temporary folder"
    print(f"history: {options.rows:,} jobs, {file_mb(folder):.0f} MB; kept in {where}")

    retention = ["--BgJobsApp.history_max_jobs=10000000", "--BgJobsApp.history_max_age_days=36500"]
    empty_server, empty_start = await started(
        [f"--BgJobsApp.history_file={folder / 'empty.sqlite'}", *retention], folder / "empty.log"
    )
    empty_rss = rss_mb(empty_server.process.pid)  # type: ignore[union-attr]
    await empty_server.stop()
    server, start = await started([f"--BgJobsApp.history_file={history}", *retention], folder / "server.log")
    try:
        pid = server.process.pid  # type: ignore[union-attr]
        rss_start = rss_mb(pid)
        print(
            f"start-up (until GET jobs answers, polled every 0.2 s): {start:.2f} s; empty history {empty_start:.2f} s"
        )
        opened = [text for text in (folder / "server.log").read_text().splitlines() if "bgjobs: history" in text]
        print(f"  the extension's own opening of the history: {opened[0].split('bgjobs: ')[1] if opened else '?'}")
        print(
            f"  bar < 2 s: {'PASS' if start < 2 else 'FAIL'} (the whole server: its own start is {empty_start:.2f} s)"
        )
        print(f"server RSS after start: {rss_start:.1f} MB; empty history {empty_rss:.1f} MB")

        client = Client(server)
        _, first = client.get({"limit": "1"})
        total = sum(first["counts"].values())
        print(f"counts: {first['counts']} ({total:,} jobs)")
        assert total == options.rows, total
        n = options.samples
        print(f"latency, {n} requests each, one at a time:")
        line("GET jobs?status=dead&limit=100", client.timed({"status": "dead", "limit": "100"}, n), 50)
        line("GET jobs?limit=100", client.timed({"limit": "100"}, n), 50)
        line(f"GET jobs?q={RARE} (1 job in 1,000)", client.timed({"q": RARE, "limit": "100"}, n), 50)
        few = min(n, 10)  # searches that read tens of thousands of rows: fewer samples
        line(
            f"GET jobs?q=fetch_and_clean(source=7, (1 in 53) x{few}",
            client.timed({"q": "fetch_and_clean(source=7,"}, few),
            50,
        )
        line(f"GET jobs?q=batch 1 (1 in 9) x{few}", client.timed({"q": "batch 1", "limit": "100"}, few), 50)
        line("GET jobs?kernel_id=K&limit=100", client.timed({"kernel_id": known["kernel"], "limit": "100"}, n), 50)
        line("GET jobs?path=P&status=dead", client.timed({"path": known["path"], "status": "dead"}, n), 50)

        print("paging with the cursor, pages of 100 (time per page):")
        starts = {"start": None, "middle": known["middle"], "end": known["end"]}
        medians = {}
        for where, cursor in starts.items():
            times = []
            for _ in range(50):
                params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
                seconds, page = client.get(params)
                times.append(seconds)
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            medians[where] = statistics.median(times)
            line(f"{where} ({len(times)} pages)", times)
        ratio = max(medians.values()) / min(medians.values())
        print(f"  slowest / fastest median: {ratio:.2f}x (constant time per page: about 1x)")

        if not options.no_walk:
            seen: set[str] = set()
            cursor, pages, walk_times = None, 0, []
            while True:
                seconds, page = client.get({"limit": "1000", **({"cursor": cursor} if cursor else {})})
                walk_times.append(seconds)
                pages += 1
                seen.update(job["uid"] for job in page["jobs"])
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            print(
                f"walked {pages} pages of 1,000: {len(seen):,} distinct jobs of {total:,}"
                f" ({'every job once' if len(seen) == total == sum(1 for _ in seen) else 'MISMATCH'});"
                f" {sum(walk_times):.1f} s"
            )
            tenth = max(1, len(walk_times) // 10)
            print(
                f"  median page: first tenth {statistics.median(walk_times[:tenth]) * 1000:.1f} ms,"
                f" last tenth {statistics.median(walk_times[-tenth:]) * 1000:.1f} ms"
            )
            print(f"server RSS after the walk: {rss_mb(pid):.1f} MB (after start {rss_start:.1f} MB)")
    finally:
        await server.stop()
        if not options.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
