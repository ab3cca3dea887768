"""The history's reads and bulk changes, as functions of a connection (run by ``History``'s thread).

Every read here looks only at past rows (``past = 1``, the jobs of kernels
that are gone); the store answers for the others from memory and merges.
A page is one index range seek per state asked for (at most six), each
``LIMIT limit + 1`` from the cursor on: its cost does not depend on how deep
in the history the cursor is, nor on how many rows there are. A search
(``q=``) reads the rows that hold the text's rarest trigram once, for its
counts and its page: its cost follows how common that trigram is.
"""

from __future__ import annotations

import heapq
import json
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .. import protocol
from ..protocol import ProtocolError
from .history_schema import STATES, has_search_index
from .search import like_pattern

Record = dict[str, Any]
OrderKey = tuple[float, str]

ACTIVE = tuple(state for state in STATES if state in protocol.ACTIVE_STATES)
ENDED = tuple(state for state in STATES if state not in protocol.ACTIVE_STATES)
# Below this many characters a search cannot use trigrams (and scans).
TRIGRAM = 3
# Holders of a trigram are counted up to these caps; a trigram with fewer than ENOUGH is taken at once.
TRIGRAM_CAPS = (2000, 50_000)
TRIGRAM_ENOUGH = 100

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PastQuery:
    """One page of past jobs: filters, states (None: all), size, and the order key to start after."""

    states: tuple[str, ...] | None
    kernel_id: str | None
    path: str | None
    text: str | None  # casefolded already
    limit: int
    after: OrderKey | None


def _ids(values: Iterable[str]) -> str:
    return json.dumps(list(values))


def rarest_trigram(db: sqlite3.Connection, text: str) -> tuple[str, int]:
    """The trigram of ``text`` that the fewest past jobs hold, and how many (0: no job has the text).

    Holders are counted up to a cap (FTS5's own vocabulary table reads every
    holder of a common trigram): first a small one, then, when every trigram
    is that common, a larger one; beyond it, one common trigram is as good as
    another.
    """
    trigrams = sorted({text[at : at + 3] for at in range(len(text) - 2)})
    count = "SELECT count(*) FROM (SELECT 1 FROM search_index WHERE search_index MATCH ? LIMIT ?)"
    best, fewest = trigrams[0], 0
    for cap in TRIGRAM_CAPS:
        best, fewest = trigrams[0], cap + 1
        for trigram in trigrams:
            match = 'search : "' + trigram.replace('"', '""') + '"'
            holders = int(db.execute(count, (match, cap + 1)).fetchone()[0])  # cap + 1: more than the cap
            if holders < fewest:
                best, fewest = trigram, holders
            if fewest < TRIGRAM_ENOUGH:
                return best, fewest
        if fewest <= cap:
            break
    return best, fewest


def _source(query: PastQuery, state: str | None, trigram: str | None) -> tuple[str, str, list[str], list[Any]]:
    """(FROM clause, alias of the order columns, conditions, parameters) of the past rows a query filters.

    With a text: the rows that hold ``trigram`` (from the index), each checked with LIKE; every row
    checked with LIKE when ``trigram`` is None.
    """
    conditions: list[str] = []
    params: list[Any] = []
    if query.path is not None:
        needs_job = query.kernel_id is not None or bool(query.text)
        source = "job_paths AS p" + (" JOIN jobs AS j ON j.uid = p.uid" if needs_job else "")
        alias = "p"
        conditions.append("p.path = ?")
        params.append(query.path)
        if query.kernel_id is not None:
            conditions.append("j.kernel_id = ?")
            params.append(query.kernel_id)
    else:
        source, alias = "jobs AS j", "j"
        conditions.append("j.past = 1")
        if query.kernel_id is not None:
            conditions.append("j.kernel_id = ?")
            params.append(query.kernel_id)
    if state is not None:
        conditions.append(f"{alias}.status = ?")
        params.append(state)
    if query.text and trigram is not None:
        conditions.append("j.rowid IN (SELECT rowid FROM search_index WHERE search_index MATCH ?)")
        params.append('search : "' + trigram.replace('"', '""') + '"')
    if query.text:
        conditions.append("j.search LIKE ? ESCAPE '\\'")
        params.append(like_pattern(query.text))
    return source, alias, conditions, params


def page(db: sqlite3.Connection, query: PastQuery) -> tuple[list[Record], dict[str, int]]:
    """Up to ``limit + 1`` past jobs in order after ``after``, and the counts by state (every filter but states)."""
    if query.text:
        keys, found = _text_keys(db, query)
    else:
        found = counts(db, query)
        keys = []
        for state in query.states if query.states is not None else STATES:
            if not found.get(state):
                continue  # nothing of this state matches: no need to look
            source, alias, conditions, params = _source(query, state, None)
            if query.after is not None:
                conditions.append(f"({alias}.key, {alias}.uid) > (?, ?)")
                params.extend(query.after)
            sql = (
                f"SELECT {alias}.key, {alias}.uid FROM {source} WHERE {' AND '.join(conditions)}"
                f" ORDER BY {alias}.key, {alias}.uid LIMIT ?"
            )
            keys.extend(db.execute(sql, [*params, query.limit + 1]))
        keys.sort()
    records = []
    for _, uid in keys[: query.limit + 1]:
        row = db.execute("SELECT record FROM jobs WHERE uid = ?", (uid,)).fetchone()
        record = _record(row[0]) if row is not None else None
        if record is not None:
            records.append(record)
    return records, found


