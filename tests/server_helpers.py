"""Helpers for the server tests: kernels started through the REST API, code run in them,
and a REST client that checks every answer against the OpenAPI document."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jupyter_client.session import Session
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

import jupyter_bgjobs.server

Fetch = Callable[..., Awaitable[Any]]

OPENAPI_PATH = Path(jupyter_bgjobs.server.__file__).parent / "openapi.json"
OPENAPI = json.loads(OPENAPI_PATH.read_text())
_OPENAPI_URI = "urn:jupyter-bgjobs:openapi"
_REGISTRY = Registry().with_resource(_OPENAPI_URI, Resource.from_contents(OPENAPI, default_specification=DRAFT202012))


def _pointer(*parts: str) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def check_against_openapi(method: str, route: str, status: int, body: Any) -> None:
    """Fail unless ``status`` is documented for the operation and ``body`` fits its schema."""
    path = f"/jupyter-bgjobs/{route}"
    operation = OPENAPI["paths"][path][method.lower()]
    assert str(status) in operation["responses"], f"{method} {path} answered {status}, which is not documented"
    response = operation["responses"][str(status)]
    if "content" not in response:
        assert body is None, f"{method} {path} {status} has a body: {body!r:.200}"
        return
    pointer = _pointer("paths", path, method.lower(), "responses", str(status), "content", "application/json", "schema")
    validator = Draft202012Validator(
        {"$ref": f"{_OPENAPI_URI}#{pointer}"}, registry=_REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(body)


@dataclass
class Reply:
    status: int
    body: Any


class Api:
    """The REST API of the extension, as a browser would call it; every answer is checked."""

    def __init__(self, jp_fetch: Fetch) -> None:
        self._fetch = jp_fetch

    async def call(
        self,
        method: str,
        route: str,
        *,
        params: dict[str, Any] | None = None,
        body: str | None = None,
        expect: int | None = 200,
        headers: dict[str, str] | None = None,
        **path: str,
    ) -> Reply:
        if body is None and method in ("POST", "PUT"):
            body = ""
        response = await self._fetch(
            "jupyter-bgjobs",
            *route.format(**path).split("/"),
            method=method,
            params=params,
            body=body,
            headers=headers,
            raise_error=False,
        )
        data = json.loads(response.body) if response.body else None
        if expect is not None:
            assert response.code == expect, f"{method} {route} {params}: {response.code} {data}"
        if response.code not in (401, 403) or data is not None:
            check_against_openapi(method, route, response.code, data)
        return Reply(response.code, data)

    async def get(self, route: str, expect: int | None = 200, **params: Any) -> Any:
        """GET a route (path parameters and query parameters as keywords); the JSON answer."""
        path = {key: params.pop(key) for key in list(params) if "{" + key + "}" in route}
        return (await self.call("GET", route, params=params, expect=expect, **path)).body

    async def jobs(self, **params: Any) -> list[dict[str, Any]]:
        page: list[dict[str, Any]] = (await self.get("jobs", **params))["jobs"]
        return page

    async def wait_for_jobs(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 20, **params: Any
    ) -> list[dict[str, Any]]:
        """Poll ``GET jobs`` until ``predicate(jobs)``; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            jobs = await self.jobs(**params)
            if predicate(jobs):
                return jobs
            assert time.monotonic() < deadline, f"jobs never satisfied the condition; last seen: {jobs}"
            await asyncio.sleep(0.05)

    async def wait_for_kernel(self, kernel_id: str, state: str = "ready", timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            kernels = {kernel["kernel_id"]: kernel for kernel in await self.get("kernels")}
            kernel = kernels.get(kernel_id)
            if kernel is not None and kernel["bgjobs"] == state:
                return kernel
            assert time.monotonic() < deadline, f"kernel {kernel_id} never {state}: {kernel}"
            await asyncio.sleep(0.05)


async def start_kernel(jp_fetch: Fetch, path: str | None = None, name: str = "python3") -> str:
    """Start a kernel (through a notebook session for ``path``, if given); its id."""
    if path is None:
        response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": name}))
        return str(json.loads(response.body)["id"])
    body = {"path": path, "name": path, "type": "notebook", "kernel": {"name": name}}
    response = await jp_fetch("api", "sessions", method="POST", body=json.dumps(body))
    return str(json.loads(response.body)["kernel"]["id"])


class KernelTab:
    """A client of one kernel with a session of its own, as a browser tab has."""

    def __init__(self, serverapp: Any, kernel_id: str) -> None:
        km = serverapp.kernel_manager.get_kernel(kernel_id)
        self.client = km.client(session=Session(key=km.session.key, signature_scheme=km.session.signature_scheme))
        self.client.start_channels()
        self._closed = False

    async def run(self, code: str, timeout: float = 30) -> dict[str, Any]:
        """Run ``code``; the execute_reply content (fails on an error)."""
        await self.client.wait_for_ready(timeout=60)
        reply = await self.client.execute_interactive(code, timeout=timeout, allow_stdin=False)
        content = dict(reply["content"])
        assert content["status"] == "ok", content
        return content

    async def value(self, expr: str) -> Any:
        """The value of ``expr`` in the kernel, through JSON."""
        outputs: list[dict[str, Any]] = []
        await self.client.wait_for_ready(timeout=60)
        await self.client.execute_interactive(
            f"print(__import__('json').dumps({expr}))", timeout=30, allow_stdin=False, output_hook=outputs.append
        )
        text = "".join(msg["content"]["text"] for msg in outputs if msg["header"]["msg_type"] == "stream")
        return json.loads(text)

    def start(self, code: str) -> str:
        """Send ``code`` without waiting for it (the main shell stays busy with it)."""
        return str(self.client.execute(code))

    def close(self) -> None:
        """Close the tab's channels (again: nothing)."""
        if self._closed:
            return
        self._closed = True
        self.client.stop_channels()


class Notebooks:
    """Notebooks opened as a browser opens them: a kernel started through a notebook session,
    and a tab on it. Every tab is closed when the test ends (the ``notebooks`` fixture)."""

    def __init__(self, jp_fetch: Fetch, serverapp: Any) -> None:
        self._fetch = jp_fetch
        self._serverapp = serverapp
        self._tabs: list[KernelTab] = []

    async def open(self, path: str, name: str = "python3") -> tuple[str, KernelTab]:
        """Open ``path`` with a new kernel of that name; the kernel's id and a tab on it."""
        kernel_id = await start_kernel(self._fetch, path, name)
        return kernel_id, self.tab(kernel_id)

    def tab(self, kernel_id: str) -> KernelTab:
        """Another tab on a kernel of the server (e.g. after the kernel restarted)."""
        tab = KernelTab(self._serverapp, kernel_id)
        self._tabs.append(tab)
        return tab

    def close(self) -> None:
        for tab in self._tabs:
            tab.close()


async def execute(serverapp: Any, kernel_id: str, code: str, timeout: float = 30) -> dict[str, Any]:
    """Run ``code`` in a kernel of the server; the execute_reply content."""
    tab = KernelTab(serverapp, kernel_id)
    try:
        return await tab.run(code, timeout)
    finally:
        tab.close()
