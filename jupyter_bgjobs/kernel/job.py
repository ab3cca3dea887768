"""One background job: a callable run in its own thread, and how it is killed.

A kill comes in waves. Each wave injects a ``JobKilled`` into the job's
thread (it lands at the next bytecode) and wakes the blocking call the
thread is in (``blocking.py``, ``resources.py``), so that it gets back to
bytecode. The job's code sees one ``JobKilled`` per wave; the manager's
reaper starts a new wave if the thread still lives after a growing gap
(0.25 s, 0.5 s, ... 2 s), which gives a ``finally:`` block time to clean up
and still ends a job that swallowed the first one.
"""

from __future__ import annotations

import threading
import time
from _thread import get_ident
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from .. import protocol
from . import context
from .context import this_thread
from .errors import JobKilled
from .inject import clear, inject
from .outcome import bounded_repr, error_record
from .output import OutputBuffer, echo_to
from .resources import JobResources
from .uids import new_uid
from .where import blocked_in

if TYPE_CHECKING:
    from .manager import JobManager

Outcome = tuple[Literal["finished", "killed", "failed"], Any]

# The gap before a kill that did not end the job is repeated, doubling up to
# the maximum: long enough for a short cleanup in `finally:` to finish.
REINJECT_FIRST = 0.25
REINJECT_MAX = 2.0
# Child processes get SIGTERM at once and SIGKILL after this many seconds.
TERMINATE_GRACE = 0.5
# Progress changes are pushed at most this often (the last one always).
PROGRESS_INTERVAL = 0.1

_UNSET: Any = object()


def _ended() -> None:
    """What an ended job holds instead of the call it made."""


