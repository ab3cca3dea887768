"""``SessionPaths``: which notebook (or console) paths each kernel serves.

jupyter_server keeps its sessions in a SQLite table of the session manager
(``SessionManager.cursor``); ``list_sessions`` turns each row into a full
model, asking the kernel manager for each kernel's model on the way, and
that was about 30% of the cost of a ``GET jobs``. The paths need only two
columns of that table: ``SELECT kernel_id, path FROM session`` reads them in
tens of microseconds, so the map can be read again whenever it may be stale.

jupyter_server emits no event when a session is created, renamed or moved
(``PATCH api/sessions``, which JupyterLab sends after a rename through the
contents API), so no event alone keeps the map current. The hub reads it on
``kernel_actions`` and ``contents_service`` events, when a relay becomes
ready, and on every REST read (see ``PATHS_MAX_AGE`` in the hub): a renamed
notebook shows its new path in the next answer.

A session manager that is not jupyter_server's (no ``cursor`` with that
table) is read through ``list_sessions`` instead.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from jupyter_server.utils import ensure_async

Paths = dict[str, list[str]]


class SessionPaths:
    """Reads the kernel -> paths map from the session manager, the cheap way where it can."""

    def __init__(self, session_manager: Any, log: logging.Logger | None = None) -> None:
        self._session_manager = session_manager
        self._log = log or logging.getLogger(__name__)
        # None until the first read tells whether the table can be read directly.
        self._direct: bool | None = None

    def _read_table(self) -> Paths:
        rows = self._session_manager.cursor.execute("SELECT kernel_id, path FROM session").fetchall()
        paths: Paths = {}
        for kernel_id, path in rows:
            if isinstance(kernel_id, str) and isinstance(path, str) and kernel_id and path:
                paths.setdefault(kernel_id, []).append(path)
        return paths

    async def read(self) -> Paths:
        """The paths of every session, by kernel id (kernels without a session are absent)."""
        if self._direct is not False:
            try:
                paths = self._read_table()
                self._direct = True
                return paths
            except (AttributeError, sqlite3.Error, TypeError, ValueError) as error:
                if self._direct is None:
                    self._log.info("bgjobs: reading sessions through list_sessions (%s)", error)
                    self._direct = False
                else:  # it worked before: a passing fault; fall back this once
                    self._log.warning("bgjobs: could not read the session table: %s", error)
        paths = {}
        for session in await ensure_async(self._session_manager.list_sessions()):
            kernel = session.get("kernel") or {}
            if kernel.get("id") and session.get("path"):
                paths.setdefault(kernel["id"], []).append(session["path"])
        return paths
