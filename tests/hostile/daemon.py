"""Hostile: a classic daemon: fork, setsid, fork again, then (1.5 s later, long after the
part's time) write a marker file; also a raw fork(2) through ctypes.

Guarantee (seccomp): no daemon starts, so none outlives grading and the marker is never
written; those parts fail and the other parts pass.
"""

import ctypes
import json
import os
import time

_honest = globals().copy()
_libc = ctypes.CDLL(None, use_errno=True)


def _config():
    with open("hostile_config.json", encoding="utf-8") as handle:
        return json.load(handle)


def grad_W(W, x):
    marker = _config()["markers"] + "/daemon"
    if os.fork() == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                _libc.prctl(15, b"hostile-daemon", 0, 0, 0)  # PR_SET_NAME
                time.sleep(1.5)
                with open(marker, "w", encoding="utf-8") as handle:
                    handle.write("the daemon outlived its parent")
        finally:
            os._exit(0)
    return _honest["grad_W"](W, x)


def grad_W_via_a(W, x):
    pid = _libc.syscall(57)  # fork(2) on x86_64, bypassing glibc's clone()
    if pid == 0:
        _libc.prctl(15, b"hostile-daemon", 0, 0, 0)
        time.sleep(30)
        os._exit(0)
    if pid < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return _honest["grad_W_via_a"](W, x)
