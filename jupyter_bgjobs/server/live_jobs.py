"""``LiveJobs``: the jobs the store holds in memory (those of the kernels that run), with their indexes.

Ordered newest first (``cursor.order_key``), counted by kernel and group,
indexed by kernel, status and path, with the casefolded text ``q`` searches.
Plain data: no I/O, no listeners (``JobStore`` does those).
"""

from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Iterable
from typing import Any

from .. import protocol
from .cursor import OrderKey, order_key
from .search import searchable

Record = dict[str, Any]


def record_key(record: Record) -> OrderKey:
    return order_key(record["created"], record["uid"])


def lost(record: Record, reason: str, ended: float | None = None) -> Record:
    """The record of a job that will never end by itself (its kernel or the server went away)."""
    return {
        **record,
        "status": "lost",
        "ended": ended or time.time(),
        "kill_requested": False,
        "blocked_in": None,
        "error": {"ename": "JobLost", "evalue": reason, "traceback": []},
    }


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(protocol.GROUPS, 0)


class LiveJobs:
    """Records by uid, in order, with the indexes a query needs."""

    def __init__(self) -> None:
        self.jobs: dict[str, Record] = {}
        self._order: list[OrderKey] = []
        self._counts: dict[str, dict[str, int]] = {}
        self._by_kernel: dict[str, set[str]] = {}
        self._by_status: dict[str, set[str]] = {state: set() for state in protocol.STATES}
        self._by_path: dict[str, set[str]] = {}
        self._text: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self.jobs)

    def insert(self, record: Record) -> None:
        self.jobs[record["uid"]] = record
        bisect.insort(self._order, record_key(record))
        self._index(record, 1)

    def replace(self, record: Record) -> Record:
        old = self.jobs[record["uid"]]
        if record_key(old) != record_key(record):  # a kernel that reported another creation time
            self._order.pop(bisect.bisect_left(self._order, record_key(old)))
            bisect.insort(self._order, record_key(record))
        self._index(old, -1)
        self.jobs[record["uid"]] = record
        self._index(record, 1)
        return record

    def delete(self, uid: str, kernel_id: str | None = None) -> bool:
        """Forget a record (only if it is of ``kernel_id``, when given); whether it was there."""
        record = self.jobs.get(uid)
        if record is None or (kernel_id is not None and record["kernel_id"] != kernel_id):
            return False
        del self.jobs[uid]
        self._order.pop(bisect.bisect_left(self._order, record_key(record)))
        self._index(record, -1)
        return True

    def of_kernel(self, kernel_id: str) -> list[Record]:
        return [self.jobs[uid] for uid in self._by_kernel.get(kernel_id, ())]

    def drop_kernel(self, kernel_id: str) -> list[str]:
        """Forget every record of a kernel; their uids."""
        uids = list(self._by_kernel.get(kernel_id, ()))
        for uid in uids:
            self.delete(uid)
        self._by_kernel.pop(kernel_id, None)
        self._counts.pop(kernel_id, None)
        return uids

    def kernel_counts(self, kernel_id: str) -> dict[str, int]:
        return dict(self._counts.get(kernel_id) or empty_counts())

    def _index(self, record: Record, step: int) -> None:
        """Add (step 1) or take out (step -1) a record from the indexes."""
        uid, kernel_id = record["uid"], record["kernel_id"]
        counts = self._counts.setdefault(kernel_id, empty_counts())
        counts[protocol.GROUP_OF_STATE[record["status"]]] += step
        if step > 0:
            self._by_kernel.setdefault(kernel_id, set()).add(uid)
            self._by_status[record["status"]].add(uid)
            for path in record["paths"]:
                self._by_path.setdefault(path, set()).add(uid)
            self._text[uid] = searchable(record)
        else:
            self._by_kernel[kernel_id].discard(uid)
            self._by_status[record["status"]].discard(uid)
            for path in record["paths"]:
                self._by_path[path].discard(uid)
                if not self._by_path[path]:
                    del self._by_path[path]
            del self._text[uid]

    def filtered(self, kernel_id: str | None, path: str | None, text: str | None) -> set[str] | None:
        """The uids of the jobs of a kernel, a path and with a text (None: no filter, every job)."""
        base: set[str] | None = None
        if kernel_id is not None:
            base = set(self._by_kernel.get(kernel_id, ()))
        if path is not None:
            with_path = self._by_path.get(path, set())
            base = set(with_path) if base is None else base & with_path
        if text:
            folded = text.casefold()
            base = {uid for uid in (self.jobs if base is None else base) if folded in self._text[uid]}
        return base

    def candidates(
        self,
        statuses: Iterable[str] | None,
        kernel_id: str | None,
        path: str | None,
        text: str | None,
        limit: int,
        after: OrderKey | None,
    ) -> tuple[list[Record], dict[str, int]]:
        """Up to ``limit + 1`` matching records after ``after``, in order; the counts by group.

        The counts are those of every job that matches the filters other
        than ``statuses``: what each status group would hold.
        """
        base = self.filtered(kernel_id, path, text)
        counts = empty_counts()
        if base is None:
            for kernel_counts in self._counts.values():
                for group, count in kernel_counts.items():
                    counts[group] += count
        else:
            for uid in base:
                counts[protocol.GROUP_OF_STATE[self.jobs[uid]["status"]]] += 1

        candidates = base
        if statuses is not None:
            with_status = set().union(*(self._by_status[state] for state in statuses))
            candidates = with_status if base is None else base & with_status

        if candidates is not None and len(candidates) * 8 < len(self._order):
            # Few candidates: sort them rather than walk the whole order.
            keys = sorted(record_key(self.jobs[uid]) for uid in candidates)
            start = bisect.bisect_right(keys, after) if after is not None else 0
            uids = [uid for _, uid in keys[start : start + limit + 1]]
        else:
            start = bisect.bisect_right(self._order, after) if after is not None else 0
            uids = []
            for _, uid in itertools.islice(self._order, start, None):
                if candidates is None or uid in candidates:
                    uids.append(uid)
                    if len(uids) > limit:
                        break
        return [self.jobs[uid] for uid in uids], counts
