"""REST handlers under ``{base_url}jupyter-bgjobs/`` (see docs/rest.md and openapi.json).

Thin: parse, ask the store or a relay, answer. Client mistakes are 400, 404
or 409 with a JSON ``{"message": ...}`` (``APIHandler.write_error`` writes it
from the ``HTTPError``); every verb is authenticated and authorized against
the ``kernels`` resource, as the kernels API itself is.
"""

from __future__ import annotations

import json
import time
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from .. import protocol
from .hub import RelayHub
from .model import job_to_rest
from .relay import RelayError
from .store import BadCursor, JobStore, Query

AUTH_RESOURCE = "kernels"
URL_PREFIX = "jupyter-bgjobs"
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
_UID = r"(?P<uid>[0-9a-zA-Z_-]{1,64})"
_KERNEL_ID = r"(?P<kernel_id>[0-9a-zA-Z_-]{1,64})"

# Relay error codes and the HTTP status they mean for the client.
_RELAY_STATUS = {"not_found": 404, "conflict": 409, "bad_request": 400}


def parse_statuses(value: str) -> frozenset[str]:
    """``running,killed`` -> the set of states; groups expand to their states."""
    states: set[str] = set()
    for word in (part.strip() for part in value.split(",")):
        if word in protocol.GROUPS:
            states.update(protocol.GROUPS[word])
        elif word in protocol.STATES:
            states.add(word)
        else:
            allowed = ", ".join([*protocol.GROUPS, *protocol.STATES])
            raise web.HTTPError(400, f"unknown status {word!r}; use a comma list of: {allowed}")
    return frozenset(states)


def parse_limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise web.HTTPError(400, f"limit must be a whole number from 1 to {MAX_LIMIT}, not {value!r}")
    return int(value)


