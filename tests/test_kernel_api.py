"""The ``jobs`` manager in real kernels: IPython BackgroundJobManager's API, and what it adds."""

from __future__ import annotations

import re

from .kernel_session import KernelSession


def test_extension_loads_once(kernel: KernelSession) -> None:
    assert kernel.value("type(jobs).__name__") == "JobManager"
    kernel.stdout("import sys\nfirst = jobs\n%load_ext jupyter_bgjobs")
    assert kernel.value("jobs is first") is True
    assert kernel.value("type(sys.stdout).__name__, type(sys.stdout.wrapped).__name__") == ["RoutedStream", "OutStream"]


def test_job_expression_finishes_with_its_result(kernel: KernelSession) -> None:
    assert kernel.stdout("%job 6*7") == "Started job 0.\n"
    assert kernel.ended() == "finished"
    assert kernel.value("jobs[0].result, jobs.result(0), jobs[0].num, jobs[0].number") == [42, 42, 0, 0]
    assert kernel.value("jobs[0].kind, jobs[0].code, jobs[0].name, jobs[0].error, jobs[0].traceback()") == [
        "expr",
        "6*7",
        None,
        None,
        None,
    ]
    assert kernel.value("[j.number for j in jobs.completed], jobs.running, jobs.dead") == [[0], [], []]
    assert kernel.value("jobs[0].started <= jobs[0].ended and jobs[0].elapsed >= 0") is True


def test_failing_job_keeps_its_traceback(kernel: KernelSession) -> None:
    kernel.stdout("def explode():\n    raise ValueError('boom')")
    kernel.stdout("%job explode()")
    assert kernel.ended() == "failed"
    assert kernel.value("jobs[0].error['ename'], jobs[0].error['evalue']") == ["ValueError", "boom"]
    traceback = kernel.value("jobs[0].traceback()")
    assert traceback.startswith('Traceback (most recent call last):\n  File "<job 0>", line 1, in <module>\n')
    assert "in explode\n    raise ValueError('boom')\n" in traceback
    assert traceback.endswith("ValueError: boom\n")
    assert "jupyter_bgjobs" not in traceback
    assert kernel.value("type(jobs[0].exception).__name__, [j.number for j in jobs.dead]") == ["ValueError", [0]]
    # jobs.traceback(N) prints it, as IPython's does; shown at the end of a cell, it reads as text.
    assert kernel.stdout("jobs.traceback(0)") == f"Traceback of job 0 (failed):\n{traceback}\n"
    _, outputs = kernel.execute("jobs[0].traceback()")
    shown = [msg["content"]["data"]["text/plain"] for msg in outputs if msg["header"]["msg_type"] == "execute_result"]
    assert shown == [traceback.rstrip("\n")]


def test_new_takes_what_background_job_manager_takes(kernel: KernelSession) -> None:
    kernel.stdout("def add(a, b, c=0):\n    return a + b + c\na, b = 1, 2")
    kernel.stdout(
        "started = [\n"
        "    jobs.new(add, 1, 2),\n"  # 0: a callable with arguments
        "    jobs.new(add, 1, 2, kw={'c': 3}),\n"  # 1: keywords as kw=, as in IPython
        "    jobs.new(add, 1, b=2, c=4),\n"  # 2: or as keywords
        "    jobs.new('a + b'),\n"  # 3: an expression in the caller's namespace
        "    jobs.new('a + b', {'a': 10, 'b': 20}),\n"  # 4: in the globals given
        "    jobs.new('a + b', {'a': 10}, {'b': 5}),\n"  # 5: globals and locals
        "    jobs.new(add, 1, 1, name='named', daemon=False),\n"  # 6: the job's own keywords
        "]\n"
        "for job in started:\n"
        "    job.wait(5)"
    )
    assert kernel.value("[job.result for job in started]") == [3, 6, 7, 3, 30, 15, 2]
    assert kernel.value("[job.kind for job in started]") == ["func"] * 3 + ["expr"] * 3 + ["func"]
    assert kernel.value("[job.code for job in started]") == [
        "add(1, 2)",
        "add(1, 2, c=3)",
        "add(1, b=2, c=4)",
        "a + b",
        "a + b",
        "a + b",
        "add(1, 1)",
    ]
    assert kernel.value("started[6].name, started[6].daemon, started[0].daemon") == [
        "named",
        False,
        True,
    ]
    assert kernel.value("'a + b' in [job.code for job in jobs.list()]") is True


def test_expression_in_a_function_sees_its_locals(kernel: KernelSession) -> None:
    kernel.stdout("def start():\n    secret = 41\n    return jobs.new('secret + 1')\njob = start()")
    assert kernel.ended("job") == "finished"
    assert kernel.value("job.result") == 42


