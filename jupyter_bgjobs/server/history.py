"""``History``: the jobs on disk, in a SQLite file owned by one thread of its own.

The event loop never touches SQLite: it hands records to a queue and goes
on. The thread drains the queue in batches (one transaction each, the last
version of a record wins), so a burst of a thousand changes is a few
commits. Reads and bulk changes (``call``, with the functions of
``history_sql``) run on that thread too, in the order they were asked for,
after every write queued before them; they return futures the loop awaits.
That order is what keeps the store's memory and the file consistent: a
read asked for after a change sees it.

The schema is ``history_schema``'s; a file of version 1 is migrated when
opened, and a file without incremental auto-vacuum is converted (one
``VACUUM``), so that pruning can give space back (``history_sql.vacuum``).
"""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from . import history_schema as schema
from .search import searchable

Record = dict[str, Any]
T = TypeVar("T")

SCHEMA_VERSION = schema.SCHEMA_VERSION
# How long the writer gathers changes before it commits them.
BATCH_WINDOW = 0.2
# The write-ahead log is cut back to this size after checkpoints (else it keeps its largest size).
JOURNAL_SIZE_LIMIT = 4 << 20

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

    @property
    def usable(self) -> bool:
        """Whether the file is open (False before ``start``, or when it could not be opened or made)."""
        return self._db is not None

    def put(self, record: Record, past: bool = False) -> None:
        """Write (or overwrite) a job; the record must not be changed afterwards.

        ``past``: a job of a kernel that is gone (the store does not hold it).
        """
        if not self._closed:
            self._queue.put(("put", (record, past)))

    def delete(self, uid: str) -> None:
        if not self._closed:
            self._queue.put(("delete", uid))

    def call(self, work: Callable[..., T], *args: Any) -> Future[T | None]:
        """``work(connection, *args)`` on the history's thread, after the writes queued before it.

        The future's result is None when there is no file to work on.
        """
        return self._call(lambda: work(self._db, *args) if self._db is not None else None)

    def started(self) -> Future[None]:
        """Done once the file is open (or known unusable)."""
        return self._call(lambda: None)

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
                    pending[item[0]["uid"]] = item
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
        db = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, 1, SCHEMA_VERSION):
                raise sqlite3.DatabaseError(f"schema version {version}, this version reads {SCHEMA_VERSION}")
            if db.execute("PRAGMA page_count").fetchone()[0] == 0:
                db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # a new file: before its first table
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
            with db:
                if version == 1:
                    started = time.monotonic()
                    kept = schema.migrate_v1(db, searchable)
                    self._log.info(
                        "bgjobs: migrated %d job(s) of %s to schema %d in %.1f s",
                        kept,
                        self.path,
                        SCHEMA_VERSION,
                        time.monotonic() - started,
                    )
                else:
                    schema.create(db)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            if db.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
                # An older file: converting it rewrites it once (VACUUM copies every page).
                db.execute("PRAGMA auto_vacuum = INCREMENTAL")
                db.execute("VACUUM")
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
        for uid, item in pending.items():
            if item is _DELETE:
                gone.append((uid,))
            else:
                record, past = item
                rows.append(schema.row_values(record, past, now, searchable))
        try:
            with self._db:
                self._db.executemany("DELETE FROM jobs WHERE uid = ?", gone)
                self._db.executemany(schema.UPSERT, rows)
        except sqlite3.Error as error:
            self._log.error("bgjobs: could not write %d job(s) to %s: %s", len(pending), self.path, error)

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
