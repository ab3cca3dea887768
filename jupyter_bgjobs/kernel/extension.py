"""Loading into IPython: ``%load_ext jupyter_bgjobs`` (and automatic in kernels)."""

from __future__ import annotations

from typing import Any

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
    return manager