def test_lists_remove_and_flush_as_background_job_manager(kernel: KernelSession) -> None:
    kernel.stdout(
        "import threading\n"
        "hold = threading.Event()\n"
        "def fail():\n"
        "    raise KeyError('gone')\n"
        "done = jobs.new(len, 'abc')\n"
        "held = jobs.new(hold.wait)\n"
        "failed = jobs.new(fail)\n"
        "done.wait(5), failed.wait(5)"
    )
    assert kernel.value("[[j.number for j in group] for group in (jobs.running, jobs.completed, jobs.dead)]") == [
        [1],
        [0],
        [2],
    ]
    table = re.compile(
        r"Running jobs:\n    1  running +\d+\.\ds  Event\.wait\(\)\n\n"
        r"Finished jobs:\n    0  finished +\d+\.\ds  len\('abc'\)\n\n"
        r"Dead jobs:\n    2  failed +\d+\.\ds  fail\(\)  -> KeyError: 'gone'\n"
    )
    for call in ("jobs.status()", "jobs()"):
        status = kernel.stdout(call)
        assert table.fullmatch(status), status
    reply, _ = kernel.stderr_and_errors("jobs.remove(1)")
    assert (reply["ename"], reply["evalue"]) == ("JobStateError", "job 1 is still running: kill it first")
    kernel.stdout("jobs.remove(0)")
    reply, _ = kernel.stderr_and_errors("jobs[0]")
    assert (reply["ename"], reply["evalue"]) == ("NoSuchJob", "no job number 0")
    assert kernel.value("jobs.flush()") == 1  # job 2; job 1 still runs
    assert kernel.value("[job.number for job in jobs.list()]") == [1]
    kernel.stdout("hold.set(); held.wait(5)")
    assert kernel.value("jobs.flush(), len(jobs)") == [1, 0]
    # Numbers are never reused, as in IPython.
    assert kernel.stdout("%job 1") == "Started job 3.\n"


def test_numbering_and_grouping_match_ipython(kernel: KernelSession) -> None:
    # The same sequence through IPython's own BackgroundJobManager and through jobs.
    kernel.stdout(
        "from IPython.lib.backgroundjobs import BackgroundJobManager\n"
        "def fail():\n"
        "    raise ValueError('x')\n"
        "def sequence(manager):\n"
        "    started = [manager.new(len, 'ab'), manager.new(fail), manager.new(len, 'abc')]\n"
        "    for job in started:\n"
        "        job.join() if hasattr(job, 'join') else job.wait(5)\n"
        "    return (\n"
        "        [job.num for job in started],\n"
        "        [job.num for job in manager.completed],\n"
        "        [job.num for job in manager.dead],\n"
        "        manager.result(2),\n"
        "        manager[0].result,\n"
        "    )\n"
        "ipython_manager = BackgroundJobManager()"
    )
    assert (
        kernel.value("sequence(jobs)")
        == kernel.value("sequence(ipython_manager)")
        == [
            [0, 1, 2],
            [0, 2],
            [1],
            3,
            2,
        ]
    )


def test_wire_record_follows_the_protocol(kernel: KernelSession) -> None:
    kernel.stdout(
        "from jupyter_bgjobs import protocol\n"
        "def fail():\n"
        "    raise ValueError('no')\n"
        "for job in (jobs.new(lambda: list(range(10_000))), jobs.new(fail)):\n"
        "    job.wait(5)"
    )
    records = kernel.value("[protocol.validate_job(job.to_wire()) for job in jobs.list()]")
    assert [record["status"] for record in records] == ["finished", "failed"]
    assert records[0]["result_repr"] == "[" + ", ".join(str(n) for n in range(100)) + ", ...]"
    assert records[1]["error"]["ename"] == "ValueError"
    assert records[1]["error"]["traceback"][-1] == "ValueError: no\n"
    assert re.fullmatch(r"[0-9a-f]{16}-[0-9a-f]+", records[0]["uid"])
    assert records[0]["uid"] != records[1]["uid"]
    assert kernel.value("jobs.get(jobs[1].uid) is jobs[1], jobs.resolve(1) is jobs[1]") == [True, True]


def test_listeners_get_changes_in_batches(kernel: KernelSession) -> None:
    kernel.stdout(
        "batches = []\n"
        "jobs.add_listener(lambda changed, removed: batches.append(([j.number for j in changed], removed)))\n"
        "started = [jobs.new(len, 'a') for _ in range(200)]\n"
        "for job in started:\n"
        "    job.wait(5)"
    )
    kernel.wait_for("sorted({n for changed, _ in batches for n in changed}) == list(range(200))", True)
    assert kernel.value("len(batches) < 50") is True  # coalesced: 200 jobs x 3 changes in a few batches
    kernel.stdout("uid = jobs[5].uid\njobs.remove(5)")
    kernel.wait_for("any(removed == [uid] for _, removed in batches)", True)
