"""The kernel side in a real kernel: %job, results, failures, the jobs manager."""

from __future__ import annotations

from .kernel_session import KernelSession


def test_extension_is_loaded_automatically(kernel: KernelSession) -> None:
    assert kernel.value("type(jobs).__name__") == "JobManager"


def test_job_expression_finishes_with_its_result(kernel: KernelSession) -> None:
    assert kernel.stdout("%job 6*7") == "Started job 0.\n"
    assert kernel.wait_for("jobs[0].status", "finished") == "finished"
    assert kernel.value("jobs[0].result") == 42
    assert kernel.value("jobs.result(0)") == 42
    assert kernel.value("[j.number for j in jobs.completed]") == [0]


def test_failing_job_keeps_its_traceback(kernel: KernelSession) -> None:
    kernel.stdout("def explode():\n    raise ValueError('boom')")
    kernel.stdout("%job explode()")
    assert kernel.wait_for("jobs[0].status", "failed") == "failed"
    assert kernel.value("jobs[0].error['ename'], jobs[0].error['evalue']") == ["ValueError", "boom"]
    traceback = kernel.value("jobs[0].traceback()")
    assert traceback.startswith("Traceback (most recent call last):\n")
    assert "in explode\n    raise ValueError('boom')\n" in traceback
    assert traceback.endswith("ValueError: boom\n")
    assert kernel.value("[j.number for j in jobs.dead]") == [0]


def test_syntax_error_starts_no_job(kernel: KernelSession) -> None:
    reply, errors = kernel.stderr_and_errors("%job 1 +")
    assert reply["status"] == "error"
    assert "UsageError: invalid syntax in the job's code" in errors
    assert kernel.value("len(jobs)") == 0
