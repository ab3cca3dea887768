"""The kernel's end of the protocol: the two comm targets of protocol.py.

Handlers may run on the main shell, a subshell thread or the comm manager's
thread (JupyterLab 4.4+ opens comms over subshells); they are thread-safe,
never block, and answer every malformed message with an error instead of
raising into the kernel.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from .. import protocol
from ..protocol import ProtocolError
from .errors import JobStateError, NoSuchJob

if TYPE_CHECKING:
    from .job import Job
    from .manager import JobManager

log = logging.getLogger(__name__)


def _data(msg: Any) -> Any:
    try:
        return msg["content"]["data"]
    except (KeyError, TypeError):
        return None


class EventsChannel:
    """One open events comm: a snapshot when it opens, then coalesced updates."""

    def __init__(self, comm: Any, manager: JobManager) -> None:
        self._comm = comm
        self._manager = manager
        self._seq = 0
        self._lock = threading.Lock()
        comm.on_msg(self._on_msg)
        comm.on_close(self._on_close)
        with self._lock:
            # Listen before the snapshot: a change racing with it then comes
            # as an update right after it (the listener waits for the lock).
            manager.add_listener(self._on_changes)
            self._send_locked(protocol.snapshot(self._seq, self._records(manager.list())))

    @staticmethod
    def _records(jobs: list[Job]) -> list[dict[str, Any]]:
        return [job.to_wire() for job in jobs]

    def _send_locked(self, message: dict[str, Any]) -> None:
        self._comm.send(message)
        self._seq += 1

    def _on_changes(self, jobs: list[Job], removed: list[str]) -> None:
        with self._lock:
            self._send_locked(protocol.update(self._seq, self._records(jobs), removed))

    def _on_msg(self, msg: Any) -> None:
        data = _data(msg)
        if isinstance(data, dict) and data.get("v") == protocol.VERSION and data.get("type") == "resync":
            with self._lock:
                self._send_locked(protocol.snapshot(self._seq, self._records(self._manager.list())))
            return
        self._comm.send(
            {
                "v": protocol.VERSION,
                "type": "error",
                "error": {"code": "bad_request", "message": "expected a resync request"},
            }
        )

    def _on_close(self, msg: Any) -> None:
        self._manager.remove_listener(self._on_changes)


class ControlChannel:
    """One open control comm: each request gets one reply, from the handler's thread."""

    def __init__(self, comm: Any, manager: JobManager) -> None:
        self._comm = comm
        self._manager = manager
        comm.on_msg(self._on_msg)

    def _on_msg(self, msg: Any) -> None:
        data = _data(msg)
        try:
            req_id, op, args = protocol.parse_request(data)
        except ProtocolError as error:
            self._comm.send(protocol.reply_error(protocol.request_id_of(data), error.code, error.message))
            return
        try:
            reply = protocol.reply_ok(req_id, **getattr(self, f"_op_{op}")(**args))
        except NoSuchJob as error:
            reply = protocol.reply_error(req_id, "not_found", str(error))
        except JobStateError as error:
            reply = protocol.reply_error(req_id, "conflict", str(error))
        except Exception as error:  # never let a request break the kernel
            log.exception("bgjobs control request %s failed", op)
            reply = protocol.reply_error(req_id, "internal", f"{type(error).__name__}: {error}")
        self._comm.send(reply)

    def _op_list(self) -> dict[str, Any]:
        return {"jobs": [job.to_wire() for job in self._manager.list()]}

    def _op_get(self, uid: str) -> dict[str, Any]:
        return {"job": self._manager.get(uid).to_wire()}

    def _op_kill(self, uid: str) -> dict[str, Any]:
        job = self._manager.get(uid)
        if not job._request_kill():
            raise JobStateError(f"job {job.number} is not running (it is {job.status})")
        return {"job": job.to_wire()}

    def _op_kill_all(self, group: str | None) -> dict[str, Any]:
        return {"killed": [job.uid for job in self._manager.kill_all(group=group)]}

    def _op_remove(self, uid: str) -> dict[str, Any]:
        self._manager.remove(uid)
        return {"removed": uid}


def register_comm_targets(comm_manager: Any, manager: JobManager) -> None:
    """Register both targets with a kernel's comm manager."""
    comm_manager.register_target(protocol.EVENTS_TARGET, lambda comm, msg: EventsChannel(comm, manager))
    comm_manager.register_target(protocol.CONTROL_TARGET, lambda comm, msg: ControlChannel(comm, manager))
