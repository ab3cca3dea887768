"""Pagination cursors of ``GET jobs``: a position in the newest-first order of the jobs.

A cursor is the last job of a page as ``<created>.<uid>``: ``created`` as the
16 hex digits of its IEEE 754 double (exact, so the position is exact), then
the uid. Every string of that form is a position, so ``CURSOR_PATTERN`` (which
openapi.json states) is exactly what the server takes: a client cannot send
a cursor that looks right and is refused.
"""

from __future__ import annotations

import math
import re
import struct

from .. import protocol
from .errors import BadRequest

OrderKey = tuple[float, str]

CURSOR_PATTERN = rf"^[0-9a-f]{{16}}\.{protocol.UID_REGEX}$"
_CURSOR = re.compile(CURSOR_PATTERN)


class BadCursor(BadRequest):
    """A string that is not a pagination cursor."""


def order_key(created: float, uid: str) -> OrderKey:
    """Where a job sorts: newest first; the uid breaks ties so that the order is total."""
    return (-float(created), uid)


def encode_cursor(created: float, uid: str) -> str:
    """The cursor of the position just after the job (``created``, ``uid``)."""
    return struct.pack(">d", float(created)).hex() + "." + uid


def decode_cursor(cursor: str) -> OrderKey:
    """The position a cursor names (``BadCursor`` unless it has the documented form)."""
    if not _CURSOR.fullmatch(cursor):
        raise BadCursor(f"cursor {cursor!r:.40} is not one this server issued; use next_cursor from a previous answer")
    bits, uid = cursor.split(".", 1)
    (created,) = struct.unpack(">d", bytes.fromhex(bits))
    # Every double is a position: NaN, which sorts nowhere, is taken as the oldest possible.
    if math.isnan(created):
        created = -math.inf
    return order_key(created, uid)
