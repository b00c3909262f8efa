"""Compare one returned array with the expected one: shape, then finiteness, then values.

The verdict rule (one place, used everywhere): a value matches when
``||got - expected||_F <= atol + rtol * ||expected||_F``. A norm over the whole array, not per
element: gradients have entries of very different sizes, and a per-element rule would reject
correct answers on tiny entries (measured: shared/notes/gradient-checking-and-latex.md).

A leaf: numpy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Comparison", "compare", "matches"]

# How many mismatching entries the feedback shows (pytest.approx shows a short table too).
SHOWN_ENTRIES = 3


@dataclass(frozen=True, slots=True)
class Comparison:
    status: str  # passed | wrong_shape | not_finite | wrong_value
    got_shape: tuple[int, ...]
    expected_shape: tuple[int, ...]
    rel_error: float | None = None
    max_abs_error: float | None = None
    mismatched: int = 0
    total: int = 0
    worst: tuple[tuple[tuple[int, ...], float, float], ...] = ()

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def matches(got: np.ndarray, expected: np.ndarray, *, rtol: float, atol: float) -> bool:
    if expected.shape == () and got.size == 1:
        got = got.reshape(())
    if got.shape != expected.shape:
        return False
    if not np.all(np.isfinite(got)):
        return False
    return bool(np.linalg.norm(got - expected) <= atol + rtol * np.linalg.norm(expected))


def compare(got: np.ndarray, expected: np.ndarray, *, rtol: float, atol: float) -> Comparison:
    expected = np.asarray(expected, dtype=float)
    if expected.shape == () and got.size == 1:
        got = got.reshape(())  # a scalar may come back as any size-1 array
    if got.shape != expected.shape:
        return Comparison("wrong_shape", got.shape, expected.shape)
    # Plain dot products and ndarray methods, not np.linalg.norm or np.all: this runs for every
    # case of every part of every submission.
    delta = (got - expected).ravel()
    squares = float(delta @ delta)
    if not math.isfinite(squares):  # a nan or inf in got, or numbers too large to square
        finite = np.isfinite(got)
        if not finite.all():
            bad = int(got.size - np.count_nonzero(finite))
            return Comparison(
                "not_finite", got.shape, expected.shape, mismatched=bad, total=int(got.size)
            )
    flat = expected.ravel()
    error = math.sqrt(squares)  # inf for numbers too large: wrong, as they should be
    norm_expected = math.sqrt(float(flat @ flat))
    rel = error / norm_expected if norm_expected > 0 else (0.0 if error == 0 else math.inf)
    ok = error <= atol + rtol * norm_expected
    diff = np.abs(delta)
    if ok:
        return Comparison(
            "passed",
            got.shape,
            expected.shape,
            rel_error=rel,
            max_abs_error=float(diff.max()) if diff.size else 0.0,
            total=int(got.size),
        )
    # Entries that stand out, for the feedback table: per-entry rule with the same tolerances.
    entry_bad = diff > atol + rtol * np.abs(flat)
    order = np.argsort(-diff)[:SHOWN_ENTRIES]
    worst = tuple(
        (
            tuple(int(i) for i in np.unravel_index(int(k), got.shape)),
            float(got.flat[k]),
            float(expected.flat[k]),
        )
        for k in order
        if entry_bad[k]
    )
    return Comparison(
        "wrong_value",
        got.shape,
        expected.shape,
        rel_error=rel,
        max_abs_error=float(diff.max()) if diff.size else 0.0,
        mismatched=int(np.count_nonzero(entry_bad)),
        total=int(got.size),
        worst=worst,
    )
