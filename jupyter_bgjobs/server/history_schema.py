"""The SQLite schema of the job history, and the migration of older files to it.

Each job is a row of ``jobs``: its record as JSON, with the columns the
queries sort and filter on. ``past`` is 1 for the jobs of kernels that are
gone (the store holds the others in memory and answers for them): every
index the REST queries use covers only past rows, so a page costs the same
whatever the number of live jobs. The order of ``GET jobs`` is ``key``
(``-created``) then ``uid``, ascending, so a cursor is a row-value range seek.

Triggers keep, for past rows only: ``job_paths`` (one row per notebook path
of a job, for ``path=``), ``counts`` (jobs per status overall, per kernel and
per path, so ``counts`` of an unfiltered page is a lookup, not a scan of a
million rows) and ``search_index``, an FTS5 trigram index of the casefolded
text that ``q=`` searches: a search reads the rows that hold the text's
rarest trigram and checks each with LIKE, so its time follows that trigram's frequency, not the size of
the history. Where FTS5 is missing, ``q=`` scans.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

SCHEMA_VERSION = 2
STATES = ("queued", "running", "finished", "failed", "killed", "lost")

_TABLES = """
CREATE TABLE IF NOT EXISTS jobs (
    uid TEXT PRIMARY KEY,
    kernel_id TEXT NOT NULL,
    created REAL NOT NULL,
    key REAL NOT NULL,
    ended REAL,
    updated REAL NOT NULL,
    status TEXT NOT NULL,
    past INTEGER NOT NULL,
    search TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_kernel ON jobs (kernel_id, status, key, uid);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, key, uid) WHERE past = 1;
CREATE INDEX IF NOT EXISTS jobs_live ON jobs (kernel_id) WHERE past = 0;
CREATE INDEX IF NOT EXISTS jobs_age ON jobs (coalesce(ended, created), uid) WHERE past = 1;
CREATE TABLE IF NOT EXISTS job_paths (
    path TEXT NOT NULL,
    status TEXT NOT NULL,
    key REAL NOT NULL,
    uid TEXT NOT NULL,
    PRIMARY KEY (path, status, key, uid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counts (
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (scope, name, status)
) WITHOUT ROWID;
"""

_SEARCH_INDEX = """
CREATE VIRTUAL TABLE IF NOT EXISTS search_index USING fts5(
    search, content='jobs', content_rowid='rowid', tokenize='trigram case_sensitive 1'
);
"""


def _triggers(with_search: bool) -> str:
    """Triggers that keep job_paths, counts (and the search index) in step with the past rows of jobs."""

    def count(row: str, step: str, when: str) -> str:
        return "".join(
            f"INSERT INTO counts SELECT '{scope}', {name}, {row}.status, {step} WHERE {when}"
            f" ON CONFLICT DO UPDATE SET n = n + ({step});\n"
            for scope, name in (("all", "''"), ("kernel", f"{row}.kernel_id"))
        )

    def add(when: str) -> str:
        text = (
            "INSERT INTO job_paths SELECT DISTINCT value, NEW.status, NEW.key, NEW.uid"
            f" FROM json_each(NEW.record, '$.paths') WHERE {when};\n" + count("NEW", "1", when)
        )
        if with_search:
            text += f"INSERT INTO search_index (rowid, search) SELECT NEW.rowid, NEW.search WHERE {when};\n"
        return text

    def drop(when: str) -> str:
        text = (
            "DELETE FROM job_paths WHERE path IN (SELECT value FROM json_each(OLD.record, '$.paths'))"
            f" AND status = OLD.status AND key = OLD.key AND uid = OLD.uid AND {when};\n" + count("OLD", "-1", when)
        )
        if with_search:
            text += (
                "INSERT INTO search_index (search_index, rowid, search)"
                f" SELECT 'delete', OLD.rowid, OLD.search WHERE {when};\n"
            )
        return text

    return f"""
CREATE TRIGGER IF NOT EXISTS jobs_insert AFTER INSERT ON jobs WHEN NEW.past = 1 BEGIN
{add("1")}END;
CREATE TRIGGER IF NOT EXISTS jobs_delete AFTER DELETE ON jobs WHEN OLD.past = 1 BEGIN
{drop("1")}END;
CREATE TRIGGER IF NOT EXISTS jobs_update AFTER UPDATE ON jobs WHEN OLD.past = 1 OR NEW.past = 1 BEGIN
{drop("OLD.past = 1")}{add("NEW.past = 1")}END;
CREATE TRIGGER IF NOT EXISTS paths_insert AFTER INSERT ON job_paths BEGIN
INSERT INTO counts VALUES ('path', NEW.path, NEW.status, 1) ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS paths_delete AFTER DELETE ON job_paths BEGIN
UPDATE counts SET n = n - 1 WHERE scope = 'path' AND name = OLD.path AND status = OLD.status;
END;
"""


def has_search_index(db: sqlite3.Connection) -> bool:
    """Whether the file has the FTS5 trigram index (SQLite 3.34+ built with FTS5)."""
    row = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_index'").fetchone()
    return row is not None


def create(db: sqlite3.Connection) -> None:
    """The tables, indexes and triggers (in the caller's transaction); the search index where FTS5 has trigrams."""
    db.executescript(_TABLES)
    try:
        db.executescript(_SEARCH_INDEX)
    except sqlite3.OperationalError:  # no FTS5, or no trigram tokenizer: q= scans
        pass
    db.executescript(_triggers(has_search_index(db)))


def row_values(
    record: dict[str, Any], past: bool, updated: float, searchable: Callable[[dict[str, Any]], str]
) -> tuple[Any, ...]:
    """The column values of a job (in the order of ``INSERT_COLUMNS``)."""
    created = float(record["created"])
    return (
        record["uid"],
        record["kernel_id"],
        created,
        -created,
        record["ended"],
        updated,
        record["status"],
        1 if past else 0,
        searchable(record),
        json.dumps(record),
    )


INSERT_COLUMNS = "uid, kernel_id, created, key, ended, updated, status, past, search, record"
UPSERT = (
    f"INSERT INTO jobs ({INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uid) DO UPDATE SET "
    + ", ".join(f"{column} = excluded.{column}" for column in INSERT_COLUMNS.split(", ")[1:])
)


def migrate_v1(db: sqlite3.Connection, searchable: Callable[[dict[str, Any]], str]) -> int:
    """Rewrite a version 1 file (``jobs`` with the record and four columns) into this schema; the rows kept.

    Every job of a version 1 file is taken as past: the store takes back the
    jobs of the kernels that still run when it opens.
    """
    db.execute("ALTER TABLE jobs RENAME TO jobs_v1")
    db.execute("DROP INDEX IF EXISTS jobs_ended")
    create(db)
    kept = 0
    rows = []
    for text, updated in db.execute("SELECT record, updated FROM jobs_v1"):
        try:
            record = json.loads(text)
            rows.append(row_values(record, True, float(updated), searchable))
        except (ValueError, TypeError, KeyError, AttributeError):
            continue  # not a record: the store skips such rows too
        if len(rows) >= 1000:
            db.executemany(UPSERT, rows)
            kept += len(rows)
            rows = []
    db.executemany(UPSERT, rows)
    db.execute("DROP TABLE jobs_v1")
    return kept + len(rows)
