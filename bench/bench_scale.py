"""Scale: 20 kernels x 500 jobs finishing in bursts. No transition lost; GET jobs?limit=100 p95 < 50 ms.

A real server (subprocess, 127.0.0.1) with 20 notebook sessions. Each kernel
starts its 500 jobs in 5 bursts of 100; the jobs of a burst, in every kernel,
end at the same instant (2000 jobs ending together every 2 s). Meanwhile
this process asks ``GET jupyter-bgjobs/jobs?limit=100`` every 20 ms and
listens to the event bus. Afterwards every job must be ``finished`` with its
own result in REST (all 10 000, walked page by page), in the last event that
mentioned it, and in its kernel. The same request is then timed at rest,
with the 10 000 jobs in the store, with and without filters.

    .venv/bin/python bench/bench_scale.py [--kernels 20] [--jobs 500] [--bursts 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from harness import Server, percentile, run

EVENTS_SCHEMA = "https://events.jupyter-bgjobs.org/jobs/v1"
BURST_GAP = 2.0


async def time_gets(
    server: Server,
    params: dict[str, str] | None,
    samples: list[float],
    stop: asyncio.Event | None,
    count: int = 0,
    pause: float = 0.02,
    path: str = "jupyter-bgjobs/jobs",
) -> None:
    """Time ``GET jobs`` with ``params`` until ``stop`` is set (or ``count`` times)."""
    done = 0
    while (stop is not None and not stop.is_set()) or done < count:
        began = time.perf_counter()
        await server.fetch("GET", path, params=params)
        samples.append(time.perf_counter() - began)
        done += 1
        await asyncio.sleep(pause)


async def listen(server: Server, last: dict[str, dict[str, Any]], counter: list[int], stop: asyncio.Event) -> None:
    socket = await server.events()
    while not stop.is_set():
        try:
            message = await asyncio.wait_for(socket.read_message(), 0.5)
        except asyncio.TimeoutError:
            continue
        if message is None:
            return
        event = json.loads(message)
        if event.get("schema_id") == EVENTS_SCHEMA:
            counter[0] += 1
            for job in event["changed"]:
                last[job["uid"]] = job
    socket.close()


def load_code(kernel: int, jobs: int, bursts: int, start: float) -> str:
    per_burst = jobs // bursts
    return f"""
import time
def until(moment, kernel, index):
    time.sleep(max(0.0, moment - time.time()))
    return (kernel, index)
for burst in range({bursts}):
    moment = {start!r} + burst * {BURST_GAP}
    for i in range({per_burst}):
        index = burst * {per_burst} + i
        jobs.new(until, moment, {kernel}, index, name=f"k{kernel}-{{index}}")
    time.sleep(max(0.0, moment - time.time()) + 0.2)
for job in jobs.list():
    job.wait()
