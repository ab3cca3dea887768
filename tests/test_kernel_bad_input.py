"""Bad input to the magics: one clear line each, no traceback, and nothing else disturbed."""

from __future__ import annotations

import pytest

from .kernel_session import KernelSession

# What a user types, and the one line they get back.
BAD_INPUT = [
    ("%kill 99", "UsageError: %kill: no job number 99"),
    ("%kill 0 99", "UsageError: %kill: no job number 99"),
    ("%kill 1", "UsageError: %kill: job 1 is not running (it is finished)"),
    ("%kill foo", "UsageError: %kill: 'foo' is not a job number (use numbers, 'all' or -g GROUP)"),
    ("%kill -1", "UsageError: %kill: '-1' is not a job number (use numbers, 'all' or -g GROUP)"),
    ("%kill", "UsageError: %kill needs job numbers, 'all', or -g GROUP"),
    ("%kill --bogus", "UsageError: %kill: unrecognized arguments: --bogus"),
    ("%kill -g", "UsageError: %kill: argument -g/--group: expected one argument"),
    ("%kill -g nope", "UsageError: %kill: no map group named 'nope'"),
    ("%kill 0 -g nope", "UsageError: %kill: give either -g GROUP or job numbers, not both"),
    ("%job", "UsageError: %job needs an expression, e.g. %job sum(range(10))"),
    ("%job    ", "UsageError: %job needs an expression, e.g. %job sum(range(10))"),
    ("%job -n sleeper", "UsageError: %job needs an expression, e.g. %job sum(range(10))"),
    ("%job -n", "UsageError: %job: -n needs a NAME, e.g. %job -n crawl download(urls)"),
    ("%job 1 +", "UsageError: %job: invalid syntax in line 1 of the job's code: 1 +"),
    ("%job print(1", "UsageError: %job: '(' was never closed in line 1 of the job's code: print(1"),
    ("%job x = 1", "UsageError: %job runs an expression; for statements use %%job: x = 1"),
    ("%%job\nx = 1\nfor\n", "UsageError: %%job: invalid syntax in line 2 of the job's code: for"),
    ("%%job extra words\nx = 1", "UsageError: %%job takes only -n NAME on its line, not 'extra words'"),
    (
        "%%job\n",
        "UsageError: %%job is a cell magic, but the cell body is empty. Did you mean the line magic %job (single %)?",
    ),
    ("%jobs --bogus", "UsageError: %jobs: unrecognized arguments: --bogus"),
]


@pytest.mark.parametrize(("code", "message"), BAD_INPUT, ids=[code for code, _ in BAD_INPUT])
def test_bad_input_gets_one_clear_line(module_kernel: KernelSession, code: str, message: str) -> None:
    kernel = module_kernel
    if kernel.value("len(jobs)") == 0:
        # Job 0 runs and job 1 has finished through every case.
        kernel.stdout("import threading\nrelease = threading.Event()\njobs.new(release.wait)\njobs.new(len, 'ab')")
        assert kernel.ended("jobs[1]") == "finished"
    reply, shown = kernel.stderr_and_errors(code)
    assert reply["status"] == "error"
    assert reply["ename"] == "UsageError"
    assert shown == message + "\n"
    assert "Traceback" not in shown
    # Nothing else disturbed: no job started, none killed, the kernel answers.
    assert kernel.value("[(job.number, job.status) for job in jobs.list()]") == [[0, "running"], [1, "finished"]]
    assert kernel.value("jobs[0].kill_requested") is False


def test_unknown_job_through_the_api_names_the_number(kernel: KernelSession) -> None:
    reply, _ = kernel.stderr_and_errors("jobs[7]")
    assert reply["ename"] == "NoSuchJob"
    assert reply["evalue"] == "no job number 7"
    reply, _ = kernel.stderr_and_errors("jobs.kill(7)")
    assert (reply["ename"], reply["evalue"]) == ("NoSuchJob", "no job number 7")
    kernel.stdout("jobs.new(len, 'abc').wait(5)")
    reply, _ = kernel.stderr_and_errors("jobs.kill(0)")
    assert (reply["ename"], reply["evalue"]) == ("JobStateError", "job 0 is not running (it is finished)")
    reply, _ = kernel.stderr_and_errors("jobs.new(42)")
    assert (reply["ename"], reply["evalue"]) == (
        "TypeError",
        "jobs.new takes a callable or an expression string, not int",
    )
    assert kernel.value("len(jobs), jobs[0].status") == [1, "finished"]


def test_numbers_continue_after_refused_input(kernel: KernelSession) -> None:
    kernel.execute("%job 1 +")
    kernel.execute("%job")
    assert kernel.stdout("%job 6 * 7") == "Started job 0.\n"
    assert kernel.ended() == "finished"
    assert kernel.value("jobs[0].result") == 42
