"""What every rule of the diagnosis shares: the Diagnosis value, the grader's tolerance rule,
arrays of several cases raveled end to end, and friendly factors (1/2, 0.5882 (1/1.7)).

Internal to grader.diagnosis; stdlib and numpy only.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

# Largest denominator tried when showing a factor as a fraction. Student slips are 2, 1/2, 1/3,
# 3/4, ...; 12 covers those without turning an unrelated 0.7692 into 10/13.
MAX_DENOMINATOR = 12
# Beyond this, a whole-number factor reads better as 1e+06 than as 1000000.
MAX_NUMERATOR = 1000
# How near a fitted factor must be to a simple value (fraction, 1/decimal) before we try it. The
# simple value is kept only if it passes the tolerance rule, so this just bounds the search; it
# is also how near a term coefficient must be to 0, 1 or -1 to be called missing/right/flipped.
SNAP_RTOL = 1e-3
# A term whose part outside the span of the other terms is below this fraction of its own norm
# is numerically a combination of them, so its coefficient cannot be identified.
COLLINEAR_RTOL = 1e-6
# A term is named only if changing its coefficient by this much moves the answer by more than
# the tolerance; otherwise an answer within tolerance could carry either coefficient.
COEF_RESOLUTION = 0.1


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value.item() if isinstance(value, np.generic) else value


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    return [_thaw(v) for v in value] if isinstance(value, tuple) else value


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """A named mistake: a stable `code`, a sentence for the student, JSON-ready `params`."""

    code: str
    message: str
    # Frozen on construction (lists become tuples, dicts read-only) and left out of the hash
    # because a mapping is not hashable. `as_dict` gives plain lists and dicts back.
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", _freeze(self.params))

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "params": _thaw(self.params)}


def as_array(x: object) -> np.ndarray | None:
    """float64 view or copy of x, or None when x is missing, ragged, non-numeric or complex."""
    if x is None:
        return None
    if isinstance(x, np.ndarray) and x.dtype == np.float64:
        return x
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = np.asarray(x)
            if a.dtype.kind == "c":
                if np.any(a.imag != 0):
                    return None
                a = a.real
            return a.astype(np.float64)
    except (TypeError, ValueError, OverflowError):
        return None


def frobenius(a: np.ndarray) -> float:
    """Frobenius norm, scaled first so that entries near 1e308 do not overflow to inf."""
    with np.errstate(all="ignore"):
        big = float(np.max(np.abs(a))) if a.size else 0.0
        return big * float(np.linalg.norm(a.ravel() / big)) if 0 < big < math.inf else big


def close(a: np.ndarray, e: np.ndarray, rtol: float, atol: float) -> bool:
    """The grader's rule: same shape and ||a - e||_F <= atol + rtol * ||e||_F (never NaN/inf)."""
    if a.shape != e.shape:
        return False
    with np.errstate(all="ignore"):
        diff, ref = frobenius(a - e), frobenius(e)
    return math.isfinite(diff) and math.isfinite(ref) and diff <= atol + rtol * ref


class Flat:
    """Arrays of several cases raveled end to end: one numpy call covers every case.

    `norms` are the per-case Frobenius norms. Sums over a case use `np.add.reduceat`, which
    needs every case non-empty: callers leave empty arrays out. Callers silence numpy's
    floating-point warnings once, around the whole diagnosis.
    """

    __slots__ = ("_unit", "flat", "n", "norms", "seg", "sizes", "starts")

    def __init__(self, arrays: Sequence[np.ndarray]) -> None:
        self._lay_out([a.size for a in arrays])
        self.flat = np.concatenate([a.ravel() for a in arrays]) if arrays else np.empty(0)
        self.norms = self.norms_of(self.flat)
        self._unit: np.ndarray | None = None

    @property
    def unit(self) -> np.ndarray:
        """Every case divided by its norm (a zero case stays zero); computed once."""
        if self._unit is None:
            scale = np.where(self.norms > 0, self.norms, 1.0)
            self._unit = self.flat / scale[self.seg]
        return self._unit

    @classmethod
    def layout(cls, sizes: Sequence[int]) -> Flat:
        """Only where each case starts and ends, for sums over arrays laid out alike."""
        out = cls.__new__(cls)
        out._lay_out(sizes)
        out.flat = out.norms = np.empty(0)
        out._unit = None
        return out

    def _lay_out(self, sizes: Sequence[int]) -> None:
        self.n = len(sizes)
        self.sizes = np.asarray(sizes, dtype=np.intp)
        self.starts = np.cumsum(self.sizes) - self.sizes
        self.seg = np.repeat(np.arange(self.n), self.sizes)

    def take(self, positions: Sequence[int]) -> np.ndarray:
        """Indices into a raveled array of the cases at `positions`, in that order."""
        return np.concatenate(
            [np.arange(self.starts[j], self.starts[j] + self.sizes[j]) for j in positions]
        )

    def sums(self, x: np.ndarray) -> np.ndarray:
        """Per-case sums along the last axis."""
        return np.add.reduceat(x, self.starts, axis=-1)

    def norms_of(self, x: np.ndarray) -> np.ndarray:
        """Per-case Frobenius norms along the last axis, exact where squares would overflow."""
        out = np.sqrt(self.sums(x * x))
        total = float(out.sum())  # inf if a square overflowed (NaN if a value was NaN)
        if total == math.inf or (total != total and np.isinf(out).any()):
            # rare: rescale the cells that overflowed
            overflow = np.isinf(out)
            rows, data = out.reshape(-1, self.n), x.reshape(-1, x.shape[-1])
            for r, i in zip(*np.nonzero(overflow.reshape(rows.shape)), strict=True):
                start = self.starts[i]
                rows[r, i] = frobenius(data[r, start : start + self.sizes[i]])
        return out


