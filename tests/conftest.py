from __future__ import annotations

from collections.abc import Iterator

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

from .kernel_session import KernelSession

pytest_plugins = ["pytest_jupyter.jupyter_server"]


# The kernel side must work on ipykernel 7 (this environment) and on 6.29+
# (the "python3-ipk6" kernel, from the second environment `make` builds).
KERNELS = ["python3", "python3-ipk6"]


class KernelPool:
    """Fresh kernels, each launched while the test before it runs.

    A kernel takes a second or two to start; most kernel tests spend their
    time waiting on the kernel, so the next one starts meanwhile.
    """

    def __init__(self) -> None:
        self._spares: dict[str, tuple[KernelManager, BlockingKernelClient]] = {}

    @staticmethod
    def _launch(kernel_name: str) -> tuple[KernelManager, BlockingKernelClient]:
        manager = KernelManager(kernel_name=kernel_name)
        manager.start_kernel()
        client = manager.client()
        client.start_channels()
        return manager, client

    def take(self, kernel_name: str) -> tuple[KernelManager, BlockingKernelClient]:
        """A ready kernel of that name, not used before; a spare starts in its place."""
        manager, client = self._spares.pop(kernel_name, None) or self._launch(kernel_name)
        self._spares[kernel_name] = self._launch(kernel_name)
        try:
            client.wait_for_ready(timeout=120)  # generous: the machine may be busy
        except RuntimeError:
            stop(manager, client)
            raise
        return manager, client

    def close(self) -> None:
        for manager, client in self._spares.values():
            stop(manager, client)
        self._spares.clear()


def stop(manager: KernelManager, client: BlockingKernelClient) -> None:
    client.stop_channels()
    manager.shutdown_kernel(now=True)


@pytest.fixture(scope="session")
def kernel_pool() -> Iterator[KernelPool]:
    pool = KernelPool()
    yield pool
    pool.close()


def _session(pool: KernelPool, kernel_name: str) -> Iterator[KernelSession]:
    manager, client = pool.take(kernel_name)
    try:
        yield KernelSession(client, kernel_name)
    finally:
        stop(manager, client)


@pytest.fixture(params=KERNELS)
def kernel(request: pytest.FixtureRequest, kernel_pool: KernelPool) -> Iterator[KernelSession]:
    """A fresh IPython kernel (which loads jupyter_bgjobs by itself), on each ipykernel."""
    yield from _session(kernel_pool, request.param)


@pytest.fixture(scope="module", params=KERNELS)
def module_kernel(request: pytest.FixtureRequest, kernel_pool: KernelPool) -> Iterator[KernelSession]:
    """One kernel per ipykernel for a whole module, for tests that do not depend on job numbers."""
    yield from _session(kernel_pool, request.param)