class TracebackText(str):
    """A traceback that IPython shows as text, not as a quoted string."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self).rstrip("\n"))


class Job:
    """A job of a ``JobManager``; ``jobs.new`` creates it, its thread runs it.

    Public attributes: ``number``, ``uid``, ``name``, ``code``, ``kind``,
    ``group``, ``status``, ``created``, ``started``, ``ended``, ``result``,
    ``exception``, ``error``, ``progress``, ``kill_requested``, ``blocked_in``.
    """

    # Defaults on the class: a job that is never killed, prints nothing and is
    # never waited for does not pay for setting them (job start is measured).
    started: float | None = None
    ended: float | None = None
    result: Any = None
    exception: BaseException | None = None
    error: dict[str, Any] | None = None
    progress: dict[str, Any] | None = None
    kill_requested = False
    blocked_in: str | None = None

    _thread_id: int | None = None
    _injectable = False  # true only while the job's own code runs
    _waves = 0  # kill waves sent
    _delivered = 0  # the wave the job thread last raised JobKilled for
    _kill_time = 0.0
    _next_wave = 0.0
    _wave_gap = REINJECT_FIRST
    _waiting_on: Any = None  # the lock a job-aware wait blocks on (blocking.py)
    _resources: JobResources | None = None
    _output: OutputBuffer | None = None
    _done_event: threading.Event | None = None
    _progress_pushed = 0.0
    _result_repr: Any = _UNSET

    def __init__(
        self,
        manager: JobManager,
        number: int,
        call: Callable[[], Any],
        *,
        code: str | Callable[[], str],
        kind: str,
        name: str | None = None,
        group: str | None = None,
        parent: dict[str, Any] | None = None,
        daemon: bool = True,
    ) -> None:
        self.number = number
        self.uid = new_uid()
        self.name = name
        self._code = code
        self.kind = kind
        self.group = group
        self.status = "queued"
        self.created = time.time()
        self._manager = manager
        self._call = call
        self._parent = parent
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"bgjob-{number}", daemon=daemon)

    # --- what users read ----------------------------------------------------

    @property
    def num(self) -> int:
        """The job number (the name IPython's BackgroundJobManager uses)."""
        return self.number

    @property
    def code(self) -> str:
        """The job's code: the expression, the cell, or ``func(args)`` for a callable."""
        code = self._code
        if not isinstance(code, str):
            # A callable's description (the reprs of its arguments) is made
            # when first read, not on the start path: a repr can be slow.
            code = self._code = code()
        return code

    @property
    def elapsed(self) -> float | None:
        """Seconds the job has run (so far, if it still runs)."""
        if self.started is None:
            return None
        return (self.ended or time.time()) - self.started

    @property
    def output(self) -> str:
        """What the job printed (stdout and stderr), the last 1 MB at most."""
        buffer = self._output
        return "" if buffer is None else buffer.getvalue()

    @property
    def done(self) -> bool:
        """True once the job has ended (finished, failed or killed)."""
        return self.ended is not None

    def traceback(self) -> TracebackText | None:
        """The traceback of a failed or killed job, as text (None otherwise)."""
        if self.error is None:
            return None
        return TracebackText("".join(self.error["traceback"]))

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the job ends; True if it has ended."""
        with self._lock:
            if self.done:  # the end read _done_event under this lock: nobody would set a new one
                return True
            event = self._done_event
            if event is None:
                event = self._done_event = threading.Event()
        return event.wait(timeout)

    def kill(self, wait: float | None = 1.0) -> bool:
        """Kill the job; wait up to ``wait`` seconds; True if it is dead by then."""
        if context.current_job() is self:
            raise JobKilled()
        self._request_kill()
        if wait:
            self.wait(wait)
        return self.status == "killed"

    def __repr__(self) -> str:
        label = self.name or protocol.clip_head(" ".join(self.code.split()), 60)
        extra = " (kill requested)" if self.kill_requested and not self.done else ""
        return f"<Job {self.number} {self.status}{extra}: {label}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    # --- the wire record ------------------------------------------------------

    def to_wire(self) -> dict[str, Any]:
        """The job as the protocol's job record: bounded, and every string encodable.

        A job's texts come from user code and may hold lone surrogates, which
        jupyter_client cannot send (``protocol.encodable``); the error record
        and the result repr are made encodable once, when they are made.
        """
        output = self._output
        name, group, progress, where = self.name, self.group, self.progress, self.blocked_in
        if progress is not None and progress["desc"] is not None:
            progress = {**progress, "desc": protocol.wire_head(progress["desc"], protocol.MAX_DESC)}
        return {
            "uid": self.uid,
            "number": self.number,
            "name": None if name is None else protocol.wire_head(name, protocol.MAX_NAME),
            "code": protocol.wire_head(self.code, protocol.MAX_CODE),
            "kind": self.kind,
            "status": self.status,
            "group": None if group is None else protocol.wire_head(group, protocol.MAX_GROUP),
            "created": self.created,
            "started": self.started,
            "ended": self.ended,
            "result_repr": self._result_text(),
            "error": self.error,
            "output_tail": (
                ""
                if output is None
                else protocol.wire_tail(output.tail(protocol.MAX_OUTPUT_TAIL), protocol.MAX_OUTPUT_TAIL)
            ),
            "progress": progress,
            "kill_requested": self.kill_requested,
            "blocked_in": None if where is None else protocol.wire_head(where, protocol.MAX_WHERE),
        }

    def _result_text(self) -> str | None:
        # Made on first request, not in the job's thread: most results are
        # never shown, and a repr can be expensive.
        if self.status != "finished":
            return None
        if self._result_repr is _UNSET:
            self._result_repr = bounded_repr(self.result)
        text: str | None = self._result_repr
        return text

    # --- the job's thread ---------------------------------------------------

    def _start(self) -> None:
        try:
            self._thread.start()
        except RuntimeError as error:  # "can't start new thread": the system's limit
            self._settle_dead(("failed", error))
            raise

    def _run(self) -> None:
        # One flat function on purpose: Thread.start() in the starting thread
        # waits for the GIL while this runs, so every call made and object
        # touched here until the job's code is reached, and after it for a job
        # that finishes at once, adds to the job's start (bench_job_start.py).
        this_thread.job = self  # from here on, this thread's waits, sockets and prints are the job's
        if self._parent:
            echo_to(self._parent)
        lock = self._lock
        with lock:
            runs = not self.kill_requested  # killed while queued: it never runs
            if runs:
                self.status = "running"
                self.started = time.time()
                self._thread_id = get_ident()
                self._injectable = True
        feed = self._manager._feed
        if runs and feed.listening:
            feed.changed(self)
        outcome: Outcome | None = None
        try:
            try:
                if runs:
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
        this_thread.job = None  # standard again: its id may soon be another thread's
        self._call = _ended  # the call's arguments may be large: let them go
        if outcome is None or outcome[0] != "finished":
            self._settle_dead(outcome)
            return
        with lock:
            self.result = outcome[1]
            self.status = "finished"
            self.ended = time.time()  # last: `done` reads it without the lock
            event = self._done_event
        if event is not None:
            event.set()
        if feed.listening:
            feed.changed(self)

    def _close_injection(self) -> bool:
        """Stop injections, then drop one that may still be pending; True if a kill was pending.

        After the flag is off no new injection starts, so at most one pending
        exception can land in here; the loop absorbs it.
        """
        landed = False
        while True:
            try:
                with self._lock:
                    self._injectable = False
                    pending = self._waves > self._delivered
                    if pending:
                        clear(get_ident())
                        self._delivered = self._waves
                return pending or landed
            except JobKilled:
                landed = True

    def _settle_dead(self, outcome: Outcome | None) -> None:
        """End the job as failed or killed (``None``: killed with no exception to show)."""
        kind, value = outcome if outcome is not None else ("killed", None)
        if kind == "failed" and self.kill_requested:
            # The kill woke a blocking call that then failed (a socket that was
            # shut down, a child that was terminated): the kill caused it.
            kind = "killed"
        error = error_record(value, kind == "killed", self.started is not None)
        with self._lock:
            self.exception = value
            self.error = error
            self.status = kind
            self.blocked_in = None
            self.ended = time.time()  # last: `done` reads it without the lock
            event = self._done_event
        if event is not None:
            event.set()
        self._manager._changed(self)

    # --- output and progress, called from the job's thread ---------------------

    def _write_output(self, text: str) -> None:
        buffer = self._output
        if buffer is None:  # only this job's thread writes: no race
            buffer = self._output = OutputBuffer()
        buffer.write(text)
        self._manager._changed(self)

    def _set_progress(self, done: float, total: float | None, desc: str | None) -> None:
        self.progress = {"done": done, "total": total, "desc": desc}
        now = time.monotonic()
        if now - self._progress_pushed >= PROGRESS_INTERVAL or (total is not None and done >= total):
            self._progress_pushed = now
            self._manager._changed(self)

    def _resources_for_thread(self) -> JobResources:
        """The job's tracked sockets and processes (called from the job's thread)."""
        resources = self._resources
        if resources is None:
            resources = self._resources = JobResources()
        return resources

    # --- kill -----------------------------------------------------------------

    def _kill_pending(self) -> bool:
        """True while a kill wave has not yet been raised in the job's thread."""
        return self._waves > self._delivered

    def _kill_delivered(self) -> None:
        # Called by JobKilled.__init__ in the job's own thread.
        self._delivered = self._waves

    def _request_kill(self) -> bool:
        """Ask the job to die; False if it is not running (or queued)."""
        with self._lock:
            if self.ended is not None or self.status not in protocol.ACTIVE_STATES:
                return False
            first = not self.kill_requested
            self.kill_requested = True
            now = time.monotonic()
            if first:
                self._kill_time = now
            wave = not self._kill_pending()  # asking again repeats a swallowed kill at once
            if wave:
                self._new_wave_locked(now)
        if wave:
            self._wake_blocking(force=False)
        if first:
            self._manager._changed(self)
        self._manager._watch_kill(self)
        return True

    def _new_wave_locked(self, now: float) -> None:
        self._waves += 1
        # Under self._lock and only while the job's own code runs: the thread
        # id is then certainly this job's live thread (ids are reused at once).
        if self._injectable and self._thread_id is not None:
            inject(self._thread_id, JobKilled)
        self._next_wave = now + self._wave_gap
        self._wave_gap = min(self._wave_gap * 2, REINJECT_MAX)

    def _wake_blocking(self, force: bool) -> None:
        """Wake the blocking calls the job is in: waits, sockets, child processes."""
        waiter = self._waiting_on
        if waiter is not None:
            try:
                waiter.release()
            except RuntimeError:  # released already (a notify, or an earlier wake)
                pass
        resources = self._resources
        if resources is not None:
            resources.shut_down_sockets()
            resources.stop_processes(force)

    def _follow_up_kill(self, now: float) -> None:
        """Called by the reaper while a killed job's thread lives."""
        with self._lock:
            if self.ended is not None:
                return
            if not self._kill_pending() and now >= self._next_wave:
                self._new_wave_locked(now)  # the last wave was swallowed
            pending = self._kill_pending()
            thread_id = self._thread_id
        if pending:
            # Again: the thread may have entered a new blocking call (or opened
            # a new socket) since the last wake, before the kill landed.
            self._wake_blocking(force=now - self._kill_time >= TERMINATE_GRACE)
        where = blocked_in(thread_id) if thread_id is not None else None
        with self._lock:
            changed = self.ended is None and where != self.blocked_in
            if changed:
                self.blocked_in = where
        if changed:
            self._manager._changed(self)