def passes(residual: np.ndarray, reference: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """The tolerance rule, cell by cell; NaN or inf never passes."""
    return (residual <= atol + rtol * reference) & (reference < math.inf)


def nearest_fraction(c: float) -> tuple[int, int, float]:
    """(numerator, denominator, |error|) of the fraction nearest c with a denominator up to
    MAX_DENOMINATOR, as Fraction.limit_denominator finds it, in a few float steps: this runs
    for every fitted factor of every wrong answer."""
    best, best_err = (0, 1), math.inf
    for d in range(1, MAX_DENOMINATOR + 1):
        p = round(c * d)
        err = abs(p / d - c)
        if err < best_err:
            best, best_err = (p, d), err
    return best[0], best[1], best_err


def fraction(c: float) -> tuple[int, int] | None:
    """The simple fraction within SNAP_RTOL (relative) of a factor c, if there is one."""
    if not math.isfinite(c) or c == 0:
        return None
    p, d, err = nearest_fraction(c)
    return (p, d) if abs(p) <= MAX_NUMERATOR and err <= SNAP_RTOL * abs(c) else None


def fraction_text(frac: tuple[int, int]) -> str:
    return f"{frac[0]}" if frac[1] == 1 else f"{frac[0]}/{frac[1]}"


def reciprocal(c: float) -> float | None:
    """A short decimal r with 1/r near c: a missing scalar parameter shows as 1/1.7."""
    if not math.isfinite(c) or c == 0:
        return None
    recip = round(1.0 / c, 2)
    ok = 1 < abs(recip) <= MAX_NUMERATOR and abs(1.0 / recip - c) <= SNAP_RTOL * abs(c)
    return recip if ok else None


@dataclass(frozen=True, slots=True)
class Forms:
    """The forms of a fitted factor tried in order: a fraction, 1/decimal, the factor itself."""

    values: tuple[float, float, float]  # NaN where a form does not apply
    frac: tuple[int, int] | None = None
    recip: float | None = None

    @classmethod
    def of(cls, c: float | None) -> Forms:
        if c is None or not math.isfinite(c) or c == 0:
            return cls((math.nan,) * 3)
        frac, recip = fraction(c), reciprocal(c)
        values = (
            frac[0] / frac[1] if frac else math.nan,
            1.0 / recip if recip else math.nan,
            c,
        )
        return cls(values, frac, recip)

    def describe(self, fit: Sequence[bool]) -> tuple[float, str] | None:
        """The first form that fits, with friendly text: '1/2', '0.5882 (1/1.7)', ..."""
        if fit[0] and self.frac is not None:
            return self.values[0], fraction_text(self.frac)
        if fit[1]:
            return self.values[1], f"{number(self.values[1])} (1/{self.recip:g})"
        if fit[2]:
            return self.values[2], number(self.values[2])
        return None


def number(c: float) -> str:
    for digits in (4, 6, 9, 12, 17):  # enough digits that 1.0000001 is not shown as "1"
        text = f"{c:.{digits}g}"
        if abs(float(text)) not in (0.0, 1.0):
            return text
    return text


def cases_text(indices: Sequence[int]) -> str:
    if len(indices) == 1:
        return f"case {indices[0]}"
    return "cases " + ", ".join(map(str, indices[:-1])) + f" and {indices[-1]}"
