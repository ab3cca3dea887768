"""``JobStore``: every job of every kernel, as the server knows it.

Fed by the relays (snapshots and updates from kernels, ``lost`` when a kernel
dies), read by the REST handlers, heard by the event emitter. The jobs of
the kernels that run are held in memory (``LiveJobs``: they change fast);
every change is also handed to ``History`` (SQLite, on its own thread). Once
a kernel is gone its jobs are retired: dropped from memory and marked past
in the file, where queries read them when asked for (``history_sql``), so
the server's memory does not grow with the history. A query merges the two
(newest first, one cursor over both); it reads the file on the history's
thread, after every change asked for before it, so memory and file never
show a job twice or miss one. Nothing here blocks the event loop.

A record is the protocol's wire record plus ``kernel_id`` and ``paths`` (the
notebook paths of its kernel: from the session manager while the kernel
runs, the last ones known afterwards). Records are never changed in place:
a change makes a new dict, so the history thread may serialise an old one.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any, TypeVar

from .. import protocol
from . import history_sql, retention
from .cursor import decode_cursor
from .history import History
from .live_jobs import LiveJobs, lost, record_key
from .query import Query, cut_page

Record = dict[str, Any]
ChangeListener = Callable[[list[Record], list[str]], None]
EvictListener = Callable[[list[str]], None]
T = TypeVar("T")

# A kernel missing from the running ones this long is retired (its relay has stopped by then).
RETIRE_AFTER = 1.0


class JobStore:
    """Jobs by uid, ordered newest first; listeners hear of every change."""

    def __init__(
        self,
        history: History | None = None,
        *,
        log: logging.Logger | None = None,
        max_age_days: float = 30.0,
        max_jobs: int = 10_000,
    ) -> None:
        self._history = history
        self._log = log or logging.getLogger(__name__)
        self.max_age_days = max_age_days
        self.max_jobs = max_jobs
        self._live = LiveJobs()
        self._resident: set[str] = set()  # kernels whose jobs are held in memory
        self._absent: dict[str, float] = {}  # resident kernels not running, since when (monotonic)
        self._kernel_paths: dict[str, list[str]] = {}
        self._listeners: list[ChangeListener] = []
        self._evict_listeners: list[EvictListener] = []
        self._opened = asyncio.Event()
        self._tasks: set[asyncio.Future[Any]] = set()
        self._pruning: asyncio.Future[int] | None = None
        # Whether the file may hold past jobs: until one exists, a query does not ask it.
        self._has_past = False

    @property
    def keeps_past(self) -> bool:
        """Whether jobs of gone kernels live in the file (else, without a usable file, in memory)."""
        return self._history is not None and self._history.usable

    # --- life cycle ---------------------------------------------------------------

    async def open(self, live_kernels: Iterable[str] = ()) -> None:
        """Start the history and take back the jobs of the running kernels."""
        try:
            await self._load(live_kernels)
        finally:
            self._opened.set()

    async def wait_open(self) -> None:
        """Wait until ``open`` is done."""
        await self._opened.wait()

    async def _load(self, live_kernels: Iterable[str]) -> None:
        if self._history is None:
            return
        began = time.monotonic()
        self._history.start()
        await asyncio.wrap_future(self._history.started())
        live = list(live_kernels)
        opened = await self._call(history_sql.reopen, live)
        if opened is None:
            return
        held, unfinished, self._has_past = opened
        for record, _ in held:
            if record["uid"] not in self._live.jobs:
                self._live.insert(record)
                self._resident.add(record["kernel_id"])
        lost = [
            self._lost(record, "the server stopped before the job ended", ended=seen) for record, seen in unfinished
        ]
        for record in lost:
            self._history.put(record, past=True)
        self._log.info(
            "bgjobs: history %s open in %.3f s: %d job(s) of running kernels taken back, %d lost",
            self._history.path,
            time.monotonic() - began,
            len(held),
            len(lost),
        )
        self._notify(lost, [], write=False)
        self.prune(live)

    async def flush(self) -> None:
        """Wait until every change so far is on disk."""
        if self._history is not None:
            await asyncio.wrap_future(self._history.flush())

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._history is not None:
            await asyncio.wrap_future(self._history.close())

    def add_listener(self, listener: ChangeListener) -> None:
        """Call ``listener(changed_records, removed_uids)`` after each change."""
        self._listeners.append(listener)

    def add_evict_listener(self, listener: EvictListener) -> None:
        """Call ``listener(uids)`` when records leave memory for the file (they still exist)."""
        self._evict_listeners.append(listener)

    async def _call(self, work: Callable[..., T], *args: Any) -> T | None:
        """``work(connection, *args)`` on the history's thread (None without a usable file)."""
        if not self.keeps_past:
            return None
        assert self._history is not None
        future: Future[T | None] = self._history.call(work, *args)
        return await asyncio.wrap_future(future)

    # --- writes (from relays and the hub) ------------------------------------------

    def apply_snapshot(self, kernel_id: str, jobs: list[Record]) -> None:
        """The full list of a kernel's jobs: those it no longer has that were running are lost."""
        present = {job["uid"] for job in jobs}
        changed = [record for record in (self._put(kernel_id, job) for job in jobs) if record is not None]
        for record in self._live.of_kernel(kernel_id):
            if record["uid"] not in present and record["status"] in protocol.ACTIVE_STATES:
                changed.append(self._live.replace(self._lost(record, "the kernel no longer knows this job")))
        self._notify(changed, [])

    def apply_update(self, kernel_id: str, jobs: list[Record], removed: list[str]) -> None:
        changed = [record for record in (self._put(kernel_id, job) for job in jobs) if record is not None]
        gone = [uid for uid in removed if self._live.delete(uid, kernel_id)]
        self._notify(changed, gone)

    def mark_lost(self, kernel_id: str, reason: str) -> None:
        """The kernel died, restarted or went away: its unfinished jobs are lost."""
        changed = [
            self._live.replace(self._lost(record, reason))
            for record in self._live.of_kernel(kernel_id)
            if record["status"] in protocol.ACTIVE_STATES
        ]
        self._notify(changed, [])

    async def remove(self, uid: str) -> bool:
        """Forget an ended job, held or past; whether there was one."""
        if self._live.delete(uid):
            self._notify([], [uid])
            return True
        removed = await self._call(history_sql.delete, [uid])
        self._notify([], removed or [], write=False)
        return bool(removed)

    def ended_in_memory(self, kernel_id: str | None, path: str | None) -> list[Record]:
        """The ended jobs held in memory of a kernel and/or notebook path (those a running kernel also holds)."""
        uids = self._live.filtered(kernel_id, path, None)
        records = (self._live.jobs[uid] for uid in (self._live.jobs if uids is None else uids))
        return [record for record in records if record["status"] not in protocol.ACTIVE_STATES]

    async def clear(self, kernel_id: str | None, path: str | None) -> list[str]:
        """Remove every ended job of a kernel and/or notebook path, held or past (never a queued or running one)."""
        held = [record["uid"] for record in self.ended_in_memory(kernel_id, path)]
        for uid in held:
            self._live.delete(uid)
        self._notify([], held)
        past = await self._call(history_sql.clear, kernel_id, path) or []
        for start in range(0, len(past), retention.CHUNK):
            self._notify([], past[start : start + retention.CHUNK], write=False)
        if past:
            self._spawn(retention.vacuum(self._call))
        return held + past

    def set_paths(self, paths: dict[str, list[str]], live_kernels: Iterable[str]) -> None:
        """The notebook paths of the running kernels (from the session manager); gone kernels are retired."""
        live = set(live_kernels)
        changed: list[Record] = []
        for kernel_id in live:
            kernel_paths = sorted(paths.get(kernel_id, []))
            if self._kernel_paths.get(kernel_id) == kernel_paths:
                continue
            self._kernel_paths[kernel_id] = kernel_paths
            changed.extend(
                self._live.replace({**record, "paths": kernel_paths})
                for record in self._live.of_kernel(kernel_id)
                if record["paths"] != kernel_paths
            )
        self._notify(changed, [])
        self.retire_gone(live, RETIRE_AFTER)

    def retire_gone(self, live: set[str], grace: float = 0.0) -> None:
        """Move the jobs of kernels that have not run for ``grace`` seconds from memory to the file."""
        if not self.keeps_past:
            return
        now = time.monotonic()
        for kernel_id in live:
            self._absent.pop(kernel_id, None)
        for kernel_id in self._resident - live:
            if now - self._absent.setdefault(kernel_id, now) >= grace:
                self._retire(kernel_id)

    def _retire(self, kernel_id: str) -> None:
        assert self._history is not None
        self.mark_lost(kernel_id, "the kernel is gone")
        uids = self._live.drop_kernel(kernel_id)
        self._resident.discard(kernel_id)
        self._absent.pop(kernel_id, None)
        self._kernel_paths.pop(kernel_id, None)
        # After the writes queued above; every read asked for from now on sees the rows as past.
        self._history.call(history_sql.retire, kernel_id)
        self._has_past = True
        for listener in self._evict_listeners:
            listener(uids)

    def _hold(self, kernel_id: str) -> None:
        """A kernel reports jobs: hold them in memory, with any the file has of it (a kernel seen before)."""
        self._resident.add(kernel_id)
        if self.keeps_past:
            assert self._history is not None
            # Asked for now, so that it comes before this kernel's writes and any later retirement.
            self._spawn(self._adopt(kernel_id, asyncio.wrap_future(self._history.call(history_sql.adopt, kernel_id))))

    async def _adopt(self, kernel_id: str, adopted: asyncio.Future[list[Record] | None]) -> None:
        for record in await adopted or []:
            if kernel_id in self._resident and record["uid"] not in self._live.jobs:
                self._live.insert(record)

    def prune(self, live_kernels: Iterable[str], now: float | None = None) -> asyncio.Future[int]:
        """Retire gone kernels, then forget their ended jobs beyond the retention limits, in the background.

        The future holds how many jobs were removed; a prune asked for while
        another runs starts when that one is done.
        """
        self.retire_gone(set(live_kernels))
        cutoff = (now or time.time()) - self.max_age_days * 86400
        self._pruning = self._spawn(self._prune_after(self._pruning, cutoff))
        return self._pruning

    async def _prune_after(self, before: asyncio.Future[int] | None, cutoff: float) -> int:
        if before is not None:
            await asyncio.wait([before])
        # Past rows may also come from another writer of the file (a test, a tool).
        self._has_past = self._has_past or bool(await self._call(history_sql.has_past))
        announce = functools.partial(self._notify, [], write=False)
        return await retention.prune(self._call, announce, cutoff, self.max_jobs, self._log)

    def _spawn(self, coroutine: Any) -> asyncio.Future[Any]:
        task: asyncio.Future[Any] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log.error("bgjobs: history work failed", exc_info=task.exception())

    def _put(self, kernel_id: str, job: Record) -> Record | None:
        """Store a job a kernel reported; the new record, or None if nothing changed."""
        if kernel_id not in self._resident:
            self._hold(kernel_id)
        old = self._live.jobs.get(job["uid"])
        paths = self._kernel_paths.get(kernel_id)
        if paths is None:
            paths = old["paths"] if old is not None and old["kernel_id"] == kernel_id else []
        record = {**job, "kernel_id": kernel_id, "paths": paths}
        if old is None:
            self._live.insert(record)
        elif old == record:  # a snapshot after a resync repeats what we know
            return None
        else:
            self._live.replace(record)
        return record

    _lost = staticmethod(lost)

    def _notify(self, changed: list[Record], removed: list[str], write: bool = True) -> None:
        if not changed and not removed:
            return
        if self._history is not None and write:
            for record in changed:
                self._history.put(record)
            for uid in removed:
                self._history.delete(uid)
        for listener in self._listeners:
            try:
                listener(changed, removed)
            except Exception:  # one broken listener must not stop the relays
                self._log.exception("bgjobs: a job change listener failed")

    # --- reads (from handlers) ----------------------------------------------------

    def get(self, uid: str) -> Record | None:
        """A job held in memory (a running kernel's)."""
        return self._live.jobs.get(uid)

    def holds(self, record: Record) -> bool:
        """Whether this very record is the one held in memory (not one read from the file)."""
        return self._live.jobs.get(record["uid"]) is record

    async def find(self, uid: str) -> Record | None:
        """A job, held or past."""
        record = self._live.jobs.get(uid)
        if record is None:
            record = await self._call(history_sql.find, uid)
        return record

    def records(self) -> Iterable[Record]:
        """The jobs held in memory."""
        return self._live.jobs.values()

    def kernel_paths(self, kernel_id: str) -> list[str]:
        """The notebook paths of a kernel, as last told by ``set_paths``."""
        return list(self._kernel_paths.get(kernel_id, []))

    def kernel_counts(self, kernel_id: str) -> dict[str, int]:
        """Jobs of one kernel by group."""
        return self._live.kernel_counts(kernel_id)

    def __len__(self) -> int:
        return len(self._live)

    def query(self, query: Query) -> tuple[list[Record], str | None, dict[str, int]]:
        """One page of the jobs held in memory (newest first), the next cursor, and the counts by group.

        The counts are those of every job that matches the filters other
        than ``statuses``. ``page`` answers for the past jobs too.
        """
        after = decode_cursor(query.cursor) if query.cursor else None
        records, counts = self._live.candidates(
            query.statuses, query.kernel_id, query.path, query.text, query.limit, after
        )
        page, cursor = cut_page(records, query.limit)
        return page, cursor, counts

    async def page(self, query: Query) -> tuple[list[Record], str | None, dict[str, int]]:
        """One page of every job, held and past, as ``query`` gives it for the held ones."""
        after = decode_cursor(query.cursor) if query.cursor else None
        records, counts = self._live.candidates(
            query.statuses, query.kernel_id, query.path, query.text, query.limit, after
        )
        past = history_sql.PastQuery(
            states=tuple(sorted(query.statuses)) if query.statuses is not None else None,
            kernel_id=query.kernel_id,
            path=query.path,
            text=query.text.casefold() if query.text else None,
            limit=query.limit,
            after=after,
        )
        found = await self._call(history_sql.page, past) if self._has_past else None
        if found is not None:
            past_records, past_counts = found
            records = sorted([*records, *past_records], key=record_key)
            for state, count in past_counts.items():
                counts[protocol.GROUP_OF_STATE[state]] += count
        page, cursor = cut_page(records, query.limit)
        return page, cursor, counts
