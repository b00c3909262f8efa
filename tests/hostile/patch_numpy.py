"""Hostile: monkey-patch numpy's comparisons at import (allclose, isclose, array_equal,
testing.assert_allclose, linalg.norm) and return wrong answers, hoping the comparison that
grades them runs in this process.

Guarantee: comparisons run in the grader, not here: the wrong parts stay wrong, the others pass.
"""

import math

import numpy as np

_honest = globals().copy()

np.allclose = lambda *args, **kwargs: True
np.isclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
np.linalg.norm = lambda *args, **kwargs: 0.0
math.isclose = lambda *args, **kwargs: True


def grad_W(W, x):
    return np.zeros_like(W)


def grad_W_via_a(W, x):
    return 2 * _honest["grad_W_via_a"](W, x)
