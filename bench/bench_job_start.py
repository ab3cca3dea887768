"""Per-job start cost: jobs.new vs a bare threading.Thread vs IPython's BackgroundJobManager.

Measured in one run, inside an IPython shell (BackgroundJobManager needs one).
The contenders take turns in small batches (their order rotating), so that
the noise of a shared machine hits them alike; a batch's threads are joined
outside the timing. Prints the median per-start time of each, and the ratios
the design's bar is about as medians of the batch-by-batch ratios: within
1.3x of a bare thread, faster than BackgroundJobManager.

Two ways of counting, both printed (issue 13 found 1.02-1.12x by the first
and 1.31-1.42x by the second, on the same code):

- **batches** (the bar's method): batches of ``--batch`` starts, timed as a
  whole, contenders rotating; the ratio is the median of the batch-by-batch
  ratios; the job list is flushed every 10 batches. Nothing listens to the
  job manager (an IPython shell, no server): no change is recorded.
- **in a row** (the outside script's method): ``--row`` starts of each,
  one ``jobs.new(noop)`` then one bare ``threading.Thread`` start, each
  timed alone; the ratio is of the medians; no flush (the list grows). It is
  run twice: with nothing listening, and with a listener that does what a
  kernel's events comm does with each batch of changes (``to_wire`` and JSON)
  on the feed thread, as in every kernel a server is attached to. The
  previous jobs' threads ending, and that listener, run while the next start
  is timed; a batch's threads end outside its timing in the first method.
- **all counted**: batches of ``--batch`` starts joined inside the timing, so
  that each start's whole cost (the starting thread's part, the new
  thread's run and its end) counts once, whichever thread pays it; the
  median of the batch ratios. Measured after the second method, with and
  without the listener.

What each counts: ``Thread.start()`` returns once the new thread has run
and let go of the GIL, so for a no-op the starting thread's time includes
most of the new thread's work (a job's bookkeeping before and after its
code, about 5-10 us, a bare thread's nothing), and, in a row, the end of the
previous threads. Moving the job's work off the starting thread (the new
thread yielding first) only moved it into the neighbouring measurements: in
a row jobs.new looked 0.65-0.99x a thread while batches became 1.46-1.58x.
The third method is immune to where the work lands.

    .venv/bin/python bench/bench_job_start.py [--batches 150] [--batch 20] [--row 300]
"""

from __future__ import annotations

import argparse
import json
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


def in_a_row(jobs: object, bare_thread: Callable[[], threading.Thread], count: int) -> tuple[float, float]:
    """Median seconds of one ``jobs.new(noop)`` and of one bare thread start, alternated, ``count`` each."""
    new = jobs.new  # type: ignore[attr-defined]
    job_times, thread_times, handles = [], [], []
    for _ in range(count):
        began = time.perf_counter()
        handles.append(new(nothing))
        job_times.append(time.perf_counter() - began)
        began = time.perf_counter()
        handles.append(bare_thread())
        thread_times.append(time.perf_counter() - began)
    for handle in handles:
        handle.join()
    return statistics.median(job_times), statistics.median(thread_times)


def all_counted(jobs: object, bare_thread: Callable[[], threading.Thread], count: int, rounds: int) -> float:
    """Median ratio of ``count`` ``jobs.new(noop)`` to ``count`` bare thread starts, each timed until all ended.

    The join is inside the timing: what every start costs the process (the
    starting thread's part, and the new thread's run and end) is counted
    once, whichever thread pays it.
    """
    new = jobs.new  # type: ignore[attr-defined]
    ratios = []
    for _ in range(rounds):
        times = []
        for start in (lambda: new(nothing), bare_thread):
            began = time.perf_counter()
            handles = [start() for _ in range(count)]
            for handle in handles:
                handle.join()
            times.append(time.perf_counter() - began)
        ratios.append(times[0] / times[1])
        jobs.flush()  # type: ignore[attr-defined]
    return statistics.median(ratios)


def comm_like_listener(changed: list[object], removed: list[str]) -> None:
    """What an events comm does with a batch of changes (its ``to_wire`` and the JSON of the message)."""
    json.dumps([job.to_wire() for job in changed])  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=150, help="batches per contender")
    parser.add_argument("--batch", type=int, default=20, help="starts per batch")
    parser.add_argument("--row", type=int, default=300, help="starts in a row per contender (second method)")
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

    contenders: dict[str, Callable[[], object]] = {
        "threading.Thread": bare_thread,
        "jobs.new": lambda: jobs.new(nothing),
        "BackgroundJobManager.new": lambda: ipython_jobs.new(nothing),
    }
    names = list(contenders)
    for name in names:  # warm up
        time_starts(contenders[name], args.batch)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for batch in range(args.batches):
        shift = batch % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(time_starts(contenders[name], args.batch))
        if batch % 10 == 9:  # keep the job lists short, as a user who flushes would
            jobs.flush()
            ipython_jobs._completed.clear()  # its flush() prints: drop finished jobs quietly
            ipython_jobs._comp_report.clear()
            ipython_jobs.all.clear()

    medians = {name: statistics.median(values) for name, values in samples.items()}
    jobs_samples = samples["jobs.new"]
    vs_thread = statistics.median(j / t for j, t in zip(jobs_samples, samples["threading.Thread"]))
    vs_ipython = statistics.median(j / i for j, i in zip(jobs_samples, samples["BackgroundJobManager.new"]))
    print(f"per-job start, {args.batches} batches x {args.batch} starts per contender, medians")
    for name, value in medians.items():
        print(f"  {name:26} {value * 1e6:8.1f} us")
    print(f"  jobs.new / threading.Thread         = {vs_thread:.2f}x  (bar: <= 1.30x)")
    print(f"  jobs.new / BackgroundJobManager.new = {vs_ipython:.2f}x  (bar: < 1.00x)")

    jobs.flush()
    print(f"in a row: {args.row} x (one jobs.new(noop), one threading.Thread start), each timed alone, medians")
    for label, listener in [("nothing listening", None), ("a comm-like listener", comm_like_listener)]:
        if listener is not None:
            jobs.add_listener(listener)
        job, thread = in_a_row(jobs, bare_thread, args.row)
        print(f"  {label:22} jobs.new {job * 1e6:6.1f} us  thread {thread * 1e6:6.1f} us  = {job / thread:.2f}x")
        jobs.flush()
        ratio = all_counted(jobs, bare_thread, args.batch, args.batches // 3)
        print(f"  {label:22} all counted (batches of {args.batch}, joined inside the timing): {ratio:.2f}x")
        if listener is not None:
            jobs.remove_listener(listener)


if __name__ == "__main__":
    main()
