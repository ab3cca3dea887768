"""The kernel's end of the protocol: the two comm targets of protocol.py.

Where messages come in:

- the shell channel, as for any comm (the main shell, or a kernel subshell
  when the client puts a ``subshell_id`` in the header);
- the control channel: ipykernel only dispatches comm messages that arrive
  on the shell channel, so ``CommEndpoint.serve_on_control_channel`` adds
  handlers to the kernel's control handlers for this protocol's own comm
  message types (``protocol.CONTROL_CHANNEL_TYPES``), for its two targets
  only. The control channel is served by its own thread on ipykernel 6 and
  7 alike, so requests are answered while the main shell runs a long cell;
  unlike a subshell, it does not make the kernel re-route where the output
  of the user's threads goes.

Handlers run on the main shell, a subshell thread or the control thread; they
are thread-safe, never block, and answer every malformed message with an
error instead of raising into the kernel.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import protocol
from ..protocol import ProtocolError
from .errors import JobStateError, NoSuchJob

if TYPE_CHECKING:
    from .job import Job
    from .manager import JobManager

log = logging.getLogger(__name__)

ControlHandler = Callable[[Any, Any, dict[str, Any]], Any]


def _data(msg: Any) -> Any:
    try:
        return msg["content"]["data"]
    except (KeyError, TypeError):
        return None


class TargetComm:
    """One open comm of either target (the comm package's comm, and how this module serves it)."""

    def __init__(self, comm: Any, endpoint: CommEndpoint) -> None:
        self.comm = comm
        self._endpoint = endpoint
        # The comm package's `handle_msg` fires the shell's pre_execute and
        # post_execute events around the callback; on a thread other than the
        # main one that would run hooks such as matplotlib's figure flushing
        # in the middle of the user's cell. This comm is ours: it takes its
        # messages straight.
        comm.handle_msg = self.handle
        comm.on_close(self._closed)

    def handle(self, msg: Any) -> None:
        """A comm_msg for this comm (from any thread)."""
        raise NotImplementedError

    def closed(self) -> None:
        """The client closed the comm."""

    def retire(self) -> None:
        """A new ``comm_open`` took this comm's id: stop without a ``comm_close``.

        The comm manager already holds the new comm under the same id. The old
        one must stop pushing (two streams of ``seq`` on one id), and must not
        publish a ``comm_close`` when it is garbage-collected (``BaseComm``
        closes itself in ``__del__``): the client would take it for the close
        of the new comm. The comm manager marks the comms it drops the same way.
        """
        self.comm._closed = True
        self.closed()

    def _closed(self, msg: Any) -> None:
        self._endpoint.forget(self.comm.comm_id)
        self.closed()


# A running job's output and progress may change every few milliseconds;
# they are pushed at most this often per job (every other change at once).
MINOR_INTERVAL = 0.25
MINOR_FIELDS = frozenset({"output_tail", "progress"})
# At most this many jobs in one update message (a burst is several updates):
# the server validates and applies a message in one go on its event loop.
MAX_PUSH_JOBS = 100


def _major(record: dict[str, Any]) -> dict[str, Any]:
    """A wire record without the fields whose changes may wait."""
    return {field: value for field, value in record.items() if field not in MINOR_FIELDS}


class EventsComm(TargetComm):
    """An events comm: a snapshot when it opens, then coalesced updates.

    The job feed hands out batches every 20 ms. A job whose only change is
    its output or progress, pushed less than ``MINOR_INTERVAL`` ago, is held
    back and pushed (in its latest state) when the interval is over: a job
    that prints all the time costs the client 4 updates a second, not 50.
    """

    def __init__(self, comm: Any, endpoint: CommEndpoint, manager: JobManager) -> None:
        super().__init__(comm, endpoint)
        self._manager = manager
        self._seq = 0
        self._lock = threading.Lock()
        self._sent: dict[str, tuple[dict[str, Any], float]] = {}  # uid -> (major fields, when) last pushed
        self._held: dict[str, dict[str, Any]] = {}  # uid -> latest record, held back
        self._timer: threading.Timer | None = None
        self._open = True
        # Updates are sent from the job feed's thread. ipykernel 7.4 takes the
        # parent header of a comm message from the sending thread's context
        # and routes the client's next messages on that comm to the subshell
        # named there; sending in the context of the comm_open keeps the
        # client's resync on the subshell (or channel) it chose.
        self._context = contextvars.copy_context()
        with self._lock:
            # Listen before the snapshot: a change racing with it then comes
            # as an update right after it (the listener waits for the lock).
            manager.add_listener(self._on_changes)
            self._send_snapshot_locked()

    def _send_snapshot_locked(self) -> None:
        records = [job.to_wire() for job in self._manager.list()]
        self._held.clear()
        now = time.monotonic()
        self._sent = {record["uid"]: (_major(record), now) for record in records}
        self.comm.send(protocol.snapshot(self._seq, records))
        self._seq += 1

    def _send_update_locked(self, records: list[dict[str, Any]], removed: list[str]) -> None:
        now = time.monotonic()
        for record in records:
            self._sent[record["uid"]] = (_major(record), now)
        # A big batch goes as several updates (consecutive seqs): the client
        # parses and applies each message in one go on its event loop.
        for at in range(0, max(len(records), 1), MAX_PUSH_JOBS):
            last = at + MAX_PUSH_JOBS >= len(records)
            self.comm.send(protocol.update(self._seq, records[at : at + MAX_PUSH_JOBS], removed if last else []))
            self._seq += 1

    def _on_changes(self, jobs: list[Job], removed: list[str]) -> None:
        records = [job.to_wire() for job in jobs]
        self._context.copy().run(self._push, records, removed)

    def _push(self, records: list[dict[str, Any]], removed: list[str]) -> None:
        with self._lock:
            if not self._open:
                return
            now = time.monotonic()
            due = []
            for record in records:
                uid = record["uid"]
                sent = self._sent.get(uid)
                if sent is not None and now - sent[1] < MINOR_INTERVAL and sent[0] == _major(record):
                    self._held[uid] = record
                else:
                    self._held.pop(uid, None)
                    due.append(record)
            for uid in removed:
                self._held.pop(uid, None)
                self._sent.pop(uid, None)
            if due or removed:
                self._send_update_locked(due, removed)
            if self._held and self._timer is None:
                wait = min(self._sent[uid][1] for uid in self._held) + MINOR_INTERVAL - now
                self._timer = threading.Timer(max(wait, 0.0), self._release)
                self._timer.daemon = True
                self._timer.start()

    def _release(self) -> None:
        self._context.copy().run(self._release_held)

    def _release_held(self) -> None:
        with self._lock:
            self._timer = None
            held, self._held = list(self._held.values()), {}
            if held and self._open:
                self._send_update_locked(held, [])

    def handle(self, msg: Any) -> None:
        try:
            protocol.parse_events_request(_data(msg))
        except ProtocolError as error:
            self.comm.send(protocol.event_error(error.code, error.message))
            return
        with self._lock:
            self._send_snapshot_locked()

    def closed(self) -> None:
        self._manager.remove_listener(self._on_changes)
        with self._lock:
            self._open = False
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None


class ControlComm(TargetComm):
    """A comm of the control target (commands): each request gets one reply, from the handler's thread.

    Not to be confused with the kernel's control *channel* (a ZeroMQ socket),
    which may carry its messages: see ``CommEndpoint.serve_on_control_channel``.
    """

    def __init__(self, comm: Any, endpoint: CommEndpoint, manager: JobManager) -> None:
        super().__init__(comm, endpoint)
        self._manager = manager

    def handle(self, msg: Any) -> None:
        data = _data(msg)
        try:
            req_id, op, args = protocol.parse_request(data)
        except ProtocolError as error:
            self.comm.send(protocol.reply_error(protocol.request_id_of(data), error.code, error.message))
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
        self.comm.send(reply)

    def _op_list(self) -> dict[str, Any]:
        return {"jobs": [job.to_wire() for job in self._manager.list()]}

    def _op_get(self, uid: str) -> dict[str, Any]:
        return {"job": self._manager.get(uid).to_wire()}

    def _op_kill(self, uid: str) -> dict[str, Any]:
        job = self._manager.get(uid)
        self._manager.kill(job, wait=None)
        return {"job": job.to_wire()}

    def _op_kill_all(self, group: str | None) -> dict[str, Any]:
        return {"killed": [job.uid for job in self._manager.kill_all(group=group)]}

    def _op_kill_many(self, uids: list[str]) -> dict[str, Any]:
        killed, refused = self._manager.kill_many(uids)
        return {
            "killed": [job.uid for job in killed],
            "refused": [
                {
                    "uid": uid,
                    "code": "not_found" if isinstance(error, NoSuchJob) else "conflict",
                    "message": protocol.wire_head(str(error), protocol.MAX_MESSAGE),
                }
                for uid, error in refused.items()
            ],
        }

    def _op_remove(self, uid: str) -> dict[str, Any]:
        self._manager.remove(uid)
        return {"removed": uid}


class CommEndpoint:
    """The two targets of one kernel and their open comms."""

    def __init__(self, comm_manager: Any, manager: JobManager) -> None:
        self._comm_manager = comm_manager
        self._manager = manager
        self._comms: dict[str, TargetComm] = {}
        self._lock = threading.Lock()

    def register(self) -> None:
        self._comm_manager.register_target(protocol.EVENTS_TARGET, self._open_events)
        self._comm_manager.register_target(protocol.CONTROL_TARGET, self._open_control)

    def _open_events(self, comm: Any, msg: Any) -> None:
        self._retire(comm.comm_id)
        if self._accept(comm, msg, protocol.event_error):
            self._keep(EventsComm(comm, self, self._manager))

    def _open_control(self, comm: Any, msg: Any) -> None:
        self._retire(comm.comm_id)
        if self._accept(comm, msg, lambda code, message: protocol.reply_error(None, code, message)):
            self._keep(ControlComm(comm, self, self._manager))

    @staticmethod
    def _accept(comm: Any, msg: Any, error: Callable[[str, str], dict[str, Any]]) -> bool:
        try:
            protocol.parse_open(_data(msg))
        except ProtocolError as problem:
            comm.send(error(problem.code, problem.message))
            comm.close()
            return False
        return True

    def _keep(self, target_comm: TargetComm) -> None:
        with self._lock:
            self._comms[target_comm.comm.comm_id] = target_comm

    def _retire(self, comm_id: str) -> None:
        # A client that opens a comm id twice replaces the first comm (the
        # comm manager already did): only the latest open is served.
        with self._lock:
            old = self._comms.pop(comm_id, None)
        if old is not None:
            log.warning("bgjobs: comm %s was opened again; the earlier one is replaced", comm_id)
            old.retire()

    def forget(self, comm_id: str) -> None:
        with self._lock:
            self._comms.pop(comm_id, None)

    def comm_for(self, comm_id: Any) -> TargetComm | None:
        """The open comm of that id, if it is one of this endpoint's."""
        with self._lock:
            return self._comms.get(comm_id) if isinstance(comm_id, str) else None

    # --- the kernel's control channel (ZeroMQ): a second way in for both targets ---

    def serve_on_control_channel(self, kernel: Any) -> bool:
        """Take this module's comm messages on the kernel's control channel too.

        ``kernel.control_handlers`` maps message types to handlers that the
        control thread calls with ``(stream, idents, msg)``; ipykernel 6.29+
        and 7 both dispatch through it. The message types are this
        protocol's own (``protocol.CONTROL_CHANNEL_TYPES``), so nothing else
        that arrives on the control channel changes.
        """
        handlers = getattr(kernel, "control_handlers", None)
        if not isinstance(handlers, dict):
            return False
        ours: dict[str, ControlHandler] = {
            "comm_open": self._control_open,
            "comm_msg": self._control_msg,
            "comm_close": self._control_close,
        }
        for kind, handler in ours.items():
            handlers[protocol.CONTROL_CHANNEL_TYPES[kind]] = handler
        return True

    def _control_open(self, stream: Any, idents: Any, msg: dict[str, Any]) -> None:
        content = msg.get("content")
        if isinstance(content, dict) and content.get("target_name") in protocol.TARGETS:
            self._comm_manager.comm_open(stream, idents, msg)
        else:
            log.warning("bgjobs: ignored a comm_open on the control channel for another target")

    def _control_msg(self, stream: Any, idents: Any, msg: dict[str, Any]) -> None:
        content = msg.get("content")
        target_comm = self.comm_for(content.get("comm_id") if isinstance(content, dict) else None)
        if target_comm is not None:
            target_comm.handle(msg)
        else:
            log.warning("bgjobs: ignored a comm message on the control channel for a comm that is not open")

    def _control_close(self, stream: Any, idents: Any, msg: dict[str, Any]) -> None:
        content = msg.get("content")
        if self.comm_for(content.get("comm_id") if isinstance(content, dict) else None) is not None:
            self._comm_manager.comm_close(stream, idents, msg)


def _running_kernel() -> Any:
    """The ipykernel kernel of this process, if there is one."""
    try:
        from ipykernel.kernelbase import Kernel
    except ImportError:  # a comm manager outside ipykernel
        return None
    return Kernel.instance() if Kernel.initialized() else None


def register_comm_targets(comm_manager: Any, manager: JobManager) -> CommEndpoint:
    """Register both targets with a kernel's comm manager (and its control channel)."""
    endpoint = CommEndpoint(comm_manager, manager)
    endpoint.register()
    kernel = _running_kernel()
    if kernel is not None:
        endpoint.serve_on_control_channel(kernel)
    return endpoint
