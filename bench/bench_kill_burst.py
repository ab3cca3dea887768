"""Kill bursts through REST, seen on the event bus: p95 to ``killed`` under 200 ms.

A real server (subprocess) with one notebook whose kernel runs ``--jobs``
jobs asleep in ``time.sleep(600)``, twice:

1. one ``POST jupyter-bgjobs/kernels/{id}/kill``: from the request to each
   job's ``killed`` on the bus;
2. ``--jobs`` single ``POST jupyter-bgjobs/jobs/{uid}/kill``, all sent at
   once (the HTTP client keeps 50 in flight, so a request's time counts its
   wait in the client's queue): from each request's start to that job's
   ``killed`` on the bus.

Two floors measured in the same run say what no kill can beat on this
machine: the kernel waking ``--jobs`` plain threads blocked on locks (no job
engine) until all have ended, and ``--jobs`` POSTs of the same route for
uids that do not exist (404 at once, no kernel involved) sent the same way.
Also printed: the CPU seconds of the server and of the kernel during each
burst. ``--profile FILE`` writes a cProfile of the server's loop during the
bursts (``loop_probe.py``) and prints its top entries.

    .venv/bin/python bench/bench_kill_burst.py [--jobs 1000] [--profile out.prof]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

from harness import ServerProcess, percentile, run
from tornado.httpclient import HTTPClientError

BAR = 0.200
HERE = Path(__file__).resolve().parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def sleepers(count: int, tag: str) -> str:
    return f"""
import time
for i in range({count}):
    jobs.new(time.sleep, 600, name=f"{tag}{{i}}")
"""


# In the kernel, no job engine: plain threads blocked on plain locks, all
# released at once; how long until every one has ended. What waking and
# ending that many threads costs the kernel process by itself.
THREAD_FLOOR = """
import threading as _t, time as _time
def _floor(count):
    locks, ended = [], _t.Semaphore(0)
    def body(lock):
        lock.acquire()
        ended.release()
    for _ in range(count):
        lock = _t.Lock()
        lock.acquire()
        locks.append(lock)
        _t.Thread(target=body, args=(lock,), daemon=True).start()
    _time.sleep(0.5)
    began = _time.perf_counter()
    for lock in locks:
        lock.release()
    for _ in range(count):
        ended.acquire()
    return _time.perf_counter() - began
"""


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def expression(client: Any, expr: str) -> str:
    reply = await client.execute_interactive(
        "", user_expressions={"x": expr}, allow_stdin=False, output_hook=lambda msg: None
    )
    return str(reply["content"]["user_expressions"]["x"]["data"]["text/plain"])


async def wait_running(server: ServerProcess, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 120
    while True:
        page = await server.json("GET", "jupyter-bgjobs/jobs", params={"status": "running", "limit": "1000"})
        if len(page["jobs"]) >= count or time.monotonic() > deadline:
            return list(page["jobs"])
        await asyncio.sleep(0.2)


async def burst(server: ServerProcess, client: Any, count: int, tag: str, kill: Any) -> tuple[list[float], float]:
    """Start ``count`` sleepers, kill them with ``kill(jobs) -> {uid: sent}``; seconds to killed, and the request's."""
    await run(client, sleepers(count, tag))
    jobs = [job for job in await wait_running(server, count) if job["name"].startswith(tag)]
    killed: dict[str, float] = {}
    stop = asyncio.Event()

    async def listen() -> None:
        async for arrived, event in server.job_events(stop):
            for job in event["changed"]:
                if job["status"] == "killed" and job["uid"] not in killed:
                    killed[job["uid"]] = arrived
            if len(killed) >= len(jobs):
                stop.set()

    listener = asyncio.ensure_future(listen())
    await asyncio.sleep(0.5)  # subscribed
    began = time.time()
    sent = await kill(jobs)
    request = time.time() - began
    try:
        await asyncio.wait_for(listener, 60)
    except asyncio.TimeoutError:
        stop.set()
    return [killed[uid] - sent[uid] for uid in sent if uid in killed] + [
        float("inf") for uid in sent if uid not in killed
    ], request


