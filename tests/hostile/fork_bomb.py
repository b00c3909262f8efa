"""Hostile: new processes four ways (os.fork in a loop, subprocess, multiprocessing,
posix_spawn), each meant to linger for 30 s under a recognisable name.

Guarantee (seccomp): every attempt fails, so those parts fail; no process survives grading;
the other parts pass. Each part returns the right answer only if its processes started.
"""

import ctypes
import multiprocessing
import os
import subprocess
import time

_honest = globals().copy()
LINGER = "31.4159"  # a recognisable sleep argument: the test scans /proc for it


def _linger():
    ctypes.CDLL(None).prctl(15, b"hostile-fork", 0, 0, 0)  # PR_SET_NAME
    time.sleep(30)


def grad_W(W, x):
    for _ in range(20):
        if os.fork() == 0:
            try:
                _linger()
            finally:
                os._exit(0)
    return _honest["grad_W"](W, x)


def grad_W_via_a(W, x):
    subprocess.Popen(["sleep", LINGER])
    return _honest["grad_W_via_a"](W, x)


def grad_W_via_b(W, x):
    multiprocessing.Process(target=_linger, daemon=False).start()
    return _honest["grad_W_via_b"](W, x)


def grad_a(W, x):
    os.posix_spawn("/bin/sleep", ["sleep", LINGER], {})
    return _honest["grad_a"](W, x)