class BgJobsHandler(APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def store(self) -> JobStore:
        return self.settings["bgjobs_store"]  # type: ignore[no-any-return]

    @property
    def hub(self) -> RelayHub:
        return self.settings["bgjobs_hub"]  # type: ignore[no-any-return]

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    def find_job(self, uid: str) -> dict[str, Any]:
        record = self.store.get(uid)
        if record is None:
            raise web.HTTPError(404, f"no job with uid {uid}")
        return record

    async def relay_request(self, kernel_id: str, op: str, **args: Any) -> dict[str, Any]:
        relay = self.hub.relays.get(kernel_id)
        if relay is None:
            raise web.HTTPError(409, f"kernel {kernel_id} is not running")
        try:
            return await relay.request(op, **args)
        except RelayError as error:
            raise web.HTTPError(_RELAY_STATUS.get(error.code, 503), str(error)) from None

    def query_argument(self, name: str) -> str | None:
        value = self.get_query_argument(name, None)
        return value if value not in (None, "") else None


class JobsHandler(BgJobsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        status, kernel_id, path = (self.query_argument(name) for name in ("status", "kernel_id", "path"))
        query = Query(
            statuses=parse_statuses(status) if status else None,
            text=self.query_argument("q"),
            limit=parse_limit(self.query_argument("limit")),
            cursor=self.query_argument("cursor"),
        )
        paths = await self.hub.paths_by_kernel()
        kernel_ids = None
        if kernel_id is not None:
            kernel_ids = {kernel_id}
        if path is not None:
            with_path = {kid for kid, kernel_paths in paths.items() if path in kernel_paths}
            kernel_ids = with_path if kernel_ids is None else kernel_ids & with_path
        query.kernel_ids = None if kernel_ids is None else frozenset(kernel_ids)
        try:
            page, next_cursor, counts = self.store.query(query)
        except BadCursor as error:
            raise web.HTTPError(400, str(error)) from None
        now = time.time()
        jobs = [job_to_rest(record, paths.get(record["kernel_id"], []), now) for record in page]
        self.write_json({"jobs": jobs, "next_cursor": next_cursor, "counts": counts})


class JobHandler(BgJobsHandler):
    @web.authenticated
    @authorized
    async def get(self, uid: str) -> None:
        record = self.find_job(uid)
        paths = await self.hub.paths_by_kernel()
        self.write_json(job_to_rest(record, paths.get(record["kernel_id"], [])))

    @web.authenticated
    @authorized
    async def delete(self, uid: str) -> None:
        record = self.find_job(uid)
        if record["status"] in protocol.ACTIVE_STATES:
            raise web.HTTPError(409, f"job {uid} is {record['status']}: kill it before removing it")
        relay = self.hub.relays.get(record["kernel_id"])
        if relay is not None and relay.state == "ready":
            try:
                await relay.request("remove", uid=uid)
            except RelayError as error:
                if error.code != "not_found":  # the kernel forgot it already: fine
                    raise web.HTTPError(_RELAY_STATUS.get(error.code, 503), str(error)) from None
        self.store.remove(uid)
        self.set_status(204)
        self.finish()


class JobKillHandler(BgJobsHandler):
    @web.authenticated
    @authorized
    async def post(self, uid: str) -> None:
        record = self.find_job(uid)
        if record["status"] not in protocol.ACTIVE_STATES:
            raise web.HTTPError(409, f"job {uid} is not running (it is {record['status']})")
        reply = await self.relay_request(record["kernel_id"], "kill", uid=uid)
        job = protocol.validate_job(reply.get("job"))
        paths = await self.hub.paths_by_kernel()
        self.write_json(job_to_rest({**job, "kernel_id": record["kernel_id"]}, paths.get(record["kernel_id"], [])), 202)


class KernelsHandler(BgJobsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        paths = await self.hub.paths_by_kernel()
        counts: dict[str, dict[str, int]] = {}
        group_of = {state: group for group, states in protocol.GROUPS.items() for state in states}
        for record in self.store.records():
            kernel_counts = counts.setdefault(record["kernel_id"], dict.fromkeys(protocol.GROUPS, 0))
            kernel_counts[group_of[record["status"]]] += 1
        kernels = []
        kernel_manager = self.settings["kernel_manager"]
        for kernel_id in kernel_manager.list_kernel_ids():
            km = kernel_manager.get_kernel(kernel_id)
            relay = self.hub.relays.get(kernel_id)
            kernels.append(
                {
                    "kernel_id": kernel_id,
                    "kernel_name": km.kernel_name,
                    "paths": paths.get(kernel_id, []),
                    "execution_state": getattr(km, "execution_state", None),
                    "bgjobs": relay.state if relay is not None else "connecting",
                    "reason": relay.reason if relay is not None else "",
                    "counts": counts.get(kernel_id, dict.fromkeys(protocol.GROUPS, 0)),
                }
            )
        self.write_json(kernels)


class KernelKillHandler(BgJobsHandler):
    @web.authenticated
    @authorized
    async def post(self, kernel_id: str) -> None:
        body = self.get_json_body() if self.request.body else {}
        if not isinstance(body, dict):
            raise web.HTTPError(400, 'the body must be a JSON object, e.g. {"group": "map-0"}')
        group = body.get("group")
        if group is not None and not isinstance(group, str):
            raise web.HTTPError(400, "group must be a string")
        if kernel_id not in self.settings["kernel_manager"]:
            raise web.HTTPError(404, f"no kernel {kernel_id}")
        reply = await self.relay_request(kernel_id, "kill_all", group=group)
        self.write_json({"killed": reply.get("killed", [])}, 202)


def route_table() -> list[tuple[str, type[BgJobsHandler]]]:
    """The routes, relative to the server's base_url."""
    return [
        (rf"{URL_PREFIX}/jobs", JobsHandler),
        (rf"{URL_PREFIX}/jobs/{_UID}", JobHandler),
        (rf"{URL_PREFIX}/jobs/{_UID}/kill", JobKillHandler),
        (rf"{URL_PREFIX}/kernels", KernelsHandler),
        (rf"{URL_PREFIX}/kernels/{_KERNEL_ID}/kill", KernelKillHandler),
    ]
