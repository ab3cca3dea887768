"""What an ended job leaves for people to read: a bounded result repr and an error record."""

from __future__ import annotations

import builtins
import reprlib
import traceback
from types import TracebackType
from typing import Any

from .. import protocol
from .errors import JobKilled
from .where import is_engine_file

# Bounded at the source: a job that returns a list of ten million items must
# not spend seconds (or gigabytes) on a repr that is clipped to 2000 characters.
_repr = reprlib.Repr()
_repr.maxlevel = 4
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxfrozenset = _repr.maxdeque = _repr.maxarray = 100
_repr.maxdict = 50
_repr.maxstring = _repr.maxother = _repr.maxlong = protocol.MAX_REPR


_LOCAL: Any = object()

# How tracebacks name the kill: every killed job's traceback ends with it.
_KILLED = f"{JobKilled.__module__}.{JobKilled.__qualname__}"


def bounded_repr(value: Any) -> str | None:
    """The repr of a job's result for the job record (None for None)."""
    if value is None:
        return None
    try:
        text = _repr.repr(value)
    except Exception as exc:  # a broken __repr__ must not break the record
        text = f"<unrepresentable {type(value).__name__}: {exc!r}>"
    return protocol.wire_head(text, protocol.MAX_REPR)


def _drop_engine_frames(exc: traceback.TracebackException) -> None:
    # The engine's own frames (the job runner, the job-aware waits) say
    # nothing about the user's code; the library frames below them do.
    seen: set[int] = set()
    pending: list[traceback.TracebackException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        frames = [frame for frame in current.stack if not is_engine_file(frame.filename)]
        current.stack = traceback.StackSummary.from_list(frames)
        pending += [current.__cause__, current.__context__]


# Exception groups format their members' tracebacks too (Python 3.11+).
_GROUPS: tuple[type[BaseException], ...] = tuple(
    group for group in (getattr(builtins, "BaseExceptionGroup", None),) if group is not None
)


def _user_traceback(tb: TracebackType | None) -> TracebackType | None:
    """A copy of the traceback chain ``tb`` without the engine's frames."""
    kept = []
    while tb is not None:
        if not is_engine_file(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb = tb.tb_next
    copy = None
    for entry in reversed(kept):
        copy = TracebackType(copy, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return copy


def format_user_traceback(exc: BaseException, tb: TracebackType | None = None) -> list[str]:
    """The traceback lines of ``exc`` without the engine's frames."""
    tb = tb if tb is not None else exc.__traceback__
    if exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__) and not isinstance(exc, _GROUPS):
        # One exception, no chain (every job of a kill burst): the engine's
        # frames are left out before the summary is made, which reads each
        # frame's file (linecache) and costed a killed job about 0.1 ms.
        return list(traceback.TracebackException(type(exc), exc, _user_traceback(tb)).format())
    summary = traceback.TracebackException(type(exc), exc, tb)
    _drop_engine_frames(summary)
    return list(summary.format())


def exception_text(exc: BaseException) -> str:
    """``str(exc)``, also when the exception's ``__str__`` fails (as the traceback module says it)."""
    try:
        return str(exc)
    except Exception:
        return "<exception str() failed>"


def error_record(exc: BaseException | None, killed: bool, started: bool) -> dict[str, Any]:
    """The ``error`` field of a failed or killed job (the protocol's shape, bounded and encodable)."""
    remote = getattr(exc, "remote_error", _LOCAL)
    if remote is not _LOCAL:
        # Made where the job ran (backends/): its traceback is the remote one.
        return _remote_record(remote, killed, started)
    if exc is None:
        evalue = "killed on request" if started else "killed before it started"
        return {"ename": "JobKilled", "evalue": evalue, "traceback": [f"{_KILLED}: {evalue}\n"]}
    lines = format_user_traceback(exc)
    if killed and not isinstance(exc, JobKilled):
        # The kill woke a blocking call that then failed its own way (a socket
        # shut down, a child process terminated): say that the kill caused it.
        evalue = f"killed on request (it ended with {type(exc).__name__}: {exception_text(exc)})"
        lines.append(f"{_KILLED}: {evalue}\n")
        return {
            "ename": "JobKilled",
            "evalue": protocol.wire_head(evalue, protocol.MAX_EVALUE),
            "traceback": protocol.clip_traceback(lines),
        }
    return {
        "ename": protocol.wire_head(type(exc).__name__, protocol.MAX_ENAME),
        "evalue": protocol.wire_head(exception_text(exc), protocol.MAX_EVALUE),
        "traceback": protocol.clip_traceback(lines),
    }


def _remote_record(remote: dict[str, Any] | None, killed: bool, started: bool) -> dict[str, Any]:
    if remote is None:
        return error_record(None, killed, started)
    if killed and remote["ename"] != "JobKilled":
        # A worker that died, or a task that failed, while its kill was pending.
        evalue = f"killed on request (it ended with {remote['ename']}: {remote['evalue']})"
        return {
            "ename": "JobKilled",
            "evalue": protocol.wire_head(evalue, protocol.MAX_EVALUE),
            "traceback": protocol.clip_traceback([*remote["traceback"], f"{_KILLED}: {evalue}\n"]),
        }
    return {
        "ename": protocol.wire_head(remote["ename"], protocol.MAX_ENAME),
        "evalue": protocol.wire_head(remote["evalue"], protocol.MAX_EVALUE),
        "traceback": protocol.clip_traceback(list(remote["traceback"])),
    }