def _text_keys(db: sqlite3.Connection, query: PastQuery) -> tuple[list[OrderKey], dict[str, int]]:
    """A search: one pass over the rows that hold the text's rarest trigram (or over every row, for a
    text of fewer than 3 characters), which gives the counts and the page's keys at once."""
    assert query.text
    trigram = None
    if len(query.text) >= TRIGRAM and has_search_index(db):
        trigram, holders = rarest_trigram(db, query.text)
        if not holders:
            return [], {}
    source, alias, conditions, params = _source(query, None, trigram)
    found: dict[str, int] = {}
    wanted = set(query.states if query.states is not None else STATES)
    keys: list[OrderKey] = []
    sql = f"SELECT {alias}.status, {alias}.key, {alias}.uid FROM {source} WHERE {' AND '.join(conditions)}"
    for status, key, uid in db.execute(sql, params):
        found[status] = found.get(status, 0) + 1
        if status in wanted and (query.after is None or (key, uid) > query.after):
            keys.append((key, uid))
    return heapq.nsmallest(query.limit + 1, keys), found


def counts(db: sqlite3.Connection, query: PastQuery) -> dict[str, int]:
    """Past jobs by state that match the kernel and path filters: kept counts where one filter (or none) is set."""
    scope: tuple[str, str] | None = None
    if query.kernel_id is None and query.path is None:
        scope = ("all", "")
    elif query.path is None and query.kernel_id is not None:
        scope = ("kernel", query.kernel_id)
    elif query.kernel_id is None and query.path is not None:
        scope = ("path", query.path)
    if scope is not None:
        rows = db.execute("SELECT status, n FROM counts WHERE scope = ? AND name = ?", scope).fetchall()
    else:
        source, alias, conditions, params = _source(query, None, None)
        rows = db.execute(
            f"SELECT {alias}.status, count(*) FROM {source} WHERE {' AND '.join(conditions)} GROUP BY {alias}.status",
            params,
        ).fetchall()
    return {status: n for status, n in rows if n}


def _record(text: str) -> Record | None:
    """A stored record, validated as the store's own are (None, logged, if it is not one)."""
    try:
        stored = json.loads(text)
        job = protocol.validate_job(stored)
        kernel_id, paths = stored.get("kernel_id"), stored.get("paths")
        if not isinstance(kernel_id, str) or not isinstance(paths, list):
            raise ProtocolError("kernel_id or paths missing")
        if not all(isinstance(path, str) for path in paths):
            raise ProtocolError("paths must be strings")
    except (ValueError, AttributeError, ProtocolError) as error:
        _log.warning("bgjobs: skipped a job in the history: %s", error)
        return None
    return {**job, "kernel_id": kernel_id, "paths": paths}


def find(db: sqlite3.Connection, uid: str) -> Record | None:
    """A past job by uid."""
    row = db.execute("SELECT record FROM jobs WHERE uid = ? AND past = 1", (uid,)).fetchone()
    return _record(row[0]) if row is not None else None


def delete(db: sqlite3.Connection, uids: list[str]) -> list[str]:
    """Remove these past jobs; the uids that were there."""
    with db:
        return [
            uid
            for uid in uids
            if db.execute("DELETE FROM jobs WHERE uid = ? AND past = 1 RETURNING uid", (uid,)).fetchone() is not None
        ]


def clear(db: sqlite3.Connection, kernel_id: str | None, path: str | None, chunk: int = 2000) -> list[str]:
    """Remove the ended past jobs of a kernel and/or path (in transactions of ``chunk`` rows); their uids."""
    conditions = ["past = 1", f"status IN ({', '.join('?' * len(ENDED))})"]
    params: list[Any] = [*ENDED]
    if kernel_id is not None:
        conditions.append("kernel_id = ?")
        params.append(kernel_id)
    if path is not None:
        conditions.append("uid IN (SELECT uid FROM job_paths WHERE path = ?)")
        params.append(path)
    sql = f"DELETE FROM jobs WHERE uid IN (SELECT uid FROM jobs WHERE {' AND '.join(conditions)} LIMIT ?) RETURNING uid"
    removed: list[str] = []
    while True:
        with db:
            uids = [uid for (uid,) in db.execute(sql, [*params, chunk])]
        removed.extend(uids)
        if len(uids) < chunk:
            return removed


def retire(db: sqlite3.Connection, kernel_id: str) -> None:
    """A kernel is gone: its jobs become past rows (the store no longer holds them)."""
    with db:
        db.execute("UPDATE jobs SET past = 1 WHERE kernel_id = ? AND past = 0", (kernel_id,))


