"""Hostile: monkey-patch the grader's own code loaded in this process (grader.harness and
grader.wire, reachable through sys.modules): mark every result "passed", turn errors into
"passed", lift the size cap, and import the grader's scoring and reference modules.

Guarantee: only the numbers a part returns are believed: the wrong parts stay wrong, the others
pass.
"""

import importlib

import numpy as np

import grader.harness
import grader.wire

_honest = globals().copy()
_send = grader.harness._Output.send


def _forged_send(self, header, payload=b""):
    header = dict(header)
    if header.get("t") == "result":
        header.update(status="passed", score=1e9, passed=True)
        header["cases"] = [{**case, "status": "passed"} for case in header.get("cases", [])]
    _send(self, header, payload)


grader.harness._Output.send = _forged_send
grader.harness._call_error = lambda exc: "passed"
grader.harness.MAX_ELEMENTS = 10**12
grader.wire.UNTRUSTED_DTYPES = frozenset({"<f8", "|O"})


def grad_W(W, x):
    raise ValueError("wrong, but the patched harness says passed")


def grad_W_via_a(W, x):
    return np.zeros_like(W)


def grad_W_via_b(W, x):
    importlib.import_module("grader.scoring")  # reads the grader's source tree
    return _honest["grad_W_via_b"](W, x)
