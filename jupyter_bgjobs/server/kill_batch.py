"""``KillBatcher``: single kills of one kernel's jobs, sent to the kernel together.

``POST jobs/{uid}/kill`` names one job. A client that kills many jobs one by
one (a panel's selection, a script) would cost one control round trip each
(about 4.4 ms, and two status messages on the kernel's IOPub), and the
1,000th kill of a burst waited for the 999 before it. Here at most one
``kill_many`` request per kernel is under way: the kills that arrive
meanwhile wait and go together in the next one, so a lone kill is sent at
once and a burst costs a few round trips (``bench/bench_kill_burst.py``).

A kernel whose extension predates ``kill_many`` answers ``unknown_op``: from
then on its kills go one by one (``kill``), as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from .. import protocol
from .errors import Conflict, NotFound, Unavailable

Request = Callable[..., Awaitable[dict[str, Any]]]

# The kernel's error code for a refused kill, as the error a REST client gets.
_REFUSALS = {"not_found": NotFound, "conflict": Conflict}


class UnknownOp(Unavailable):
    """The kernel does not know the operation (an older kernel extension)."""


class KillBatcher:
    """Joins the single kills of one kernel into ``kill_many`` requests, one under way at a time."""

    def __init__(self, request: Request) -> None:
        """``request(op, **args)``: a control request's reply data; raises ``UnknownOp`` for an unknown op."""
        self._request = request
        self._waiting: dict[str, list[asyncio.Future[dict[str, Any] | None]]] = {}
        self._sending = False
        self._task: asyncio.Future[None] | None = None
        self.batched = True  # False once the kernel answered that it has no kill_many

    async def kill(self, uid: str) -> dict[str, Any] | None:
        """Ask the kernel to kill one job.

        Returns the job as the kernel answered (an older kernel, one kill at a
        time) or None (the kernel asked it to die; its record says so on the
        events comm). Raises ``NotFound``, ``Conflict`` or ``Unavailable``.
        """
        if not self.batched:
            return (await self._request("kill", uid=uid))["job"]  # type: ignore[no-any-return]
        future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(uid, []).append(future)
        if not self._sending:
            self._sending = True
            self._task = asyncio.ensure_future(self._send_batches())
        return await future

    async def _send_batches(self) -> None:
        try:
            while self._waiting:
                uids = list(self._waiting)[: protocol.MAX_KILL_MANY]
                waiters = {uid: self._waiting.pop(uid) for uid in uids}
                await self._send(waiters)
        finally:
            self._sending = False

    async def _send(self, waiters: dict[str, list[asyncio.Future[dict[str, Any] | None]]]) -> None:
        outcomes: dict[str, Any] = {}
        try:
            reply = await self._request("kill_many", uids=list(waiters))
        except UnknownOp:
            self.batched = False
            jobs = await asyncio.gather(*(self._one(uid) for uid in waiters), return_exceptions=True)
            outcomes = dict(zip(waiters, jobs))
        except Exception as error:  # the kernel did not answer: every kill of the batch fails alike
            outcomes = dict.fromkeys(waiters, error)
        else:
            outcomes = dict.fromkeys(reply["killed"])
            for refusal in reply["refused"]:
                outcomes[refusal["uid"]] = _REFUSALS.get(refusal["code"], Unavailable)(refusal["message"])
        for uid, futures in waiters.items():
            outcome = outcomes.get(uid, Unavailable(f"the kernel did not say whether it killed job {uid}; try again"))
            for future in futures:
                if future.done():
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    async def _one(self, uid: str) -> dict[str, Any]:
        return (await self._request("kill", uid=uid))["job"]  # type: ignore[no-any-return]
