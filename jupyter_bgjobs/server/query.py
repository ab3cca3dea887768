"""What ``GET jobs`` asks the store for, and how one page of the answer is cut."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .cursor import encode_cursor

Record = dict[str, Any]


@dataclass
class Query:
    """What ``GET jobs`` asks for; None means no filter."""

    statuses: frozenset[str] | None = None
    kernel_id: str | None = None
    path: str | None = None
    text: str | None = None
    limit: int = 100
    cursor: str | None = None


def cut_page(records: list[Record], limit: int) -> tuple[list[Record], str | None]:
    """The first ``limit`` of ``records`` (newest first) and the cursor after them (None: no more)."""
    page = records[:limit]
    cursor = encode_cursor(page[-1]["created"], page[-1]["uid"]) if len(records) > limit else None
    return page, cursor
