"""Load and soak: 20 kernels x 500 jobs for 60 s under concurrent REST readers and event subscribers.

A real server (subprocess, 127.0.0.1) with 20 notebook sessions. Each kernel
runs 500 jobs in bursts (10 bursts by default, one every 6 s; the jobs of a
burst end together in every kernel): 7 in 10 finish (and print a line), 2
in 10 fail, 1 in 10 sleeps until it is killed through REST
(``POST jobs/{uid}/kill``, right after its burst, found with
``GET jobs?status=running&q=sleeper``). The kernels' cells run all along, so
every kill goes through while the notebook is busy. Meanwhile, for the whole
run:

- separate reader processes loop over ``GET jobs?limit=100`` with and without
  filters (status, path, q), its next pages through ``next_cursor``, and
  ``GET kernels``, timing each request (their own work never counts);
- subscribers on the server's event bus (``/api/events/subscribe``) keep the
  last state of every job in the events of ``jobs/v1``;
- the server's and the kernels' RSS are sampled from ``/proc``.

At the end of a round, every job's state as each kernel knows it
(``jobs.list()``, the truth) is compared with REST (walked page by page) and
with the last event each subscriber received for it: a difference is a lost
transition. Then ``jobs.flush()`` in every kernel forgets the ended jobs
(the server forgets them too), the memory is read again, and the next round
runs on the same server and kernels: memory that keeps growing from round
to round is a leak, memory that is reused is the allocator's high-water
mark. A server without the extension, with the same 20 kernels idle, gives
the RSS floor, measured in the same run.

    .venv/bin/python bench/bench_soak.py [--kernels 20] [--jobs 500] [--seconds 60] [--bursts 10]
                                         [--rounds 2] [--readers 3] [--subscribers 3] [--round2]

``--round2`` runs the second round's size (issue 13): 50 kernels x 2,000 jobs a round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import ServerProcess, percentile, run
from tornado.httpclient import HTTPClientError

from jupyter_bgjobs import protocol

TERMINAL = tuple(state for state in protocol.STATES if state not in protocol.ACTIVE_STATES)
BAR_JOBS_P95 = 0.050
BAR_JOBS_P95_ROUND2 = 0.025  # issue 13: 50 kernels x 2,000 jobs


def load_code(kernel: int, jobs: int, bursts: int, start: float, gap: float) -> str:
    """The cell each kernel runs: its jobs in bursts, then a wait for all of them."""
    per_burst = jobs // bursts
    return f"""
import time
def finish(moment, kernel, index):
    time.sleep(max(0.0, moment - time.time()))
    print(f"job {{index}} of kernel {{kernel}} done")
    return (kernel, index)
def fail(moment, kernel, index):
    time.sleep(max(0.0, moment - time.time()))
    raise ValueError(f"failure {{kernel}}-{{index}}")
def sleep_until_killed():
    time.sleep(3600)
for burst in range({bursts}):
    moment = {start!r} + burst * {gap!r}
    for i in range({per_burst}):
        index = burst * {per_burst} + i
        if index % 10 == 9:
            jobs.new(sleep_until_killed, name=f"sleeper k{kernel}-{{index}}")
        elif index % 10 >= 7:
            jobs.new(fail, moment, {kernel}, index, name=f"fail k{kernel}-{{index}}")
        else:
            jobs.new(finish, moment, {kernel}, index, name=f"k{kernel}-{{index}}")
    time.sleep(max(0.0, moment - time.time()) + 0.2)
for job in jobs.list():
    job.wait(300)
"""


# A reader in a process of its own: its JSON parsing and the event
# subscribers' never count as server latency.
_READER = """
import http.client, json, sys, time
port, token, period, out, paths = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], json.loads(sys.argv[5])
headers = {"Authorization": "token " + token}
connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=120)
def get(label, path, samples):
    global connection
    began = time.perf_counter()
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body, status = response.read(), response.status
    except (OSError, http.client.HTTPException):
        connection.close()
        connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=120)
        body, status = b"", 0
    samples.write(f"{label} {time.time()} {time.perf_counter() - began} {status}\\n")
    time.sleep(period)
    return body if status == 200 else None
