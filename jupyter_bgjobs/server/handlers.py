"""REST handlers under ``{base_url}jupyter-bgjobs/`` (docs/rest.md, openapi.json).

Thin: parse (``params.py``, whose rules openapi.json states), ask the store,
the hub or a relay, answer with ``APIHandler.finish`` (JSON). Domain errors
(``errors.py``) become HTTP codes in one place, ``HTTP_STATUS``; tornado's
``HTTPError`` is then written as ``{"message": ...}`` by ``APIHandler``.
Every verb is authenticated and authorized against the ``kernels`` resource,
as the kernels API itself is (read for GET, write for POST and DELETE).
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from .. import protocol
from .errors import BadRequest, BgJobsError, Conflict, NotFound, Unavailable
from .hub import RelayHub
from .model import RestViews, job_to_rest
from .params import CLEAR_FILTERS, parse_clear, parse_kill_body, parse_limit, parse_statuses
from .query import Query
from .store import JobStore

if TYPE_CHECKING:  # app.py imports this module
    from .app import BgJobsApp

AUTH_RESOURCE = "kernels"
URL_PREFIX = "jupyter-bgjobs"
# Job uids and kernel ids in routes: what a uid may be.
_ID = protocol.UID_REGEX

# How many remove requests a history clear has under way in a kernel at once.
FORGET_AT_ONCE = 50

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


class BgJobsHandler(ExtensionHandlerMixin, APIHandler):
    """What every route shares: its auth resource, and the extension's store, hub and views."""

    auth_resource = AUTH_RESOURCE

    async def prepare(self) -> None:  # type: ignore[override]  # as APIHandler.prepare
        await super().prepare()
        # After a server start, answer from the whole history, not from part of it.
        await self.store.wait_open()

    @property
    def app(self) -> BgJobsApp:
        """The extension (``ExtensionHandlerMixin`` finds it by the route's ``name``)."""
        return cast("BgJobsApp", self.extensionapp)

    @property
    def store(self) -> JobStore:
        return self.app.store

    @property
    def views(self) -> RestViews:
        return self.app.views

    @property
    def hub(self) -> RelayHub:
        return self.app.hub

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """APIHandler's JSON error; a 405 also says which methods the route takes (RFC 9110)."""
        if status_code == 405:
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        super().write_error(status_code, **kwargs)

    @classmethod
    def allowed_methods(cls) -> list[str]:
        """The methods this route serves (``OPTIONS`` is APIHandler's, for CORS)."""
        served = [
            verb
            for verb in ("GET", "POST", "DELETE")
            if getattr(cls, verb.lower()) is not getattr(web.RequestHandler, verb.lower())
        ]
        return [*served, "OPTIONS"]

    async def find_job(self, uid: str) -> dict[str, Any]:
        """A job, held in memory or read from the history (``NotFound`` if neither has it)."""
        record = await self.store.find(uid)
        if record is None:
            raise NotFound(f"no job with uid {uid}")
        return record

    def view(self, record: dict[str, Any], now: float | None = None) -> dict[str, Any]:
        """The Job JSON of a record: kept for a held one, made afresh for one from the history (not kept)."""
        return self.views.get(record, now) if self.store.holds(record) else job_to_rest(record, now)

    def query_argument(self, name: str) -> str | None:
        value = self.get_query_argument(name, None)
        return value if value not in (None, "") else None

    def json_body(self) -> Any:
        """The request body as JSON (None when empty), by ``APIHandler.get_json_body``.

        The JSON ``null`` is refused rather than taken for an empty body; a body
        that is not UTF-8 is a client mistake too (``get_json_body`` lets the
        decoding error through, which would be a 500).
        """
        try:
            body = self.get_json_body()
        except web.HTTPError as error:
            raise BadRequest(f"the body is not valid JSON: {error.__cause__}") from None
        except UnicodeDecodeError:
            raise BadRequest("the body is not valid JSON: it is not UTF-8 text") from None
        if body is None and self.request.body.strip():
            raise BadRequest("the body must be a JSON object or empty, not null")
        return body


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
        page, next_cursor, counts = await self.store.page(query)
        now = time.time()
        jobs = [self.view(record, now) for record in page]
        self.finish(json.dumps({"jobs": jobs, "next_cursor": next_cursor, "counts": counts}))

    @web.authenticated
    @authorized
    @domain_errors
    async def delete(self) -> None:
        """Clear a history: every ended job of a kernel and/or notebook path, in the server and its kernel."""
        kernel_id, path = parse_clear(*(self.get_query_argument(name, None) for name in CLEAR_FILTERS))
        await self.hub.refresh_paths()
        ended = self.store.ended_in_memory(kernel_id, path)
        await self.forget_in_kernels(ended)
        # A kernel's own update may have removed some of them from the store meanwhile:
        # they were removed by this request all the same.
        removed = {record["uid"] for record in ended}.union(await self.store.clear(kernel_id, path))
        self.finish(json.dumps({"removed": len(removed)}))

    async def forget_in_kernels(self, records: list[dict[str, Any]]) -> None:
        """Ask the running kernels to forget these ended jobs too (else their next snapshot brings them back)."""
        asks = [
            (relay, record["uid"])
            for record in records
            if (relay := self.hub.relays.get(record["kernel_id"])) is not None and relay.state == "ready"
        ]
        for start in range(0, len(asks), FORGET_AT_ONCE):
            replies = await asyncio.gather(
                *(relay.request("remove", uid=uid) for relay, uid in asks[start : start + FORGET_AT_ONCE]),
                return_exceptions=True,
            )
            # A kernel that forgot a job already, or went away or timed out meanwhile:
            # the server forgets the job all the same (as DELETE jobs/{uid} does).
            for reply in replies:
                if isinstance(reply, BaseException) and not isinstance(reply, BgJobsError):
                    raise reply


