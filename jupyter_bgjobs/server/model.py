"""The REST shape of a job: the store's record with ISO 8601 times and ``elapsed``.

One function, used by the handlers and by the event emitter alike, so that an
event carries a job exactly as ``GET jobs`` returns it.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from .. import record as record_schema
from .store import Record

_TIMES = frozenset(record_schema.TIME_FIELDS)


def iso(timestamp: float | None) -> str | None:
    """POSIX seconds as ISO 8601 in UTC (``2025-01-31T12:00:00.250000Z``)."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat().replace("+00:00", "Z")


def job_to_rest(record: Record, now: float | None = None) -> dict[str, Any]:
    """The Job JSON of docs/rest.md (openapi.json): every field of job.schema.json, in its order.

    The wire fields come as the kernel sent them but for the times (ISO 8601
    here); ``kernel_id`` and ``paths`` are the store's, ``elapsed`` is computed.
    """
    started, ended = record["started"], record["ended"]
    elapsed = None
    if started is not None:
        elapsed = round(max(0.0, (ended if ended is not None else (now or time.time())) - started), 3)
    computed = {"elapsed": elapsed, "paths": list(record["paths"])}
    return {
        name: computed[name] if name in computed else iso(record[name]) if name in _TIMES else record[name]
        for name in record_schema.REST_FIELDS
    }


class RestViews:
    """``job_to_rest`` with the answer kept per record (records are never changed in place).

    ``GET jobs`` and the event emitter turn the same records into Job JSON
    again and again; only a running job's ``elapsed`` moves with the clock.
    A store listener: ``on_change`` forgets the jobs that are removed.
    """

    def __init__(self) -> None:
        self._views: dict[str, tuple[Record, dict[str, Any]]] = {}

    def get(self, record: Record, now: float | None = None) -> dict[str, Any]:
        kept = self._views.get(record["uid"])
        if kept is None or kept[0] is not record:
            view = job_to_rest(record, now)
            self._views[record["uid"]] = (record, view)
            return dict(view)
        view = dict(kept[1])  # callers may change their copy
        if record["started"] is not None and record["ended"] is None:
            view["elapsed"] = round(max(0.0, (now or time.time()) - record["started"]), 3)
        return view

    def on_change(self, changed: list[Record], removed: list[str]) -> None:
        self.forget(removed)

    def forget(self, uids: list[str]) -> None:
        """Drop what is kept for these jobs (removed, or moved from the store's memory to its history)."""
        for uid in uids:
            self._views.pop(uid, None)
