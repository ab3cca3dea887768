"""Kernels where background jobs work, where the relay must load them, and where they cannot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, write_kernelspec
from .server_helpers import Api, Fetch, Notebooks, start_kernel


@pytest.fixture
def bare_kernelspecs(jp_kernel_dir: Path, bare_python: Path) -> None:
    """Two kernels of an environment without jupyter_bgjobs: as it is, and with the package on PYTHONPATH."""
    argv = [str(bare_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    write_kernelspec(Path(jp_kernel_dir), "bare", argv, {"PYTHONPATH": ""})
    write_kernelspec(Path(jp_kernel_dir), "bare-with-package", argv, {"PYTHONPATH": str(ROOT)})


@pytest.fixture
def jp_server_config(server_kernelspecs: None, bare_kernelspecs: None) -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"jupyter_bgjobs": True}}}


async def test_kernels_without_background_jobs_say_why(jp_fetch: Fetch, api: Api, notebooks: Notebooks) -> None:
    echo = await start_kernel(jp_fetch, "echo.txt", "echo")
    bare = await start_kernel(jp_fetch, "bare.ipynb", "bare")
    echo_kernel = await api.wait_for_kernel(echo, "unavailable")
    assert echo_kernel["reason"] == "background jobs need an IPython kernel, not echo"
    assert echo_kernel["paths"] == ["echo.txt"]
    bare_kernel = await api.wait_for_kernel(bare, "unavailable")
    assert bare_kernel["reason"].startswith("jupyter_bgjobs is not installed in this kernel's environment")
    assert "No module named 'jupyter_bgjobs'" in bare_kernel["reason"]

    for kernel_id in (echo, bare):
        reply = await api.call("POST", "kernels/{kernel_id}/kill", expect=409, kernel_id=kernel_id)
        assert reply.body["message"].startswith(f"background jobs are unavailable in kernel {kernel_id}: ")
    # The bare kernel works as a kernel, untouched: nothing was printed or left behind.
    tab = notebooks.tab(bare)
    assert await tab.value("[name for name in globals() if 'bgjobs' in name or name == 'jobs']") == []
    assert await tab.value("1 + 1") == 2


async def test_the_relay_loads_the_kernel_extension_where_it_is_importable_but_not_loaded(
    jp_fetch: Fetch, api: Api, notebooks: Notebooks
) -> None:
    kernel_id = await start_kernel(jp_fetch, "late.ipynb", "bare-with-package")
    kernel = await api.wait_for_kernel(kernel_id, "ready")
    assert kernel["reason"] == ""
    tab = notebooks.tab(kernel_id)
    assert await tab.value("type(jobs).__name__") == "JobManager"
    await tab.run("%job -n loaded 'yes'")
    (job,) = await api.wait_for_jobs(lambda jobs: [job["status"] for job in jobs] == ["finished"])
    assert (job["name"], job["result_repr"], job["paths"]) == ("loaded", "'yes'", ["late.ipynb"])


@pytest.mark.parametrize("kernel_name", ["python3", "python3-ipk6"])
async def test_the_server_loads_the_kernel_extension_before_the_first_cell(
    kernel_name: str, jp_fetch: Fetch, api: Api, notebooks: Notebooks
) -> None:
    # Nothing in the kernel's environment loads it (the package ships no
    # IPython kernel config): the relay does, on ipykernel 7 and 6 alike, as
    # the first thing the kernel runs. A notebook's first cell, sent as soon
    # as the kernel exists, already finds the magics.
    paths = [f"first-{n}.ipynb" for n in range(3)]
    opened = [await notebooks.open(path, kernel_name) for path in paths]
    for n, (_, tab) in enumerate(opened):
        await tab.run(f"%job -n first {n} * 7")
    jobs = await api.wait_for_jobs(lambda jobs: [job["status"] for job in jobs] == ["finished"] * 3)
    assert sorted((job["paths"][0], job["name"], job["result_repr"]) for job in jobs) == [
        (path, "first", str(n * 7)) for n, path in enumerate(paths)
    ]
    shell = "get_ipython()"
    assert await opened[0][1].value(
        f"[type(jobs).__name__, 'jupyter_bgjobs' in {shell}.extension_manager.loaded,"
        f" 'jupyter_bgjobs' in str({shell}.config)]"
    ) == ["JobManager", False, False]
    for kernel_id, _ in opened:
        assert (await api.wait_for_kernel(kernel_id, "ready"))["reason"] == ""