with open(out, "w", buffering=1) as samples:
    while True:
        for label, path, pages in paths:
            body = get(label, path, samples)
            for _ in range(pages):  # the next pages, as a client walking them
                cursor = json.loads(body)["next_cursor"] if body else None
                if cursor is None:
                    break
                body = get("jobs?limit=100&cursor=", path + "&cursor=" + cursor, samples)
"""


def reader_paths(kernels: int, reader: int) -> list[tuple[str, str, int]]:
    """(label, path, pages to follow) that one reader loops over."""
    notebook = f"nb-{reader % kernels:02}.ipynb"
    return [
        ("jobs?limit=100", "/jupyter-bgjobs/jobs?limit=100", 4),
        ("jobs?limit=100&status=dead", "/jupyter-bgjobs/jobs?limit=100&status=dead", 2),
        ("jobs?limit=100&status=running", "/jupyter-bgjobs/jobs?limit=100&status=running", 0),
        ("jobs?limit=100&status=finished,failed", "/jupyter-bgjobs/jobs?limit=100&status=finished,failed", 0),
        ("jobs?limit=100&path=", f"/jupyter-bgjobs/jobs?limit=100&path={notebook}", 2),
        ("jobs?limit=100&q=", f"/jupyter-bgjobs/jobs?limit=100&q=k{reader % kernels}-", 0),
        ("kernels", "/jupyter-bgjobs/kernels", 0),
    ]


class Reader:
    """One reader process; ``samples()`` are (label, when, seconds, HTTP status)."""

    def __init__(self, server: ServerProcess, paths: list[tuple[str, str, int]], period: float) -> None:
        self._out = server.root / f"reader-{secrets.token_hex(4)}.txt"
        self._args = [
            sys.executable,
            "-c",
            _READER,
            str(server.port),
            server.token,
            str(period),
            str(self._out),
            json.dumps(paths),
        ]
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(*self._args)

    async def stop(self) -> list[tuple[str, float, float, int]]:
        assert self._process is not None
        self._process.terminate()
        await self._process.wait()
        samples = []
        for line in self._out.read_text().splitlines():
            parts = line.split()
            if len(parts) == 4:
                samples.append((parts[0], float(parts[1]), float(parts[2]), int(parts[3])))
        return samples


@dataclass
class Subscriber:
    """What one event bus subscriber saw of the jobs."""

    last: dict[str, str] = field(default_factory=dict)  # uid -> status in the last event that had it
    arrived: dict[str, float] = field(default_factory=dict)  # uid -> when 'killed' came (time.time)
    removed: set[str] = field(default_factory=set)
    events: int = 0
    regressions: int = 0  # a job seen ended, then later in an earlier state

    async def listen(self, server: ServerProcess, stop: asyncio.Event) -> None:
        async for arrived, event in server.job_events(stop):
            self.events += 1
            for job in event["changed"]:
                if job["status"] == "killed":
                    self.arrived.setdefault(job["uid"], arrived)
                before = self.last.get(job["uid"])
                if before in TERMINAL and job["status"] != before:
                    self.regressions += 1
                self.last[job["uid"]] = job["status"]
            self.removed.update(event["removed"])
        if not stop.is_set():
            raise RuntimeError("the event bus closed the WebSocket")


def rss_kb(pid: int, field_name: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field_name} for process {pid}")


async def sample_rss(pids: list[int], peaks: dict[int, int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        for pid in pids:
            peaks[pid] = max(peaks.get(pid, 0), rss_kb(pid))
        await asyncio.sleep(0.25)


async def kernel_output(client: Any, code: str) -> str:
    """What ``code`` prints in a kernel."""
    outputs: list[dict[str, Any]] = []
    reply = await client.execute_interactive(code, output_hook=outputs.append, allow_stdin=False, timeout=120)
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(m["content"]["text"] for m in outputs if m["header"]["msg_type"] == "stream")


async def start_kernels(server: ServerProcess, kernels: int) -> tuple[list[str], list[Any], list[int]]:
    """Notebook sessions and their kernels; ids, ZeroMQ clients and pids."""
    # In waves of 10: 50 kernels starting at once on 2 cores take minutes to
    # answer, past any client's patience.
    ids: list[str] = []
    for wave in range(0, kernels, 10):
        started = list(
            await asyncio.gather(
                *(server.start_session(f"nb-{k:02}.ipynb") for k in range(wave, min(wave + 10, kernels)))
            )
        )
        for kernel_id in started:  # a client waits until the kernel answers
            (await server.kernel_client(kernel_id, timeout=300)).stop_channels()
        ids += started
    if server.extension:
        await server.wait_ready(ids, timeout=600)
    clients = [await server.kernel_client(kernel_id, timeout=300) for kernel_id in ids]
    pids = [int(await kernel_output(client, "import os, time; print(os.getpid())")) for client in clients]
    return ids, clients, pids


@dataclass
class Kills:
    """The REST kills of the sleepers."""

    answers: Counter[int] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)
    asked: dict[str, float] = field(default_factory=dict)  # uid -> when its kill was sent (time.time)
    # Fewer at once than the HTTP client's connections: a POST timed never
    # waits for a connection in this process.
    _at_once: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(20))

    async def kill(self, server: ServerProcess, uid: str) -> None:
        async with self._at_once:
            self.asked.setdefault(uid, time.time())
            began = time.perf_counter()
            try:
                response = await server.fetch("POST", f"jupyter-bgjobs/jobs/{uid}/kill")
                code = response.code
            except HTTPClientError as error:
                code = error.code
            self.seconds.append(time.perf_counter() - began)
            self.answers[code] += 1

    async def sweep(self, server: ServerProcess) -> int:
        """Kill every running sleeper REST lists; how many were asked to die."""
        uids: list[str] = []
        cursor = None
        while True:
            params = {"status": "running", "q": "sleeper", "limit": "100", **({"cursor": cursor} if cursor else {})}
            page = await server.json("GET", "jupyter-bgjobs/jobs", params=params)
            uids += [job["uid"] for job in page["jobs"] if not job["kill_requested"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        await asyncio.gather(*(self.kill(server, uid) for uid in uids))
        return len(uids)


async def walk_rest(server: ServerProcess) -> dict[str, dict[str, Any]]:
    """Every job REST knows, page by page."""
    seen: dict[str, dict[str, Any]] = {}
    cursor = None
    while True:
        params = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
        page = await server.json("GET", "jupyter-bgjobs/jobs", params=params)
        for job in page["jobs"]:
            assert job["uid"] not in seen, "a job came twice"
            seen[job["uid"]] = job
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


async def baseline_rss(kernels: int) -> int:
    """RSS (kB) of a server without the extension, with the same kernels, idle."""
    server = ServerProcess(extension=False)
    await server.start()
    try:
        _, clients, _ = await start_kernels(server, kernels)
        await asyncio.sleep(2.0)
        assert server.process is not None
        rss = rss_kb(server.process.pid)
        for client in clients:
            client.stop_channels()
    finally:
        await server.stop()
    return rss


def stats(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    return (
        f"p50 {percentile(samples, 0.5) * 1000:6.1f} ms  p95 {percentile(samples, 0.95) * 1000:6.1f} ms"
        f"  max {max(samples) * 1000:7.1f} ms"
    )


def mb(kb: float) -> str:
    return f"{kb / 1024:6.1f} MB"


@dataclass
class Round:
    """What one round of the load measured."""

    seconds: float = 0.0
    cpu: float = 0.0
    truth: dict[str, str] = field(default_factory=dict)
    rest: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscribers: list[Subscriber] = field(default_factory=list)
    kills: Kills = field(default_factory=Kills)
    samples: list[tuple[str, float, float, int]] = field(default_factory=list)
    server_after: int = 0
    server_flushed: int = 0
    kernel_done: dict[int, int] = field(default_factory=dict)
    kernel_flushed: dict[int, int] = field(default_factory=dict)
    flushed: int = 0
    left_in_rest: int = 0
    history_size: int = 0

    def lost(self, total: int) -> tuple[int, int, int, list[int]]:
        """Transitions lost: in all, in REST, unknown to the kernels, per subscriber."""
        wrong_rest = sum(1 for uid, status in self.truth.items() if self.rest.get(uid, {}).get("status") != status)
        extra = sum(1 for uid in self.rest if uid not in self.truth)
        wrong_events = [
            sum(1 for uid, status in self.truth.items() if sub.last.get(uid) != status) for sub in self.subscribers
        ]
        return wrong_rest + extra + (total - len(self.truth)) + sum(wrong_events), wrong_rest, extra, wrong_events


async def soak_round(
    server: ServerProcess,
    clients: list[Any],
    kernel_pids: list[int],
    peaks: dict[int, int],
    args: argparse.Namespace,
) -> Round:
    """One load: the kernels' bursts, kills, readers and subscribers; then the check and jobs.flush()."""
    assert server.process is not None
    total = args.kernels * args.jobs
    gap = args.seconds / args.bursts
    result = Round(subscribers=[Subscriber() for _ in range(args.subscribers)])
    stop = asyncio.Event()
    listening = [asyncio.ensure_future(sub.listen(server, stop)) for sub in result.subscribers]
    sampling = asyncio.ensure_future(sample_rss([server.process.pid, *kernel_pids], peaks, stop))
    pool = [Reader(server, reader_paths(args.kernels, r), 0.02) for r in range(args.readers)]
    for reader in pool:
        await reader.start()
    await asyncio.sleep(1.0)

    start = time.time() + 3.0  # every kernel has created its first burst by then
    began = time.monotonic()
    cpu_before = server.cpu_seconds()
    code = [load_code(k, args.jobs, args.bursts, start, gap) for k in range(len(clients))]
    cells = asyncio.ensure_future(asyncio.gather(*(run(client, code[k]) for k, client in enumerate(clients))))
    for burst in range(args.bursts):
        await asyncio.sleep(max(0.0, start + burst * gap + 0.3 - time.time()))
        await result.kills.sweep(server)
    while not cells.done():  # sleepers created late, or listed before they ran
        await asyncio.sleep(0.5)
        await result.kills.sweep(server)
    await cells
    # Everything ended in the kernels: wait until REST has it all.
    deadline = time.monotonic() + 60
    while True:
        counts = (await server.json("GET", "jupyter-bgjobs/jobs", params={"limit": "1"}))["counts"]
        if counts["finished"] + counts["dead"] >= total or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    result.seconds = time.monotonic() - began
    result.cpu = server.cpu_seconds() - cpu_before
    await asyncio.sleep(1.0)  # the last events
    result.samples = [sample for reader in pool for sample in await reader.stop()]
    stop.set()
    await asyncio.gather(*listening, sampling)
    result.server_after = rss_kb(server.process.pid)

    # --- nothing lost ----------------------------------------------------------------
    statuses = "import json; print(json.dumps({job.uid: job.status for job in jobs.list()}))"
    for client in clients:
        result.truth.update(json.loads(await kernel_output(client, statuses)))
    result.kernel_done = {pid: rss_kb(pid) for pid in kernel_pids}
    result.rest = await walk_rest(server)
    history = server.root / "data" / "jupyter_bgjobs"
    result.history_size = sum(path.stat().st_size for path in history.glob("history.sqlite*"))

    # --- forget the ended jobs ---------------------------------------------------------
    for client in clients:
        result.flushed += int(await kernel_output(client, "import gc; print(jobs.flush()); gc.collect()"))
    deadline = time.monotonic() + 30
    while (await server.json("GET", "jupyter-bgjobs/jobs", params={"limit": "1"}))["jobs"]:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    result.left_in_rest = len(await walk_rest(server))
    await asyncio.sleep(1.0)
    result.server_flushed = rss_kb(server.process.pid)
    result.kernel_flushed = {pid: rss_kb(pid) for pid in kernel_pids}
    return result


