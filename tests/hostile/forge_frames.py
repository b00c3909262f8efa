"""Hostile: write forged frames straight to the result pipe (found through /proc/self/fd or
by probing fd numbers): a result for a part that already ran, garbage bytes, a "layers" frame
claiming more isolation than there is plus a "fatal" frame with a forged warning, and a
result for the running part (all-zero numbers) ahead of the honest one.

Guarantee: the grader believes no header field but the numbers of the running part: forged
parts fail (or earn exactly what their numbers earn: zeros are wrong), the report's isolation
layers and warnings are the grader's own, the other parts keep their credit.
"""

import fcntl
import json
import os
import stat
import struct

_honest = globals().copy()
N_CASES = 5  # 3 public + 2 hidden in the shipped spec


def _frame(header, payload=b""):
    head = json.dumps(header).encode()
    return struct.pack("<II", len(head), len(payload)) + head + payload


def _result_fds():
    try:
        candidates = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        candidates = list(range(3, 64))
    found = []
    for fd in candidates:
        try:
            mode = os.fstat(fd).st_mode
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        except OSError:
            continue
        if stat.S_ISFIFO(mode) and flags & os.O_ACCMODE == os.O_WRONLY:
            found.append(fd)
    if not found:
        raise RuntimeError("no result pipe found")
    return found


def _send(data):
    for fd in _result_fds():
        os.write(fd, data)


def _zeros_result(part, shape):
    size = 8
    for n in shape:
        size *= n
    cases = [{"leaves": [["", "<f8", list(shape)]]}] * N_CASES
    header = {"t": "result", "part": part, "failure": None, "cases": cases}
    return _frame(header, bytes(size * N_CASES))


def grad_K(X, Y, alpha, beta):
    _send(_zeros_result(1, [2, 1]))  # part 1 (grad_c) ran earlier in this child
    return _honest["grad_K"](X, Y, alpha, beta)


def grad_X(X, Y, alpha, beta):
    _send(b"\xff" * 4096)
    return _honest["grad_X"](X, Y, alpha, beta)


def grad_alpha(X, Y, alpha, beta):
    _send(_frame({"t": "layers", "layers": ["rlimits", "bwrap", "netns", "FORGED-LAYER"]}))
    _send(_frame({"t": "fatal", "message": "FORGED-WARNING: all parts verified by hand"}))
    return _honest["grad_alpha"](X, Y, alpha, beta)


def grad_beta(X, Y, alpha, beta):
    _send(_zeros_result(13, []))  # part 13 is this one; the honest frame follows
    return _honest["grad_beta"](X, Y, alpha, beta)
