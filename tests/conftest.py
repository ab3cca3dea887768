from __future__ import annotations

from collections.abc import Iterator

import pytest
from jupyter_client.manager import start_new_kernel

from .kernel_session import KernelSession

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def kernel() -> Iterator[KernelSession]:
    """A fresh IPython kernel of this environment (which loads jupyter_bgjobs by itself)."""
    manager, client = start_new_kernel(kernel_name="python3", startup_timeout=60)
    try:
        yield KernelSession(client)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
