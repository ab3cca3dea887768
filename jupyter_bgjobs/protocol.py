"""Message shapes shared by the kernel side and the server side (protocol v1).

Both processes import this module, so it imports nothing heavy. It is the one
place where comm messages and the job record are described; docs/protocol.md
is its prose version.

Two comm targets, both opened by the client (JupyterLab closes comms a kernel
opens towards targets it does not know), each with ``{"v": VERSION}`` as the
``comm_open`` data:

- ``EVENTS_TARGET``: the kernel pushes a ``snapshot`` (on open and on
  ``resync``) and coalesced ``update`` messages, each with the next ``seq`` of
  that comm; a client message other than ``resync`` gets an ``error`` push
  (which has no ``seq``).
- ``CONTROL_TARGET``: requests with a ``req_id``; the kernel answers each
  with one ``reply`` on the same comm, sent from the thread that handled it.

Every ``parse_*`` function validates a message received from the other side
and raises ``ProtocolError`` (with an error ``code``) when it is malformed.
"""

from __future__ import annotations

import math
import re
from typing import Any

from . import record

# Bounded, encodable text: protocol.wire_head and the others stay this module's names.
from .text import clip as clip
from .text import clip_head as clip_head
from .text import encodable as encodable
from .text import wire_head as wire_head
from .text import wire_tail as wire_tail

VERSION = 1

EVENTS_TARGET = "jupyter_bgjobs.events"
CONTROL_TARGET = "jupyter_bgjobs.control"
TARGETS = (EVENTS_TARGET, CONTROL_TARGET)

# On the kernel's control channel this protocol's comm messages have message
# types of their own: ipykernel publishes a busy/idle status for every
# control message, and clients (jupyter_server's activity tracking,
# JupyterLab's kernel indicator) ignore statuses caused by "untracked"
# message types only. With "comm_msg", a kill while a cell runs would show
# the notebook idle; the server adds these types to the untracked ones.
CONTROL_CHANNEL_TYPES = {
    "comm_open": "jupyter_bgjobs_comm_open",
    "comm_msg": "jupyter_bgjobs_comm_msg",
    "comm_close": "jupyter_bgjobs_comm_close",
}

# States, their user-facing groups and kinds: from the job record's schema.
STATES = record.STATES
GROUPS: dict[str, tuple[str, ...]] = record.GROUPS
GROUP_OF_STATE: dict[str, str] = {state: group for group, states in GROUPS.items() for state in states}
ACTIVE_STATES = frozenset(GROUPS["running"])
KINDS = record.KINDS
OPS = ("list", "get", "kill", "kill_all", "remove")

# Error codes of error replies and error pushes.
ERROR_CODES = (
    "bad_request",  # the message is not what this protocol says
    "bad_version",  # another protocol version
    "unknown_type",  # a message type this target does not take
    "unknown_op",  # a control request for an operation that does not exist
    "not_found",  # no job with that uid
    "conflict",  # the job is not in a state where the operation applies
    "internal",  # the kernel side failed while serving a valid request
)

# Bounds on what one job record carries, so that a job that prints or
# returns megabytes cannot flood the comm, the server or the browser: the
# maxLength of the schema's fields.
MAX_CODE = record.max_length("code")
MAX_NAME = record.max_length("name")
MAX_REPR = record.max_length("result_repr")
MAX_OUTPUT_TAIL = record.max_length("output_tail")
MAX_WHERE = record.max_length("blocked_in")
MAX_UID = record.max_length("uid")
MAX_GROUP = record.max_length("group")
MAX_ENAME = record.max_length("error", "ename")
MAX_EVALUE = record.max_length("error", "evalue")
MAX_TRACEBACK_LINE = record.max_length("error", "traceback", "items")
MAX_TRACEBACK: int = record.PROPERTIES["error"]["properties"]["traceback"]["x-maxTotalLength"]
MAX_DESC = record.max_length("progress", "desc")
MAX_BACKEND = record.max_length("where", "backend")
MAX_ADDRESS = record.max_length("where", "address")
# Bounds of the protocol's own messages.
MAX_REQ_ID = 200
MAX_MESSAGE = 2_000
MAX_ERROR_CODE = 200

