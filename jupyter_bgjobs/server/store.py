"""``JobStore``: every job of every kernel, as the server knows it.

Fed by the relays (snapshots and updates from kernels, ``lost`` when a kernel
dies), read by the REST handlers, heard by the event emitter. Live state is
in memory; every change is also handed to ``History`` (SQLite, written by
its own thread), which gives the jobs of past kernels back after a server
restart. Everything here runs on the event loop and nothing here blocks.

A record is the protocol's wire record plus ``kernel_id`` and ``paths`` (the
notebook paths of its kernel: from the session manager while the kernel
runs, the last ones known afterwards). Records are never changed in place:
a change makes a new dict, so the history thread may serialise an old one.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .. import protocol
from .. import record as record_schema
from ..protocol import ProtocolError
from .cursor import OrderKey, decode_cursor, encode_cursor, order_key
from .history import History

Record = dict[str, Any]
ChangeListener = Callable[[list[Record], list[str]], None]


@dataclass
class Query:
    """What ``GET jobs`` asks for; None means no filter."""

    statuses: frozenset[str] | None = None
    kernel_id: str | None = None
    path: str | None = None
    text: str | None = None
    limit: int = 100
    cursor: str | None = None


def _order_key(record: Record) -> OrderKey:
    return order_key(record["created"], record["uid"])


# What `q` looks in: the schema's x-search list ("error.evalue" is a field of
# "error"), the same list the panel's filter reads.
_SEARCHED = tuple(tuple(field.split(".")) for field in record_schema.SEARCH_FIELDS)


def _searchable(record: Record) -> str:
    """What ``q`` looks in, casefolded, one field (or list item) a line."""
    texts: list[str] = []
    for path in _SEARCHED:
        value: Any = record
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            texts.extend(item for item in value if isinstance(item, str))
    return "\n".join(texts).casefold()


def _empty_counts() -> dict[str, int]:
    return dict.fromkeys(protocol.GROUPS, 0)


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
        self._jobs: dict[str, Record] = {}
        self._order: list[OrderKey] = []
        # Indexes, kept by _index: counts by kernel and group, uids by kernel,
        # status and path, and the casefolded text that `q` searches.
        self._counts: dict[str, dict[str, int]] = {}
        self._by_kernel: dict[str, set[str]] = {}
        self._by_status: dict[str, set[str]] = {state: set() for state in protocol.STATES}
        self._by_path: dict[str, set[str]] = {}
        self._text: dict[str, str] = {}
        self._kernel_paths: dict[str, list[str]] = {}
        self._listeners: list[ChangeListener] = []
        self._opened = asyncio.Event()

    # --- life cycle ---------------------------------------------------------------

    async def open(self, live_kernels: Iterable[str] = ()) -> None:
        """Start the history and take back the jobs it holds."""
        try:
            await self._load(live_kernels)
        finally:
            self._opened.set()

    async def wait_open(self) -> None:
        """Wait until ``open`` is done (the history is in memory)."""
        await self._opened.wait()

    async def _load(self, live_kernels: Iterable[str]) -> None:
        if self._history is None:
            return
        self._history.start()
        loaded = await asyncio.wrap_future(self._history.load())
        live = set(live_kernels)
        changed = []
        for stored, seen in loaded:
            record = self._from_history(stored)
            if record is None or record["uid"] in self._jobs:
                continue  # unreadable, or a live kernel told us already
            if record["status"] in protocol.ACTIVE_STATES and record["kernel_id"] not in live:
                record = self._lost(record, "the server stopped before the job ended", ended=seen)
                changed.append(record)
            self._insert(record)
        self._log.info("bgjobs: %d job(s) taken back from %s", len(loaded), self._history.path)
        self._notify(changed, [])
        self.prune(live)

    async def flush(self) -> None:
        """Wait until every change so far is on disk."""
        if self._history is not None:
            await asyncio.wrap_future(self._history.flush())

    async def close(self) -> None:
        if self._history is not None:
            await asyncio.wrap_future(self._history.close())

    def add_listener(self, listener: ChangeListener) -> None:
        """Call ``listener(changed_records, removed_uids)`` after each change."""
        self._listeners.append(listener)

    # --- writes (from relays and the hub) ------------------------------------------

    def apply_snapshot(self, kernel_id: str, jobs: list[Record]) -> None:
        """The full list of a kernel's jobs: those it no longer has that were running are lost."""
        present = {job["uid"] for job in jobs}
        changed = [record for record in (self._put(kernel_id, job) for job in jobs) if record is not None]
        for record in self._records_of(kernel_id):
            if record["uid"] not in present and record["status"] in protocol.ACTIVE_STATES:
                changed.append(self._replace(self._lost(record, "the kernel no longer knows this job")))
        self._notify(changed, [])

    def apply_update(self, kernel_id: str, jobs: list[Record], removed: list[str]) -> None:
        changed = [record for record in (self._put(kernel_id, job) for job in jobs) if record is not None]
        gone = [uid for uid in removed if self._delete(uid, kernel_id)]
        self._notify(changed, gone)

    def mark_lost(self, kernel_id: str, reason: str) -> None:
        """The kernel died, restarted or went away: its unfinished jobs are lost."""
        changed = [
            self._replace(self._lost(record, reason))
            for record in self._records_of(kernel_id)
            if record["status"] in protocol.ACTIVE_STATES
        ]
        self._notify(changed, [])

    def remove(self, uid: str) -> None:
        if self._delete(uid, None):
            self._notify([], [uid])

    def ended_in_memory(self, kernel_id: str | None, path: str | None) -> list[Record]:
        """The ended jobs held in memory of a kernel and/or notebook path (those a running kernel also holds)."""
        uids = self._filtered(kernel_id, path, None)
        records = (self._jobs[uid] for uid in (self._jobs if uids is None else uids))
        return [record for record in records if record["status"] not in protocol.ACTIVE_STATES]

    async def clear(self, kernel_id: str | None, path: str | None) -> list[str]:
        """Remove every ended job of a kernel and/or notebook path (never a queued or running one); their uids."""
        gone = [record["uid"] for record in self.ended_in_memory(kernel_id, path)]
        for uid in gone:
            self._delete(uid, None)
        self._notify([], gone)
        return gone

    def set_paths(self, paths: dict[str, list[str]], live_kernels: Iterable[str]) -> None:
        """The notebook paths of the running kernels (from the session manager)."""
        changed: list[Record] = []
        for kernel_id in live_kernels:
            kernel_paths = sorted(paths.get(kernel_id, []))
            if self._kernel_paths.get(kernel_id) == kernel_paths:
                continue
            self._kernel_paths[kernel_id] = kernel_paths
            changed.extend(
                self._replace({**record, "paths": kernel_paths})
                for record in self._records_of(kernel_id)
                if record["paths"] != kernel_paths
            )
        self._notify(changed, [])

    def prune(self, live_kernels: Iterable[str], now: float | None = None) -> None:
        """Forget ended jobs of kernels that are gone, beyond the retention limits."""
        live = set(live_kernels)
        cutoff = (now or time.time()) - self.max_age_days * 86400
        past = [
            record
            for record in self._jobs.values()
            if record["kernel_id"] not in live and record["status"] not in protocol.ACTIVE_STATES
        ]
        past.sort(key=lambda record: record["ended"] or record["created"], reverse=True)
        gone = [
            record["uid"]
            for index, record in enumerate(past)
            if index >= self.max_jobs or (record["ended"] or record["created"]) < cutoff
        ]
        for uid in gone:
            self._delete(uid, None)
        self._notify([], gone)

    def _put(self, kernel_id: str, job: Record) -> Record | None:
        """Store a job a kernel reported; the new record, or None if nothing changed."""
        old = self._jobs.get(job["uid"])
        paths = self._kernel_paths.get(kernel_id)
        if paths is None:
            paths = old["paths"] if old is not None and old["kernel_id"] == kernel_id else []
        record = {**job, "kernel_id": kernel_id, "paths": paths}
        if old is None:
            self._insert(record)
        elif old == record:  # a snapshot after a resync repeats what we know
            return None
        else:
            self._replace(record)
        return record

    def _records_of(self, kernel_id: str) -> list[Record]:
        return [self._jobs[uid] for uid in self._by_kernel.get(kernel_id, ())]

    def _insert(self, record: Record) -> None:
        self._jobs[record["uid"]] = record
        bisect.insort(self._order, _order_key(record))
        self._index(record, 1)

    def _replace(self, record: Record) -> Record:
        old = self._jobs[record["uid"]]
        if _order_key(old) != _order_key(record):  # a kernel that reported another creation time
            self._order.pop(bisect.bisect_left(self._order, _order_key(old)))
            bisect.insort(self._order, _order_key(record))
        self._index(old, -1)
        self._jobs[record["uid"]] = record
        self._index(record, 1)
        return record

    def _delete(self, uid: str, kernel_id: str | None) -> bool:
        record = self._jobs.get(uid)
        if record is None or (kernel_id is not None and record["kernel_id"] != kernel_id):
            return False
        del self._jobs[uid]
        self._order.pop(bisect.bisect_left(self._order, _order_key(record)))
        self._index(record, -1)
        return True

    def _index(self, record: Record, step: int) -> None:
        """Add (step 1) or take out (step -1) a record from the indexes."""
        uid, kernel_id = record["uid"], record["kernel_id"]
        counts = self._counts.setdefault(kernel_id, _empty_counts())
        counts[protocol.GROUP_OF_STATE[record["status"]]] += step
        if step > 0:
            self._by_kernel.setdefault(kernel_id, set()).add(uid)
            self._by_status[record["status"]].add(uid)
            for path in record["paths"]:
                self._by_path.setdefault(path, set()).add(uid)
            self._text[uid] = _searchable(record)
        else:
            self._by_kernel[kernel_id].discard(uid)
            self._by_status[record["status"]].discard(uid)
            for path in record["paths"]:
                self._by_path[path].discard(uid)
                if not self._by_path[path]:
                    del self._by_path[path]
            del self._text[uid]

    @staticmethod
    def _lost(record: Record, reason: str, ended: float | None = None) -> Record:
        return {
            **record,
            "status": "lost",
            "ended": ended or time.time(),
            "kill_requested": False,
            "blocked_in": None,
            "error": {"ename": "JobLost", "evalue": reason, "traceback": []},
        }

    def _notify(self, changed: list[Record], removed: list[str]) -> None:
        if not changed and not removed:
            return
        if self._history is not None:
            for record in changed:
                self._history.put(record)
            for uid in removed:
                self._history.delete(uid)
        for listener in self._listeners:
            try:
                listener(changed, removed)
            except Exception:  # one broken listener must not stop the relays
                self._log.exception("bgjobs: a job change listener failed")

    def _from_history(self, stored: Any) -> Record | None:
        try:
            job = protocol.validate_job(stored)
            kernel_id, paths = stored.get("kernel_id"), stored.get("paths")
            if not isinstance(kernel_id, str) or not isinstance(paths, list):
                raise ProtocolError("kernel_id or paths missing")
            if not all(isinstance(path, str) for path in paths):
                raise ProtocolError("paths must be strings")
        except ProtocolError as error:
            self._log.warning("bgjobs: skipped a job in the history: %s", error)
            return None
        return {**job, "kernel_id": kernel_id, "paths": paths}

    # --- reads (from handlers) ----------------------------------------------------

    def get(self, uid: str) -> Record | None:
        return self._jobs.get(uid)

    def records(self) -> Iterable[Record]:
        return self._jobs.values()

    def kernel_paths(self, kernel_id: str) -> list[str]:
        """The notebook paths of a kernel, as last told by ``set_paths``."""
        return list(self._kernel_paths.get(kernel_id, []))

    def kernel_counts(self, kernel_id: str) -> dict[str, int]:
        """Jobs of one kernel by group."""
        return dict(self._counts.get(kernel_id) or _empty_counts())

    def __len__(self) -> int:
        return len(self._jobs)

    def _filtered(self, kernel_id: str | None, path: str | None, text: str | None) -> set[str] | None:
        """The uids of the jobs of a kernel, a path and with a text (None: no filter, every job)."""
        base: set[str] | None = None
        if kernel_id is not None:
            base = set(self._by_kernel.get(kernel_id, ()))
        if path is not None:
            with_path = self._by_path.get(path, set())
            base = set(with_path) if base is None else base & with_path
        if text:
            folded = text.casefold()
            base = {uid for uid in (self._jobs if base is None else base) if folded in self._text[uid]}
        return base

    def query(self, query: Query) -> tuple[list[Record], str | None, dict[str, int]]:
        """One page of matching jobs (newest first), the next cursor, and the counts by group.

        The counts are those of every job that matches the filters other
        than ``statuses``: what each status group would hold.
        """
        after = decode_cursor(query.cursor) if query.cursor else None
        # The uids matching every filter but the statuses (None: every job).
        base = self._filtered(query.kernel_id, query.path, query.text)

        counts = _empty_counts()
        if base is None:
            for kernel_counts in self._counts.values():
                for group, count in kernel_counts.items():
                    counts[group] += count
        else:
            for uid in base:
                counts[protocol.GROUP_OF_STATE[self._jobs[uid]["status"]]] += 1

        candidates = base
        if query.statuses is not None:
            with_status = set().union(*(self._by_status[state] for state in query.statuses))
            candidates = with_status if base is None else base & with_status

        if candidates is not None and len(candidates) * 8 < len(self._order):
            # Few candidates: sort them rather than walk the whole order.
            keys = sorted(_order_key(self._jobs[uid]) for uid in candidates)
            start = bisect.bisect_right(keys, after) if after is not None else 0
            uids = [uid for _, uid in keys[start : start + query.limit + 1]]
        else:
            start = bisect.bisect_right(self._order, after) if after is not None else 0
            uids = []
            for _, uid in itertools.islice(self._order, start, None):
                if candidates is None or uid in candidates:
                    uids.append(uid)
                    if len(uids) > query.limit:
                        break
        page = [self._jobs[uid] for uid in uids[: query.limit]]
        return page, encode_cursor(page[-1]["created"], page[-1]["uid"]) if len(uids) > query.limit else None, counts
