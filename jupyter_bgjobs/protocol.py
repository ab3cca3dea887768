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

import re
from typing import Any

from . import record
from .protocol_error import ProtocolError as ProtocolError

# Bounded, encodable text: protocol.wire_head and the others stay this module's names.
from .text import clip as clip
from .text import clip_head as clip_head
from .text import encodable as encodable
from .text import wire_head as wire_head
from .text import wire_tail as wire_tail

# The job record's validation (both sides): protocol.validate_job stays this module's name.
from .wire_job import clip_traceback as clip_traceback
from .wire_job import validate_job as validate_job

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
OPS = ("list", "get", "kill", "kill_all", "remove", "kill_many")

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
# A kill_many request names at most this many jobs.
MAX_KILL_MANY = 1_000

# What a uid may be made of: what REST routes can address (`jobs/{uid}`).
UID_REGEX = record.UID_REGEX
UID_PATTERN = re.compile(UID_REGEX)

# The job record as it travels on the wire: the schema's fields but those
# the server adds. Times are POSIX seconds (float) or None; the server turns
# them into ISO 8601 for REST.
JOB_FIELDS: dict[str, tuple[type, ...]] = record.JOB_FIELDS


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
    ``kill_all`` takes an optional ``group`` (a ``jobs.map`` group name);
    ``kill_many`` takes ``uids`` (1 to ``MAX_KILL_MANY`` of them).
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
    if op == "kill_many":
        uids = msg.get("uids")
        if (
            not isinstance(uids, list)
            or not 0 < len(uids) <= MAX_KILL_MANY
            or not all(isinstance(uid, str) and 0 < len(uid) <= MAX_UID for uid in uids)
        ):
            raise ProtocolError(f"kill_many needs uids: a list of 1 to {MAX_KILL_MANY} uids (strings)")
        args["uids"] = uids
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
    if op == "kill_many":
        killed, refused = reply.get("killed"), reply.get("refused")
        if not isinstance(killed, list) or not all(isinstance(uid, str) for uid in killed):
            raise ProtocolError("a kill_many reply needs killed (a list of uids)")
        if not isinstance(refused, list) or not all(isinstance(item, dict) for item in refused):
            raise ProtocolError("a kill_many reply needs refused (a list of objects)")
        return {"killed": killed, "refused": [_parse_refusal(item) for item in refused]}
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


def _parse_refusal(item: dict[str, Any]) -> dict[str, str]:
    uid = item.get("uid")
    if not isinstance(uid, str):
        raise ProtocolError("a refused kill needs the job's uid")
    return {"uid": uid, **_parse_error(item)}


def _parse_error(error: Any) -> dict[str, str]:
    if not isinstance(error, dict):
        raise ProtocolError("error must be an object with code and message")
    code, message = error.get("code"), error.get("message")
    if not isinstance(code, str) or not isinstance(message, str):
        raise ProtocolError("error must have code and message (strings)")
    return {"code": wire_head(code, MAX_ERROR_CODE), "message": wire_head(message, MAX_MESSAGE)}
