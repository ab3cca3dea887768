"""One background job: a callable run in its own thread, and how it is killed."""

from __future__ import annotations

import socket
import threading
import time
import traceback as tb_module
import uuid
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from .. import protocol
from . import context
from .errors import JobKilled
from .inject import clear, inject
from .output import OutputBuffer, echo_to
from .where import blocked_in, is_engine_frame

if TYPE_CHECKING:
    import subprocess

    from .manager import JobManager

Outcome = tuple[Literal["finished", "killed", "failed"], Any]

# How long a kill waits for the job to die before it re-injects (doubling up
# to the maximum): long enough for a short cleanup in `finally:` to finish.
REINJECT_FIRST = 0.25
REINJECT_MAX = 2.0
# Child processes get SIGTERM at once and SIGKILL after this many seconds.
TERMINATE_GRACE = 0.5
# Progress changes are pushed at most this often (the last one always).
PROGRESS_INTERVAL = 0.1


class Job:
    """A job of a ``JobManager``; ``jobs.new`` creates it, its thread runs it."""

    def __init__(
        self,
        manager: JobManager,
        number: int,
        call: Callable[[], Any],
        *,
        code: str,
        kind: str,
        name: str | None = None,
        group: str | None = None,
        parent: dict[str, Any] | None = None,
        daemon: bool = True,
    ) -> None:
        self.number = number
        self.uid = uuid.uuid4().hex
        self.name = name
        self.code = code
        self.kind = kind
        self.group = group
        self.status = "queued"
        self.created = time.time()
        self.started: float | None = None
        self.ended: float | None = None
        self.result: Any = None
        self.exception: BaseException | None = None
        self.error: dict[str, Any] | None = None
        self.progress: dict[str, Any] | None = None
        self.kill_requested = False
        self.blocked_in: str | None = None

        self._manager = manager
        self._call = call
        self._parent = parent
        self._output = OutputBuffer()
        self._result_repr: str | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._cancel = threading.Event()  # job-aware waits return early when it is set
        self._thread = threading.Thread(target=self._run, name=f"bgjob-{number}", daemon=daemon)
        self._thread_id: int | None = None
        self._injectable = False  # true only while the job's own code runs

        # Blocking resources the kill must wake (filled by blocking.py).
        self._waiting_on: Any = None
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._processes: weakref.WeakSet[subprocess.Popen[Any]] = weakref.WeakSet()

        # Kill bookkeeping, for the follow-up by the manager's reaper.
        self._kill_time = 0.0
        self._injected = 0
        self._delivered = 0
        self._reinject_gap = REINJECT_FIRST
        self._next_reinject = 0.0
        self._progress_pushed = 0.0

    # --- what users read ----------------------------------------------------

    @property
    def num(self) -> int:
        """The job number (the name IPython's BackgroundJobManager uses)."""
        return self.number

    @property
    def elapsed(self) -> float | None:
        """Seconds the job has run (so far, if it still runs)."""
        if self.started is None:
            return None
        return (self.ended or time.time()) - self.started

    @property
    def output(self) -> str:
        """What the job printed (stdout and stderr), the last 1 MB at most."""
        return self._output.getvalue()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def traceback(self) -> str | None:
        """The traceback of a failed or killed job, as text (None otherwise)."""
        if self.error is None:
            return None
        return "".join(self.error["traceback"])

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the job ends; True if it has ended."""
        return self._done.wait(timeout)

    def kill(self, wait: float | None = 1.0) -> bool:
        """Kill the job; wait up to ``wait`` seconds; True if it is dead by then."""
        if context.current_job() is self:
            raise JobKilled()
        self._request_kill()
        if wait:
            self._done.wait(wait)
        return self.status == "killed"

    def __repr__(self) -> str:
        label = self.name or protocol.clip_head(self.code, 60)
        extra = " (kill requested)" if self.kill_requested and not self.done else ""
        return f"<Job {self.number} {self.status}{extra}: {label}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    # --- the wire record ------------------------------------------------------

    def to_wire(self) -> dict[str, Any]:
        """The job as the protocol's job record (bounded)."""
        return {
            "uid": self.uid,
            "number": self.number,
            "name": self.name,
            "code": protocol.clip_head(self.code, protocol.MAX_CODE),
            "kind": self.kind,
            "status": self.status,
            "group": self.group,
            "created": self.created,
            "started": self.started,
            "ended": self.ended,
            "result_repr": self._result_repr,
            "error": self.error,
            "output_tail": self._output.tail(protocol.MAX_OUTPUT_TAIL),
            "progress": self.progress,
            "kill_requested": self.kill_requested,
            "blocked_in": self.blocked_in,
        }

    # --- the job's thread ---------------------------------------------------

    def _start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        outcome: Outcome | None = None
        try:
            try:
                if self._begin():
                    outcome = ("finished", self._call())
            except JobKilled as exc:
                outcome = ("killed", exc)
            except BaseException as exc:  # a job's failure is its result, never the thread's
                outcome = ("failed", exc)
            finally:
                if self._close_injection() and outcome is not None and outcome[0] == "finished":
                    outcome = ("killed", None)  # the kill was pending when the code returned
        except JobKilled as exc:
            # The kill landed after the job's code returned (a socket the kill
            # shut down made `recv` return), before injections stopped.
            outcome = ("killed", exc)
            self._close_injection()
        self._settle(outcome)

    def _begin(self) -> bool:
        context.bind(self)
        echo_to(self._parent)
        with self._lock:
            if self.kill_requested:  # killed while queued: never runs
                return False
            self.status = "running"
            self.started = time.time()
            self._thread_id = threading.get_ident()
            self._injectable = True
        self._manager._changed(self)
        return True

    def _close_injection(self) -> bool:
        """Stop injections, then drop one that may still be pending; True if one was.

        After the flag is off no new injection starts, so at most one pending
        exception can land in here; the loop absorbs it.
        """
        while True:
            try:
                with self._lock:
                    self._injectable = False
                    pending = self._injected > self._delivered
                    if pending and self._thread_id is not None:
                        clear(self._thread_id)
                    self._injected = self._delivered
                return pending
            except JobKilled:
                continue

    def _settle(self, outcome: Outcome | None) -> None:
        context.unbind()
        kind, value = outcome if outcome is not None else ("killed", None)
        if kind == "failed" and self.kill_requested:
            # The kill woke a blocking call that then failed (a socket that was
            # shut down, a child that was terminated): the kill caused it.
            kind = "killed"
        with self._lock:
            self.ended = time.time()
            if kind == "finished":
                self.result = value
                self._result_repr = _bounded_repr(value)
            else:
                self.exception = value
                self.error = _error_record(value, killed=kind == "killed", started=self.started is not None)
            self.status = kind
            self.blocked_in = None
        self._done.set()
        self._manager._changed(self)

    # --- output and progress, called from the job's thread ---------------------

    def _write_output(self, text: str) -> None:
        self._output.write(text)
        self._manager._changed(self)

    def _set_progress(self, done: float, total: float | None, desc: str | None) -> None:
        self.progress = {"done": done, "total": total, "desc": desc}
        now = time.monotonic()
        if now - self._progress_pushed >= PROGRESS_INTERVAL or (total is not None and done >= total):
            self._progress_pushed = now
            self._manager._changed(self)

    # --- kill -----------------------------------------------------------------

    def _request_kill(self) -> bool:
        """Ask the job to die; False if it is not running (or queued)."""
        with self._lock:
            if self.status not in protocol.ACTIVE_STATES:
                return False
            first = not self.kill_requested
            self.kill_requested = True
            self._cancel.set()
            if first:
                self._kill_time = time.monotonic()
                self._next_reinject = self._kill_time + self._reinject_gap
                self._inject_locked()
        self._wake_blocking()
        self._manager._changed(self)
        self._manager._watch_kill(self)
        return True

    def _inject_locked(self) -> None:
        # Under self._lock and only while the job's own code runs: the thread
        # id is then certainly this job's live thread (ids are reused at once).
        if self._injectable and self._thread_id is not None and inject(self._thread_id, JobKilled):
            self._injected += 1

    def _kill_delivered(self) -> None:
        self._delivered += 1

    def _wake_blocking(self) -> None:
        """Wake the blocking calls the job is in: waits, sockets, child processes."""
        waiter = self._waiting_on
        if waiter is not None:
            try:
                waiter.release()
            except RuntimeError:  # already released by a notify
                pass
        for sock in list(self._sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for process in list(self._processes):
            try:
                if process.poll() is None:
                    process.terminate()
            except OSError:
                pass

    def _follow_up_kill(self, now: float) -> None:
        """Called by the reaper while a killed job's thread lives."""
        self._wake_blocking()
        if now - self._kill_time >= TERMINATE_GRACE:
            for process in list(self._processes):
                try:
                    if process.poll() is None:
                        process.kill()
                except OSError:
                    pass
        with self._lock:
            # Re-inject only once the last injection was delivered (swallowed by
            # `except BaseException:` or a long cleanup); an undelivered one is
            # still pending, and a second changes nothing.
            if self._delivered >= self._injected and now >= self._next_reinject:
                self._inject_locked()
                self._reinject_gap = min(self._reinject_gap * 2, REINJECT_MAX)
                self._next_reinject = now + self._reinject_gap
        where = None
        if self._thread_id is not None and not self.done:
            where = blocked_in(self._thread_id)
        if where != self.blocked_in and not self.done:
            self.blocked_in = where
            self._manager._changed(self)


def _bounded_repr(value: Any) -> str | None:
    if value is None:
        return None
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not fail the job
        text = f"<unrepresentable {type(value).__name__}: {exc!r}>"
    return protocol.clip_head(text, protocol.MAX_REPR)


def _error_record(exc: BaseException | None, killed: bool, started: bool) -> dict[str, Any]:
    if exc is None:
        evalue = "killed on request" if started else "killed before it started"
        return {"ename": "JobKilled", "evalue": evalue, "traceback": [f"JobKilled: {evalue}\n"]}
    tb = exc.__traceback__
    while tb is not None and is_engine_frame(tb.tb_frame):
        tb = tb.tb_next
    lines = tb_module.format_exception(type(exc), exc, tb)
    if killed and not isinstance(exc, JobKilled):
        evalue = f"killed on request (it ended with {type(exc).__name__}: {exc})"
        lines.append(f"JobKilled: {evalue}\n")
        return {"ename": "JobKilled", "evalue": evalue, "traceback": protocol.clip_traceback(lines)}
    return {"ename": type(exc).__name__, "evalue": str(exc), "traceback": protocol.clip_traceback(lines)}
