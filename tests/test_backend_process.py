"""``on="process"`` in real kernels: real worker processes, real kills, the record's ``where`` over REST."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import KERNELS
from .kernel_session import KernelSession
from .remote_tasks import TASKS
from .server_helpers import Api, Notebooks

SETUP = (
    TASKS
    + r"""

def noisy(n):
    print("hello from", n)
    os.write(1, b"written to fd 1\n")
    os.write(2, b"written to fd 2\n")
    for _ in jupyter_bgjobs.progress(range(n), desc="steps"):
        pass
    return os.getpid()

def broken(x):
    raise ValueError(f"bad item {x}")
"""
)


PLACES = "'thread', 'process', 'dask', a dask scheduler address ('tcp://host:port') or a distributed.Client"


def started(kernel: KernelSession, job: str) -> None:
    assert kernel.wait_for(f"{job}.status", "running") == "running"


def kill_time(kernel: KernelSession, job: str) -> tuple[str, float]:
    """Kill ``job`` in the kernel; its status and the seconds from the kill to ``killed``."""
    started(kernel, job)
    kernel.execute("time.sleep(0.3)")  # well inside its blocking call
    result: list[Any] = kernel.value(
        f"(lambda t: ({job}.kill(wait=5), {job}.status, round(time.monotonic() - t, 3))[1:])(time.monotonic())"
    )
    return result[0], result[1]


@pytest.fixture(scope="module")
def pk(module_kernel: KernelSession) -> KernelSession:
    reply, _ = module_kernel.execute(SETUP)
    assert reply["status"] == "ok", f"{reply.get('ename')}: {reply.get('evalue')}"
    return module_kernel


def test_notebook_functions_and_lambdas_run_in_worker_processes(pk: KernelSession) -> None:
    pk.execute("j1 = jobs.new(square, 7, on='process'); j2 = jobs.new(lambda: os.getpid(), on='process')")
    assert pk.value("[j1.wait(30), j2.wait(30), j1.status, j1.result, j2.status]") == [
        True,
        True,
        "finished",
        49,
        "finished",
    ]
    pid = pk.value("j2.result")
    assert pid != pk.value("os.getpid()")
    where = {"backend": "process", "pid": pid, "address": None, "worker": None, "dashboard": None}
    assert pk.value("j2.where") == where
    assert pk.value("j2.to_wire()['where']['pid']") == pid
    assert pk.value("jobs.new(square, 2).where['backend']") == "thread"
    assert f"  @process {pid}" in pk.stdout("%jobs")


def test_job_magic_on_process_ships_the_names_it_uses(pk: KernelSession) -> None:
    pk.execute("base = 40")
    out = pk.stdout("%job -n remote --on process square(2) + base + os.getpid() * 0")
    assert out.startswith("Started job ")
    pk.execute("rj = [j for j in jobs.list() if j.name == 'remote'][-1]")
    assert pk.value("[rj.wait(30), rj.status, rj.result, rj.kind, rj.where['backend']]") == [
        True,
        "finished",
        44,
        "expr",
        "process",
    ]


def error_of(kernel: KernelSession, code: str) -> tuple[str, str]:
    reply, _ = kernel.execute(code)
    assert reply["status"] == "error"
    return reply["ename"], reply["evalue"]


def test_cell_magic_on_process_is_refused_and_says_why(pk: KernelSession) -> None:
    ename, evalue = error_of(pk, "%%job --on process\nx = 1\n")
    assert ename == "UsageError"
    assert "%%job cannot run --on process: a cell's assignments must land in the notebook's namespace" in evalue
    assert pk.value("'x' in globals()") is False
    ename, evalue = error_of(pk, "jobs.new(square, 1, on='mars')")
    assert ename == "ValueError"
    assert evalue == f"on='mars' is not a place to run a job; on= takes None, {PLACES}"
    assert error_of(pk, "%job --on mars square(1)") == (
        "UsageError",
        f"%job: on='mars' is not a place to run a job; on= takes None, {PLACES}",
    )


def test_what_cannot_be_pickled_is_refused_at_submit(pk: KernelSession) -> None:
    ename, evalue = error_of(pk, "import threading; lock = threading.Lock(); jobs.new(lambda: lock, on='process')")
    assert ename == "TypeError"
    assert evalue.startswith("on='process': cannot send <lambda> and what it uses to a worker process (TypeError: ")


def test_output_at_fd_level_and_progress_come_back(pk: KernelSession) -> None:
    pk.execute("nj = jobs.new(noisy, 3, on='process')")
    cell = pk.last_msg_id
    assert pk.value("[nj.wait(30), nj.status]") == [True, "finished"]
    output = pk.value("nj.output")
    assert "hello from 3\n" in output
    assert "written to fd 1\n" in output
    assert "written to fd 2\n" in output
    assert pk.value("nj.progress") == {"done": 3, "total": 3, "desc": "steps"}
    # Echoed to the cell that started it, as a thread job's prints are.
    assert "written to fd 1" in pk.wait_for_stream(cell, "written to fd 1")


def test_a_remote_failure_keeps_the_remote_traceback(pk: KernelSession) -> None:
    pk.execute("fj = jobs.new(broken, 4, on='process')")
    assert pk.value("[fj.wait(30), fj.status, fj.error['ename'], fj.error['evalue']]") == [
        True,
        "failed",
        "ValueError",
        "bad item 4",
    ]
    text = pk.value("str(fj.traceback())")
    assert "in broken" in text
    assert 'raise ValueError(f"bad item {x}")' in text  # the cell's line, shipped with the function
    assert text.rstrip().endswith("ValueError: bad item 4")


@pytest.mark.parametrize("func", ["busy_loop", "sleep_60", "socket_wait", "catastrophic_regex"])
def test_kill_ends_the_remote_task_well_under_a_second(pk: KernelSession, func: str) -> None:
    pk.execute(f"kj = jobs.new({func}, on='process')")
    status, seconds = kill_time(pk, "kj")
    assert status == "killed"
    assert seconds < 0.5
    assert pk.value("[kj.error['ename'], kj.kill_requested]") == ["JobKilled", True]
    # The pool goes on: the next job runs.
    pk.execute("after = jobs.new(square, 3, on='process')")
    assert pk.value("[after.wait(30), after.result]") == [True, 9]


def test_the_gil_holding_call_costs_its_worker_process(pk: KernelSession) -> None:
    pk.execute("rx = jobs.new(catastrophic_regex, on='process')")
    started(pk, "rx")
    pid = pk.value("rx.where['pid']")
    pk.execute("time.sleep(0.2); rx.kill(wait=5)")
    assert pk.value("rx.status") == "killed"
    assert f"worker process {pid} did not stop within 0.04 s and was killed" in pk.value("rx.error['evalue']")
    assert pk.value(f"os.path.exists('/proc/{pid}')") is False  # that process is gone (and reaped)


def test_a_worker_killed_from_outside_fails_its_job_clearly(pk: KernelSession) -> None:
    pk.execute("dj = jobs.new(sleep_60, on='process')")
    started(pk, "dj")
    pid = pk.value("dj.where['pid']")
    pk.execute(f"os.kill({pid}, signal.SIGKILL)")
    assert pk.value("[dj.wait(10), dj.status, dj.error['ename']]") == [True, "failed", "WorkerDied"]
    assert pk.value("dj.error['evalue']") == f"the worker process {pid} died (killed by SIGKILL) while it ran the job"


def test_killing_one_chunk_of_a_map_loses_no_other_result(pk: KernelSession) -> None:
    pk.execute("g = jobs.map(slow_square, range(8), workers=4, on='process', name='squares')")
    # Item 5 is in chunk 2 (items 1 and 5): it sleeps; chunk 2 has done item 1 already.
    pk.wait_for("[j.status for j in g.jobs]", ["finished", "running", "finished", "finished"])
    assert pk.value("g.jobs[1].kill(wait=5)") is True
    assert pk.value("[j.status for j in g.jobs]") == ["finished", "killed", "finished", "finished"]
    assert pk.value("g.results()") == [0, 1, 4, 9, 16, None, 36, 49]
    assert pk.value("g.status") == "killed"


def test_map_results_in_input_order_with_failures_per_item(pk: KernelSession) -> None:
    pk.execute("g2 = jobs.map(lambda x: 10 // (x - 3), range(6), workers=2, on='process')")
    assert pk.value("g2.results(30)") == [-4, -5, -10, None, 10, 5]
    assert pk.value("sorted(g2.failures)") == [3]
    assert "ZeroDivisionError" in pk.value("g2.failures[3].traceback")
    assert pk.value("[j.progress['done'] for j in g2.jobs]") == [3, 3]


def test_queued_until_a_worker_starts_it(pk: KernelSession) -> None:
    # Every worker busy: the next job waits, queued, with no pid; killed there, it never runs.
    pk.execute("from jupyter_bgjobs.kernel.backends import backend_for; n = backend_for('process').size")
    pk.execute("busy = [jobs.new(sleep_60, on='process') for _ in range(n)]")
    pk.wait_for("[j.status for j in busy]", ["running"] * pk.value("n"))
    pk.execute("waiting = jobs.new(square, 5, on='process')")
    assert pk.value("[waiting.status, waiting.where['pid']]") == ["queued", None]
    assert pk.value("waiting.kill(wait=5)") is True
    assert pk.value("waiting.error['evalue']") == "killed before it started"
    pk.execute("for j in busy: j.kill(wait=5)")
    assert pk.value("[j.status for j in busy]") == ["killed"] * pk.value("n")


@pytest.mark.parametrize("kernel_name", KERNELS)
async def test_a_process_job_shows_in_rest_with_where_it_runs(kernel_name: str, api: Api, notebooks: Notebooks) -> None:
    kernel_id, tab = await notebooks.open("remote.ipynb", kernel_name)
    await api.wait_for_kernel(kernel_id)  # the extension is loaded: `jobs` exists
    await tab.run("import os, time")
    await tab.run("def nap(): time.sleep(60)")
    await tab.run("j = jobs.new(nap, on='process', name='napper')")
    (job,) = await api.wait_for_jobs(lambda jobs: [job["status"] for job in jobs] == ["running"])
    pid = await tab.value("j.where['pid']")
    assert job["where"] == {"backend": "process", "pid": pid, "address": None, "worker": None, "dashboard": None}
    await api.call("POST", "jobs/{uid}/kill", expect=202, uid=job["uid"])
    (job,) = await api.wait_for_jobs(lambda jobs: [job["status"] for job in jobs] == ["killed"])
    assert job["where"]["pid"] == pid


def test_a_worker_that_cannot_start_fails_its_job_clearly(pk: KernelSession) -> None:
    pk.execute(
        "import sys\n"
        "from jupyter_bgjobs.kernel.backends.process import ProcessBackend\n"
        "real_python, sys.executable = sys.executable, '/bin/false'\n"
        "try:\n"
        "    broken = ProcessBackend(1)\n"
        "    bj = jobs.new(square, 2, on=broken)\n"
        "    bj.wait(30)\n"
        "finally:\n"
        "    sys.executable = real_python\n"
        "    broken.close()\n"
    )
    assert pk.value("[bj.status, bj.error['ename'], bj.where['pid']]") == ["failed", "WorkerDied", None]
    assert pk.value("bj.error['evalue']").endswith("died (exit code 1) while it started")
