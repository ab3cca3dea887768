"""``JobStore``: the state of every job of every kernel, as the server knows it.

Fed by the relays (snapshots and updates from kernels, ``lost`` when a kernel
dies), read by the REST handlers. Records are the protocol's wire records
plus ``kernel_id``; ``model.py`` turns them into the REST shape.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .. import protocol

Record = dict[str, Any]
ChangeListener = Callable[[list[Record], list[str]], None]


class BadCursor(ValueError):
    """A pagination cursor this store did not issue."""


@dataclass
class Query:
    """What ``GET jobs`` asks for; None means no filter."""

    statuses: frozenset[str] | None = None
    kernel_ids: frozenset[str] | None = None
    text: str | None = None
    limit: int = 100
    cursor: str | None = None


def _order_key(record: Record) -> tuple[float, str]:
    return (-record["created"], record["uid"])


def encode_cursor(record: Record) -> str:
    raw = json.dumps([record["created"], record["uid"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, uid = json.loads(raw)
        if not isinstance(created, (int, float)) or not isinstance(uid, str):
            raise ValueError
        return (-float(created), uid)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadCursor(f"not a cursor from this server: {cursor!r:.40}") from None


class JobStore:
    """Jobs by uid, kept in memory; listeners hear of every change."""

    def __init__(self) -> None:
        self._jobs: dict[str, Record] = {}
        self._listeners: list[ChangeListener] = []

    def add_listener(self, listener: ChangeListener) -> None:
        """Call ``listener(changed_records, removed_uids)`` after each change."""
        self._listeners.append(listener)

    def _notify(self, changed: list[Record], removed: list[str]) -> None:
        if not changed and not removed:
            return
        for listener in self._listeners:
            listener(changed, removed)

    # --- writes (from relays) -------------------------------------------------

    def apply_snapshot(self, kernel_id: str, jobs: list[Record]) -> None:
        """The full list of a kernel's jobs: what it no longer has is gone (or lost)."""
        present = {job["uid"] for job in jobs}
        changed = [self._put(kernel_id, job) for job in jobs]
        for uid, record in list(self._jobs.items()):
            if record["kernel_id"] != kernel_id or uid in present:
                continue
            if record["status"] in protocol.ACTIVE_STATES:
                changed.append(self._lose(record, "the kernel no longer knows this job"))
        self._notify(changed, [])

    def apply_update(self, kernel_id: str, jobs: list[Record], removed: list[str]) -> None:
        changed = [self._put(kernel_id, job) for job in jobs]
        gone = [uid for uid in removed if self._jobs.pop(uid, None) is not None]
        self._notify(changed, gone)

    def mark_lost(self, kernel_id: str, reason: str) -> None:
        """The kernel died or restarted: its unfinished jobs are lost."""
        changed = [
            self._lose(record, reason)
            for record in self._jobs.values()
            if record["kernel_id"] == kernel_id and record["status"] in protocol.ACTIVE_STATES
        ]
        self._notify(changed, [])

    def remove(self, uid: str) -> None:
        if self._jobs.pop(uid, None) is not None:
            self._notify([], [uid])

    def _put(self, kernel_id: str, job: Record) -> Record:
        record = {**job, "kernel_id": kernel_id}
        self._jobs[job["uid"]] = record
        return record

    def _lose(self, record: Record, reason: str) -> Record:
        record.update(
            status="lost",
            ended=time.time(),
            kill_requested=False,
            blocked_in=None,
            error={"ename": "JobLost", "evalue": reason, "traceback": []},
        )
        return record

    # --- reads (from handlers) --------------------------------------------------

    def get(self, uid: str) -> Record | None:
        return self._jobs.get(uid)

    def records(self) -> Iterable[Record]:
        return self._jobs.values()

    def query(self, query: Query) -> tuple[list[Record], str | None, dict[str, int]]:
        """One page of matching jobs (newest first), the next cursor, and the counts by group."""
        after = decode_cursor(query.cursor) if query.cursor else None
        text = query.text.lower() if query.text else None
        counts = dict.fromkeys(protocol.GROUPS, 0)
        group_of = {state: group for group, states in protocol.GROUPS.items() for state in states}
        matching = []
        for record in self._jobs.values():
            if query.kernel_ids is not None and record["kernel_id"] not in query.kernel_ids:
                continue
            if text is not None and not _matches(record, text):
                continue
            counts[group_of[record["status"]]] += 1
            if query.statuses is not None and record["status"] not in query.statuses:
                continue
            if after is not None and _order_key(record) <= after:
                continue
            matching.append(record)
        matching.sort(key=_order_key)
        page = matching[: query.limit]
        next_cursor = encode_cursor(page[-1]) if len(matching) > query.limit else None
        return page, next_cursor, counts


def _matches(record: Record, text: str) -> bool:
    return any(
        text in value.lower()
        for value in (record["code"], record["name"] or "", record["group"] or "", str(record["number"]), record["uid"])
    )
