"""Which dask cluster ``on=`` means: the session's client, an embedded ``LocalCluster``, an address, a client.

- ``on="dask"``: the session's current ``distributed.Client`` if there is
  one, else a ``LocalCluster`` of this kernel, started on first use (in the
  caller's thread, never a job's: a killed job's sockets are shut down) and
  closed with the kernel (``registry.close_backends``);
- ``on="tcp://host:port"`` (any dask address): a client of that scheduler,
  one per address, made on first use and closed with the kernel;
- ``on=client``: that ``distributed.Client``, which stays the user's (never closed here).

dask and distributed are the optional extra ``[dask]``: without them these
values of ``on=`` raise one ``ModuleNotFoundError`` that names the install
command, and nothing here imports them before such a value is given.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..context import current_job
from .base import Backend

if TYPE_CHECKING:
    from distributed import Client

# Addresses dask's comms understand (distributed.comm.registry).
ADDRESS_SCHEMES = ("tcp://", "tls://", "ws://", "wss://", "inproc://", "ucx://")
INSTALL = "pip install 'jupyter-bgjobs[dask]'"


def _is_client(on: Any) -> bool:
    # By the class's module: a value that is not dask's never imports distributed.
    return any(cls.__module__.split(".")[0] == "distributed" and cls.__name__ == "Client" for cls in type(on).__mro__)


def resolve(on: Any) -> Backend | None:
    """The dask backend of ``on``, or None if ``on`` is not a dask value."""
    if isinstance(on, str):
        if on != "dask" and not on.startswith(ADDRESS_SCHEMES):
            return None
    elif not _is_client(on):
        return None
    _require_distributed(on)
    from .registry import made_once

    if on == "dask":
        current = _session_client()
        if current is None:
            return made_once("dask:embedded", lambda: _outside_jobs(_embedded_backend))
        on = current
    if isinstance(on, str):
        address = on
        return made_once(f"dask:{address}", lambda: _outside_jobs(lambda: _address_backend(address)))
    client = on
    return made_once(f"dask:client:{client.id}", lambda: _client_backend(client))


def _require_distributed(on: Any) -> None:
    try:
        import distributed  # noqa: F401
    except ImportError as error:
        raise ModuleNotFoundError(
            f"on={on!r:.80} needs dask.distributed, which is not installed in this kernel's environment: {INSTALL}"
        ) from error


def _session_client() -> Client | None:
    """The client the session made (``Client()`` in a cell sets it as the default), if it still runs."""
    from distributed import Client

    try:
        client = Client.current(allow_global=True)
    except ValueError:
        return None
    if client.status != "running" or getattr(client, "_bgjobs_embedded", False):
        return None
    return client


def _outside_jobs(factory: Callable[[], Backend]) -> Backend:
    """``factory()``, run in a thread of its own when a job's thread asks (``jobs.map(on="dask")`` in ``%%job``).

    A cluster and its clients must not be made in a job's thread: a kill
    there would land in the middle and shut down the sockets the thread opened.
    """
    if current_job() is None:
        return factory()
    made: list[Backend] = []
    failed: list[BaseException] = []

    def make() -> None:
        try:
            made.append(factory())
        except BaseException as error:
            failed.append(error)

    maker = threading.Thread(target=make, name="bgjobs-dask-start", daemon=True)
    maker.start()
    maker.join()
    if failed:
        raise failed[0]
    return made[0]


def _embedded_backend() -> Backend:
    import dask
    from distributed import Client, LocalCluster

    from .dask_backend import DaskBackend

    # allowed-failures 0: a worker that dies under a task fails it at once
    # (KilledWorker) instead of running it again on another worker.
    # dashboard ":0": None would still bind 8787. One thread per worker: a
    # task has its worker's core to itself.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(
            n_workers=os.cpu_count() or 2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.CRITICAL,
        )
    # Not the session's default client: dask.compute in the notebook keeps
    # whatever the user chose.
    client = Client(cluster, set_as_default=False)
    client._bgjobs_embedded = True
    return DaskBackend(client, owned=(client, cluster))


def _address_backend(address: str) -> Backend:
    from distributed import Client

    from .dask_backend import DaskBackend

    client = Client(address, set_as_default=False)
    return DaskBackend(client, owned=(client,))


def _client_backend(client: Client) -> Backend:
    from .dask_backend import DaskBackend

    return DaskBackend(client, owned=())
