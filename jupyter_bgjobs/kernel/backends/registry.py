"""``on=``: from what the user gave to the backend that runs the job.

One backend object per kind and kernel, made on first use in the caller's
thread (never a job's: a killed job's sockets are shut down) and closed when
the kernel exits.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from typing import Any

from .base import Backend

_factories: dict[str, Callable[[], Backend]] = {}
_made: dict[str, Backend] = {}
_lock = threading.Lock()

# The values of `on=` that mean a kernel thread (today's behaviour).
THREAD_NAMES = (None, "thread")


def register_backend(name: str, factory: Callable[[], Backend]) -> None:
    """Make ``on=name`` run jobs on ``factory()``'s backend (made once, on first use)."""
    _factories[name] = factory


def _process_backend() -> Backend:
    from .process import ProcessBackend

    return ProcessBackend()


register_backend("process", _process_backend)


def known_names() -> list[str]:
    """Every name ``on=`` takes."""
    return ["thread", *_factories]


def backend_for(on: Any) -> Backend | None:
    """The backend of ``on`` (None: a kernel thread); a clear ``ValueError`` for anything else."""
    if on in THREAD_NAMES:
        return None
    if isinstance(on, Backend):
        return on
    if not isinstance(on, str) or on not in _factories:
        names = ", ".join(repr(name) for name in known_names())
        raise ValueError(f"on={on!r:.80} is not a place to run a job; on= takes None, {names}")
    with _lock:
        backend = _made.get(on)
        if backend is None:
            backend = _made[on] = _factories[on]()
    return backend


@atexit.register
def close_backends() -> None:
    """Stop every backend's workers (at exit, and when the extension is unloaded)."""
    with _lock:
        made = list(_made.values())
        _made.clear()
    for backend in made:
        backend.close()
