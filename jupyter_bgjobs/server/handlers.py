"""REST handlers under ``{base_url}jupyter-bgjobs/`` (docs/rest.md, openapi.json).

Thin: parse, ask the store, the hub or a relay, answer. Domain errors
(``errors.py``) become HTTP codes in one place, ``HTTP_STATUS``; tornado's
``HTTPError`` is then written as ``{"message": ...}`` by ``APIHandler``.
Every verb is authenticated and authorized against the ``kernels`` resource,
as the kernels API itself is (read for GET, write for POST and DELETE).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from .. import protocol
from .errors import BadRequest, BgJobsError, Conflict, NotFound, Unavailable
from .hub import RelayHub
from .model import RestViews, job_to_rest
from .store import JobStore, Query

AUTH_RESOURCE = "kernels"
URL_PREFIX = "jupyter-bgjobs"
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
_ID = r"[0-9a-zA-Z_-]{1,64}"

HTTP_STATUS: dict[type[BgJobsError], int] = {BadRequest: 400, NotFound: 404, Conflict: 409, Unavailable: 503}


def domain_errors(
    method: Callable[..., Awaitable[None]],
) -> Callable[..., Awaitable[None]]:
    """Turn the domain errors a verb raises into HTTP errors (the one place that maps them)."""

    @functools.wraps(method)
    async def wrapper(self: BgJobsHandler, *args: Any, **kwargs: Any) -> None:
        try:
            await method(self, *args, **kwargs)
        except BgJobsError as error:
            status = next(code for kind, code in HTTP_STATUS.items() if isinstance(error, kind))
            raise web.HTTPError(status, error.message) from None

    return wrapper


def parse_statuses(value: str) -> frozenset[str]:
    """``running,killed`` -> the set of states; groups expand to their states."""
    states: set[str] = set()
    words = [word.strip() for word in value.split(",") if word.strip()]
    if not words:
        raise BadRequest("status is empty; give a comma list of states or groups")
    for word in words:
        if word in protocol.GROUPS:
            states.update(protocol.GROUPS[word])
        elif word in protocol.STATES:
            states.add(word)
        else:
            allowed = ", ".join(dict.fromkeys([*protocol.GROUPS, *protocol.STATES]))  # groups share names
            raise BadRequest(f"unknown status {word!r:.40}; use a comma list of: {allowed}")
    return frozenset(states)


def parse_limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    # isdigit() alone also takes digits int() refuses ("²") and other scripts' digits.
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {value!r:.40}")
    return int(value)


def parse_kill_body(body: Any) -> str | None:
    """The ``group`` of a ``POST kernels/{id}/kill`` body (None: every running job)."""
    if body is None:
        return None
    if not isinstance(body, dict):
        raise BadRequest('the body must be a JSON object, e.g. {"group": "map-0"}, or empty')
    unknown = set(body) - {"group"}
    if unknown:
        raise BadRequest(f"unknown field(s) {', '.join(sorted(unknown))}; the body takes only group")
    group = body.get("group")
    if group is not None and (not isinstance(group, str) or not 0 < len(group) <= protocol.MAX_NAME):
        raise BadRequest(f"group must be a string of 1 to {protocol.MAX_NAME} characters, or null")
    return group


class BgJobsHandler(APIHandler):
    auth_resource = AUTH_RESOURCE

    async def prepare(self) -> None:  # type: ignore[override]  # as APIHandler.prepare
        await super().prepare()
        # After a server start, answer from the whole history, not from part of it.
        await self.store.wait_open()

    @property
    def store(self) -> JobStore:
        return self.settings["bgjobs_store"]  # type: ignore[no-any-return]

    @property
    def views(self) -> RestViews:
        return self.settings["bgjobs_views"]  # type: ignore[no-any-return]

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
            raise NotFound(f"no job with uid {uid}")
        return record

    def query_argument(self, name: str) -> str | None:
        value = self.get_query_argument(name, None)
        return value if value not in (None, "") else None

    def json_body(self) -> Any:
        """The request body as JSON (None when empty)."""
        if not self.request.body.strip():
            return None
        try:
            return json.loads(self.request.body)
        except ValueError as error:
            raise BadRequest(f"the body is not valid JSON: {error}") from None


class JobsHandler(BgJobsHandler):
    @web.authenticated
    @authorized
    @domain_errors
    async def get(self) -> None:
        status = self.query_argument("status")
        query = Query(
            statuses=parse_statuses(status) if status is not None else None,
            kernel_id=self.query_argument("kernel_id"),
            path=self.query_argument("path"),
            text=self.query_argument("q"),
            limit=parse_limit(self.query_argument("limit")),
            cursor=self.query_argument("cursor"),
        )
        await self.hub.refresh_paths()
        page, next_cursor, counts = self.store.query(query)
        now = time.time()
        jobs = [self.views.get(record, now) for record in page]
        self.write_json({"jobs": jobs, "next_cursor": next_cursor, "counts": counts})


class JobHandler(BgJobsHandler):
    @web.authenticated
    @authorized
    @domain_errors
    async def get(self, uid: str) -> None:
        await self.hub.refresh_paths()
        self.write_json(self.views.get(self.find_job(uid)))

    @web.authenticated
    @authorized
    @domain_errors
    async def delete(self, uid: str) -> None:
        record = self.find_job(uid)
        if record["status"] in protocol.ACTIVE_STATES:
            raise Conflict(f"job {uid} is {record['status']}: kill it before removing it")
        relay = self.hub.relays.get(record["kernel_id"])
        if relay is not None and relay.state == "ready":
            try:
                await relay.request("remove", uid=uid)
            except NotFound:  # the kernel forgot it already: fine
                pass
        self.store.remove(uid)
        self.set_status(204)
        self.finish()


class JobKillHandler(BgJobsHandler):
    @web.authenticated
    @authorized
    @domain_errors
    async def post(self, uid: str) -> None:
        record = self.find_job(uid)
        if record["status"] not in protocol.ACTIVE_STATES:
            raise Conflict(f"job {uid} is not running (it is {record['status']})")
        reply = await self.hub.relay_for(record["kernel_id"]).request("kill", uid=uid)
        # The job as the kernel answered; the store hears of it (and of its
        # death) through the events comm, in order.
        self.write_json(job_to_rest({**reply["job"], "kernel_id": record["kernel_id"], "paths": record["paths"]}), 202)


class KernelsHandler(BgJobsHandler):
    @web.authenticated
    @authorized
    @domain_errors
    async def get(self) -> None:
        await self.hub.refresh_paths()
        kernel_manager = self.settings["kernel_manager"]
        kernels = []
        for kernel_id in kernel_manager.list_kernel_ids():
            if kernel_id not in kernel_manager:  # shut down since the list was made
                continue
            model = kernel_manager.kernel_model(kernel_id)
            relay = self.hub.relays.get(kernel_id)
            kernels.append(
                {
                    "kernel_id": kernel_id,
                    "kernel_name": model.get("name", ""),
                    "paths": self.store.kernel_paths(kernel_id),
                    "execution_state": model.get("execution_state"),
                    "bgjobs": relay.state if relay is not None else "connecting",
                    "reason": relay.reason if relay is not None else "",
                    "counts": self.store.kernel_counts(kernel_id),
                }
            )
        self.write_json(kernels)


class KernelKillHandler(BgJobsHandler):
    @web.authenticated
    @authorized
    @domain_errors
    async def post(self, kernel_id: str) -> None:
        group = parse_kill_body(self.json_body())
        reply = await self.hub.relay_for(kernel_id).request("kill_all", group=group)
        self.write_json({"killed": reply["killed"]}, 202)


class NotFoundHandler(BgJobsHandler):
    """Anything else under the prefix: a JSON 404 rather than an HTML page."""

    @web.authenticated
    @authorized
    @domain_errors
    async def get(self, rest: str) -> None:
        raise NotFound(f"no route {URL_PREFIX}/{rest}; see docs/rest.md")

    post = delete = get


def route_table() -> list[tuple[str, type[BgJobsHandler]]]:
    """The routes, relative to the server's base_url."""
    return [
        (rf"{URL_PREFIX}/jobs", JobsHandler),
        (rf"{URL_PREFIX}/jobs/(?P<uid>{_ID})", JobHandler),
        (rf"{URL_PREFIX}/jobs/(?P<uid>{_ID})/kill", JobKillHandler),
        (rf"{URL_PREFIX}/kernels", KernelsHandler),
        (rf"{URL_PREFIX}/kernels/(?P<kernel_id>{_ID})/kill", KernelKillHandler),
        (rf"{URL_PREFIX}/(?P<rest>.*)", NotFoundHandler),
    ]