"""


async def main(kernels: int, jobs_per_kernel: int, bursts: int) -> None:
    server = Server()
    await server.start()
    total = kernels * jobs_per_kernel
    try:
        began = time.monotonic()
        ids = await asyncio.gather(*(server.start_session(f"nb-{k:02}.ipynb") for k in range(kernels)))
        await server.wait_ready(ids)
        clients = [await server.kernel_client(kernel_id) for kernel_id in ids]
        print(f"{kernels} kernels ready in {time.monotonic() - began:.1f} s")

        last: dict[str, dict[str, Any]] = {}
        events = [0]
        under_load: list[float] = []
        stop = asyncio.Event()
        watchers = [
            asyncio.ensure_future(listen(server, last, events, stop)),
            asyncio.ensure_future(time_gets(server, {"limit": "100"}, under_load, stop)),
        ]
        cpu_before = server.cpu_seconds()
        start = time.time() + 3.0  # every kernel has created its first burst by then
        began = time.monotonic()
        await asyncio.gather(
            *(run(client, load_code(k, jobs_per_kernel, bursts, start)) for k, client in enumerate(clients))
        )
        # Everything ended in the kernels; wait until the server has seen it.
        deadline = time.monotonic() + 30
        while (await server.json("GET", "jupyter-bgjobs/jobs", params={"limit": "1"}))["counts"]["finished"] < total:
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        load_seconds = time.monotonic() - began
        cpu_load = server.cpu_seconds() - cpu_before
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.gather(*watchers)

        # --- nothing lost ---------------------------------------------------------
        seen: dict[str, dict[str, Any]] = {}
        cursor = None
        pages = 0
        while True:
            params = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
            page = await server.json("GET", "jupyter-bgjobs/jobs", params=params)
            pages += 1
            for job in page["jobs"]:
                assert job["uid"] not in seen, "a job came twice"
                seen[job["uid"]] = job
            cursor = page["next_cursor"]
            if cursor is None:
                break
        paths = {kernel_id: [f"nb-{k:02}.ipynb"] for k, kernel_id in enumerate(ids)}
        wrong_rest = [
            job
            for job in seen.values()
            if job["status"] != "finished"
            or job["result_repr"] != repr(tuple(int(part) for part in job["name"][1:].split("-")))
            or job["paths"] != paths[job["kernel_id"]]
        ]
        wrong_events = [uid for uid, job in seen.items() if last.get(uid, {}).get("status") != "finished"]
        completed = 0
        for client in clients:
            outputs: list[dict[str, Any]] = []
            await client.execute_interactive(
                "print(len(jobs.completed))", output_hook=outputs.append, allow_stdin=False, timeout=60
            )
            completed += int("".join(m["content"]["text"] for m in outputs if m["header"]["msg_type"] == "stream"))
        lost = (total - len(seen)) + len(wrong_rest) + len(wrong_events) + (total - completed)

        # --- GET jobs?limit=100 at rest, 10 000 jobs in the store ------------------------
        at_rest: dict[str, list[float]] = {}
        for label, params in [
            ("limit=100", {"limit": "100"}),
            ("limit=100&status=finished", {"limit": "100", "status": "finished"}),
            ("limit=100&path=nb-07.ipynb", {"limit": "100", "path": "nb-07.ipynb"}),
            ("limit=100&q=k7-49", {"limit": "100", "q": "k7-49"}),
            ("limit=100&status=running", {"limit": "100", "status": "running"}),
        ]:
            at_rest[label] = []
            await time_gets(server, params, at_rest[label], None, count=200, pause=0.005)
        floor: list[float] = []  # the server's cheapest API answer, for the machine's noise
        await time_gets(server, None, floor, None, count=200, pause=0.005, path="api/status")
        for client in clients:
            client.stop_channels()
    finally:
        await server.stop()

    ms = 1000
    print(f"{kernels} kernels x {jobs_per_kernel} jobs = {total}, ending in {bursts} bursts of {total // bursts}")
    print(f"  load phase {load_seconds:.1f} s, server CPU {cpu_load:.1f} s, {events[0]} events on the bus")
    print(
        f"  transitions lost: {lost}  ({len(seen)} jobs in REST over {pages} pages, {len(wrong_rest)} wrong there;"
        f" {len(wrong_events)} whose last event is not 'finished'; {completed} completed in the kernels)"
    )
    print(
        f"  GET jobs?limit=100 during the bursts: p50 {percentile(under_load, 0.5) * ms:5.1f} ms"
        f"  p95 {percentile(under_load, 0.95) * ms:5.1f} ms  ({len(under_load)} requests)  (bar: p95 < 50 ms)"
    )
    print(
        f"  GET api/status (floor, same run)       p50 {percentile(floor, 0.5) * ms:5.1f} ms"
        f"  p95 {percentile(floor, 0.95) * ms:5.1f} ms"
    )
    for label, samples in at_rest.items():
        print(
            f"  GET jobs?{label:28} at rest: p50 {percentile(samples, 0.5) * ms:5.1f} ms"
            f"  p95 {percentile(samples, 0.95) * ms:5.1f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--bursts", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.kernels, args.jobs, args.bursts))
