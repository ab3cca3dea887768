"""Message shapes shared by the kernel side and the server side (protocol v1).

Both processes import this module, so it imports nothing heavy. It is the one
place where comm messages and the job record are described; docs/protocol.md
is its prose version.

Two comm targets, both opened by the client (JupyterLab closes comms a kernel
opens towards targets it does not know):

- ``EVENTS_TARGET``: the kernel pushes ``snapshot`` (on open and on
  ``resync``) and coalesced ``update`` messages, each with a per-comm ``seq``.
- ``CONTROL_TARGET``: requests with a ``req_id``; the kernel answers each with
  one ``reply`` on the same comm.
"""

from __future__ import annotations

import math
from typing import Any

VERSION = 1

EVENTS_TARGET = "jupyter_bgjobs.events"
CONTROL_TARGET = "jupyter_bgjobs.control"

STATES = ("queued", "running", "finished", "failed", "killed", "lost")
GROUPS: dict[str, tuple[str, ...]] = {
    "running": ("queued", "running"),
    "finished": ("finished",),
    "dead": ("failed", "killed", "lost"),
}
ACTIVE_STATES = frozenset(GROUPS["running"])
KINDS = ("expr", "func", "cell", "map")
OPS = ("list", "get", "kill", "kill_all", "remove")

# Bounds on what one job record carries, so that a job that prints or
# returns megabytes cannot flood the comm, the server or the browser.
MAX_CODE = 20_000
MAX_NAME = 200
MAX_REPR = 2_000
MAX_OUTPUT_TAIL = 8_000
MAX_TRACEBACK = 40_000
MAX_WHERE = 500
MAX_REQ_ID = 200

# The job record as it travels on the wire. Times are POSIX seconds (float)
# or None; the server turns them into ISO 8601 for REST.
JOB_FIELDS: dict[str, tuple[type, ...]] = {
    "uid": (str,),
    "number": (int,),
    "name": (str, type(None)),
    "code": (str,),
    "kind": (str,),
    "status": (str,),
    "group": (str, type(None)),
    "created": (float, int),
    "started": (float, int, type(None)),
    "ended": (float, int, type(None)),
    "result_repr": (str, type(None)),
    "error": (dict, type(None)),
    "output_tail": (str,),
    "progress": (dict, type(None)),
    "kill_requested": (bool,),
    "blocked_in": (str, type(None)),
}


class ProtocolError(ValueError):
    """A message that does not follow this protocol."""

    def __init__(self, message: str, code: str = "bad_request") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def clip(text: str, limit: int) -> str:
    """Keep the end of ``text`` (the most recent part) within ``limit`` characters."""
    if len(text) <= limit:
        return text
    return "\u2026" + text[-(limit - 1) :]