def report_round(number: int, result: Round, total: int) -> None:
    lost, wrong_rest, extra, wrong_events = result.lost(total)
    counts = Counter(result.truth.values())
    print(
        f"  round {number}: load {result.seconds:.1f} s, server CPU {result.cpu:.1f} s"
        f" ({result.cpu / result.seconds:.0%} of a core)"
    )
    print(
        f"    kernels' truth: {len(result.truth)} jobs, "
        + ", ".join(f"{status} {counts[status]}" for status in protocol.STATES)
    )
    print(
        f"    transitions lost: {lost}  (REST: {len(result.rest)} jobs, {wrong_rest} differ from the kernel,"
        f" {extra} unknown to the kernels)"
    )
    for index, (sub, wrong) in enumerate(zip(result.subscribers, wrong_events)):
        print(
            f"    subscriber {index}: {sub.events} events, last state of {len(sub.last)} jobs,"
            f" {wrong} differ from the kernel, {sub.regressions} went back from an end state"
        )
    kills = result.kills
    answers = dict(sorted(kills.answers.items()))
    print(f"    REST kills of sleepers: {sum(answers.values())}, answers {answers}")
    print(f"      POST jobs/{{uid}}/kill answered       {stats(kills.seconds)}")
    first = result.subscribers[0] if result.subscribers else None
    if first is not None:
        dead = [first.arrived[uid] - asked for uid, asked in kills.asked.items() if uid in first.arrived]
        print(f"      POST sent -> 'killed' on the bus     {stats(dead)}  ({len(dead)} of {len(kills.asked)})")


