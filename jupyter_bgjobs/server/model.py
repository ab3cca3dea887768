"""The REST shape of a job: the store's record with ISO 8601 times and ``elapsed``.

One function, used by the handlers and by the event emitter alike, so that an
event carries a job exactly as ``GET jobs`` returns it.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from .store import Record


def iso(timestamp: float | None) -> str | None:
    """POSIX seconds as ISO 8601 in UTC (``2025-01-31T12:00:00.250000Z``)."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat().replace("+00:00", "Z")


def job_to_rest(record: Record, now: float | None = None) -> dict[str, Any]:
    """The Job JSON of docs/rest.md (and openapi.json)."""
    started, ended = record["started"], record["ended"]
    elapsed = None
    if started is not None:
        elapsed = round(max(0.0, (ended if ended is not None else (now or time.time())) - started), 3)
    return {
        "uid": record["uid"],
        "kernel_id": record["kernel_id"],
        "number": record["number"],
        "name": record["name"],
        "code": record["code"],
        "kind": record["kind"],
        "status": record["status"],
        "group": record["group"],
        "created": iso(record["created"]),
        "started": iso(started),
        "ended": iso(ended),
        "elapsed": elapsed,
        "result_repr": record["result_repr"],
        "error": record["error"],
        "output_tail": record["output_tail"],
        "progress": record["progress"],
        "kill_requested": record["kill_requested"],
        "blocked_in": record["blocked_in"],
        "paths": list(record["paths"]),
    }
