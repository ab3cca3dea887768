"""on="dask" against the same cluster used directly: CPU-bound speed, per-task overhead, kill latency, first result.

Measured in one run, in this process (a job manager with the job-aware waits
installed, as in a kernel); the functions are this script's ``__main__``'s,
as a notebook's are (cloudpickle ships them by value).

1. The embedded cluster: ``jobs.new(tiny, 1, on="dask")`` with no client in
   the session, from the call to the result (the LocalCluster starts then).
2. 16 CPU-bound tasks of about 0.25 s (counting primes) on that cluster
   (one worker process per core, one thread each), rounds whose order
   alternates: ``jobs.map(..., workers=16, on="dask")`` vs
   ``client.gather(client.map(...))``. Bar: within 1.15x (median of the
   rounds' ratios).
3. Per-task overhead of a tiny task, one at a time: ``jobs.new(f,
   on="dask")`` to its result vs ``client.submit(f).result()``.
4. Kill latency, from ``kill()`` to ``killed`` (the job's ``ended``), for a
   busy loop, ``time.sleep(60)``, a socket wait and a catastrophic regex
   (a C call holding the GIL: its worker is killed, and replaced by its
   nanny). Bar: under 1 s in every case.

With ``--all``, the same map on threads and ``on="process"`` (as many
workers) joins each round: the worked example of docs/backends.md.

    .venv/bin/python bench/bench_dask.py [--rounds 5] [--tiny 100] [--kills 3] [--all]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import bench_process
import cloudpickle
from bench_process import calibrate, count_primes, kill_cases, tiny

# Shipped by value, as a notebook's functions are (a worker of another machine could not import bench_process).
cloudpickle.register_pickle_by_value(bench_process)


def kill_latency(jobs: Any, func: Any, fargs: tuple[Any, ...]) -> float:
    """Seconds from ``kill()`` to the job's end, for a task that runs on a worker."""
    job = jobs.new(func, *fargs, on="dask")
    while job.status != "running":
        time.sleep(0.005)
    time.sleep(0.2)
    began = time.time()
    job.kill(wait=10)
    assert job.status == "killed", (func, job.status, job.error)
    assert job.ended is not None
    return float(job.ended - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tiny", type=int, default=100, help="tiny tasks per contender")
    parser.add_argument("--kills", type=int, default=3, help="kills per case")
    parser.add_argument("--all", action="store_true", help="threads and on='process' in the same rounds too")
    args = parser.parse_args()

    from jupyter_bgjobs.kernel import JobManager
    from jupyter_bgjobs.kernel.backends import backend_for
    from jupyter_bgjobs.kernel.backends.registry import close_backends
    from jupyter_bgjobs.kernel.blocking import install_blocking_patches

    install_blocking_patches()
    jobs = JobManager()
    began = time.perf_counter()
    first = jobs.new(tiny, 1, on="dask")
    first.wait()
    print(f"embedded LocalCluster, jobs.new(on='dask') to the first result: {time.perf_counter() - began:.2f} s")
    assert first.result == 2, first.error
    client = backend_for("dask").client  # type: ignore[union-attr]
    workers = len(client.scheduler_info()["workers"])

    limit = calibrate(0.25)
    items = [limit] * 16
    expected = count_primes(limit)
    client.gather(client.map(tiny, range(8), pure=False))  # warm: both ways use warm workers
    jobs.map(tiny, range(8), workers=8, on="dask").results()
    contenders = {
        "on=dask": lambda: jobs.map(count_primes, items, workers=16, on="dask").results(),
        "client.map+gather": lambda: client.gather(client.map(count_primes, items, pure=False)),
    }
    if args.all:  # the worked example of docs/backends.md: the same map on threads and processes too
        jobs.map(tiny, range(4), workers=workers, on="process").results()  # warm: its workers started
        contenders["threads"] = lambda: jobs.map(count_primes, items, workers=workers).results()
        contenders["on=process"] = lambda: jobs.map(count_primes, items, workers=workers, on="process").results()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for round_ in range(args.rounds):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            began = time.perf_counter()
            results = contenders[name]()
            times[name].append(time.perf_counter() - began)
            assert results == [expected] * 16, (name, results)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"16 tasks of count_primes({limit}) (~0.25 s each), {workers} workers, {args.rounds} rounds (median s):")
    for name, value in median.items():
        print(f"  {name:22s} {value:6.3f}  (runs: {', '.join(f'{v:.3f}' for v in times[name])})")
    ratio = statistics.median(d / c for d, c in zip(times["on=dask"], times["client.map+gather"]))
    print(f"  on=dask / client.map+gather = {ratio:.2f}x  (bar <= 1.15x: {'ok' if ratio <= 1.15 else 'MISSED'})")
    if args.all:
        for other in ("threads", "on=process"):
            versus = statistics.median(o / d for o, d in zip(times[other], times["on=dask"]))
            print(f"  {other} / on=dask = {versus:.2f}x")

    ours, theirs = [], []
    for i in range(args.tiny):
        began = time.perf_counter()
        job = jobs.new(tiny, i, on="dask")
        job.wait()
        ours.append(time.perf_counter() - began)
        assert job.result == i + 1
        began = time.perf_counter()
        client.submit(tiny, i, pure=False).result()
        theirs.append(time.perf_counter() - began)
    print(f"tiny task, start to result, one at a time, {args.tiny} each (median ms):")
    print(f"  jobs.new(on='dask')           {statistics.median(ours) * 1000:6.2f}")
    print(f"  client.submit                 {statistics.median(theirs) * 1000:6.2f}")
    print(f"  ratio                         {statistics.median(ours) / statistics.median(theirs):6.2f}x")
    jobs.flush()

    _silent, cases = kill_cases()  # the silent server stays open (referenced) until the kills end
    print(f"kill latency, kill() to killed, {args.kills} kills each (ms):")
    worst = 0.0
    for label, (func, fargs) in cases.items():
        latencies = [kill_latency(jobs, func, fargs) for _ in range(args.kills)]
        worst = max(worst, *latencies)
        print(f"  {label:22s} median {statistics.median(latencies) * 1000:6.1f}  max {max(latencies) * 1000:6.1f}")
        client.wait_for_workers(workers, timeout=60)  # a stopped worker's replacement, before the next case
    print(f"  worst {worst * 1000:.1f} ms (bar < 1000 ms: {'ok' if worst < 1.0 else 'MISSED'})")
    close_backends()


if __name__ == "__main__":
    main()
