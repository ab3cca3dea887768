"""Kill that really kills, in real kernels: every blocking case of the design's table, and what cannot be killed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .kernel_session import KernelSession

# Functions a job runs; each waits at the line marked BLOCKS. The silent
# server accepts connections (into its backlog) and never answers.
KILL_CASES_SETUP = '''
import asyncio, linecache, queue, socket, subprocess, sys, threading, time, urllib.request

silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen(64)
silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}/"

def busy_loop():
    while True:  # BLOCKS
        pass  # BLOCKS

def except_exception_loop():
    while True:  # BLOCKS
        try:
            sum(range(100))  # BLOCKS
        except Exception:
            pass

def sleep_60():
    time.sleep(60)  # BLOCKS

def event_wait():
    threading.Event().wait()  # BLOCKS

def event_wait_timeout():
    threading.Event().wait(timeout=60)  # BLOCKS

def queue_get():
    queue.Queue().get()  # BLOCKS

def queue_get_timeout():
    queue.Queue().get(timeout=60)  # BLOCKS

def condition_wait():
    condition = threading.Condition()
    with condition:
        condition.wait()  # BLOCKS

def semaphore_acquire():
    threading.Semaphore(0).acquire()  # BLOCKS

def thread_join():
    helper = threading.Thread(target=threading.Event().wait, daemon=True)
    helper.start()
    helper.join()  # BLOCKS

def thread_join_timeout():
    helper = threading.Thread(target=threading.Event().wait, daemon=True)
    helper.start()
    helper.join(timeout=60)  # BLOCKS

def socket_recv():
    connection = socket.create_connection(silent.getsockname())
    connection.recv(1024)  # BLOCKS

def urllib_silent_server():
    urllib.request.urlopen(silent_url, timeout=60).read()  # BLOCKS

def subprocess_sleep():
    subprocess.run(["sleep", "60"])  # BLOCKS

async def nap():
    await asyncio.sleep(60)  # BLOCKS

def asyncio_run():
    asyncio.run(nap())  # BLOCKS (a loop made in the job: its wake-up socket is the job's)

def at_block(job):
    """True once the job's thread waits at a line marked BLOCKS."""
    frame = sys._current_frames().get(job.ident)
    while frame is not None:
        if "# BLOCKS" in linecache.getline(frame.f_code.co_filename, frame.f_lineno):
            return True
        frame = frame.f_back
    return False
