"""Hostile: three ways to exhaust memory: one 16 GiB array, a hoard of 64 MiB buffers, a
1 TiB bytes object.

Guarantee: those parts get the `memory` status; the grader and the other parts are unaffected.
"""

import numpy as np


def grad_W(W, x):
    return np.ones(2**31)


def grad_W_via_a(W, x):
    hoard = []
    while True:
        hoard.append(np.empty(8 << 20))  # 64 MiB each, untouched: fast to hoard


def grad_W_via_b(W, x):
    return b"x" * (1 << 40)