def adopt(db: sqlite3.Connection, kernel_id: str) -> list[Record]:
    """A kernel the store holds again: its past rows become live; their records."""
    with db:
        rows = db.execute("UPDATE jobs SET past = 0 WHERE kernel_id = ? AND past = 1 RETURNING record", (kernel_id,))
        texts = [text for (text,) in rows]
    return [record for record in map(_record, texts) if record is not None]


def reopen(
    db: sqlite3.Connection, live: list[str]
) -> tuple[list[tuple[Record, float]], list[tuple[Record, float]], bool]:
    """At start: the jobs of the running kernels (now live rows), the unfinished jobs of the others,
    and whether there are past rows.

    Every other job becomes a past row. Only the rows that were live, and
    the unfinished ones, are read: not the whole file.
    """
    live_ids = _ids(live)
    states = ", ".join("?" * len(ACTIVE))
    with db:
        unfinished = db.execute(
            f"SELECT record, updated FROM jobs WHERE status IN ({states}) AND past = 1"
            " UNION ALL SELECT record, updated FROM jobs WHERE past = 0"
            f" AND status IN ({states}) AND kernel_id NOT IN (SELECT value FROM json_each(?))",
            [*ACTIVE, *ACTIVE, live_ids],
        ).fetchall()
        db.execute(
            "UPDATE jobs SET past = 1 WHERE past = 0 AND kernel_id NOT IN (SELECT value FROM json_each(?))", [live_ids]
        )
        db.execute(
            "UPDATE jobs SET past = 0 WHERE past = 1 AND kernel_id IN (SELECT value FROM json_each(?))", [live_ids]
        )
        held = db.execute(
            "SELECT record, updated FROM jobs WHERE past = 0 AND kernel_id IN (SELECT value FROM json_each(?))",
            [live_ids],
        ).fetchall()

    def records(rows: list[tuple[str, float]]) -> list[tuple[Record, float]]:
        return [(record, float(updated)) for text, updated in rows if (record := _record(text)) is not None]

    unfinished_records = [
        (record, updated) for record, updated in records(unfinished) if record["kernel_id"] not in live
    ]
    return records(held), unfinished_records, has_past(db)


def has_past(db: sqlite3.Connection) -> bool:
    """Whether the file holds any past job."""
    return bool(db.execute("SELECT EXISTS (SELECT 1 FROM jobs WHERE past = 1)").fetchone()[0])


@dataclass(frozen=True)
class PruneBound:
    """Past ended jobs older than ``cutoff``, or at or beyond ``beyond`` (age, uid) in newest-first order, go."""

    cutoff: float
    beyond: tuple[float, str] | None


def prune_bound(db: sqlite3.Connection, cutoff: float, max_jobs: int) -> PruneBound:
    """Where retention cuts: by age, and after the newest ``max_jobs`` past ended jobs (found from the old end)."""
    ended = sum(
        n
        for (n,) in db.execute(
            f"SELECT n FROM counts WHERE scope = 'all' AND status IN ({', '.join('?' * len(ENDED))})", ENDED
        )
    )
    beyond = None
    if ended > max_jobs:
        row = db.execute(
            "SELECT coalesce(ended, created), uid FROM jobs WHERE past = 1"
            " ORDER BY coalesce(ended, created), uid DESC LIMIT 1 OFFSET ?",
            (ended - max_jobs - 1,),
        ).fetchone()
        beyond = (float(row[0]), row[1]) if row is not None else None
    return PruneBound(cutoff, beyond)


def prune_chunk(db: sqlite3.Connection, bound: PruneBound, chunk: int = 1000) -> list[str]:
    """Remove up to ``chunk`` past ended jobs beyond the bound (never a queued or running one); their uids."""
    beyond = "0"
    params: list[Any] = [bound.cutoff]
    if bound.beyond is not None:
        # At or after (age, uid) in newest-first order: older, or as old with a uid not smaller.
        beyond = "coalesce(ended, created) < ? OR (coalesce(ended, created) = ? AND uid >= ?)"
        params.extend([bound.beyond[0], bound.beyond[0], bound.beyond[1]])
    sql = (
        "DELETE FROM jobs WHERE uid IN (SELECT uid FROM jobs WHERE past = 1"
        f" AND status IN ({', '.join('?' * len(ENDED))})"
        f" AND (coalesce(ended, created) < ? OR {beyond}) ORDER BY coalesce(ended, created) LIMIT ?) RETURNING uid"
    )
    with db:
        return [uid for (uid,) in db.execute(sql, [*ENDED, *params, chunk])]


def vacuum(db: sqlite3.Connection, pages: int = 2000) -> int:
    """Give up to ``pages`` free pages back to the file system; how many free pages are left."""
    db.execute(f"PRAGMA incremental_vacuum({int(pages)})").fetchall()
    return int(db.execute("PRAGMA freelist_count").fetchone()[0])