'''

KILL_CASES = [
    "busy_loop",
    "except_exception_loop",
    "sleep_60",
    "event_wait",
    "event_wait_timeout",
    "queue_get",
    "queue_get_timeout",
    "condition_wait",
    "semaphore_acquire",
    "thread_join",
    "thread_join_timeout",
    "socket_recv",
    "urllib_silent_server",
    "subprocess_sleep",
    "asyncio_run",
]

KILLED_LINE = re.compile(r"jupyter_bgjobs\.JobKilled: (job killed on request|killed on request \(it ended with .+\))\n")


@pytest.fixture(scope="module")
def cases_kernel(module_kernel: KernelSession) -> KernelSession:
    module_kernel.stdout(KILL_CASES_SETUP)
    return module_kernel


def start_at_block(kernel: KernelSession, func: str) -> None:
    """Start ``func`` as the job ``job`` and wait until it blocks where it is marked."""
    kernel.stdout(f"job = jobs.new({func})")
    assert kernel.wait_for("at_block(job)", True) is True


@pytest.mark.parametrize("func", KILL_CASES)
def test_blocked_job_dies_killed(cases_kernel: KernelSession, func: str) -> None:
    start_at_block(cases_kernel, func)
    assert cases_kernel.value("job.kill(wait=5)") is True
    state = cases_kernel.value("job.status, job.kill_requested, job.blocked_in, job.error['ename'], job.done")
    assert state == ["killed", True, None, "JobKilled", True]
    traceback = cases_kernel.value("job.traceback()")
    assert traceback.startswith("Traceback (most recent call last):\n")
    assert f", in {func}\n" in traceback
    assert KILLED_LINE.fullmatch(traceback.splitlines(keepends=True)[-1])
    assert "jupyter_bgjobs/kernel/" not in traceback  # the engine's own frames are left out


def test_kill_ends_the_child_process(cases_kernel: KernelSession) -> None:
    start_at_block(cases_kernel, "subprocess_sleep")
    pid = cases_kernel.value("job.killer.resources.processes()[0].pid")
    assert cases_kernel.value("job.kill(wait=5)") is True
    assert cases_kernel.value(f"__import__('os').path.exists('/proc/{pid}')") is False


def test_finally_block_runs_and_may_still_wait(kernel: KernelSession) -> None:
    kernel.stdout(
        "import threading, time\n"
        "cleanup = []\n"
        "def with_cleanup():\n"
        "    try:\n"
        "        time.sleep(60)\n"
        "    finally:\n"
        "        cleanup.append('started')\n"
        "        time.sleep(0.01)  # a cleanup may still wait, until the next kill wave\n"
        "        threading.Event().wait(0.01)\n"
        "        cleanup.append('done')\n"
    )
    kernel.stdout("job = jobs.new(with_cleanup)")
    kernel.wait_for("job.status", "running")
    assert kernel.value("job.kill(wait=5)") is True
    assert kernel.value("cleanup") == ["started", "done"]
    assert kernel.value("job.status") == "killed"


def test_kill_before_the_code_runs(kernel: KernelSession) -> None:
    # A job killed while queued never runs its code.
    kernel.stdout("ran = []\njob = jobs.run_expression('ran.append(1)', globals(), start=False)")
    assert kernel.value("job.status") == "queued"
    assert kernel.value("job.killer.request()") is True
    kernel.stdout("job.start()")
    assert kernel.ended("job") == "killed"
    assert kernel.value("ran, job.started, job.error['evalue'], job.traceback()") == [
        [],
        None,
        "killed before it started",
        "jupyter_bgjobs.JobKilled: killed before it started\n",
    ]


def test_late_kill_never_hits_a_thread_that_reuses_the_id(kernel: KernelSession) -> None:
    # Each job swallows kills and ends by itself while the main thread keeps
    # asking it to die; then a plain thread starts, usually with the same id.
    # No kill may ever reach the plain thread.
    kernel.stdout(
        "import threading, time\n"
        "def stubborn_for(seconds):\n"
        "    end = time.monotonic() + seconds\n"
        "    while time.monotonic() < end:\n"
        "        try:\n"
        "            sum(range(50))\n"
        "        except BaseException:\n"
        "            pass\n"
        "hits, reused = [], 0\n"
        "def bystander():\n"
        "    try:\n"
        "        stubborn_spin = time.monotonic() + 0.02\n"
        "        while time.monotonic() < stubborn_spin:\n"
        "            sum(range(50))\n"
        "    except BaseException as error:\n"
        "        hits.append(repr(error))\n"
        "for _ in range(40):\n"
        "    job = jobs.new(stubborn_for, 0.02)\n"
        "    while not job.done:\n"
        "        job.killer.request()\n"
        "    thread = threading.Thread(target=bystander)\n"
        "    thread.start()\n"
        "    reused += thread.ident == job.ident\n"
        "    thread.join()\n",
        timeout=60,
    )
    assert kernel.value("hits") == []
    assert kernel.value("reused") > 0  # the ids were reused: the case was really tried
    assert kernel.value("sorted({job.status for job in jobs.list()})") in (["finished"], ["finished", "killed"])


UNKILLABLE = (
    "import threading\n"
    "held = threading.Lock()\n"
    "held.acquire()\n"
    "def stubborn():\n"
    "    while True:\n"
    "        try:\n"
    "            held.acquire()  # an untracked lock: no kill can wake it\n"
    "        except BaseException:\n"
    "            pass\n"
    "where = f'{stubborn.__code__.co_filename}:{stubborn.__code__.co_firstlineno + 3} in stubborn'\n"
)


def test_what_cannot_be_killed_stays_running_and_says_where(kernel: KernelSession) -> None:
    kernel.stdout(UNKILLABLE)
    kernel.stdout("job = jobs.new(stubborn)")
    kernel.wait_for("job.status", "running")
    assert kernel.value("job.kill(wait=1)") is False
    where = kernel.value("where")
    assert kernel.wait_for("job.blocked_in", where) == where
    assert kernel.value("job.status, job.kill_requested, job.done, job.error") == ["running", True, False, None]
    record = kernel.value("{k: v for k, v in job.to_wire().items() if k in ('status', 'kill_requested', 'blocked_in')}")
    assert record == {"status": "running", "kill_requested": True, "blocked_in": where}
    assert kernel.value("[j.number for j in jobs.running], jobs.dead") == [[0], []]
    table = kernel.stdout("%jobs")
    assert re.fullmatch(r"Running jobs:\n    0  running \(kill requested\) +\d+\.\ds  stubborn\(\)\n", table)
    assert kernel.stdout("%kill 0") == f"Job 0: kill requested, still running (blocked in {where}).\n"


def test_a_loop_made_outside_the_job_cannot_be_woken(kernel: KernelSession) -> None:
    # Its wake-up socket belongs to no job: the thread waits in the selector.
    kernel.stdout(
        "import asyncio\n"
        "loop = asyncio.new_event_loop()\n"
        "def run_outside_loop():\n"
        "    loop.run_until_complete(asyncio.sleep(60))\n"
        "job = jobs.new(run_outside_loop)"
    )
    kernel.wait_for("job.status", "running")
    assert kernel.value("job.kill(wait=0.5)") is False
    blocked = kernel.wait_for("bool(job.blocked_in) and 'selectors.py' in job.blocked_in", True)
    assert blocked is True
    assert re.fullmatch(
        r"\S+:4 in run_outside_loop \(waiting in \S+/selectors\.py:\d+ in select\)", kernel.value("job.blocked_in")
    )
    assert kernel.value("job.status, job.kill_requested") == ["running", True]


def test_a_kill_during_os_system_lands_when_the_command_ends(kernel: KernelSession, tmp_path: Path) -> None:
    # os.system starts its child without subprocess: the kill cannot end it.
    release = tmp_path / "release"
    kernel.stdout(f"import os\njob = jobs.new(os.system, 'while [ ! -e {release} ]; do sleep 0.01; done')")
    kernel.wait_for("job.status", "running")
    assert kernel.value("job.kill(wait=0.3)") is False
    assert kernel.value("job.status, job.kill_requested") == ["running", True]
    release.touch()
    assert kernel.ended("job") == "killed"
    assert kernel.value("job.result") is None


def test_kill_magic_reports_each_job(kernel: KernelSession) -> None:
    kernel.stdout(UNKILLABLE)
    kernel.stdout("import time\nfirst = jobs.new(time.sleep, 60)\nsecond = jobs.new(stubborn)")
    kernel.wait_for("first.status, second.status", ["running", "running"])
    where = kernel.value("where")
    assert kernel.stdout("%kill all") == f"Job 0 killed.\nJob 1: kill requested, still running (blocked in {where}).\n"
    assert kernel.stdout("%kill all") == f"Job 1: kill requested, still running (blocked in {where}).\n"


def test_kill_all_and_kill_by_number(kernel: KernelSession) -> None:
    kernel.stdout("import time\nfor _ in range(3):\n    jobs.new(time.sleep, 60)")
    kernel.wait_for("[job.status for job in jobs.list()]", ["running"] * 3)
    assert kernel.stdout("%kill 1") == "Job 1 killed.\n"
    assert kernel.value("[job.status for job in jobs.list()]") == ["running", "killed", "running"]
    assert kernel.stdout("%kill all") == "Job 0 killed.\nJob 2 killed.\n"
    assert kernel.stdout("%kill all") == "No running jobs to kill.\n"
    assert kernel.value("jobs.kill('all')") is True