async def main(args: argparse.Namespace) -> None:
    kernels, rounds = args.kernels, args.rounds
    total = kernels * args.jobs
    print(
        f"{kernels} kernels x {args.jobs} jobs = {total} a round (7/10 finish, 2/10 fail, 1/10 killed through REST),"
        f" {args.bursts} bursts {args.seconds / args.bursts:.1f} s apart; {rounds} round(s), jobs.flush() after each;"
        f" {args.readers} REST reader processes, {args.subscribers} event subscribers"
    )
    print(f"  (a 2-core machine, loaded by other test runs at the same time: load average {os.getloadavg()[0]:.1f})")
    floor = await baseline_rss(kernels)

    server = ServerProcess()
    await server.start()
    assert server.process is not None
    server_pid = server.process.pid
    results: list[Round] = []
    peaks: dict[int, int] = {}
    try:
        began = time.monotonic()
        _, clients, kernel_pids = await start_kernels(server, kernels)
        print(f"  {kernels} kernels ready in {time.monotonic() - began:.1f} s")
        await asyncio.sleep(2.0)
        server_idle = rss_kb(server_pid)
        kernel_before = {pid: rss_kb(pid) for pid in kernel_pids}
        for number in range(1, rounds + 1):
            results.append(await soak_round(server, clients, kernel_pids, peaks, args))
            report_round(number, results[-1], total)
        server_hwm = rss_kb(server_pid, "VmHWM")
        for client in clients:
            client.stop_channels()
    finally:
        await server.stop()

    samples = [sample for result in results for sample in result.samples]
    by_label: dict[str, list[float]] = {}
    codes: Counter[int] = Counter()
    for label, _, spent, status in samples:
        codes[status] += 1
        if status == 200:
            by_label.setdefault(label, []).append(spent)
    all_jobs = [spent for label, values in by_label.items() if label.startswith("jobs") for spent in values]
    lost = sum(result.lost(total)[0] for result in results)
    print(f"  transitions lost in all rounds: {lost} of {total * rounds} jobs (load now {os.getloadavg()[0]:.1f})")
    print(
        f"  REST under load, {len(samples)} GETs from {args.readers} reader processes (all rounds),"
        f" answers {dict(sorted(codes.items()))}:"
    )
    for label, values in by_label.items():
        print(f"    {label:38} {stats(values)}  ({len(values)})")
    print(f"    {'every GET jobs above':38} {stats(all_jobs)}  ({len(all_jobs)})")
    headline = percentile(by_label.get("jobs?limit=100", []), 0.95)
    bar = BAR_JOBS_P95_ROUND2 if args.round2 else BAR_JOBS_P95
    print(
        f"  GET jobs?limit=100 p95 {headline * 1000:.1f} ms against the bar of {bar * 1000:.0f} ms:"
        f" {'under' if headline < bar else 'OVER'} ({headline / bar:.2f} of the bar)"
    )
    peak = max(peaks[server_pid], server_hwm)
    print("  server RSS:")
    rows = [
        (f"without the extension, {kernels} kernels idle", mb(floor)),
        (f"with the extension, {kernels} kernels idle", f"{mb(server_idle)}  ({server_idle / floor:.2f}x)"),
        (
            "peak (VmHWM)",
            f"{mb(peak)}  ({peak / floor:.2f}x the floor; +{(peak - server_idle) / 1024:.1f} MB over idle,"
            f" {(peak - server_idle) / 1024 / total * 1000:.2f} MB per 1,000 jobs of a round)",
        ),
    ]
    for number, result in enumerate(results, 1):
        rows.append((f"round {number}: after the load, {len(result.rest)} jobs", mb(result.server_after)))
        rows.append(
            (
                f"round {number}: after jobs.flush(), {result.left_in_rest} jobs",
                f"{mb(result.server_flushed)}  (history on disk {mb(result.history_size / 1024)})",
            )
        )
    for label, value in rows:
        print(f"    {label:46} {value}")
    print("  kernel RSS (median of the kernels):")
    print(f"    before the load {mb(statistics.median(kernel_before.values()))}")
    for number, result in enumerate(results, 1):
        per_job = [(result.kernel_done[pid] - kernel_before[pid]) * 1024 / (args.jobs * number) for pid in kernel_pids]
        kept = [(result.kernel_flushed[pid] - kernel_before[pid]) * 1024 / (args.jobs * number) for pid in kernel_pids]
        print(
            f"    round {number}: after the load {mb(statistics.median(result.kernel_done.values()))},"
            f" after jobs.flush() ({result.flushed} forgotten) {mb(statistics.median(result.kernel_flushed.values()))};"
            f" per job run so far {statistics.median(per_job) / 1024:.1f} KB"
            f" (min {min(per_job) / 1024:.1f}, max {max(per_job) / 1024:.1f}),"
            f" still held after jobs.flush() {statistics.median(kept) / 1024:.1f} KB"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=500, help="jobs per kernel and round (a multiple of --bursts)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the bursts of a round go on")
    parser.add_argument("--bursts", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="loads one after the other on the same server")
    parser.add_argument("--readers", type=int, default=3, help="REST reader processes")
    parser.add_argument("--subscribers", type=int, default=3, help="event bus WebSocket subscribers")
    parser.add_argument(
        "--round2", action="store_true", help="the sizes of the second round's bar: 50 kernels x 2,000 jobs a round"
    )
    args = parser.parse_args()
    if args.round2:
        args.kernels, args.jobs = 50, 2000
    asyncio.run(main(args))
