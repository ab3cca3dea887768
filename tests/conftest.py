from __future__ import annotations

from collections.abc import Iterator

import pytest
from jupyter_client.manager import start_new_kernel

from .kernel_session import KernelSession

pytest_plugins = ["pytest_jupyter.jupyter_server"]


# The kernel side must work on ipykernel 7 (this environment) and on 6.29+
# (the "python3-ipk6" kernel, from the second environment `make` builds).
KERNELS = ["python3", "python3-ipk6"]


def _session(kernel_name: str) -> Iterator[KernelSession]:
    manager, client = start_new_kernel(kernel_name=kernel_name, startup_timeout=60)
    try:
        yield KernelSession(client, kernel_name)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@pytest.fixture(params=KERNELS)
def kernel(request: pytest.FixtureRequest) -> Iterator[KernelSession]:
    """A fresh IPython kernel (which loads jupyter_bgjobs by itself), on each ipykernel."""
    yield from _session(request.param)


@pytest.fixture(scope="module", params=KERNELS)
def module_kernel(request: pytest.FixtureRequest) -> Iterator[KernelSession]:
    """One kernel per ipykernel for a whole module, for tests that do not depend on job numbers."""
    yield from _session(request.param)
