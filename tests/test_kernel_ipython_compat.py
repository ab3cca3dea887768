"""Coming from IPython's BackgroundJobManager, in real kernels: what code written for it finds on ``jobs``.

Each check runs the same code against IPython's own manager and against
``jobs`` where IPython's behaviour is the one to match (docs/kernel.md,
"Coming from BackgroundJobManager", lists what still differs).
"""

from __future__ import annotations

from .kernel_session import KernelSession

SETUP = (
    "import threading\n"
    "from IPython.lib.backgroundjobs import BackgroundJobManager\n"
    "ipython_manager = BackgroundJobManager()\n"
    "hold = threading.Event()\n"
    "def add(a, b):\n"
    "    return a + b\n"
    "def crash():\n"
    "    raise ValueError('crashed')\n"
    "def held():\n"
    "    hold.wait(30)\n"
    "    return 'released'\n"
    "def start(manager):\n"
    "    return [manager.new(add, 1, 2), manager.new(crash), manager.new('add(2, 3)'), manager.new(held)]\n"
)


def test_a_job_is_thread_like_and_reads_as_ipython_s(kernel: KernelSession) -> None:
    kernel.stdout(SETUP + "ours, theirs = start(jobs), start(ipython_manager)")
    for side in ("ours", "theirs"):
        kernel.stdout(f"for job in {side}[:3]:\n    job.join()")
    # While one job still runs: the same codes, the same liveness, the same table by number.
    running = (
        "[j.stat_code for j in {0}], [j.finished for j in {0}], [j.is_alive() for j in {0}],"
        " sorted({1}.all), type({1}.all).__name__, [{1}.all[n] is {0}[n] for n in range(4)]"
    )
    expected = [[2, -1, 2, 1], [True, None, True, False], [False, False, False, True], [0, 1, 2, 3], "dict", [True] * 4]
    assert kernel.value(running.format("theirs", "ipython_manager")) == expected
    assert kernel.value(running.format("ours", "jobs")) == expected
    # strform: str(func) for a function, the expression for an expression.
    assert kernel.value("[j.strform for j in ours] == [str(add), str(crash), 'add(2, 3)', str(held)]") is True
    assert kernel.value("[j.strform for j in theirs] == [str(add), str(crash), 'add(2, 3)', str(held)]") is True
    # Thread-like: ident is the job thread's id (seen from inside), daemon as set.
    kernel.stdout("probe = jobs.new(threading.get_ident)\nprobe.join()")
    assert kernel.value("probe.result == probe.ident, probe.native_id > 0, probe.daemon, probe.is_alive()") == [
        True,
        True,
        True,
        False,
    ]
    assert kernel.value("jobs.new(len, '', daemon=False).daemon, ours[0].join(0.01), ours[3].join(0.05)") == [
        False,
        None,
        None,
    ]
    assert kernel.value("ours[3].is_alive(), ours[3].ident is not None") == [True, True]
    kernel.stdout("hold.set()\nfor job in ours + theirs:\n    job.join()")
    assert kernel.value("[j.stat_code for j in ours], [j.is_alive() for j in ours]") == [
        [2, -1, 2, 2],
        [False] * 4,
    ]
    # The project's own states stay what they are.
    assert kernel.value("[j.status for j in ours]") == ["finished", "failed", "finished", "finished"]
    # A job started twice refuses, as a thread does, and stays as it was.
    reply, _ = kernel.stderr_and_errors("ours[0].start()")
    assert (reply["ename"], reply["evalue"]) == ("RuntimeError", "threads can only be started once")
    assert kernel.value("ours[0].status, ours[0].result") == ["finished", 3]


def test_a_job_object_is_taken_wherever_a_number_is(kernel: KernelSession) -> None:
    kernel.stdout(SETUP + "ours = start(jobs)\nhold.set()\nfor job in ours:\n    job.join()")
    assert kernel.value("jobs[ours[2]] is ours[2], jobs.result(ours[0]), jobs.result(2), jobs[ours[3]].result") == [
        True,
        3,
        5,
        "released",
    ]
    assert kernel.value("jobs.resolve(ours[1]) is ours[1], jobs.resolve(ours[1].uid) is ours[1]") == [True, True]
    by_job, by_number = kernel.stdout("jobs.traceback(ours[1])"), kernel.stdout("jobs.traceback(1)")
    assert by_job == by_number
    assert by_job.startswith("Traceback of job 1 (failed):\nTraceback (most recent call last):\n")
    assert by_job.endswith("ValueError: crashed\n\n")
    # What IPython's manager takes, it takes too: a job as a key, for reading.
    kernel.stdout("theirs = start(ipython_manager)\nfor job in theirs:\n    job.join()")
    assert kernel.value("ipython_manager[theirs[0]] is theirs[0]") is True
    # A job that is not one of this manager's is refused, by name.
    kernel.stdout("jobs.remove(ours[0])")
    for code in ("jobs[ours[0]]", "jobs.result(ours[0])", "jobs.remove(ours[0])", "jobs.kill(ours[0])"):
        reply, _ = kernel.stderr_and_errors(code)
        assert (reply["ename"], reply["evalue"]) == (
            "NoSuchJob",
            "job 0 is not in this manager (removed, or another manager's)",
        ), code
    kernel.stdout("from jupyter_bgjobs.kernel import JobManager\nother = JobManager()\nstray = other.new(len, 'abc')")
    reply, _ = kernel.stderr_and_errors("jobs[stray]")
    assert reply["ename"] == "NoSuchJob"
    assert kernel.value("other[stray] is stray, [j.number for j in jobs.list()]") == [True, [1, 2, 3]]


def test_kw_is_the_keyword_arguments_as_in_ipython(kernel: KernelSession) -> None:
    kernel.stdout(
        "def show(a, *rest, **named):\n"
        "    return [a, list(rest), named]\n"
        "started = [\n"
        "    jobs.new(show, 1, kw={'z': 2}),\n"  # as in IPython
        "    jobs.new(show, 1, 2, y=3, kw={'z': 4}),\n"  # with keywords given directly too
        "    jobs.new(show, 1, kw={'kw': 5}),\n"  # an argument named kw goes through kw=
        "]\n"
        "for job in started:\n"
        "    job.join()"
    )
    assert kernel.value("[job.result for job in started]") == [
        [1, [], {"z": 2}],
        [1, [2], {"y": 3, "z": 4}],
        [1, [], {"kw": 5}],
    ]
    assert kernel.value("[job.code for job in started]") == ["show(1, z=2)", "show(1, 2, y=3, z=4)", "show(1, kw=5)"]
    reply, _ = kernel.stderr_and_errors("jobs.new(show, 1, kw=5)")
    assert (reply["ename"], reply["evalue"]) == (
        "TypeError",
        "jobs.new: kw= holds the function's keyword arguments, as in IPython's BackgroundJobManager, "
        "and must be a dict, not int; to pass an argument named kw, write kw={'kw': ...}",
    )
    reply, _ = kernel.stderr_and_errors("jobs.new(show, 1, z=1, kw={'z': 2})")
    assert (reply["ename"], reply["evalue"]) == (
        "TypeError",
        "jobs.new: keyword argument 'z' given both in kw= and directly",
    )
    assert kernel.value("len(jobs)") == 3  # refused calls start nothing and use no number
