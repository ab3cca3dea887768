"""%%job and per-job output in real kernels: the namespace, job.output, and where prints are shown."""

from __future__ import annotations

import re

from .kernel_session import KernelSession


def test_cell_job_assigns_prints_and_returns(kernel: KernelSession) -> None:
    source = "x = 41\nprint('in job')\nprint('to stderr', file=sys.stderr)\ny = x + 1\ny"
    kernel.stdout("import sys")
    reply, _ = kernel.execute(f"%%job -n compute\n{source}")
    assert reply["status"] == "ok"
    cell = kernel.last_msg_id
    assert kernel.ended() == "finished"
    assert kernel.value("x, y, jobs[0].result") == [41, 42, 42]
    assert kernel.value("jobs[0].output") == "in job\nto stderr\n"
    assert kernel.value("jobs[0].kind, jobs[0].name, jobs[0].code") == ["cell", "compute", source]
    # Shown under the cell that started it, after the announcement.
    assert kernel.wait_for_stream(cell, "in job\n") == "Started job 0 (compute).\nin job\n"
    assert kernel.wait_for_stream(cell, "to stderr\n", name="stderr") == "to stderr\n"


def test_cell_job_runs_magics_inside(kernel: KernelSession) -> None:
    kernel.execute("%%job\nvalue = %time 6 * 7\nvalue")
    assert kernel.ended() == "finished"
    assert kernel.value("jobs[0].result") == 42
    assert "Wall time:" in kernel.value("jobs[0].output")


def test_late_print_goes_to_the_cell_that_started_the_job(kernel: KernelSession) -> None:
    kernel.stdout("import threading\ngo = threading.Event()")
    kernel.execute("%%job\ngo.wait()\nprint('after go')")
    starting_cell = kernel.last_msg_id
    assert kernel.stdout("go.set(); jobs[0].wait(5); print('latest cell')") == "latest cell\n"
    latest_cell = kernel.last_msg_id
    assert kernel.wait_for_stream(starting_cell, "after go") == "Started job 0.\nafter go\n"
    assert kernel.stream_text(latest_cell) == "latest cell\n"
    assert kernel.value("jobs[0].output") == "after go\n"


def test_main_cell_output_stays_its_own_while_a_job_prints(kernel: KernelSession) -> None:
    kernel.stdout("import threading, time\nstop = threading.Event()")
    kernel.execute(
        "%%job -n ticker\n"
        "ticks = 0\n"
        "while not stop.is_set():\n"
        "    ticks += 1\n"
        "    print(f'tick {ticks}')\n"
        "    stop.wait(0.002)"
    )
    kernel.wait_for("ticks > 5", True)
    main = kernel.stdout("print('main')\nfor _ in range(5):\n    time.sleep(0.01)\nprint('main end')")
    assert main == "main\nmain end\n"
    kernel.stdout("stop.set()")
    assert kernel.ended() == "finished"
    output = kernel.value("jobs[0].output")
    assert output == "".join(f"tick {n}\n" for n in range(1, kernel.value("ticks") + 1))


def test_capture_output_keeps_working_next_to_jobs(kernel: KernelSession) -> None:
    kernel.stdout("import sys, threading\ngo = threading.Event()")
    kernel.execute("%%job\ngo.wait()\nprint('job line')")
    captured = kernel.stdout(
        "from IPython.utils.capture import capture_output\n"
        "with capture_output() as captured:\n"
        "    print('captured line')\n"
        "print(repr(captured.stdout))"
    )
    assert captured == "'captured line\\n'\n"
    kernel.stdout("go.set()")
    assert kernel.ended() == "finished"
    assert kernel.value("jobs[0].output") == "job line\n"
    assert kernel.value("type(sys.stdout).__name__") == "RoutedStream"


def test_output_is_bounded_to_its_last_megabyte(kernel: KernelSession) -> None:
    kernel.stdout("import sys\ndef chatty():\n    for n in range(12):\n        sys.stdout.write(str(n % 10) * 100_000)")
    kernel.stdout("%job chatty()")
    assert kernel.ended() == "finished"
    assert kernel.value("len(jobs[0].output)") == 1_000_000
    assert kernel.value("jobs[0].output[:3], jobs[0].output[-3:]") == ["222", "111"]
    assert kernel.value("len(jobs[0].to_wire()['output_tail'])") == 8_000


def test_jobs_table_shows_each_group(kernel: KernelSession) -> None:
    kernel.stdout("import threading\ngo = threading.Event()\ndef fail():\n    raise ValueError('no')")
    kernel.stdout("%job -n waiter go.wait()")
    kernel.stdout("%job 6 * 7")
    kernel.stdout("%job fail()")
    kernel.wait_for("[job.done for job in jobs.list()]", [False, True, True])
    table = kernel.stdout("%jobs")
    assert re.fullmatch(
        r"Running jobs:\n"
        r"    0  running +\d+\.\ds  waiter\n"
        r"\n"
        r"Finished jobs:\n"
        r"    1  finished +\d+\.\ds  6 \* 7\n"
        r"\n"
        r"Dead jobs:\n"
        r"    2  failed +\d+\.\ds  fail\(\)  -> ValueError: no\n",
        table,
    ), table
    kernel.stdout("go.set()")
