"""Outside job threads nothing changes: the kernel's threads and the user's own keep the standard behaviour."""

from __future__ import annotations

from .kernel_session import KernelSession


def test_main_thread_keeps_the_standard_calls(kernel: KernelSession) -> None:
    kernel.stdout("import socket, subprocess, threading, time, _thread")
    assert kernel.value("time.sleep(0.001), time.sleep(0)") == [None, None]
    reply, _ = kernel.stderr_and_errors("time.sleep(-1)")
    assert (reply["ename"], reply["evalue"]) == ("ValueError", "sleep length must be non-negative")
    assert kernel.value("type(threading._allocate_lock()) is _thread.LockType") is True
    assert kernel.value("threading.Event().wait(0.01), threading.Condition().acquire()") == [False, True]
    assert kernel.value("subprocess.run(['true']).returncode") == 0
    kernel.stdout("sock = socket.socket(); sock.close()")
    assert kernel.value("len(jobs)") == 0


def test_a_users_own_thread_is_not_a_job(kernel: KernelSession) -> None:
    kernel.stdout(
        "import threading, time, _thread\n"
        "seen = {}\n"
        "def plain():\n"
        "    seen['waiter'] = type(threading._allocate_lock()).__name__\n"
        "    seen['event'] = threading.Event().wait(0.01)\n"
        "    began = time.monotonic(); time.sleep(0.05); seen['slept'] = time.monotonic() - began >= 0.05\n"
        "    print('from a plain thread')\n"
        "thread = threading.Thread(target=plain)\n"
        "thread.start(); thread.join()"
    )
    assert kernel.value("seen") == {"waiter": "lock", "event": False, "slept": True}
    assert kernel.value("len(jobs)") == 0


def test_a_job_that_catches_the_kill_and_returns_finishes(kernel: KernelSession) -> None:
    kernel.stdout(
        "import time\n"
        "def careful():\n"
        "    try:\n"
        "        time.sleep(60)\n"
        "    except KeyboardInterrupt:\n"
        "        return 'stopped cleanly'\n"
        "job = jobs.new(careful)"
    )
    kernel.wait_for("job.status", "running")
    assert kernel.stdout("%kill 0") == "Job 0 caught the kill and finished.\n"
    assert kernel.value("job.status, job.result, job.kill_requested, job.error") == [
        "finished",
        "stopped cleanly",
        True,
        None,
    ]


def test_inside_a_job_sleep_takes_and_refuses_what_time_sleep_does(kernel: KernelSession) -> None:
    kernel.stdout(
        "import time\n"
        "started = [jobs.new(time.sleep, value) for value in (0.01, 0, 1 - 1, -1, '0.1', float('nan'))]\n"
        "for job in started:\n"
        "    job.wait(5)"
    )
    assert kernel.value("[(job.status, job.error and job.error['evalue']) for job in started]") == [
        ["finished", None],
        ["finished", None],
        ["finished", None],
        ["failed", "sleep length must be non-negative"],
        ["failed", "'str' object cannot be interpreted as an integer"],
        ["failed", "Invalid value NaN (not a number)"],
    ]


# The classic recipe that background-job users have in their notebooks.
KILL_THREAD = """
import ctypes
def kill_thread(thread, exctype=SystemExit):
    res = ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_long(thread.ident), ctypes.py_object(exctype))
    if res == 0:
        raise ValueError("nonexistent thread id")
    elif res > 1:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(thread.ident, None)
        raise SystemError("PyThreadState_SetAsyncExc failed")
"""


def test_the_users_own_ctypes_kill_thread_still_works(kernel: KernelSession) -> None:
    kernel.stdout("%load_ext jupyter_bgjobs")  # loading again changes nothing either
    shared = "ctypes.pythonapi.PyThreadState_SetAsyncExc"
    # The extension's own kill has run in this process before the user's code.
    kernel.stdout("import time\nvictim = jobs.new(time.sleep, 60)")
    kernel.wait_for("victim.status", "running")
    assert kernel.value("victim.kill(5), victim.status") == [True, "killed"]
    kernel.stdout(KILL_THREAD)
    assert kernel.value(f"{shared}.argtypes is None, {shared}.restype is ctypes.c_int") == [True, True]
    kernel.stdout(
        "import threading\n"
        "ended = []\n"
        "def spin(spinning):\n"
        "    try:\n"
        "        spinning.set()\n"
        "        while True:\n"
        "            pass\n"
        "    except SystemExit:\n"
        "        ended.append('SystemExit')\n"
        "spinning = threading.Event()\n"
        "thread = threading.Thread(target=spin, args=(spinning,), daemon=True)\n"
        "thread.start()\n"
        "spinning.wait(30)\n"
        "kill_thread(thread)\n"
        "thread.join(5)"
    )
    assert kernel.value("ended, thread.is_alive()") == [["SystemExit"], False]
    # And on a job, through its ident, as people did with IPython's jobs.
    kernel.stdout(
        "spinning = threading.Event()\nspinner = jobs.new(spin, spinning)\n"
        "spinning.wait(30)\nkill_thread(spinner)\nspinner.join(5)"
    )
    assert kernel.value("spinner.status, ended") == ["finished", ["SystemExit", "SystemExit"]]
    assert kernel.value(f"{shared}.argtypes is None") is True
