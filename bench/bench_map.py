"""jobs.map vs ThreadPoolExecutor.map: 1000 pages from a local HTTP server that answers after 10 ms.

The server runs in a child process (so that it does not share the GIL with
the clients) on 127.0.0.1 only. Both pools use the same number of workers,
fetch every page with urllib and pull its <title> out; rounds alternate
between them. Prints the median time of each and their ratio (bar: jobs.map
within 1.1x of ThreadPoolExecutor.map), the median of the round-by-round
ratios, and the CPU time the clients used: on a busy shared machine the
wall clock of a round swings by tens of percent, the last two much less.

    .venv/bin/python bench/bench_map.py [--pages 1000] [--workers 16] [--rounds 11] [--delay 0.01]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from jupyter_bgjobs.kernel.blocking import install_blocking_patches
from jupyter_bgjobs.kernel.manager import JobManager

TITLE = re.compile(rb"<title>(.*?)</title>")


def serve(delay: float) -> None:
    """The child process: pages /N with the title "Page N", each after ``delay`` seconds."""

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay)
            number = self.path.strip("/")
            body = f"<html><head><title>Page {number}</title></head><body>{'x' * 2000}</body></html>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        # listen() runs in the constructor: a backlog of the default 5 drops
        # connections under 16 clients, and a dropped SYN costs a 1 s retry.
        request_queue_size = 1024

    server = Server(("127.0.0.1", 0), Pages)
    print(server.server_address[1], flush=True)
    server.serve_forever()


def fetch_title(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        page = response.read()
    match = TITLE.search(page)
    return match.group(1).decode() if match else ""


def timed(run: Callable[[], list[str]], expected: list[str]) -> tuple[float, float]:
    """Wall-clock seconds, and CPU seconds of this process (the clients; the server is apart)."""
    began, began_cpu = time.perf_counter(), time.process_time()
    titles = run()
    elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    assert titles == expected, "a pool returned wrong or misordered titles"
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=11, help="rounds per pool (the median is reported)")
    parser.add_argument("--delay", type=float, default=0.01, help="the server's answer time, in seconds")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.delay)
        return

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--delay", str(args.delay)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        urls = [f"http://127.0.0.1:{port}/{n}" for n in range(args.pages)]
        expected = [f"Page {n}" for n in range(args.pages)]

        install_blocking_patches()
        jobs = JobManager()

        def with_jobs_map() -> list[str]:
            return list(jobs.map(fetch_title, urls, workers=args.workers).results())

        def with_executor() -> list[str]:
            with ThreadPoolExecutor(max_workers=args.workers) as executor:
                return list(executor.map(fetch_title, urls))

        contenders = {"ThreadPoolExecutor.map": with_executor, "jobs.map": with_jobs_map}
        for run in contenders.values():  # warm up: imports, connections, the server's threads
            timed(run, expected)
        samples: dict[str, list[float]] = {name: [] for name in contenders}
        cpu: dict[str, list[float]] = {name: [] for name in contenders}
        for round_number in range(args.rounds):
            order = list(contenders) if round_number % 2 == 0 else list(reversed(contenders))
            for name in order:
                elapsed, used = timed(contenders[name], expected)
                samples[name].append(elapsed)
                cpu[name].append(used)
            jobs.flush()
    finally:
        server.terminate()
        server.wait()

    medians = {name: statistics.median(values) for name, values in samples.items()}
    ideal = args.pages / args.workers * args.delay
    print(
        f"{args.pages} pages, {args.workers} workers, server answers after {args.delay * 1000:g} ms "
        f"(ideal {ideal:.2f} s); median of {args.rounds} rounds"
    )
    cpu_medians = {name: statistics.median(values) for name, values in cpu.items()}
    for name, value in medians.items():
        rounds = " ".join(f"{sample:.2f}" for sample in samples[name])
        print(f"  {name:24} {value:7.3f} s, client CPU {cpu_medians[name]:.3f} s   (rounds: {rounds})")
    ratio = medians["jobs.map"] / medians["ThreadPoolExecutor.map"]
    paired = statistics.median(j / t for j, t in zip(samples["jobs.map"], samples["ThreadPoolExecutor.map"]))
    cpu_ratio = cpu_medians["jobs.map"] / cpu_medians["ThreadPoolExecutor.map"]
    print(f"  jobs.map / ThreadPoolExecutor.map = {ratio:.3f}x wall clock, ratio of the medians  (bar: <= 1.10x)")
    print(f"  jobs.map / ThreadPoolExecutor.map = {paired:.3f}x wall clock, median of the rounds' ratios")
    print(f"  jobs.map / ThreadPoolExecutor.map = {cpu_ratio:.3f}x client CPU")


if __name__ == "__main__":
    main()
