"""Push: job changes on the server's event bus, as a browser subscribed to it receives them."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from jsonschema import Draft7Validator
from jupyter_events import EventLogger

from jupyter_bgjobs.server.events import SCHEMA_ID, SCHEMA_PATH, JobEvents
from jupyter_bgjobs.server.model import RestViews
from jupyter_bgjobs.server.store import Record

from .server_helpers import OPENAPI, Api, Fetch, KernelTab, check_against_openapi, start_kernel


class EventStream:
    """The browser's end of ``api/events/subscribe``, keeping the jobs events."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.events: list[dict[str, Any]] = []

    async def until(self, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 20) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while not done(self.events):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"the events never satisfied the condition: {self.events}"
            try:
                message = await asyncio.wait_for(self.socket.read_message(), remaining)
            except asyncio.TimeoutError:
                continue
            assert message is not None, "the event socket closed"
            event = json.loads(message)
            if event["schema_id"] == SCHEMA_ID:
                self.events.append(event)
        return self.events


def latest(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each job's last state in the events, by name."""
    jobs: dict[str, dict[str, Any]] = {}
    for event in events:
        for job in event["changed"]:
            jobs[job["name"]] = job
    return jobs


def test_the_event_schema_describes_jobs_exactly_as_the_openapi_document() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["$id"] == "https://events.jupyter-bgjobs.org/jobs/v1"
    assert schema["version"] == "1"
    assert schema["required"] == ["changed", "removed"]
    # Each job is checked for its fields only (jupyter_events validates every
    # event on the event loop); the test below checks real ones against Job.
    assert schema["properties"]["changed"]["items"]["required"] == OPENAPI["components"]["schemas"]["Job"]["required"]
    Draft7Validator.check_schema(schema)


async def test_changes_are_pushed_as_rest_jobs_coalesced(jp_fetch: Fetch, jp_ws_fetch: Any, jp_serverapp: Any) -> None:
    api = Api(jp_fetch)
    stream = EventStream(await jp_ws_fetch("api", "events", "subscribe"))
    kernel_id = await start_kernel(jp_fetch, "pushed.ipynb")
    tab = KernelTab(jp_serverapp, kernel_id)
    try:
        await tab.run("%job -n answer 6*7")
        events = await stream.until(lambda events: latest(events).get("answer", {}).get("status") == "finished")
        for event in events:
            assert set(event) == {"schema_id", "changed", "removed"}
            assert event["removed"] == []
        pushed = latest(events)["answer"]
        check_against_openapi("GET", "jobs/{uid}", 200, pushed)
        rest = await api.get("jobs/{uid}", uid=pushed["uid"])
        assert pushed == {**rest, "elapsed": pushed["elapsed"]}
        assert (pushed["kernel_id"], pushed["paths"], pushed["result_repr"]) == (kernel_id, ["pushed.ipynb"], "42")

        # A burst of 1200 jobs is a few events (of at most 500 jobs), not thousands.
        stream.events.clear()
        await tab.run("for i in range(1200): jobs.new(lambda: None, name=f'burst {i}')")
        events = await stream.until(
            lambda events: sum(job["status"] == "finished" for job in latest(events).values()) == 1200
        )
        assert len(events) <= 60, f"{len(events)} events for a burst of 1200 jobs"
        assert max(len(event["changed"]) for event in events) <= 500
        assert all(len({job["uid"] for job in event["changed"]}) == len(event["changed"]) for event in events)
        for event in events:
            for job in event["changed"]:
                check_against_openapi("GET", "jobs/{uid}", 200, job)

        stream.events.clear()
        await api.call("DELETE", "jobs/{uid}", expect=204, uid=pushed["uid"])
        events = await stream.until(lambda events: any(event["removed"] for event in events))
        assert [uid for event in events for uid in event["removed"]] == [pushed["uid"]]
    finally:
        tab.close()
        stream.socket.close()


class CountingViews(RestViews):
    """RestViews that count the Job JSON they are asked for."""

    made = 0

    def get(self, record: Record, now: float | None = None) -> dict[str, Any]:
        self.made += 1
        return super().get(record, now)


class Captured(logging.Handler):
    """The event logger's handler: each event as it is emitted, with the views made by then."""

    def __init__(self, views: CountingViews) -> None:
        super().__init__()
        self.views = views
        self.events: list[tuple[dict[str, Any], int]] = []
        self.on_first: Callable[[], None] = lambda: None

    def emit(self, record: logging.LogRecord) -> None:
        self.events.append((dict(record.msg), self.views.made))  # type: ignore[call-overload]
        if len(self.events) == 1:
            self.on_first()

    async def until(self, count: int) -> None:
        deadline = time.monotonic() + 10
        while len(self.events) < count:
            assert time.monotonic() < deadline, f"{len(self.events)} events of {count}"
            await asyncio.sleep(0.01)


def job_record(number: int, status: str = "finished") -> Record:
    now = time.time()
    return {
        "uid": f"job{number:04}",
        "number": number,
        "name": None,
        "code": f"work({number})",
        "kind": "expr",
        "status": status,
        "group": None,
        "created": now,
        "started": now,
        "ended": now if status != "running" else None,
        "result_repr": None,
        "error": None,
        "output_tail": "",
        "progress": None,
        "kill_requested": False,
        "blocked_in": None,
        "kernel_id": "k1",
        "paths": ["burst.ipynb"],
    }


def emitter() -> tuple[JobEvents, Captured]:
    views = CountingViews()
    captured = Captured(views)
    events = JobEvents(EventLogger(handlers=[captured]), views=views, window=0.01)
    events.register_schema()
    return events, captured


async def test_a_burst_becomes_job_json_part_by_part() -> None:
    # A burst of changes is not turned into Job JSON all at once: each part
    # is made just before it is emitted, so requests run in between.
    events, captured = emitter()
    events.on_change([job_record(n, "running") for n in range(250)], [])
    await captured.until(3)
    made = [(len(event["changed"]), views_made) for event, views_made in captured.events]
    assert made == [(100, 100), (100, 200), (50, 250)]
    assert [job["uid"] for event, _ in captured.events for job in event["changed"]] == [
        f"job{n:04}" for n in range(250)
    ]


async def test_a_job_changed_or_removed_during_a_burst_comes_once_in_its_latest_state() -> None:
    events, captured = emitter()

    def meanwhile() -> None:  # while the first part goes out
        events.on_change([job_record(120, "killed")], [])
        events.on_change([], ["job0230"])

    captured.on_first = meanwhile
    events.on_change([job_record(n, "running") for n in range(250)], [])
    await captured.until(4)
    sent = [[job["uid"] for job in event["changed"]] for event, _ in captured.events]
    assert sent[:3] == [
        [f"job{n:04}" for n in range(100)],
        [f"job{n:04}" for n in range(100, 200) if n != 120],
        [f"job{n:04}" for n in range(200, 250) if n != 230],
    ]
    last, views_made = captured.events[3]
    assert ([job["status"] for job in last["changed"]], last["removed"]) == (["killed"], ["job0230"])
    assert last["changed"][0]["uid"] == "job0120"
    assert views_made == 249  # the removed job's JSON was never made, nor kept
