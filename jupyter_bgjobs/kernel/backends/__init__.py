"""Where a job runs besides a kernel thread: worker processes (``process.py``), and the interface (``base.py``).

``on=`` of ``jobs.new``, ``jobs.map`` and ``%job --on`` is resolved by
``registry.backend_for``; a job whose backend is not the thread runs through
``remote.run_remote``. See docs/backends.md.
"""

from .base import THREAD_WHERE, Backend, RemoteTask, TaskEvents, Work, where_record
from .registry import backend_for, register_backend

__all__ = [
    "THREAD_WHERE",
    "Backend",
    "RemoteTask",
    "TaskEvents",
    "Work",
    "backend_for",
    "register_backend",
    "where_record",
]
