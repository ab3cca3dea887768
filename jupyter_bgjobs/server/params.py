"""What the REST API takes, each rule once: the handlers validate with it, and
``contract.py`` writes the same rule into openapi.json (so a request the
document allows is one the server takes, and the other way round)."""

from __future__ import annotations

import re
from typing import Any

from .. import protocol
from .errors import BadRequest

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100

# `status`: a comma list of states and of groups, spaces allowed around the
# words ("dead, finished"), no empty items.
STATUS_WORDS = tuple(dict.fromkeys([*protocol.GROUPS, *protocol.STATES]))  # groups share names with states
_WORD = " *(?:" + "|".join(STATUS_WORDS) + ") *"
STATUS_PATTERN = rf"^{_WORD}(?:,{_WORD})*$"
_STATUS = re.compile(STATUS_PATTERN)

# `limit`: a whole number in ASCII digits (isdigit() alone also takes "²" and
# other scripts' digits, which int() refuses or reads).
LIMIT_PATTERN = r"^[0-9]+$"
_LIMIT = re.compile(LIMIT_PATTERN)


def or_empty(pattern: str) -> str:
    """An anchored pattern that also matches "" (an empty query parameter counts as absent)."""
    return f"^(?:{pattern.removeprefix('^').removesuffix('$')})?$"


# The body of `POST kernels/{kernel_id}/kill`.
KILL_BODY_FIELDS = ("group",)


def parse_statuses(value: str) -> frozenset[str]:
    """``running,killed`` -> the set of states; groups expand to their states."""
    if not _STATUS.fullmatch(value):
        words = [word.strip(" ") for word in value.split(",")]
        if not any(words):
            raise BadRequest("status is empty; give a comma list of states or groups")
        unknown = next((word for word in words if word not in STATUS_WORDS), "")
        what = f"unknown status {unknown!r:.40}" if unknown else "status has an empty item"
        raise BadRequest(f"{what}; use a comma list of: {', '.join(STATUS_WORDS)}")
    states: set[str] = set()
    for word in value.split(","):
        word = word.strip(" ")
        states.update(protocol.GROUPS.get(word, (word,)))
    return frozenset(states)


def parse_limit(value: str | None) -> int:
    """The page size: ``DEFAULT_LIMIT`` when absent, else 1 to ``MAX_LIMIT``."""
    if value is None:
        return DEFAULT_LIMIT
    if not _LIMIT.fullmatch(value) or not 1 <= int(value) <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {value!r:.40}")
    return int(value)


CLEAR_FILTERS = ("kernel_id", "path")


def parse_clear(kernel_id: str | None, path: str | None) -> tuple[str | None, str | None]:
    """The filters of ``DELETE jobs`` (clear a history): at least one, none empty (None: not given).

    An empty one is refused rather than taken as absent (as ``GET jobs`` takes
    it): a client whose variable is empty must not clear more than it meant.
    """
    for name, value in zip(CLEAR_FILTERS, (kernel_id, path)):
        if value == "":
            raise BadRequest(f"{name} is empty; give the kernel id or notebook path whose ended jobs to remove")
    if kernel_id is None and path is None:
        raise BadRequest("give kernel_id or path (or both): the kernel or notebook whose ended jobs to remove")
    return kernel_id, path


def parse_kill_body(body: Any) -> str | None:
    """The ``group`` of a ``POST kernels/{id}/kill`` body (None: every running job)."""
    if body is None:
        return None
    if not isinstance(body, dict):
        raise BadRequest('the body must be a JSON object, e.g. {"group": "map-0"}, or empty')
    unknown = set(body) - set(KILL_BODY_FIELDS)
    if unknown:
        raise BadRequest(f"unknown field(s) {', '.join(sorted(unknown))}; the body takes only group")
    group = body.get("group")
    if group is not None and (not isinstance(group, str) or not 0 < len(group) <= protocol.MAX_GROUP):
        raise BadRequest(f"group must be a string of 1 to {protocol.MAX_GROUP} characters, or null")
    return group
