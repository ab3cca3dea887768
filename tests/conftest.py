from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

from .kernel_session import KernelSession
from .server_helpers import Api, Fetch, Notebooks

pytest_plugins = ["pytest_jupyter.jupyter_server"]

ROOT = Path(__file__).resolve().parent.parent

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
        session = KernelSession(client, kernel_name)
        # As a user of a kernel started without the Jupyter server does (the
        # package installs no kernel config that would load it).
        assert session.stdout("%load_ext jupyter_bgjobs") == ""
        yield session
    finally:
        stop(manager, client)


@pytest.fixture(params=KERNELS)
def kernel(request: pytest.FixtureRequest, kernel_pool: KernelPool) -> Iterator[KernelSession]:
    """A fresh IPython kernel with jupyter_bgjobs loaded (``%load_ext``), on each ipykernel."""
    yield from _session(kernel_pool, request.param)


@pytest.fixture(scope="module", params=KERNELS)
def module_kernel(request: pytest.FixtureRequest, kernel_pool: KernelPool) -> Iterator[KernelSession]:
    """One kernel per ipykernel for a whole module (jupyter_bgjobs loaded), for tests not tied to job numbers."""
    yield from _session(kernel_pool, request.param)


# --- the server tests -----------------------------------------------------------------


def write_kernelspec(kernel_dir: Path, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
    spec: dict[str, Any] = {"argv": argv, "display_name": name, "language": "python"}
    if env is not None:
        spec["env"] = env
    (kernel_dir / name).mkdir(parents=True, exist_ok=True)
    (kernel_dir / name / "kernel.json").write_text(json.dumps(spec))


@pytest.fixture
def server_kernelspecs(jp_kernel_dir: Path) -> None:
    """The ipykernel 6 kernel, seen by the test server (which has a kernel path of its own).

    pytest-jupyter gives kernels the tests' sys.path as PYTHONPATH, which
    would make the ipykernel 6 environment import ipykernel 7: it gets none.
    """
    spec = json.loads((ROOT / ".venv" / "share" / "jupyter" / "kernels" / "python3-ipk6" / "kernel.json").read_text())
    write_kernelspec(Path(jp_kernel_dir), "python3-ipk6", spec["argv"], {"PYTHONPATH": ""})


@pytest.fixture
def jp_server_config(server_kernelspecs: None) -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"jupyter_bgjobs": True}}}


@pytest.fixture
def api(jp_fetch: Fetch) -> Api:
    """The extension's REST API of the test server, every answer checked against the OpenAPI document."""
    return Api(jp_fetch)


@pytest.fixture
def notebooks(jp_fetch: Fetch, jp_serverapp: Any) -> Iterator[Notebooks]:
    """Opens notebooks on the test server (``await notebooks.open(path)``); their tabs close at the end."""
    opened = Notebooks(jp_fetch, jp_serverapp)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Python environment of its own with ipykernel but without jupyter_bgjobs.

    A venv without pip whose one .pth file adds the main environment's
    site-packages directory: the libraries are there, but that directory's
    own .pth files (the editable install of jupyter_bgjobs) are not read,
    and the environment has no kernel config that loads the extension.
    """
    venv = tmp_path_factory.mktemp("bare-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    main_site = next((ROOT / ".venv" / "lib").glob("python3*/site-packages"))
    (site / "main_libraries.pth").write_text(f"{main_site}\n")
    python = venv / "bin" / "python"
    check = subprocess.run(
        [str(python), "-c", "import ipykernel, importlib.util as u; print(u.find_spec('jupyter_bgjobs') is None)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=venv,
    )
    assert check.stdout.strip() == "True", check
    return python
