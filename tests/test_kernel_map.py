"""``jobs.map`` in real kernels: results in order, failures kept, the pool killed whole."""

from __future__ import annotations

from .kernel_session import KernelSession

SQUARES = (
    "def square(n):\n"
    "    if n == 13:\n"
    "        raise ValueError(f'unlucky {n}')\n"
    "    return n * n\n"
    "group = jobs.map(square, range(100), workers=8, name='squares')\n"
    "group.wait(10)"
)


def test_map_returns_results_in_order_and_keeps_failures(kernel: KernelSession) -> None:
    kernel.stdout(SQUARES)
    assert kernel.value("group.wait(10)") is True
    assert kernel.value("group.results()") == [None if n == 13 else n * n for n in range(100)]
    assert kernel.value("list(group.failures), repr(group.failures[13])") == [
        [13],
        "<ItemFailure item 13: ValueError: unlucky 13>",
    ]
    assert kernel.value("group.failures[13].item, type(group.failures[13].error).__name__") == [13, "ValueError"]
    traceback = kernel.value("group.failures[13].traceback")
    assert traceback.startswith("Traceback (most recent call last):\n")
    assert "in square\n    raise ValueError(f'unlucky {n}')\n" in traceback
    assert traceback.endswith("ValueError: unlucky 13\n")
    assert "jupyter_bgjobs" not in traceback
    assert kernel.value("group.status, group.progress") == ["failed", {"done": 100, "total": 100, "desc": "squares"}]
    assert kernel.value("repr(group)") == "<JobGroup squares failed: 100/100 items, 1 failed, 8 jobs>"


def test_map_deals_items_round_robin_one_job_a_chunk(kernel: KernelSession) -> None:
    kernel.stdout(SQUARES)
    assert kernel.value("[job.number for job in group.jobs]") == list(range(8))
    assert kernel.value("[job.name for job in group.jobs]") == [f"squares [{n}/8]" for n in range(1, 9)]
    assert kernel.value("sorted({(job.kind, job.group, job.status) for job in group.jobs})") == [
        ["map", "squares", "finished"]
    ]
    # Chunk k holds items k, k+8, k+16, ...; a job's result is how many of its items succeeded.
    assert kernel.value("[job.result for job in group.jobs]") == [13, 13, 13, 13, 12, 11, 12, 12]
    assert kernel.value("[job.progress['total'] for job in group.jobs]") == [13, 13, 13, 13, 12, 12, 12, 12]
    assert kernel.value("jobs[0].code") == "jobs.map(square, ...): chunk 1/8, 13 items"
    kernel.stdout("import jupyter_bgjobs")
    assert kernel.value("jupyter_bgjobs.chunks(range(10), 4)") == [
        [0, 4, 8],
        [1, 5, 9],
        [2, 6],
        [3, 7],
    ]


def test_map_with_fewer_items_than_workers(kernel: KernelSession) -> None:
    kernel.stdout("group = jobs.map(str, [1, 2, 3], workers=8)\ngroup.wait(5)")
    assert kernel.value("group.results(), len(group.jobs), group.name, group.status") == [
        ["1", "2", "3"],
        3,
        "map-0",
        "finished",
    ]


GATED = "import threading\ngate = threading.Event()\ndef gated(n):\n    if n >= 4:\n        gate.wait()\n    return n\n"


def test_group_kill_ends_every_job_of_the_pool(kernel: KernelSession) -> None:
    kernel.stdout(GATED + "group = jobs.map(gated, range(40), workers=4, name='pool')")
    kernel.wait_for("group.progress['done']", 4)  # items 0-3 done, every worker waits on its second item
    assert kernel.value("group.kill()") is True
    assert kernel.value("group.status, [job.status for job in group.jobs]") == ["killed", ["killed"] * 4]
    assert kernel.value("group.progress['done'], group.results()[:5]") == [4, [0, 1, 2, 3, None]]
    assert kernel.value("group.failures") == {}


def test_kill_magic_by_group(kernel: KernelSession) -> None:
    kernel.stdout(GATED + "other = jobs.new(gate.wait)\ngroup = jobs.map(gated, range(40), workers=4, name='pool')")
    kernel.wait_for("group.progress['done']", 4)
    assert kernel.stdout("%kill -g pool") == "Job 1 killed.\nJob 2 killed.\nJob 3 killed.\nJob 4 killed.\n"
    assert kernel.value("jobs[0].status, group.status") == ["running", "killed"]
    assert kernel.stdout("%kill -g pool") == "No running jobs to kill.\n"
    reply, _ = kernel.stderr_and_errors("jobs.map(gated, range(4), name='pool')")
    assert reply["status"] == "ok"  # the name is free again once the pool has ended
    kernel.stdout("gate.set()")


def test_a_running_map_name_is_not_reused(kernel: KernelSession) -> None:
    kernel.stdout(GATED + "group = jobs.map(gated, range(40), workers=2, name='pool')")
    reply, _ = kernel.stderr_and_errors("jobs.map(gated, range(4), name='pool')")
    assert (reply["ename"], reply["evalue"]) == ("JobStateError", "a map named 'pool' is still running")
    kernel.stdout("gate.set()\ngroup.wait(5)")
    assert kernel.value("group.status, len(group.results())") == ["finished", 40]


def test_flush_forgets_an_ended_pool(kernel: KernelSession) -> None:
    kernel.stdout(SQUARES)
    assert kernel.value("jobs.group('squares') is group") is True
    assert kernel.value("jobs.flush()") == 8
    reply, _ = kernel.stderr_and_errors("jobs.group('squares')")
    assert (reply["ename"], reply["evalue"]) == ("NoSuchJob", "no map group named 'squares'")
    assert kernel.value("group.results()[:3], len(group.failures)") == [[0, 1, 4], 1]  # the user's handle keeps it
