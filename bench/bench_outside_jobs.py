"""What the job-aware patches cost outside job threads: the kernel's own threads and the user's.

Each operation runs in the main thread (no job) with the engine's patches
and output routing installed and without them, rounds alternating in the
same run; prints the median cost per call and the ratio.

    .venv/bin/python bench/bench_outside_jobs.py [--calls 20000] [--rounds 9]
"""

from __future__ import annotations

import argparse
import io
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from jupyter_bgjobs.kernel import blocking
from jupyter_bgjobs.kernel.output import RoutedStream

PATCHES = [
    (time, "sleep", blocking.job_sleep),
    (threading, "_allocate_lock", blocking._allocate_waiter),
    (threading.Thread, "join", blocking.job_join),
    (socket.socket, "__init__", blocking._socket_init),
    (subprocess.Popen, "__init__", blocking._popen_init),
]
ORIGINALS = [(owner, name, getattr(owner, name)) for owner, name, _ in PATCHES]


def set_patches(on: bool) -> None:
    """The benchmark's own switch: the engine installs its patches once and for good."""
    for owner, name, value in PATCHES if on else ORIGINALS:
        setattr(owner, name, value)


def operations(sink: io.StringIO) -> dict[str, Callable[[], object]]:
    condition = threading.Condition()
    finished = threading.Thread(target=lambda: None)
    finished.start()
    finished.join()

    def condition_wait() -> object:
        with condition:
            return condition.wait(0)

    def new_socket() -> object:
        sock = socket.socket()
        sock.close()
        return sock

    return {
        "time.sleep(0)": lambda: time.sleep(0),
        "Condition.wait(0)": condition_wait,
        "Event().wait(0)": lambda: threading.Event().wait(0),
        "Thread.join() (ended)": finished.join,
        "socket.socket() + close": new_socket,
        "sys.stdout.write (1 char)": lambda: sys.stdout.write("x"),
    }


def per_call(operation: Callable[[], object], calls: int) -> float:
    began = time.perf_counter()
    for _ in range(calls):
        operation()
    return (time.perf_counter() - began) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()

    sink = io.StringIO()
    real_stdout = sys.stdout
    routed = RoutedStream(sink)
    ops = operations(sink)
    samples: dict[tuple[str, bool], list[float]] = {(name, on): [] for name in ops for on in (False, True)}
    for _ in range(args.rounds):
        for on in (False, True):
            set_patches(on)
            sys.stdout = routed if on else sink
            try:
                for name, operation in ops.items():
                    samples[name, on].append(per_call(operation, args.calls))
            finally:
                sys.stdout = real_stdout
                sink.seek(0)
                sink.truncate()
    set_patches(False)

    print(f"cost per call outside job threads, median of {args.rounds} rounds x {args.calls} calls")
    print(f"  {'operation':28} {'standard':>10} {'with jupyter-bgjobs':>20} {'ratio':>7} {'added':>9}")
    for name in ops:
        plain, patched = (statistics.median(samples[name, on]) for on in (False, True))
        added = (patched - plain) * 1e9
        print(f"  {name:28} {plain * 1e9:8.0f} ns {patched * 1e9:17.0f} ns {patched / plain:6.2f}x {added:+7.0f} ns")


if __name__ == "__main__":
    main()
