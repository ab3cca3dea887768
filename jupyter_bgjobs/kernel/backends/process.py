"""``on="process"``: jobs in worker processes of this machine (``process_pool.py``), shipped with cloudpickle.

cloudpickle sends a notebook's functions and lambdas by value, with the
globals they use as they are at submit time; plain pickle cannot (the
worker has no ``__main__.f``). Modules are sent by name and imported in the
worker, which has the kernel's ``sys.path`` and working directory.
"""

from __future__ import annotations

import os
from typing import Any

import cloudpickle

from .base import Backend, RemoteTask, TaskEvents, Work
from .process_pool import WorkerPool
from .shipping import pickle_work


class ProcessBackend(Backend):
    """Worker processes, as many as the machine has cores (or as ``jobs.map(workers=...)`` asks)."""

    name = "process"

    def __init__(self, size: int | None = None) -> None:
        self._pool = WorkerPool(size or os.cpu_count() or 1)

    @property
    def size(self) -> int:
        """How many worker processes may run at once."""
        return self._pool.size

    def prepare(self, work: Work) -> bytes:
        return pickle_work(work, "process", "a worker process")

    def submit(self, prepared: bytes, events: TaskEvents) -> RemoteTask:
        return self._pool.submit(prepared, events)

    def load(self, value: bytes) -> Any:
        return cloudpickle.loads(value)

    def reserve(self, workers: int) -> None:
        self._pool.command("reserve", workers)

    def close(self) -> None:
        self._pool.close()
