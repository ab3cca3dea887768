"""Per-job start cost: jobs.new vs a bare threading.Thread vs IPython's BackgroundJobManager.

Measured in one run, inside an IPython shell (BackgroundJobManager needs one).
Prints medians over rounds of N starts and the ratios the design's bar is
about: within 1.3x of a bare thread, faster than BackgroundJobManager.

    .venv/bin/python bench/bench_job_start.py [--jobs 200] [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable


def nothing() -> None:
    return None


def time_starts(start: Callable[[], object], count: int) -> float:
    """Seconds per start, over ``count`` starts (the threads are joined outside the timing)."""
    handles = []
    began = time.perf_counter()
    for _ in range(count):
        handles.append(start())
    elapsed = time.perf_counter() - began
    for handle in handles:
        join = getattr(handle, "join", None) or getattr(handle, "wait", None)
        if join is not None:
            join()
    return elapsed / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200, help="starts per round")
    parser.add_argument("--rounds", type=int, default=15, help="rounds (the median is reported)")
    args = parser.parse_args()

    from IPython.lib.backgroundjobs import BackgroundJobManager
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    shell.run_line_magic("load_ext", "jupyter_bgjobs")
    jobs = shell.user_ns["jobs"]
    ipython_jobs = BackgroundJobManager()

    def bare_thread() -> threading.Thread:
        thread = threading.Thread(target=nothing)
        thread.start()
        return thread

    def ipython_job() -> object:
        job = ipython_jobs.new(nothing)
        return job

    contenders: dict[str, Callable[[], object]] = {
        "threading.Thread": bare_thread,
        "jobs.new": lambda: jobs.new(nothing),
        "BackgroundJobManager.new": ipython_job,
    }
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.rounds):  # interleaved, so drift hits every contender alike
        for name, start in contenders.items():
            samples[name].append(time_starts(start, args.jobs))
        jobs.flush()
        ipython_jobs.flush()

    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(f"per-job start, median of {args.rounds} rounds x {args.jobs} starts")
    for name, value in medians.items():
        print(f"  {name:26} {value * 1e6:8.1f} us")
    vs_thread = medians["jobs.new"] / medians["threading.Thread"]
    vs_ipython = medians["jobs.new"] / medians["BackgroundJobManager.new"]
    print(f"  jobs.new / threading.Thread        = {vs_thread:.2f}x  (bar: <= 1.30x)")
    print(f"  jobs.new / BackgroundJobManager.new = {vs_ipython:.2f}x  (bar: < 1.00x)")


if __name__ == "__main__":
    main()
