"""Loading into IPython: ``%load_ext jupyter_bgjobs`` (and automatic in kernels)."""

from __future__ import annotations

from typing import Any

from .backends.registry import close_backends
from .blocking import install_blocking_patches
from .comm import register_comm_targets
from .magics import JobMagics
from .manager import JobManager
from .output import install_output_routing

# One manager per shell; loading twice finds it here and changes nothing.
_managers: dict[int, JobManager] = {}


def load(shell: Any) -> JobManager:
    """Install the engine in ``shell``; harmless to call again."""
    manager = _managers.get(id(shell))
    if manager is not None:
        return manager
    install_blocking_patches()
    install_output_routing()
    manager = JobManager()
    _managers[id(shell)] = manager
    shell.push({"jobs": manager}, interactive=False)
    shell.register_magics(JobMagics(shell, manager))
    kernel = getattr(shell, "kernel", None)
    comm_manager = getattr(kernel, "comm_manager", None)
    if comm_manager is not None:  # a Jupyter kernel, not a terminal
        register_comm_targets(comm_manager, manager)
    if kernel is not None:
        close_backends_on_shutdown(kernel)
    return manager


def close_backends_on_shutdown(kernel: Any) -> None:
    """Close the backends' workers and clusters when the kernel is asked to shut down (or restart).

    At exit would be too late: after a shutdown request ipykernel signals
    every child process, waiting up to 14 s per signal while any lives, and
    an embedded dask cluster's nanny starts a new worker for each one killed
    (a kernel with a LocalCluster took 30 s to shut down).
    ``do_shutdown`` is the kernel's own hook for this.
    """
    original = kernel.do_shutdown

    def do_shutdown(restart: bool) -> Any:
        close_backends()
        return original(restart)  # a dict, or (ipykernel 7) an awaitable of one

    kernel.do_shutdown = do_shutdown
