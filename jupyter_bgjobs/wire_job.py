"""The job record on the wire: ``validate_job`` checks one field by field and bounds it.

Both sides use it through ``protocol`` (``protocol.validate_job``); the record's
fields, types and limits come from ``job.schema.json`` (``record.py``).
"""

from __future__ import annotations

import math
import re
from typing import Any

from . import record
from .protocol_error import ProtocolError
from .text import wire_head, wire_tail

STATES = frozenset(record.STATES)
KINDS = frozenset(record.KINDS)
JOB_FIELDS: dict[str, tuple[type, ...]] = record.JOB_FIELDS
UID_PATTERN = re.compile(record.UID_REGEX)
MAX_UID = record.max_length("uid")
MAX_ENAME = record.max_length("error", "ename")
MAX_EVALUE = record.max_length("error", "evalue")
MAX_TRACEBACK_LINE = record.max_length("error", "traceback", "items")
MAX_TRACEBACK: int = record.PROPERTIES["error"]["properties"]["traceback"]["x-maxTotalLength"]
MAX_DESC = record.max_length("progress", "desc")
MAX_BACKEND = record.max_length("where", "backend")
MAX_ADDRESS = record.max_length("where", "address")


def validate_job(job: Any) -> dict[str, Any]:
    """Check a wire job record field by field; return a bounded copy."""
    if not isinstance(job, dict):
        raise ProtocolError("a job must be a JSON object")
    clean: dict[str, Any] = {}
    for field, types in JOB_FIELDS.items():
        value = job.get(field)
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise ProtocolError(f"job field {field!r} has a bad value {value!r:.80}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ProtocolError(f"job field {field!r} is not a finite number")
        clean[field] = value
    if not UID_PATTERN.fullmatch(clean["uid"]):
        raise ProtocolError(f"job uid must be 1 to {MAX_UID} letters, digits, '-' or '_'")
    if clean["number"] < 0:
        raise ProtocolError("job number must not be negative")
    if clean["status"] not in STATES:
        raise ProtocolError(f"unknown job status {clean['status']!r:.40}")
    if clean["kind"] not in KINDS:
        raise ProtocolError(f"unknown job kind {clean['kind']!r:.40}")
    # JSON escapes can carry lone surrogates too (`"\\ud800"`): what is
    # stored, written to SQLite and served is made encodable here.
    for field, (limit, keep_end) in record.CLIPPED.items():
        if clean[field] is not None:
            clean[field] = (wire_tail if keep_end else wire_head)(clean[field], limit)
    clean["error"] = _validate_job_error(clean["error"])
    clean["progress"] = _validate_progress(clean["progress"])
    clean["where"] = _validate_where(clean["where"])
    return clean


def _validate_job_error(error: dict[str, Any] | None) -> dict[str, Any] | None:
    if error is None:
        return None
    ename, evalue, traceback = error.get("ename"), error.get("evalue"), error.get("traceback")
    if not isinstance(ename, str) or not isinstance(evalue, str) or not isinstance(traceback, list):
        raise ProtocolError("error must have ename, evalue (strings) and traceback (list)")
    if not all(isinstance(line, str) for line in traceback):
        raise ProtocolError("traceback must be a list of strings")
    return {
        "ename": wire_head(ename, MAX_ENAME),
        "evalue": wire_head(evalue, MAX_EVALUE),
        "traceback": clip_traceback(traceback),
    }


def clip_traceback(lines: list[str]) -> list[str]:
    """Keep the last lines of a traceback (where it ended) within MAX_TRACEBACK, encodable."""
    kept: list[str] = []
    size = 0
    for line in reversed(lines):
        line = wire_head(line, MAX_TRACEBACK_LINE)
        size += len(line)
        if size > MAX_TRACEBACK:
            kept.append("\u2026 (traceback shortened)\n")
            break
        kept.append(line)
    return kept[::-1]


def _validate_progress(progress: dict[str, Any] | None) -> dict[str, Any] | None:
    if progress is None:
        return None
    done, total, desc = progress.get("done"), progress.get("total"), progress.get("desc")
    if not isinstance(done, (int, float)) or isinstance(done, bool) or not math.isfinite(done):
        raise ProtocolError("progress.done must be a number")
    if total is not None and (
        not isinstance(total, (int, float)) or isinstance(total, bool) or not math.isfinite(total)
    ):
        raise ProtocolError("progress.total must be a number or null")
    if desc is not None and not isinstance(desc, str):
        raise ProtocolError("progress.desc must be a string or null")
    return {"done": done, "total": total, "desc": None if desc is None else wire_head(desc, MAX_DESC)}


def _validate_where(where: dict[str, Any] | None) -> dict[str, Any] | None:
    if where is None:
        return None
    backend, pid = where.get("backend"), where.get("pid")
    if not isinstance(backend, str) or not backend:
        raise ProtocolError("where.backend must be a non-empty string")
    if pid is not None and (not isinstance(pid, int) or isinstance(pid, bool) or pid < 0):
        raise ProtocolError("where.pid must be a non-negative integer or null")
    clean: dict[str, Any] = {"backend": wire_head(backend, MAX_BACKEND), "pid": pid}
    for key in ("address", "worker", "dashboard"):
        value = where.get(key)
        if value is not None and not isinstance(value, str):
            raise ProtocolError(f"where.{key} must be a string or null")
        clean[key] = None if value is None else wire_head(value, MAX_ADDRESS)
    return clean
