"""Installing the package writes and removes only files it owns.

The built wheel is installed into a fresh environment that already holds a
user's own IPython kernel config, and uninstalled again: the user's file is
the same byte for byte after both. ``{prefix}/etc/ipython/ipython_kernel_config.json``
is one file per environment, read by every IPython kernel there; a wheel
that shipped it as shared-data replaced it on install and deleted it on
uninstall.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT

# What a user (or another package) may have in the environment.
USER_CONFIG = json.dumps({"InteractiveShellApp": {"exec_lines": ["import numpy as np"]}}, indent=1) + "\n"
KERNEL_CONFIG = Path("etc", "ipython", "ipython_kernel_config.json")
SERVER_CONFIG = Path("etc", "jupyter", "jupyter_server_config.d", "jupyter_bgjobs.json")

# Every data file the wheel may install outside site-packages: its own.
OWN_DATA = ("share/jupyter/labextensions/jupyter-bgjobs/", "etc/jupyter/jupyter_server_config.d/jupyter_bgjobs.json")


def run(*args: str | Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(arg) for arg in args], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package's wheel, built from this checkout (the frontend as already built)."""
    if not (ROOT / "jupyter_bgjobs" / "labextension" / "package.json").exists():
        pytest.fail("the labextension is not built: run `make install` first")
    out = tmp_path_factory.mktemp("wheel")
    # No build hooks (no jlpm), no isolation (the backends are test extras): seconds, not a minute.
    env = {**os.environ, "HATCH_BUILD_NO_HOOKS": "true"}
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", out, ROOT, env=env)
    (built,) = out.glob("jupyter_bgjobs-*.whl")
    return built


def data_files(wheel: Path) -> list[str]:
    """The files the wheel installs outside site-packages, relative to the prefix."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    return [name.split(".data/data/", 1)[1] for name in names if ".data/data/" in name]


def test_the_wheel_ships_only_files_of_its_own(wheel: Path) -> None:
    files = data_files(wheel)
    assert SERVER_CONFIG.as_posix() in files
    assert "share/jupyter/labextensions/jupyter-bgjobs/package.json" in files
    assert [name for name in files if not name.startswith(OWN_DATA)] == []
    assert not any(name.startswith("etc/ipython/") for name in files)


def test_a_users_kernel_config_survives_install_and_uninstall(wheel: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    run(sys.executable, "-m", "venv", "--without-pip", prefix)
    python = prefix / "bin" / "python"
    user_config = prefix / KERNEL_CONFIG
    user_config.parent.mkdir(parents=True)
    user_config.write_text(USER_CONFIG)
    pip = (sys.executable, "-m", "pip", "--python", python)

    run(*pip, "install", "--no-deps", "--no-index", "-q", wheel)
    assert user_config.read_text() == USER_CONFIG
    assert (prefix / SERVER_CONFIG).exists()  # the package's own file is installed...
    assert "jupyter_bgjobs" in run(*pip, "list", "--format=freeze")

    run(*pip, "uninstall", "-y", "-q", "jupyter_bgjobs")
    assert user_config.read_text() == USER_CONFIG
    assert not (prefix / SERVER_CONFIG).exists()  # ...and removed with it
    assert "jupyter_bgjobs" not in run(*pip, "list", "--format=freeze")
