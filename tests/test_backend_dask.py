"""``on="dask"`` in real kernels: a real LocalCluster, a real ``dask scheduler`` and two ``dask worker``, real kills."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import KERNELS, KernelPool, _session
from .kernel_session import KernelSession
from .remote_tasks import TASKS
from .server_helpers import Api, Notebooks

distributed = pytest.importorskip("distributed")

# Only the first kernel: the ipykernel 6 environment has no [dask] extra.
KERNEL = KERNELS[0]
DASK = str(Path(sys.executable).with_name("dask"))

SETUP = (
    TASKS
    + r"""
from distributed import Client

def noisy(n):
    print("hello from", n)
    print("to stderr", file=sys.stderr)
    for _ in jupyter_bgjobs.progress(range(n), desc="steps"):
        pass
    return n

def broken(x):
    raise ValueError(f"bad item {x}")

import sys
"""
)


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[str]:
    """A LocalCluster of this test process (2 worker processes, 1 thread each); its scheduler's address."""
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def cli_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``dask scheduler`` and two ``dask worker`` processes on loopback, as a cluster of other machines would be."""
    from distributed import Client

    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    common = ["--scheduler-file", str(scheduler_file)]
    processes = [
        subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0", *common],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.2)  # written whole
        address = json.loads(scheduler_file.read_text())["address"]
        for _ in range(2):
            processes.append(
                subprocess.Popen(
                    [DASK, "worker", address, "--nthreads", "1", "--host", "127.0.0.1", "--dashboard-address", ":0"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        with Client(address, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def dk(kernel_pool: KernelPool, local_cluster: str) -> Iterator[KernelSession]:
    """A kernel whose session made a Client of the LocalCluster (``client``, the session's default)."""
    for session in _session(kernel_pool, KERNEL):
        reply, _ = session.execute(SETUP + f"\nclient = Client({local_cluster!r})\n")
        assert reply["status"] == "ok", f"{reply.get('ename')}: {reply.get('evalue')}"
        yield session


def started(kernel: KernelSession, job: str) -> None:
    assert kernel.wait_for(f"{job}.status", "running") == "running"


def kill_time(kernel: KernelSession, job: str) -> tuple[str, float]:
    """Kill ``job`` in the kernel; its status and the seconds from the kill to ``killed``."""
    started(kernel, job)
    kernel.execute("time.sleep(0.3)")  # well inside its blocking call
    result: list[Any] = kernel.value(
        f"(lambda t: ({job}.kill(wait=10), {job}.status, round(time.monotonic() - t, 3))[1:])(time.monotonic())"
    )
    return result[0], result[1]


def error_of(kernel: KernelSession, code: str) -> tuple[str, str]:
    reply, _ = kernel.execute(code)
    assert reply["status"] == "error"
    return reply["ename"], reply["evalue"]


def test_notebook_functions_lambdas_and_expressions_run_on_the_cluster(dk: KernelSession, local_cluster: str) -> None:
    dk.execute("j1 = jobs.new(square, 7, on=client); j2 = jobs.new(lambda: os.getpid(), on='dask')")
    assert dk.value("[j1.wait(30), j2.wait(30), j1.status, j1.result, j2.status]") == [
        True,
        True,
        "finished",
        49,
        "finished",
    ]
    workers = dk.value("sorted(client.scheduler_info()['workers'])")
    assert dk.value("j2.result in client.run(os.getpid).values()") is True  # a worker process, not the kernel
    where = dk.value("j1.where")
    assert where["backend"] == "dask"
    assert where["address"] == local_cluster
    assert where["worker"] in workers
    assert where["pid"] is None
    assert where["dashboard"] == dk.value("client.dashboard_link")
    assert f"  @dask {where['worker']}" in dk.stdout("%jobs")
    # %job --on dask: the names the expression uses are copied from the notebook now.
    dk.execute("base = 6")
    dk.execute("%job -n sq --on dask square(base)")
    dk.execute("sq = jobs.list()[-1]")
    assert dk.value("[sq.wait(30), sq.name, sq.result, sq.where['backend']]") == [True, "sq", 36, "dask"]
    ename, evalue = error_of(dk, "%%job --on dask\nx = 1")
    assert ename == "UsageError"
    assert "a cell's assignments must land in the notebook's namespace" in evalue


def test_an_address_or_a_client_is_one_backend_each(dk: KernelSession, local_cluster: str) -> None:
    dk.execute(
        "from jupyter_bgjobs.kernel.backends import backend_for\n"
        f"same = backend_for({local_cluster!r}) is backend_for({local_cluster!r})\n"
        "mine = backend_for(client) is backend_for('dask')"
    )
    assert dk.value("[same, mine]") == [True, True]


def test_output_and_progress_from_inside_the_task(dk: KernelSession) -> None:
    dk.execute("nj = jobs.new(noisy, 3, on=client); nj.wait(30)")
    cell = dk.last_msg_id
    assert dk.value("[nj.status, nj.result, nj.progress]") == ["finished", 3, {"done": 3, "total": 3, "desc": "steps"}]
    assert dk.value("nj.output") == "hello from 3\nto stderr\n"
    assert "hello from 3" in dk.wait_for_stream(cell, "hello from 3")  # shown under the cell that started it


def test_a_remote_failure_keeps_the_remote_traceback(dk: KernelSession) -> None:
    dk.execute("fj = jobs.new(broken, 4, on=client)")
    assert dk.value("[fj.wait(30), fj.status, fj.error['ename'], fj.error['evalue']]") == [
        True,
        "failed",
        "ValueError",
        "bad item 4",
    ]
    text = dk.value("str(fj.traceback())")
    assert 'raise ValueError(f"bad item {x}")' in text  # the cell's line, shipped with the function
    assert text.rstrip().endswith("ValueError: bad item 4")


def test_map_results_in_input_order_with_failures_per_item(dk: KernelSession) -> None:
    dk.execute("g2 = jobs.map(lambda x: 10 // (x - 3), range(6), workers=2, on=client)")
    assert dk.value("g2.results(30)") == [-4, -5, -10, None, 10, 5]
    assert dk.value("sorted(g2.failures)") == [3]
    assert "ZeroDivisionError" in dk.value("g2.failures[3].traceback")
    assert dk.value("[j.progress['done'] for j in g2.jobs]") == [3, 3]
    # An item result too big for an event comes back as its task's dask result,
    dk.execute("g3 = jobs.map(lambda n: 'x' * n, [10, 200_000, 5], workers=1, on=client)")
    assert dk.value("[len(r) for r in g3.results(30)]") == [10, 200_000, 5]
    dk.execute("big = jobs.new(lambda: 'y' * 300_000, on=client)")  # so does a big result
    assert dk.value("[big.wait(30), len(big.result)]") == [True, 300_000]


def test_killing_one_chunk_of_a_map_loses_no_other_result(dk: KernelSession) -> None:
    dk.execute("g = jobs.map(slow_square, range(8), workers=4, on=client, name='squares')")
    # Item 5 is in chunk 2 (items 1 and 5): it sleeps; chunk 2 has done item 1 already.
    dk.wait_for("[j.status for j in g.jobs]", ["finished", "running", "finished", "finished"])
    dk.wait_for("g.jobs[1].progress and g.jobs[1].progress['done']", 1)
    assert dk.value("g.jobs[1].kill(wait=10)") is True
    assert dk.value("[j.status for j in g.jobs]") == ["finished", "killed", "finished", "finished"]
    assert dk.value("g.results()") == [0, 1, 4, 9, 16, None, 36, 49]


@pytest.fixture(scope="module")
def tk(dk: KernelSession, cli_cluster: str) -> KernelSession:
    """The same kernel, with ``addr``: the address of the ``dask scheduler`` process."""
    dk.execute(f"addr = {cli_cluster!r}; remote = Client(addr, set_as_default=False)")
    return dk


@pytest.mark.parametrize("func", ["busy_loop", "sleep_60", "socket_wait", "catastrophic_regex"])
def test_kill_ends_the_remote_task(tk: KernelSession, func: str) -> None:
    tk.execute(f"kj = jobs.new({func}, on=addr)")
    status, seconds = kill_time(tk, "kj")
    assert status == "killed"
    assert seconds < 5  # bench/bench_dask.py measures it against the 1 s bar
    assert tk.value("[kj.error['ename'], kj.kill_requested]") == ["JobKilled", True]
    if func == "catastrophic_regex":  # the GIL held: the worker's own loop could not take the kill
        assert "was stopped" in tk.value("kj.error['evalue']")
    else:  # the kill landed in the task: its worker lives on
        assert tk.value("kj.where['worker'] in remote.scheduler_info()['workers']") is True
    # The cluster goes on: the next job runs (on a new worker, where one was stopped).
    tk.execute("after = jobs.new(square, 3, on=addr)")
    assert tk.value("[after.wait(60), after.result]") == [True, 9]


def test_queued_until_a_worker_starts_it(tk: KernelSession) -> None:
    # Both workers busy (one thread each): the next job waits, queued, on no worker; killed there, it never runs.
    tk.execute("busy = [jobs.new(sleep_60, on=addr) for _ in range(2)]")
    tk.wait_for("[j.status for j in busy]", ["running", "running"])
    tk.execute("waiting = jobs.new(square, 5, on=addr); time.sleep(0.5)")
    assert tk.value("[waiting.status, waiting.where['worker'], waiting.where['address'] == addr]") == [
        "queued",
        None,
        True,
    ]
    assert tk.value("waiting.kill(wait=10)") is True
    assert tk.value("[waiting.status, waiting.error['evalue']]") == ["killed", "killed before it started"]
    tk.execute("for j in busy: j.kill(wait=10)")
    assert tk.value("[j.status for j in busy]") == ["killed", "killed"]
    tk.execute("time.sleep(0.5)")
    assert tk.value("sum(len(v) for v in remote.processing().values())") == 0  # nothing runs it later


def test_a_worker_killed_from_outside_fails_its_job_clearly(tk: KernelSession) -> None:
    tk.execute("dj = jobs.new(sleep_60, on=addr)")
    started(tk, "dj")
    worker = tk.value("dj.where['worker']")
    pid = tk.value(f"remote.run(os.getpid, workers=[{worker!r}])[{worker!r}]")
    os.kill(pid, 9)
    assert tk.value("[dj.wait(20), dj.status, dj.error['ename']]") == [True, "failed", "WorkerDied"]
    assert tk.value("dj.error['evalue']") == f"the dask worker {worker} (pid {pid}) died while it ran the job"
    # It is not run again elsewhere: no worker runs anything after a moment.
    tk.execute("time.sleep(1)")
    assert tk.value("sum(len(v) for v in remote.processing().values())") == 0


def test_an_embedded_cluster_starts_once_and_ends_with_the_kernel(kernel_pool: KernelPool) -> None:
    pids: set[int] = set()
    manager, client = kernel_pool.take(KERNEL)
    session = KernelSession(client, KERNEL)
    try:
        session.stdout("%load_ext jupyter_bgjobs")
        # First asked for from a job's thread (as a jobs.map in %%job would): made in a thread of its own.
        session.execute(
            "import os, time\n"
            "starter = jobs.new(lambda: jobs.new(os.getpid, on='dask'), name='starter'); starter.wait(60)\n"
            "e = starter.result; e.wait(60)"
        )
        assert session.value("[e.status, e.where['backend'], e.where['address'].startswith('tcp://127.0.0.1:')]") == [
            "finished",
            "dask",
            True,
        ]
        session.execute("from jupyter_bgjobs.kernel.backends import backend_for; b = backend_for('dask')")
        pids = set(session.value("list(b.client.run(os.getpid).values())"))
        assert session.value("e.result") in pids
        assert len(pids) == (os.cpu_count() or 2)  # a worker process per core
        # Started once: a second job uses the same cluster; it is not the session's default client.
        session.execute("e2 = jobs.new(os.getpid, on='dask'); e2.wait(60)")
        same = session.value("[backend_for('dask') is b, e2.result in b.client.run(os.getpid).values()]")
        assert same == [True, True]
        assert error_of(session, "from distributed import default_client; default_client()")[0] == "ValueError"
        # Its worker killed under it: failed at once (allowed-failures 0: dask does not run it again).
        session.execute("d = jobs.new(time.sleep, 60, on='dask')")
        assert session.wait_for("d.status", "running") == "running"
        session.execute("import signal; os.kill(b.client.run(os.getpid)[d.where['worker']], signal.SIGKILL)")
        assert session.value("[d.wait(20), d.status, d.error['ename']]") == [True, "failed", "WorkerDied"]
        assert "died while it ran the job" in session.value("d.error['evalue']")
        session.execute("client = b.client; client.wait_for_workers(len(pids), timeout=60)")  # its nanny's new one
        pids = set(session.value("list(b.client.run(os.getpid).values())"))
    finally:
        # A shutdown request, as the server sends one (and kills the kernel
        # 5 s later): the cluster is closed when the request comes, not at exit.
        client.shutdown()
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert [pid for pid in pids if Path(f"/proc/{pid}").exists()] == []


def test_without_the_extra_on_dask_names_the_install_command(kernel_pool: KernelPool) -> None:
    for session in _session(kernel_pool, KERNEL):
        session.execute("import sys; sys.modules['distributed'] = None")  # as if it were not installed
        for on in ("'dask'", "'tcp://127.0.0.1:8786'"):
            ename, evalue = error_of(session, f"jobs.new(len, [], on={on})")
            assert ename == "ModuleNotFoundError"
            assert evalue == (
                f"on={on} needs dask.distributed, which is not installed in this kernel's environment: "
                "pip install 'jupyter-bgjobs[dask]'"
            )
        assert error_of(session, "%job --on dask len([])") == (
            "UsageError",
            "%job: on='dask' needs dask.distributed, which is not installed in this kernel's environment: "
            "pip install 'jupyter-bgjobs[dask]'",
        )


async def test_a_dask_job_shows_in_rest_with_where_it_runs(api: Api, notebooks: Notebooks, local_cluster: str) -> None:
    kernel_id, tab = await notebooks.open("dask.ipynb", KERNEL)
    await api.wait_for_kernel(kernel_id)  # the extension is loaded: `jobs` exists
    await tab.run("import time")
    await tab.run("def nap(): time.sleep(60)")
    await tab.run(f"j = jobs.new(nap, on={local_cluster!r}, name='napper')")
    (job,) = await api.wait_for_jobs(lambda jobs: [job["status"] for job in jobs] == ["running"])
    worker = await tab.value("j.where['worker']")
    dashboard = await tab.value("j.where['dashboard']")
    assert job["where"] == {
        "backend": "dask",
        "pid": None,
        "address": local_cluster,
        "worker": worker,
        "dashboard": dashboard,
    }
    assert dashboard.startswith("http://127.0.0.1:")
    await api.call("POST", "jobs/{uid}/kill", expect=202, uid=job["uid"])
    (job,) = await api.wait_for_jobs(lambda jobs: [job["status"] for job in jobs] == ["killed"])
    assert job["where"]["worker"] == worker