def clip_head(text: str, limit: int) -> str:
    """Keep the start of ``text`` within ``limit`` characters."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "\u2026"


# --- kernel -> client pushes on EVENTS_TARGET --------------------------------


def snapshot(seq: int, jobs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"v": VERSION, "type": "snapshot", "seq": seq, "jobs": jobs}


def update(seq: int, jobs: list[dict[str, Any]], removed: list[str] | None = None) -> dict[str, Any]:
    msg: dict[str, Any] = {"v": VERSION, "type": "update", "seq": seq, "jobs": jobs}
    if removed:
        msg["removed"] = removed
    return msg


def resync_request() -> dict[str, Any]:
    """Client -> kernel on EVENTS_TARGET: send me a fresh snapshot."""
    return {"v": VERSION, "type": "resync"}


# --- requests and replies on CONTROL_TARGET ----------------------------------


def request(op: str, req_id: str, **args: Any) -> dict[str, Any]:
    return {"v": VERSION, "type": "request", "op": op, "req_id": req_id, **args}


def reply_ok(req_id: str | None, **data: Any) -> dict[str, Any]:
    return {"v": VERSION, "type": "reply", "req_id": req_id, "ok": True, **data}


def reply_error(req_id: str | None, code: str, message: str) -> dict[str, Any]:
    return {
        "v": VERSION,
        "type": "reply",
        "req_id": req_id,
        "ok": False,
        "error": {"code": code, "message": message},
    }


def _require_dict(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProtocolError(f"message must be a JSON object, not {type(data).__name__}")
    if data.get("v") != VERSION:
        raise ProtocolError(f"unsupported protocol version {data.get('v')!r} (expected {VERSION})", "bad_version")
    return data


def parse_request(data: Any) -> tuple[str, str, dict[str, Any]]:
    """Validate a control request; return ``(req_id, op, args)``.

    ``uid`` (a job's uid) is required by ``get``, ``kill`` and ``remove``;
    ``kill_all`` takes an optional ``group``.
    """
    msg = _require_dict(data)
    req_id = msg.get("req_id")
    if not isinstance(req_id, str) or not req_id or len(req_id) > MAX_REQ_ID:
        raise ProtocolError("req_id must be a non-empty string")
    if msg.get("type") != "request":
        raise ProtocolError(f"unknown message type {msg.get('type')!r}")
    op = msg.get("op")
    if op not in OPS:
        raise ProtocolError(f"unknown op {op!r}; expected one of {', '.join(OPS)}", "unknown_op")
    args: dict[str, Any] = {}
    if op in ("get", "kill", "remove"):
        uid = msg.get("uid")
        if not isinstance(uid, str) or not uid:
            raise ProtocolError(f"{op} needs a job uid (string)")
        args["uid"] = uid
    if op == "kill_all":
        group = msg.get("group")
        if group is not None and not isinstance(group, str):
            raise ProtocolError("group must be a string")
        args["group"] = group
    return req_id, op, args


def request_id_of(data: Any) -> str | None:
    """The req_id of a message, when there is a usable one (for error replies)."""
    if isinstance(data, dict):
        req_id = data.get("req_id")
        if isinstance(req_id, str) and len(req_id) <= MAX_REQ_ID:
            return req_id
    return None


def parse_push(data: Any) -> dict[str, Any]:
    """Validate a kernel push (snapshot or update) received by the client."""
    msg = _require_dict(data)
    if msg.get("type") not in ("snapshot", "update"):
        raise ProtocolError(f"unknown push type {msg.get('type')!r}")
    seq = msg.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ProtocolError("seq must be a non-negative integer")
    jobs = msg.get("jobs")
    if not isinstance(jobs, list):
        raise ProtocolError("jobs must be a list")
    msg["jobs"] = [validate_job(job) for job in jobs]
    removed = msg.get("removed", [])
    if not isinstance(removed, list) or not all(isinstance(uid, str) for uid in removed):
        raise ProtocolError("removed must be a list of uids")
    msg["removed"] = removed
    return msg


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
    if not clean["uid"] or len(clean["uid"]) > 64:
        raise ProtocolError("job uid must be 1 to 64 characters")
    if clean["status"] not in STATES:
        raise ProtocolError(f"unknown job status {clean['status']!r}")
    if clean["kind"] not in KINDS:
        raise ProtocolError(f"unknown job kind {clean['kind']!r}")
    clean["code"] = clip_head(clean["code"], MAX_CODE)
    if clean["name"] is not None:
        clean["name"] = clip_head(clean["name"], MAX_NAME)
    if clean["result_repr"] is not None:
        clean["result_repr"] = clip_head(clean["result_repr"], MAX_REPR)
    clean["output_tail"] = clip(clean["output_tail"], MAX_OUTPUT_TAIL)
    if clean["blocked_in"] is not None:
        clean["blocked_in"] = clip_head(clean["blocked_in"], MAX_WHERE)
    clean["error"] = _validate_error(clean["error"])
    clean["progress"] = _validate_progress(clean["progress"])
    return clean


def _validate_error(error: dict[str, Any] | None) -> dict[str, Any] | None:
    if error is None:
        return None
    ename, evalue, traceback = error.get("ename"), error.get("evalue"), error.get("traceback")
    if not isinstance(ename, str) or not isinstance(evalue, str) or not isinstance(traceback, list):
        raise ProtocolError("error must have ename, evalue (strings) and traceback (list)")
    if not all(isinstance(line, str) for line in traceback):
        raise ProtocolError("traceback must be a list of strings")
    return {
        "ename": clip_head(ename, MAX_NAME),
        "evalue": clip_head(evalue, MAX_REPR),
        "traceback": clip_traceback(traceback),
    }


def clip_traceback(lines: list[str]) -> list[str]:
    """Keep the last lines of a traceback (where it ended) within MAX_TRACEBACK."""
    kept: list[str] = []
    size = 0
    for line in reversed(lines):
        line = clip_head(line, MAX_TRACEBACK // 4)
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
    return {"done": done, "total": total, "desc": None if desc is None else clip_head(desc, MAX_NAME)}
