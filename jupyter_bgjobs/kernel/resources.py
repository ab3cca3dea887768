"""What a kill must wake besides the injected exception: sockets and child processes.

A job thread blocked in ``recv`` or in ``waitpid`` sits in C code, where an
injected exception does not land. Shutting down the sockets the job opened
makes ``recv`` return; terminating the child processes it started makes
``waitpid`` return. Either way the thread is back in Python, where the kill
lands.

Only the job's own thread adds; the killing threads read. Both go through
plain lists of weak references: ``list(refs)`` is one atomic copy under the
GIL, so a reader never sees a list change while it iterates (a WeakSet
could), and objects the job has dropped are not kept alive.
"""

from __future__ import annotations

import socket
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import subprocess

# Dead references are pruned when a list doubles past this size, so a job that
# opens a million connections keeps a list about as long as its live ones.
_PRUNE_AT = 64


def _add(refs: list[weakref.ref[Any]], obj: Any, prune_at: int) -> int:
    refs.append(weakref.ref(obj))
    if len(refs) < prune_at:
        return prune_at
    refs[:] = [ref for ref in refs if ref() is not None]
    return max(_PRUNE_AT, 2 * len(refs))


class JobResources:
    """The sockets and child processes one job created (created on first use)."""

    def __init__(self) -> None:
        self._sockets: list[weakref.ref[socket.socket]] = []
        self._processes: list[weakref.ref[subprocess.Popen[Any]]] = []
        self._prune_sockets = _PRUNE_AT
        self._prune_processes = _PRUNE_AT

    def add_socket(self, sock: socket.socket) -> None:
        self._prune_sockets = _add(self._sockets, sock, self._prune_sockets)

    def add_process(self, process: subprocess.Popen[Any]) -> None:
        self._prune_processes = _add(self._processes, process, self._prune_processes)

    def processes(self) -> list[subprocess.Popen[Any]]:
        """The child processes of the job that are still referenced (running or not)."""
        return [process for process in (ref() for ref in list(self._processes)) if process is not None]

    def shut_down_sockets(self) -> None:
        """Make every blocked ``recv``/``send``/``accept`` on the job's sockets return."""
        for ref in list(self._sockets):
            sock = ref()
            if sock is None:
                continue
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # closed already, or never connected
                pass

    def stop_processes(self, force: bool) -> None:
        """SIGTERM (or SIGKILL with ``force``) to the job's child processes still running."""
        for ref in list(self._processes):
            process = ref()
            if process is None:
                continue
            try:
                # poll() first: a reaped child's pid may belong to a stranger now.
                if process.poll() is None:
                    if force:
                        process.kill()
                    else:
                        process.terminate()
            except OSError:
                pass
