"""Progress from inside a job: ``progress(iterable)`` and ``report(done, total)``, in real kernels."""

from __future__ import annotations

import re

from .kernel_session import KernelSession

SETUP = (
    "import threading\n"
    "from jupyter_bgjobs import progress, report\n"
    "pushed = []  # the progress of the jobs in every batch of changes listeners get\n"
    "jobs.add_listener(lambda changed, removed: pushed.extend(dict(j.progress) for j in changed if j.progress))\n"
)


def test_progress_is_rate_limited_and_the_last_value_lands(kernel: KernelSession) -> None:
    kernel.stdout(
        SETUP + "def count(n):\n"
        "    total = 0\n"
        "    for item in progress(range(n), desc='counting'):\n"
        "        total += item\n"
        "    return total\n"
        "job = jobs.new(count, 200_000)\n"
        "job.wait(20)"
    )
    final = {"done": 200_000, "total": 200_000, "desc": "counting"}
    assert kernel.value("job.result, job.progress") == [sum(range(200_000)), final]
    assert kernel.wait_for("pushed and pushed[-1]", final) == final
    pushes = kernel.value("pushed")
    assert pushes[-1] == final
    # At most one push every 0.1 s, plus the first and the last.
    assert len(pushes) <= kernel.value("job.elapsed") / 0.1 + 3
    assert kernel.value("job.to_wire()['progress']") == final


def test_progress_without_a_length_and_report(kernel: KernelSession) -> None:
    kernel.stdout(
        SETUP + "def walk():\n"
        "    for _ in progress(iter(range(7)), desc='walking'):\n"
        "        pass\n"
        "def halves():\n"
        "    report(5, 10, 'half')\n"
        "    return 'ok'\n"
        "walker = jobs.new(walk)\n"
        "walker.wait(5)\n"
        "reporter = jobs.new(halves)\n"
        "reporter.wait(5)"
    )
    walked = {"done": 7, "total": None, "desc": "walking"}
    assert kernel.value("walker.progress, reporter.progress") == [walked, {"done": 5, "total": 10, "desc": "half"}]
    # The job's end is a change too: the last value reaches listeners even when it was not pushed.
    kernel.wait_for("pushed and pushed[-1]['desc']", "half")
    assert kernel.value("[p for p in pushed if p['desc'] == 'walking'][-1]") == walked


def test_outside_a_job_progress_only_iterates(kernel: KernelSession) -> None:
    kernel.stdout("from jupyter_bgjobs import progress, report")
    assert kernel.value("list(progress([1, 2, 3], desc='here')), report(1, 2)") == [[1, 2, 3], None]


def test_jobs_table_shows_progress(kernel: KernelSession) -> None:
    kernel.stdout(
        "import threading\n"
        "from jupyter_bgjobs import progress\n"
        "gate = threading.Event()\n"
        "def halfway():\n"
        "    for item in progress(range(1000)):\n"
        "        if item == 500:\n"
        "            gate.wait()\n"
        "job = jobs.new(halfway, name='halfway')"
    )
    kernel.wait_for("job.progress and job.progress['done']", 500)
    table = kernel.stdout("%jobs")
    assert re.fullmatch(r"Running jobs:\n    0  running +\d+\.\ds  halfway  \[500/1000 \(50%\)\]\n", table), table
    kernel.stdout("gate.set()")
    assert kernel.ended("job") == "finished"
