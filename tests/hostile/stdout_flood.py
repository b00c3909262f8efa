"""Hostile: flood stdout (print) and stderr (raw writes) with 100 MiB each.

Guarantee: the output files are capped (RLIMIT_FSIZE), those parts fail, the report keeps a
short stdout tail, the grader is unaffected and the other parts pass.
"""

import os

_CHUNK = "x" * (1 << 20)


def grad_W(W, x):
    for _ in range(100):
        print(_CHUNK)


def grad_W_via_a(W, x):
    data = _CHUNK.encode()
    for _ in range(100):
        os.write(2, data)
