"""What ``q=`` searches: the casefolded text of a job's ``x-search`` fields, one field (or list item) a line.

The same text serves the store's jobs in memory (``text in searchable(record)``)
and the history's (a column of SQLite, searched by substring), so both
answer a search alike.
"""

from __future__ import annotations

from typing import Any

from .. import record as record_schema

# "error.evalue" is a field of "error"; the same list the panel's filter reads.
_SEARCHED = tuple(tuple(field.split(".")) for field in record_schema.SEARCH_FIELDS)


def searchable(record: dict[str, Any]) -> str:
    """What ``q`` looks in, casefolded, one field (or list item) a line."""
    texts: list[str] = []
    for path in _SEARCHED:
        value: Any = record
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            texts.extend(item for item in value if isinstance(item, str))
    return "\n".join(texts).casefold()


def like_pattern(text: str) -> str:
    """A LIKE pattern (``ESCAPE '\\'``) for "contains ``text``"."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
