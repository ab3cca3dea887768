"""The notebook code both remote backends' tests run first: the four kinds of task a kill must end, a map's items."""

# `port`: a silent server, so that `socket_wait` blocks until it is killed;
# `catastrophic_regex` holds the GIL in C (only a process kill ends it).
TASKS = r"""
import os, re, signal, socket, time
import jupyter_bgjobs

silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen(8)
port = silent.getsockname()[1]

def busy_loop():
    while True:
        pass

def sleep_60():
    time.sleep(60)

def socket_wait():
    s = socket.create_connection(("127.0.0.1", port))
    s.recv(1)

def catastrophic_regex():
    return re.match(r"(a+)+$", "a" * 64 + "b")

def square(x):
    return x * x

def slow_square(x):
    if x == 5:
        time.sleep(60)
    return x * x
"""
