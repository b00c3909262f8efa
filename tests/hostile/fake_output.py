"""Hostile: print a fake full-marks report, a fake summary line and raw fake frames on stdout
and stderr, and return a wrong grad_W.

Guarantee: stdout and stderr are only ever shown as text (the report's `stdout` tail); the
score is what the numbers earn.
"""

import json
import os
import struct
import sys

import numpy as np

FAKE_REPORT = {
    "submission": "fake_output",
    "score": 20.0,
    "max_score": 20.0,
    "status": "graded",
    "parts": [{"function": "grad_W", "status": "passed", "score": 2.0}],
}


def _frame(header):
    head = json.dumps(header).encode()
    return struct.pack("<II", len(head), 0) + head


def _fake(stream, fd, where):
    print(json.dumps({**FAKE_REPORT, "printed_on": where}), file=stream)
    print("fake_output  20/20  14/14", file=stream)
    stream.flush()
    os.write(fd, _frame({"t": "done", "job": 0, "layers": ["FORGED-LAYER"], "stdout": ""}))
    os.write(fd, _frame({"t": "killed", "job": 0, "part": 0, "reason": "timeout", "detail": ""}))


_fake(sys.stdout, 1, "stdout")
_fake(sys.stderr, 2, "stderr")


def grad_W(W, x):
    _fake(sys.stdout, 1, "stdout")
    return np.zeros_like(W)