# What a uid may be made of: what REST routes can address (`jobs/{uid}`).
UID_REGEX = record.UID_REGEX
UID_PATTERN = re.compile(UID_REGEX)

# The job record as it travels on the wire: the schema's fields but those
# the server adds. Times are POSIX seconds (float) or None; the server turns
# them into ISO 8601 for REST.
JOB_FIELDS: dict[str, tuple[type, ...]] = record.JOB_FIELDS


class ProtocolError(ValueError):
    """A message that does not follow this protocol."""

    def __init__(self, message: str, code: str = "bad_request") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- comm_open data (both targets) --------------------------------------------


def open_data() -> dict[str, Any]:
    """The ``comm_open`` data a client sends to either target."""
    return {"v": VERSION}


def parse_open(data: Any) -> None:
    """Validate the ``comm_open`` data received by the kernel."""
    _require_dict(data)


# --- kernel -> client pushes on EVENTS_TARGET --------------------------------


def snapshot(seq: int, jobs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every job of the kernel; the client replaces what it knew of that kernel."""
    return {"v": VERSION, "type": "snapshot", "seq": seq, "jobs": jobs}


def update(seq: int, jobs: list[dict[str, Any]], removed: list[str] | None = None) -> dict[str, Any]:
    """The jobs that changed since the previous push (and the uids removed)."""
    msg: dict[str, Any] = {"v": VERSION, "type": "update", "seq": seq, "jobs": jobs}
    if removed:
        msg["removed"] = removed
    return msg


def event_error(code: str, message: str) -> dict[str, Any]:
    """Kernel -> client on EVENTS_TARGET: your last message was not understood."""
    return {"v": VERSION, "type": "error", "error": {"code": code, "message": wire_head(message, MAX_MESSAGE)}}


def resync_request() -> dict[str, Any]:
    """Client -> kernel on EVENTS_TARGET: send me a fresh snapshot."""
    return {"v": VERSION, "type": "resync"}


def parse_events_request(data: Any) -> str:
    """Validate a client message on EVENTS_TARGET; its type (only ``resync`` exists)."""
    msg = _require_dict(data)
    if msg.get("type") != "resync":
        raise ProtocolError(
            f"unknown message type {msg.get('type')!r:.80} on {EVENTS_TARGET}; the only one is 'resync'", "unknown_type"
        )
    return "resync"


def parse_push(data: Any) -> dict[str, Any]:
    """Validate a kernel push (snapshot, update or error) received by the client.

    Returns the message with its jobs validated and bounded, ``removed``
    always present on updates, and ``error`` checked on errors.
    """
    msg = _require_dict(data)
    kind = msg.get("type")
    if kind == "error":
        return {"v": VERSION, "type": "error", "error": _parse_error(msg.get("error"))}
    if kind not in ("snapshot", "update"):
        raise ProtocolError(f"unknown push type {kind!r:.80}", "unknown_type")
    seq = msg.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ProtocolError("seq must be a non-negative integer")
    jobs = msg.get("jobs")
    if not isinstance(jobs, list):
        raise ProtocolError("jobs must be a list")
    removed = msg.get("removed", [])
    if not isinstance(removed, list) or not all(isinstance(uid, str) and UID_PATTERN.fullmatch(uid) for uid in removed):
        raise ProtocolError("removed must be a list of uids")
    return {"v": VERSION, "type": kind, "seq": seq, "jobs": [validate_job(job) for job in jobs], "removed": removed}


# --- requests and replies on CONTROL_TARGET ----------------------------------


def request(op: str, req_id: str, **args: Any) -> dict[str, Any]:
    """A control request; ``args`` are the operation's (``uid``, ``group``)."""
    return {"v": VERSION, "type": "request", "op": op, "req_id": req_id, **args}


def reply_ok(req_id: str | None, **data: Any) -> dict[str, Any]:
    return {"v": VERSION, "type": "reply", "req_id": req_id, "ok": True, **data}


def reply_error(req_id: str | None, code: str, message: str) -> dict[str, Any]:
    return {
        "v": VERSION,
        "type": "reply",
        "req_id": req_id,
        "ok": False,
        "error": {"code": code, "message": wire_head(message, MAX_MESSAGE)},
    }


def parse_request(data: Any) -> tuple[str, str, dict[str, Any]]:
    """Validate a control request received by the kernel; ``(req_id, op, args)``.

    ``uid`` (a job's uid) is required by ``get``, ``kill`` and ``remove``;
    ``kill_all`` takes an optional ``group`` (a ``jobs.map`` group name).
    """
    msg = _require_dict(data)
    if msg.get("type") != "request":
        raise ProtocolError(
            f"unknown message type {msg.get('type')!r:.80} on {CONTROL_TARGET}; the only one is 'request'",
            "unknown_type",
        )
    req_id = msg.get("req_id")
    if not isinstance(req_id, str) or not req_id or len(req_id) > MAX_REQ_ID:
        raise ProtocolError(f"req_id must be a string of 1 to {MAX_REQ_ID} characters")
    op = msg.get("op")
    if op not in OPS:
        raise ProtocolError(f"unknown op {op!r:.80}; expected one of {', '.join(OPS)}", "unknown_op")
    args: dict[str, Any] = {}
    if op in ("get", "kill", "remove"):
        uid = msg.get("uid")
        if not isinstance(uid, str) or not 0 < len(uid) <= MAX_UID:
            raise ProtocolError(f"{op} needs the job's uid (a string of 1 to {MAX_UID} characters)")
        args["uid"] = uid
    if op == "kill_all":
        group = msg.get("group")
        if group is not None and (not isinstance(group, str) or not 0 < len(group) <= MAX_GROUP):
            raise ProtocolError(f"group must be a string of 1 to {MAX_GROUP} characters, or null")
        args["group"] = group
    return req_id, op, args


def request_id_of(data: Any) -> str | None:
    """The req_id of a message, when there is a usable one (for error replies)."""
    if isinstance(data, dict):
        req_id = data.get("req_id")
        if isinstance(req_id, str) and 0 < len(req_id) <= MAX_REQ_ID:
            return req_id
    return None


def parse_reply(data: Any) -> dict[str, Any]:
    """Validate a reply received by the client (its envelope; see ``reply_payload``)."""
    msg = _require_dict(data)
    if msg.get("type") != "reply":
        raise ProtocolError(f"unknown message type {msg.get('type')!r:.80} on {CONTROL_TARGET}", "unknown_type")
    req_id = msg.get("req_id")
    if req_id is not None and not isinstance(req_id, str):
        raise ProtocolError("req_id must be a string or null")
    ok = msg.get("ok")
    if not isinstance(ok, bool):
        raise ProtocolError("ok must be true or false")
    if not ok:
        msg["error"] = _parse_error(msg.get("error"))
    return msg


def reply_payload(op: str, reply: dict[str, Any]) -> dict[str, Any]:
    """The validated data of a successful reply to ``op``."""
    if op == "list":
        jobs = reply.get("jobs")
        if not isinstance(jobs, list):
            raise ProtocolError("a list reply needs jobs (a list)")
        return {"jobs": [validate_job(job) for job in jobs]}
    if op in ("get", "kill"):
        return {"job": validate_job(reply.get("job"))}
    if op == "kill_all":
        killed = reply.get("killed")
        if not isinstance(killed, list) or not all(isinstance(uid, str) for uid in killed):
            raise ProtocolError("a kill_all reply needs killed (a list of uids)")
        return {"killed": killed}
    if op == "remove":
        removed = reply.get("removed")
        if not isinstance(removed, str):
            raise ProtocolError("a remove reply needs removed (a uid)")
        return {"removed": removed}
    raise ProtocolError(f"unknown op {op!r:.80}", "unknown_op")


# --- validation helpers --------------------------------------------------------


def _require_dict(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProtocolError(f"message must be a JSON object, not {type(data).__name__}")
    version = data.get("v")
    if version != VERSION or isinstance(version, bool):
        raise ProtocolError(f"unsupported protocol version {version!r:.40} (expected {VERSION})", "bad_version")
    return data


def _parse_error(error: Any) -> dict[str, str]:
    if not isinstance(error, dict):
        raise ProtocolError("error must be an object with code and message")
    code, message = error.get("code"), error.get("message")
    if not isinstance(code, str) or not isinstance(message, str):
        raise ProtocolError("error must have code and message (strings)")
    return {"code": wire_head(code, MAX_ERROR_CODE), "message": wire_head(message, MAX_MESSAGE)}


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
