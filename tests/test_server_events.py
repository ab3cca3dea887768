"""Push: job changes on the server's event bus, as a browser subscribed to it receives them."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from jsonschema import Draft7Validator

from jupyter_bgjobs.server.events import SCHEMA_ID, SCHEMA_PATH

from .server_helpers import OPENAPI, Api, Notebooks, check_against_openapi


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


async def test_changes_are_pushed_as_rest_jobs_coalesced(jp_ws_fetch: Any, api: Api, notebooks: Notebooks) -> None:
    stream = EventStream(await jp_ws_fetch("api", "events", "subscribe"))
    kernel_id, tab = await notebooks.open("pushed.ipynb")
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
        stream.socket.close()
