"""``History``: the jobs on disk, in a SQLite file written by one thread of its own.

The event loop never touches SQLite: it hands records to a queue and goes
on. The writer thread drains the queue in batches (one transaction each,
the last version of a record wins), so a burst of a thousand changes is a
few commits. ``load``, ``flush`` and ``close`` run on that thread too and
return futures the loop can await.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

Record = dict[str, Any]

SCHEMA_VERSION = 1
# How long the writer gathers changes before it commits them.
BATCH_WINDOW = 0.2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    uid TEXT PRIMARY KEY,
    kernel_id TEXT NOT NULL,
    created REAL NOT NULL,
    ended REAL,
    updated REAL NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_ended ON jobs (ended);
"""

_DELETE = object()  # a queued deletion, in place of a record


class History:
    """Jobs kept in a SQLite file; every method returns at once."""

    def __init__(self, path: str, log: logging.Logger, batch_window: float = BATCH_WINDOW) -> None:
        self.path = path
        self._log = log
        self._batch_window = batch_window
        self._queue: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="bgjobs-history", daemon=True)
        self._db: sqlite3.Connection | None = None
        self._closed = False

    def start(self) -> None:
        self._thread.start()

    # --- from the event loop ------------------------------------------------------

    def put(self, record: Record) -> None:
        """Write (or overwrite) a job; the record must not be changed afterwards."""
        if not self._closed:
            self._queue.put(("put", record))

    def delete(self, uid: str) -> None:
        if not self._closed:
            self._queue.put(("delete", uid))

    def load(self) -> Future[list[tuple[Record, float]]]:
        """Every job on disk, with the time it was last written."""
        return self._call(self._load)

    def flush(self) -> Future[None]:
        """Done once everything queued before is on disk."""
        return self._call(lambda: None)

    def close(self) -> Future[None]:
        """Write what is queued, close the file and end the thread."""
        future = self._call(self._close)
        self._closed = True
        return future

    def _call(self, work: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        if self._closed or not self._thread.is_alive():  # never started, or closing
            future.set_result(None)
            return future
        self._queue.put(("call", (work, future)))
        return future

    # --- the writer thread ------------------------------------------------------------

    def _run(self) -> None:
        self._open()
        while True:
            kind, item = self._queue.get()
            pending: dict[str, Any] = {}
            calls: list[tuple[Callable[[], Any], Future[Any]]] = []
            deadline = time.monotonic() + self._batch_window
            while True:
                if kind == "put":
                    pending[item["uid"]] = item
                elif kind == "delete":
                    pending[item] = _DELETE
                else:
                    calls.append(item)
                    break  # a call sees everything queued before it, at once
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    break
                try:
                    kind, item = self._queue.get(timeout=timeout)
                except queue.Empty:
                    break
            try:
                self._write(pending)
            except Exception:
                # The store validates records before this, but whatever slips
                # through (text SQLite cannot bind, a lone surrogate) must not
                # end this thread: every later write and call waits on it.
                self._log.exception("bgjobs: could not write %d job(s) to %s", len(pending), self.path)
            for work, future in calls:
                # A close happens even when nobody waits for it any more.
                if not future.set_running_or_notify_cancel() and work != self._close:
                    continue
                try:
                    result = work()
                except Exception as error:  # the caller hears of it
                    if future.running():
                        future.set_exception(error)
                else:
                    if future.running():
                        future.set_result(result)
            if any(work == self._close for work, _ in calls):
                return

    def _open(self) -> None:
        try:
            self._db = self._connect()
        except sqlite3.DatabaseError as error:
            # Not a database we can use: keep it for the user, start afresh.
            aside = f"{self.path}.unreadable-{int(time.time())}"
            self._log.warning("bgjobs: job history %s is unreadable (%s); moved it to %s", self.path, error, aside)
            try:
                os.replace(self.path, aside)
                self._db = self._connect()
            except (OSError, sqlite3.Error) as again:
                self._log.error("bgjobs: job history disabled, %s cannot be used: %s", self.path, again)
                self._db = None
        except OSError as error:
            self._log.error("bgjobs: job history disabled, %s cannot be created: %s", self.path, error)
            self._db = None

    def _connect(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise sqlite3.DatabaseError(f"schema version {version}, this version reads {SCHEMA_VERSION}")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.commit()
        except sqlite3.Error:
            db.close()
            raise
        return db

    def _write(self, pending: dict[str, Any]) -> None:
        if self._db is None or not pending:
            return
        now = time.time()
        rows = []
        gone = []
        for uid, record in pending.items():
            if record is _DELETE:
                gone.append((uid,))
            else:
                rows.append((uid, record["kernel_id"], record["created"], record["ended"], now, json.dumps(record)))
        try:
            with self._db:
                self._db.executemany("DELETE FROM jobs WHERE uid = ?", gone)
                self._db.executemany(
                    "INSERT OR REPLACE INTO jobs (uid, kernel_id, created, ended, updated, record)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
        except sqlite3.Error as error:
            self._log.error("bgjobs: could not write %d job(s) to %s: %s", len(pending), self.path, error)

    def _load(self) -> list[tuple[Record, float]]:
        if self._db is None:
            return []
        loaded = []
        for text, updated in self._db.execute("SELECT record, updated FROM jobs"):
            try:
                record = json.loads(text)
            except ValueError:
                continue
            if isinstance(record, dict):
                loaded.append((record, float(updated)))
        return loaded

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