class JobHandler(BgJobsHandler):
    @web.authenticated
    @authorized
    @domain_errors
    async def get(self, uid: str) -> None:
        await self.hub.refresh_paths()
        self.finish(json.dumps(self.view(await self.find_job(uid))))

    @web.authenticated
    @authorized
    @domain_errors
    async def delete(self, uid: str) -> None:
        record = await self.find_job(uid)
        if record["status"] in protocol.ACTIVE_STATES:
            raise Conflict(f"job {uid} is {record['status']}: kill it before removing it")
        relay = self.hub.relays.get(record["kernel_id"])
        if relay is not None and relay.state == "ready":
            try:
                await relay.request("remove", uid=uid)
            except NotFound:  # the kernel forgot it already: fine
                pass
        await self.store.remove(uid)
        self.set_status(204)
        self.finish()


class JobKillHandler(BgJobsHandler):
    @web.authenticated
    @authorized
    @domain_errors
    async def post(self, uid: str) -> None:
        record = await self.find_job(uid)
        if record["status"] not in protocol.ACTIVE_STATES:
            raise Conflict(f"job {uid} is not running (it is {record['status']})")
        answered = await self.hub.relay_for(record["kernel_id"]).kill(uid)
        # The job with its kill asked for (as an older kernel answered it, or
        # as known here); the store hears of it (and of its death) through
        # the events comm, in order.
        wire = answered if answered is not None else {**record, "kill_requested": True}
        job = job_to_rest({**wire, "kernel_id": record["kernel_id"], "paths": record["paths"]})
        self.set_status(202)
        self.finish(json.dumps(job))


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
        self.finish(json.dumps(kernels))


class KernelKillHandler(BgJobsHandler):
    @web.authenticated
    @authorized
    @domain_errors
    async def post(self, kernel_id: str) -> None:
        group = parse_kill_body(self.json_body())
        reply = await self.hub.relay_for(kernel_id).request("kill_all", group=group)
        self.set_status(202)
        self.finish(json.dumps({"killed": reply["killed"]}))


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
