"""Helpers for the server tests: kernels started through the REST API, code run in them."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from jupyter_client.session import Session

Fetch = Callable[..., Awaitable[Any]]


async def start_kernel(jp_fetch: Fetch, path: str | None = None) -> str:
    """Start a python3 kernel (through a session for ``path``, if given); its id."""
    if path is None:
        response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))
        return str(json.loads(response.body)["id"])
    body = {"path": path, "name": path, "type": "notebook", "kernel": {"name": "python3"}}
    response = await jp_fetch("api", "sessions", method="POST", body=json.dumps(body))
    return str(json.loads(response.body)["kernel"]["id"])


async def execute(serverapp: Any, kernel_id: str, code: str, timeout: float = 30) -> dict[str, Any]:
    """Run ``code`` in a kernel of the server; the execute_reply content."""
    km = serverapp.kernel_manager.get_kernel(kernel_id)
    # Its own session (and so its own socket identity), as a browser tab has.
    client = km.client(session=Session(key=km.session.key, signature_scheme=km.session.signature_scheme))
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        reply = await client.execute_interactive(code, timeout=timeout, allow_stdin=False)
        return dict(reply["content"])
    finally:
        client.stop_channels()


async def get_json(jp_fetch: Fetch, *parts: str, **params: Any) -> Any:
    response = await jp_fetch("jupyter-bgjobs", *parts, params=params)
    return json.loads(response.body)


async def wait_for_jobs(
    jp_fetch: Fetch, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 20, **params: Any
) -> list[dict[str, Any]]:
    """Poll ``GET jobs`` until ``predicate(jobs)``; the last jobs seen."""
    deadline = time.monotonic() + timeout
    while True:
        jobs: list[dict[str, Any]] = (await get_json(jp_fetch, "jobs", **params))["jobs"]
        if predicate(jobs) or time.monotonic() > deadline:
            return jobs
        await asyncio.sleep(0.05)
