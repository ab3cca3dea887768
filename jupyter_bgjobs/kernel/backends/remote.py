"""The kernel's side of a remote job: its thread waits for the backend and plays back what it reports.

Whatever thread the backend reports from, the events are queued and handled
here, in the job's own thread: output is written as if the job printed it
(kept in ``job.output`` and echoed to the cell that started it), progress
goes through ``job.record_progress``, and the job ends the way the remote
side says, never before. The kill of a remote job does not touch this
thread (``Killer.request`` asks the task instead): the thread ends when the
backend reports ``ended``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from queue import SimpleQueue
from typing import TYPE_CHECKING, Any

from ..context import current_job
from ..errors import JobKilled
from ..output import write_as_job
from .base import Backend, Ending, TaskEvents, Work

if TYPE_CHECKING:
    from ..group import JobGroup


class RemoteFailure(Exception):
    """A remote job (or map item) failed; ``remote_error`` is the error record made where it ran."""

    def __init__(self, record: dict[str, Any]) -> None:
        super().__init__(f"{record['ename']}: {record['evalue']}")
        self.remote_error = record


class RemoteKilled(JobKilled):
    """A remote job was killed; ``remote_error`` is the record of its remote side (None: never started)."""

    remote_error: dict[str, Any] | None = None


class QueuedEvents(TaskEvents):
    """``TaskEvents`` that queue each event for the job's thread (a C queue: put never blocks)."""

    def __init__(self) -> None:
        self.inbox: SimpleQueue[tuple[Any, ...]] = SimpleQueue()

    def started(self, where: dict[str, Any]) -> None:
        self.inbox.put(("started", where))

    def output(self, stream: str, text: str) -> None:
        self.inbox.put(("output", stream, text))

    def progress(self, done: float, total: float | None, desc: str | None) -> None:
        self.inbox.put(("progress", done, total, desc))

    def blocked_in(self, text: str | None) -> None:
        self.inbox.put(("blocked_in", text))

    def item(self, index: int, ok: bool, value: Any) -> None:
        self.inbox.put(("item", index, ok, value))

    def ended(self, how: Ending, value: Any) -> None:
        self.inbox.put(("ended", how, value))


def run_remote(backend: Backend, prepared: Any, group: JobGroup | None = None) -> Any:
    """The call of a remote job's thread: submit, play events back, return the result or raise as the task ended."""
    job = current_job()
    assert job is not None, "run_remote runs in a job's thread"
    events = QueuedEvents()
    job.attach_remote(backend.submit(prepared, events))
    while True:
        kind, *data = events.inbox.get()
        if kind == "output":
            write_as_job(job, data[0], data[1])
        elif kind == "progress":
            job.record_progress(data[0], data[1], data[2])
        elif kind == "started":
            job.remote_started(data[0])
        elif kind == "blocked_in":
            job.remote_blocked_in(data[0])
        elif kind == "item":
            assert group is not None
            index, ok, value = data
            if ok:
                group.item_done(index, backend.load(value))
            else:
                group.item_failed(index, RemoteFailure(value), "".join(value["traceback"]))
        else:
            how, value = data
            if how == "finished":
                return backend.load(value)
            if how == "failed":
                raise RemoteFailure(value)
            killed = RemoteKilled()
            killed.remote_error = value
            raise killed


def chunk_call(group: JobGroup, chunk: list[int], backend: Backend | None) -> Callable[[], Any]:
    """The call of the job that runs one chunk of a ``jobs.map`` (here, or prepared for a backend now)."""
    if backend is None:
        return functools.partial(group.run_chunk, chunk)
    pairs = [(index, group.items[index]) for index in chunk]
    prepared = backend.prepare(Work(group.func, items=pairs, label=group.name))
    return functools.partial(run_remote, backend, prepared, group)
