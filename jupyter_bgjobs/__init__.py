"""jupyter-bgjobs: background jobs for Jupyter kernels, seen and killed from JupyterLab.

Entry points only: the kernel side lives in ``kernel/``, the server side in
``server/``, the shared message shapes in ``protocol.py``.
"""

from typing import Any

from .kernel.errors import JobKilled
from .kernel.group import chunks
from .kernel.progress import progress, report

try:
    from ._version import __version__
except ImportError:  # a source checkout that was never built
    __version__ = "0.0.0"

__all__ = ["JobKilled", "__version__", "chunks", "load_ipython_extension", "progress", "report"]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_bgjobs``: the ``jobs`` manager and the magics."""
    from .kernel.extension import load

    load(ipython)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-bgjobs"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.app import BgJobsApp

    return [{"module": "jupyter_bgjobs", "app": BgJobsApp}]
