"""Raise an exception asynchronously in another thread (CPython only).

``PyThreadState_SetAsyncExc`` sets a pending exception that the target
thread raises at its next bytecode boundary. Facts that matter here:

- pass the exception *class* (the interpreter instantiates it in the target
  thread, which lets ``JobKilled.__init__`` record the delivery);
- the thread id is an unsigned long;
- clearing a pending exception takes NULL (``py_object()``), never None,
  which would set ``None`` as the exception to raise;
- the function object is a private prototype of our own: setting
  ``argtypes`` on the shared ``ctypes.pythonapi.PyThreadState_SetAsyncExc``
  would change it for every user of this process (the classic
  ``kill_thread`` recipe passes a ``c_long`` and would then get an
  ``ArgumentError``).
"""

from __future__ import annotations

import ctypes

_set_async_exc = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi)
)


def inject(thread_id: int, exc_type: type[BaseException]) -> bool:
    """Make ``thread_id`` raise ``exc_type``; True if that thread exists."""
    found: int = _set_async_exc(thread_id, exc_type)
    if found > 1:  # cannot happen with a valid id; undo rather than hit strangers
        _set_async_exc(thread_id, ctypes.py_object())
        return False
    return found == 1


def clear(thread_id: int) -> None:
    """Drop an exception still pending for ``thread_id``."""
    _set_async_exc(thread_id, ctypes.py_object())
