"""The interface every backend implements: where a job's work runs when it is not a kernel thread.

A remote job is still a ``Job`` of the kernel with a thread of its own (the
job's *proxy*, ``remote.py``): it hands the work to a backend, then turns
what the backend reports into the job's state, output, progress and result.
A backend knows nothing of jobs, comms or magics; it implements:

- ``Backend.prepare(work)``: turn the work into what travels (pickling), in
  the caller's thread, so that a function that cannot be shipped is refused
  when ``jobs.new`` is called, not later in the job;
- ``Backend.submit(prepared, events)``: start it somewhere; report through
  ``events`` (``TaskEvents``), from any thread; return a ``RemoteTask``;
- ``RemoteTask.kill()``: ask for the kill, return at once; the task reports
  ``ended("killed", ...)`` only once the remote side has confirmed it.

A third backend (say, Ray) is a module that implements these and is
registered with ``registry.register_backend``; nothing else changes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Ending = Literal["finished", "failed", "killed"]


def where_record(
    backend: str,
    pid: int | None = None,
    address: str | None = None,
    worker: str | None = None,
    dashboard: str | None = None,
) -> dict[str, Any]:
    """The job record's ``where`` field (job.schema.json): where the job runs."""
    return {"backend": backend, "pid": pid, "address": address, "worker": worker, "dashboard": dashboard}


# Shared by every thread job: nobody changes it.
THREAD_WHERE = where_record("thread")


@dataclass
class Work:
    """What a remote job runs: ``func(*args, **kwargs)``, or ``func`` over items (a ``jobs.map`` chunk).

    ``items`` holds ``(index, item)`` pairs; each item's result or failure is
    reported on its own (``TaskEvents.item``), so a chunk that is killed keeps
    the results of the items it finished. ``label`` is the progress text of a chunk.
    """

    func: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    items: list[tuple[int, Any]] | None = None
    label: str | None = None


class TaskEvents(ABC):
    """What a backend reports about one task; any thread may call these, in the task's order."""

    @abstractmethod
    def started(self, where: dict[str, Any]) -> None:
        """A worker has started the task (the job goes from ``queued`` to ``running``)."""

    @abstractmethod
    def output(self, stream: str, text: str) -> None:
        """The task wrote ``text`` to ``"stdout"`` or ``"stderr"``."""

    @abstractmethod
    def progress(self, done: float, total: float | None, desc: str | None) -> None:
        """The task reported progress (``jupyter_bgjobs.progress`` or ``report`` inside it)."""

    @abstractmethod
    def blocked_in(self, text: str | None) -> None:
        """Where the task waits while a kill is pending (None: nowhere known)."""

    @abstractmethod
    def item(self, index: int, ok: bool, value: Any) -> None:
        """One item of a map chunk ended: its result (serialized), or its error record."""

    @abstractmethod
    def ended(self, how: Ending, value: Any) -> None:
        """The task ended: ``finished`` with its (serialized) result, ``failed`` or ``killed`` with an error record.

        ``killed`` with ``None``: killed before any worker started it.
        """


class RemoteTask(ABC):
    """One submitted task, as its job's killer sees it."""

    @abstractmethod
    def kill(self) -> None:
        """Ask for the task's death and return at once (asking twice changes nothing)."""


class Backend(ABC):
    """Runs jobs' work outside the kernel's threads."""

    name: str

    @abstractmethod
    def prepare(self, work: Work) -> Any:
        """What travels for ``work``; raises ``TypeError`` with a clear message if it cannot travel."""

    @abstractmethod
    def submit(self, prepared: Any, events: TaskEvents) -> RemoteTask:
        """Start the prepared work; report through ``events``."""

    @abstractmethod
    def load(self, value: Any) -> Any:
        """A result or item value as ``TaskEvents`` carried it, turned back into an object."""

    def reserve(self, workers: int) -> None:
        """Make room for ``workers`` tasks at once (``jobs.map(workers=...)``); by default nothing."""
        return

    def queued_where(self) -> dict[str, Any]:
        """The ``where`` of a job that waits for a worker."""
        return where_record(self.name)

    def close(self) -> None:
        """Stop the backend's workers (the kernel is shutting down); by default nothing."""
        return