async def http_floor(server: ServerProcess, count: int) -> list[float]:
    """``count`` POST jobs/{uid}/kill for uids that do not exist, sent as the kills are: each one's seconds."""
    seconds: list[float] = []

    async def one(index: int) -> None:
        began = time.time()
        try:
            await server.fetch("POST", f"jupyter-bgjobs/jobs/no-such-job-{index}/kill")
        except HTTPClientError:  # 404, as expected
            pass
        seconds.append(time.time() - began)

    await asyncio.gather(*(one(index) for index in range(count)))
    return seconds


def line(label: str, seconds: list[float], extra: str = "") -> str:
    p50, p95 = percentile(seconds, 0.5), percentile(seconds, 0.95)
    return (
        f"  {label:34} p50 {p50 * 1000:6.0f} ms  p95 {p95 * 1000:6.0f} ms  last {max(seconds) * 1000:6.0f} ms"
        f"  (p95 / bar {p95 / BAR:.2f}x){extra}"
    )


async def main(count: int, profile: str | None) -> None:
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))
    server = ServerProcess(more_extensions=["loop_probe"] if profile else [])
    await server.start()
    try:
        (kernel_id,) = [await server.start_session("kills.ipynb")]
        await server.wait_ready([kernel_id])
        client = await server.kernel_client(kernel_id)
        kernel_pid = int(await expression(client, "__import__('os').getpid()"))
        await run(client, THREAD_FLOOR)
        thread_floor = float(await expression(client, f"_floor({count})"))
        floor = await http_floor(server, count)

        async def kill_kernel(jobs: list[dict[str, Any]]) -> dict[str, float]:
            sent = time.time()
            await server.fetch("POST", f"jupyter-bgjobs/kernels/{kernel_id}/kill", body={})
            return {job["uid"]: sent for job in jobs}

        async def kill_each(jobs: list[dict[str, Any]]) -> dict[str, float]:
            sent: dict[str, float] = {}

            async def one(uid: str) -> None:
                sent[uid] = time.time()
                await server.fetch("POST", f"jupyter-bgjobs/jobs/{uid}/kill")

            await asyncio.gather(*(one(job["uid"]) for job in jobs))
            return sent

        if profile:
            await server.fetch("POST", "bench-loop-probe/profile")
        results = {}
        for label, tag, kill in [
            ("one POST kernels/{id}/kill", "k", kill_kernel),
            (f"{count} POST jobs/{{uid}}/kill", "s", kill_each),
        ]:
            server_cpu, kernel_cpu = server.cpu_seconds(), cpu_of(kernel_pid)
            seconds, request = await burst(server, client, count, tag, kill)
            cpu = (server.cpu_seconds() - server_cpu, cpu_of(kernel_pid) - kernel_cpu)
            results[label] = (seconds, request, cpu)
        if profile:
            await server.fetch("DELETE", "bench-loop-probe/profile", params={"file": profile})
        client.stop_channels()
    finally:
        await server.stop()
    print(f"{count} running jobs (time.sleep(600)) in one kernel, killed through REST; to 'killed' on the bus:")
    for label, (seconds, request, (server_cpu, kernel_cpu)) in results.items():
        print(
            line(
                label,
                seconds,
                f"; requests answered in {request * 1000:.0f} ms; CPU during the burst (start, kill, end):"
                f" server {server_cpu:.2f} s, kernel {kernel_cpu:.2f} s",
            )
        )
    print("floors, same run:")
    print(f"  the kernel waking {count} plain threads blocked on locks until all ended: {thread_floor * 1000:.0f} ms")
    print(line(f"{count} POST jobs/{{uid}}/kill, unknown", floor, " (404 at once: the HTTP floor)"))
    if profile:
        print(f"the loop's profile during both bursts ({profile}), by own time:")
        pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--profile", default=None, help="write cProfile stats of the server loop's thread here")
    args = parser.parse_args()
    asyncio.run(main(args.jobs, args.profile))
