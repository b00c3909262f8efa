"""Hostile: return huge arrays: 10^8 elements (800 MB), a 10^12-element broadcast view, and
10^6 elements per case (allowed per value, but 40 MB for the part's 5 cases: more than one
result frame may carry).

Guarantee: the grader never allocates them: those parts get a clear status (memory, wrong
type, crashed), the grader's memory stays flat, the other parts pass.
"""

import numpy as np


def grad_W(W, x):
    return np.zeros((10**4, 10**4))


def grad_W_via_a(W, x):
    return np.broadcast_to(np.float64(0), (10**6, 10**6))


def grad_W_via_b(W, x):
    return np.zeros((1000, 1000))
