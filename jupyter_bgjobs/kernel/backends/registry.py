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
# Values of `on=` that a name alone does not give (on="dask" that follows the
# session's client, a scheduler address, a client object): each resolver
# returns its backend, or None for a value that is not its own.
_resolvers: list[Callable[[Any], Backend | None]] = []

# The values of `on=` that mean a kernel thread (today's behaviour).
THREAD_NAMES = (None, "thread")


def register_backend(name: str, factory: Callable[[], Backend]) -> None:
    """Make ``on=name`` run jobs on ``factory()``'s backend (made once, on first use)."""
    _factories[name] = factory


def _process_backend() -> Backend:
    from .process import ProcessBackend

    return ProcessBackend()


register_backend("process", _process_backend)


def register_resolver(resolver: Callable[[Any], Backend | None]) -> None:
    """Let ``resolver(on)`` choose the backend of values of ``on=`` that are not registered names."""
    _resolvers.append(resolver)


def _dask_resolver(on: Any) -> Backend | None:
    from .dask_resolve import resolve

    return resolve(on)


register_resolver(_dask_resolver)


def made_once(key: str, factory: Callable[[], Backend]) -> Backend:
    """The backend made under ``key`` (made now by ``factory`` if it is the first time); closed with the kernel."""
    with _lock:
        backend = _made.get(key)
        if backend is None:
            backend = _made[key] = factory()
    return backend


def known_names() -> list[str]:
    """Every name ``on=`` takes."""
    return ["thread", *_factories, "dask"]


def backend_for(on: Any) -> Backend | None:
    """The backend of ``on`` (None: a kernel thread); a clear ``ValueError`` for anything else."""
    if on in THREAD_NAMES:
        return None
    if isinstance(on, Backend):
        return on
    for resolver in _resolvers:
        found = resolver(on)
        if found is not None:
            return found
    if not isinstance(on, str) or on not in _factories:
        names = ", ".join(repr(name) for name in known_names())
        raise ValueError(
            f"on={on!r:.80} is not a place to run a job; on= takes None, {names}, "
            "a dask scheduler address ('tcp://host:port') or a distributed.Client"
        )
    return made_once(on, _factories[on])


@atexit.register
def close_backends() -> None:
    """Stop every backend's workers (at exit, and when the extension is unloaded)."""
    with _lock:
        made = list(_made.values())
        _made.clear()
    for backend in made:
        backend.close()
