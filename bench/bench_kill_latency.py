"""Kill latency: how long a blocked job takes to die, for every case of the design's bar table.

For each case a job blocks (in ``time.sleep(60)``, ``Event().wait()``, a
``recv`` on a silent server, ...); the time from ``job.kill()`` to the job's
end is measured, median over several runs. Bar: under 100 ms each.

The baseline column is the original trick measured in the same run: a plain
thread running the same case with a shorter duration (``--cap`` seconds,
e.g. ``time.sleep(5)``), killed by ``PyThreadState_SetAsyncExc`` with
``SystemError`` and nothing else. It dies when the blocking call returns by
itself (about the cap), or never; it is watched for ``cap + 1`` seconds.

    .venv/bin/python bench/bench_kill_latency.py [--runs 7] [--cap 5]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import queue
import socket
import statistics
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable

from jupyter_bgjobs.kernel.blocking import install_blocking_patches
from jupyter_bgjobs.kernel.manager import JobManager

# A server that accepts connections (into its backlog) and never answers.
SILENT = socket.socket()
SILENT.bind(("127.0.0.1", 0))
SILENT.listen(4096)
SILENT_URL = f"http://127.0.0.1:{SILENT.getsockname()[1]}/"


def busy_loop(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def except_exception_loop(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            sum(range(100))
        except Exception:
            pass


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def event_wait(seconds: float) -> None:
    threading.Event().wait()


def queue_get(seconds: float) -> None:
    queue.Queue().get()


def condition_wait(seconds: float) -> None:
    condition = threading.Condition()
    with condition:
        condition.wait()


def semaphore_acquire(seconds: float) -> None:
    threading.Semaphore(0).acquire()


def thread_join(seconds: float) -> None:
    helper = threading.Thread(target=threading.Event().wait, daemon=True)
    helper.start()
    helper.join()


def socket_recv(seconds: float) -> None:
    with socket.create_connection(SILENT.getsockname()) as connection:
        connection.recv(1024)


def urllib_silent_server(seconds: float) -> None:
    urllib.request.urlopen(SILENT_URL, timeout=3600).read()


def subprocess_sleep(seconds: float) -> None:
    subprocess.run(["sleep", str(seconds)], check=False)


def asyncio_run(seconds: float) -> None:
    asyncio.run(asyncio.sleep(seconds))


CASES: dict[str, Callable[[float], None]] = {
    "busy loop": busy_loop,
    "loop with except Exception": except_exception_loop,
    "time.sleep": sleep,
    "Event().wait()": event_wait,
    "queue.get()": queue_get,
    "Condition.wait()": condition_wait,
    "Semaphore.acquire()": semaphore_acquire,
    "Thread.join()": thread_join,
    "socket.recv, silent server": socket_recv,
    "urllib, silent server": urllib_silent_server,
    'subprocess.run(["sleep", ...])': subprocess_sleep,
    "asyncio.run(asyncio.sleep(...))": asyncio_run,
}

# The case lines above have their own durations: what the job gets vs the baseline.
JOB_SECONDS = 60.0


def kill_latency(jobs: JobManager, case: Callable[[float], None]) -> float | None:
    """Seconds from ``job.kill()`` to the job's end; None if it did not die within 5 s."""
    job = jobs.new(case, JOB_SECONDS)
    while job.status != "running":
        time.sleep(0.001)
    time.sleep(0.05)  # into its blocking call
    began = time.perf_counter()
    died = job.kill(wait=5.0)
    elapsed = time.perf_counter() - began
    return elapsed if died else None


_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)


def original_trick(cases: dict[str, Callable[[float], None]], cap: float) -> dict[str, float | None]:
    """All cases at once in plain threads, each killed the original way; seconds to die, or None."""
    threading.excepthook = lambda args: None  # the SystemErrors are expected: no tracebacks
    threads = {name: threading.Thread(target=case, args=(cap,), daemon=True) for name, case in cases.items()}
    for thread in threads.values():
        thread.start()
    time.sleep(0.2)
    began = time.perf_counter()
    for thread in threads.values():
        assert thread.ident is not None
        _set_async_exc(thread.ident, SystemError)
    died: dict[str, float | None] = dict.fromkeys(threads)
    while time.perf_counter() - began < cap + 1 and any(thread.is_alive() for thread in threads.values()):
        for name, thread in threads.items():
            if died[name] is None and not thread.is_alive():
                died[name] = time.perf_counter() - began
        time.sleep(0.005)
    for name, thread in threads.items():
        if died[name] is None and not thread.is_alive():
            died[name] = time.perf_counter() - began
    return died


def ms(seconds: float | None, never: str) -> str:
    return never if seconds is None else f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="kills per case (the median is reported)")
    parser.add_argument("--cap", type=float, default=5.0, help="the baseline cases' duration, in seconds")
    args = parser.parse_args()

    install_blocking_patches()
    jobs = JobManager()
    results: dict[str, list[float | None]] = {name: [] for name in CASES}
    for _ in range(args.runs):  # interleaved, so drift hits every case alike
        for name, case in CASES.items():
            results[name].append(kill_latency(jobs, case))
    baseline = original_trick(CASES, args.cap)

    never = f"never within {args.cap + 1:g} s"
    print(f"kill latency, median of {args.runs} kills; baseline: the original trick on a {args.cap:g} s version")
    print(f"  {'case':34} {'jupyter-bgjobs':>15} {'max':>10} {'original trick':>22}  bar < 100 ms")
    worst = 0.0
    for name, values in results.items():
        died = [value for value in values if value is not None]
        if len(died) < len(values):
            print(f"  {name:34} {'DID NOT DIE':>15} in {len(values) - len(died)} of {len(values)} runs")
            worst = float("inf")
            continue
        median, top = statistics.median(died), max(died)
        worst = max(worst, median)
        verdict = "ok" if median < 0.1 else "OVER"
        print(f"  {name:34} {ms(median, ''):>15} {ms(top, ''):>10} {ms(baseline[name], never):>22}  {verdict}")
    print(f"  worst median: {ms(worst, 'never')} (bar: < 100 ms)")


if __name__ == "__main__":
    main()
