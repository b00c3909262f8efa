"""Name the mistake behind a wrong array-valued answer instead of saying "mismatch".

The checks step has already decided *that* an answer is wrong on some cases; this module says
*how*: transposed, reshaped, off by a sign or a constant factor, zero, constant, right only on
some cases, or (when the instructor splits the reference into terms) which term is missing,
flipped or scaled. Every claim is tested with the grader's own tolerance rule (`_close`), so a
diagnosis holds within the tolerance that graded the answer and a correct answer never gets one.

Leaf module: stdlib and numpy only. Nothing here raises on odd input (NaN, inf, empty, 0-d,
None): a rule that cannot be evaluated does not fire.
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = ["Diagnosis", "diagnose_terms", "diagnose_values", "match_alternatives"]

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

_Pairs = list[tuple[np.ndarray, np.ndarray]]  # (got, expected) per case, same length
_Dims = Sequence[Mapping[str, int]]


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


# --- numeric helpers -------------------------------------------------------------------------


def _as_array(x: object) -> np.ndarray | None:
    """float64 copy of x, or None when x is missing, ragged, non-numeric or truly complex."""
    if x is None:
        return None
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


def _norm(a: np.ndarray) -> float:
    """Frobenius norm, scaled first so that entries near 1e308 do not overflow to inf."""
    with np.errstate(all="ignore"):
        big = float(np.max(np.abs(a))) if a.size else 0.0
        return big * float(np.linalg.norm(a.ravel() / big)) if 0 < big < math.inf else big


def _close(a: np.ndarray, e: np.ndarray, rtol: float, atol: float) -> bool:
    """The grader's rule: same shape and ||a - e||_F <= atol + rtol * ||e||_F (never NaN/inf)."""
    if a.shape != e.shape:
        return False
    with np.errstate(all="ignore"):
        diff, ref = _norm(a - e), _norm(e)
    return math.isfinite(diff) and math.isfinite(ref) and diff <= atol + rtol * ref


def _matches(pairs: _Pairs, factor: float | Sequence[float], rtol: float, atol: float) -> bool:
    """got ~= factor * expected on every case (factor a scalar or one per case)."""
    factors = [factor] * len(pairs) if isinstance(factor, (int, float)) else factor
    with np.errstate(all="ignore"):
        return all(_close(g, e * f, rtol, atol) for (g, e), f in zip(pairs, factors, strict=True))


def _fit_factor(pairs: _Pairs) -> float | None:
    """Least-squares c in got ~= c * expected over all cases jointly; None if undefined."""
    with np.errstate(all="ignore"):
        num = sum(float(np.vdot(e, g)) for g, e in pairs)
        den = sum(float(np.vdot(e, e)) for _, e in pairs)
    c = num / den if den > 0 else math.nan
    return c if math.isfinite(c) and c != 0 else None


def _describe_factor(c: float, fits: Callable[[float], bool]) -> tuple[float, str] | None:
    """(value, friendly text) for a factor near c that passes `fits`, simple forms first."""
    frac = Fraction(c).limit_denominator(MAX_DENOMINATOR)
    simple = abs(frac.numerator) <= MAX_NUMERATOR and abs(float(frac) - c) <= SNAP_RTOL * abs(c)
    if simple and fits(float(frac)):
        return float(frac), str(frac)
    # "0.5882 (1/1.7)": a missing scalar parameter shows up as the reciprocal of a short decimal.
    recip, hint = round(1.0 / c, 2), ""
    if (
        1 < abs(recip) <= MAX_NUMERATOR
        and abs(1.0 / recip - c) <= SNAP_RTOL * abs(c)
        and fits(1.0 / recip)
    ):
        c, hint = 1.0 / recip, f" (1/{recip:g})"
    elif not fits(c):
        return None
    for digits in (4, 6, 9, 12, 17):  # enough digits that 1.0000001 is not shown as "1"
        text = f"{c:.{digits}g}"
        if abs(float(text)) not in (0.0, 1.0):
            break
    return c, text + hint


def _cases_text(indices: Sequence[int]) -> str:
    if len(indices) == 1:
        return f"case {indices[0]}"
    return "cases " + ", ".join(map(str, indices[:-1])) + f" and {indices[-1]}"


# --- generic diagnoses -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Pattern:
    code: str  # "exact", "sign_flip", "scale_factor" or "varying_scale"
    phrase: str  # completes "your answer is ..."
    params: Mapping[str, Any]


def _dim_factor(pairs: _Pairs, dims: _Dims | None, rtol: float, atol: float) -> str | None:
    """'D', '1/D', '-D' or '-1/D' when the per-case factor is that dimension on every case."""
    if not dims:
        return None
    for name in dims[0]:
        values = [d.get(name) for d in dims]
        sizes = [float(v) for v in values if isinstance(v, int) and 0 < abs(v) < 2**53]
        if len(sizes) != len(dims):
            continue
        for sign, power in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
            if _matches(pairs, [sign * v**power for v in sizes], rtol, atol):
                return ("-" if sign < 0 else "") + (name if power > 0 else f"1/{name}")
    return None


def _value_pattern(pairs: _Pairs, dims: _Dims | None, rtol: float, atol: float) -> _Pattern | None:
    """How the (shape-aligned) answers relate to the expected ones, if one rule fits every case."""
    if _matches(pairs, 1.0, rtol, atol):
        return _Pattern("exact", "the gradient", {})
    if _matches(pairs, -1.0, rtol, atol):
        return _Pattern("sign_flip", "the negative of the gradient", {"factor": -1.0})
    if any(_close(g, np.zeros_like(g), rtol, atol) for g, _ in pairs):
        return None  # a zero answer is "zero", not a factor of 0
    # A fitted factor is a claim only when there are more numbers than factors: any wrong
    # scalar is "c times" a nonzero scalar.
    c = _fit_factor(pairs) if sum(e.size for _, e in pairs) > 1 else None
    fits_all = functools.partial(_matches, pairs, rtol=rtol, atol=atol)
    found = None if c is None else _describe_factor(c, fits_all)
    if found is not None:
        return _Pattern("scale_factor", f"{found[1]} times the gradient", {"factor": found[0]})
    # Proportional on each case but with a different factor: a scalar input (alpha, D) is
    # missing or extra. Never claim a single factor here.
    per_case = []
    for pair in pairs if len(pairs) >= 2 and all(e.size > 1 for _, e in pairs) else ():
        ci = _fit_factor([pair])
        fits = functools.partial(_matches, [pair], rtol=rtol, atol=atol)
        one = None if ci is None else _describe_factor(ci, fits)
        if one is None:
            return None
        per_case.append(one)
    if not per_case:
        return None
    params: dict[str, Any] = {"factors": [v for v, _ in per_case]}
    dim = _dim_factor(pairs, dims, rtol, atol)
    if dim is not None:
        return _Pattern("varying_scale", f"{dim} times the gradient", params | {"dim_factor": dim})
    texts = ", ".join(t for _, t in per_case)
    phrase = (
        f"proportional to the gradient, but the factor changes from case to case ({texts}): "
        "a scalar such as a parameter is probably missing or extra"
    )
    return _Pattern("varying_scale", phrase, params)


_VIEW_PREFIX = {None: "", "transposed": "after transposing, ", "reshaped": "after reshaping, "}


def _pattern_diagnosis(p: _Pattern, view: str | None) -> Diagnosis:
    prefix = _VIEW_PREFIX[view]
    params = dict(p.params) | ({"view": view} if view else {})
    return Diagnosis(p.code, f"{prefix}your answer is {p.phrase}", params)


def _reshape_hint(shape: tuple[int, ...]) -> str:
    if len(shape) == 2 and 1 in shape:
        kind, call = ("column", "-1, 1") if shape[1] == 1 else ("row", "1, -1")
        return f"return a {kind} vector (x.reshape({call}))"
    return "return a flat vector (x.reshape(-1))" if len(shape) == 1 else f"reshape it to {shape}"


def _shape_diagnoses(
    pairs: _Pairs, dims: _Dims | None, rtol: float, atol: float
) -> list[Diagnosis]:
    """Transposed / reshaped, each followed by the value pattern that holds in that view."""
    gshape, eshape = pairs[0][0].shape, pairs[0][1].shape
    shapes = {"got_shape": list(gshape), "expected_shape": list(eshape)}
    head = f"your answer has shape {gshape} but the gradient has shape {eshape}"
    transpose_of = f"your answer has shape {gshape}, the transpose of the gradient's shape {eshape}"

    def in_view(code: str, p: _Pattern, exact_msg: str, other_msg: str) -> list[Diagnosis]:
        if p.code == "exact":
            return [Diagnosis(code, exact_msg, shapes | {"values_match": True})]
        first = Diagnosis(code, other_msg, shapes | {"values_match": False})
        return [first, _pattern_diagnosis(p, code)]

    # Vectors stored as (n, 1) vs (1, n) are a reshape issue, not a transpose: "transposed" is
    # kept for genuine matrices, where it is the classic index-order slip.
    tpairs = None
    if all(g.ndim == e.ndim == 2 and min(e.shape) > 1 and g.T.shape == e.shape for g, e in pairs):
        tpairs = [(g.T, e) for g, e in pairs]
    tpat = None if tpairs is None else _value_pattern(tpairs, dims, rtol, atol)
    if all(g.shape == e.shape for g, e in pairs):
        p = _value_pattern(pairs, dims, rtol, atol)
        if p is not None:
            return [] if p.code == "exact" else [_pattern_diagnosis(p, None)]
        exact = "your answer equals the transpose of the gradient"
        return (
            [] if tpat is None else in_view("transposed", tpat, exact, "your answer is transposed")
        )
    if tpat is not None:
        exact = f"your answer equals the transpose of the gradient ({gshape}, not {eshape})"
        return in_view("transposed", tpat, exact, transpose_of)
    if all(g.size == e.size for g, e in pairs):
        hint = _reshape_hint(eshape)
        rpat = _value_pattern([(g.reshape(e.shape), e) for g, e in pairs], dims, rtol, atol)
        if rpat is not None:
            return in_view(
                "reshaped", rpat, f"{head}: the values are right, {hint}", f"{head}: {hint}"
            )
        # Shapes that differ only by singleton axes are a reshape slip whatever the values.
        if all(np.squeeze(g).shape == np.squeeze(e).shape for g, e in pairs):
            msg = f"{head}: {hint}; the values are wrong too"
            return [Diagnosis("reshaped", msg, shapes | {"values_match": False})]
    if tpairs is not None:
        msg = f"{transpose_of}, and even transposed its values are wrong"
        return [Diagnosis("transposed", msg, shapes | {"values_match": False})]
    return []


def _filled(a: np.ndarray, rtol: float, atol: float) -> bool:
    """Every entry the same number (an array of one element does not count)."""
    return a.size > 1 and _close(a, np.full_like(a, a.flat[0]), rtol, atol)


def _constant_diagnoses(pairs: _Pairs, rtol: float, atol: float) -> list[Diagnosis]:
    if all(g.size > 0 and _close(g, np.zeros_like(g), rtol, atol) for g, _ in pairs):
        return [Diagnosis("zero", "your answer is all zeros, but the gradient is not", {})]
    (g0, e0), several = pairs[0], len(pairs) >= 2
    same_got = several and all(_close(g, g0, rtol, atol) for g, _ in pairs)
    if same_got and not all(_close(e, e0, rtol, atol) for _, e in pairs):
        msg = "your answer is the same array on every case: it does not depend on the inputs"
        return [Diagnosis("constant", msg, {"kind": "same_every_case"})]
    if all(_filled(g, rtol, atol) for g, _ in pairs) and not all(
        _filled(e, rtol, atol) for _, e in pairs
    ):
        msg = "every entry of your answer is the same number, but the gradient's entries differ"
        values = [float(g.flat[0]) for g, _ in pairs]
        return [Diagnosis("constant", msg, {"kind": "filled", "values": values})]
    return []


def _conditions(dims: _Dims, passed: Sequence[int], failed: Sequence[int]) -> list[str]:
    """Dimension conditions true on every passing case and false on every failing one."""
    relevant = [dims[i] for i in (*passed, *failed)]
    names = [k for k in relevant[0] if all(k in d for d in relevant)]
    pairs = list(itertools.combinations(names, 2))
    checks: list[tuple[str, Callable[[Mapping[str, int]], bool]]] = [
        *((f"{a} == {b}", lambda d, a=a, b=b: d[a] == d[b]) for a, b in pairs),
        *((f"{a} == 1", lambda d, a=a: d[a] == 1) for a in names),
        *((f"{a} != {b}", lambda d, a=a, b=b: d[a] != d[b]) for a, b in pairs),
        *((f"{a} != 1", lambda d, a=a: d[a] != 1) for a in names),
    ]
    return [
        text
        for text, holds in checks
        if all(holds(dims[i]) for i in passed) and not any(holds(dims[i]) for i in failed)
    ]


def _partial_diagnosis(
    right: list[int], failed: list[int], crashed: list[int], dims: _Dims | None
) -> Diagnosis:
    params: dict[str, Any] = {"passed": right, "failed": failed, "crashed": crashed}
    msg = f"your answer is right on {_cases_text(right)} but not on {_cases_text(failed)}"
    if dims is not None and all(isinstance(dims[i], Mapping) for i in (*right, *failed)):
        conditions = _conditions(dims, right, failed)
        if conditions:
            params["conditions"] = conditions
            msg += f": right only when {conditions[0]}"
            if len(conditions) > 1:
                msg += f" (on these cases the same as: {', '.join(conditions[1:])})"
    return Diagnosis("partial_cases", msg, params)


def diagnose_values(
    got: Sequence[np.ndarray | None],
    expected: Sequence[np.ndarray],
    *,
    rtol: float,
    atol: float,
    case_dims: Sequence[Mapping[str, int]] | None = None,
    passed: Sequence[bool] | None = None,
) -> list[Diagnosis]:
    """Generic diagnoses, no instructor work; [] when every case matches.

    Shape and value rules are tested on the failing cases (got present, not matching), so an
    answer right on some cases is still named on the others. partial_cases is added when a
    present answer passes while another case fails or crashed (got None; listed in "failed" and
    "crashed"). Order, most specific first: transposed/reshaped, then the value relation in that
    view (sign_flip, scale_factor, varying_scale; params "view"), then zero/constant, then
    partial_cases. So a transposed answer times 2 gives "transposed" then "scale_factor".
    """
    n = min(len(got), len(expected))
    gs, es = [_as_array(g) for g in got[:n]], [_as_array(e) for e in expected[:n]]
    # A non-finite reference cannot be compared with: such a case is neither right nor wrong.
    graded = [e is not None and bool(np.all(np.isfinite(e))) for e in es]
    present = {
        i: (g, e)
        for i, (g, e) in enumerate(zip(gs, es, strict=True))
        if g is not None and e is not None and graded[i]
    }
    if passed is not None and len(passed) == n:
        ok = [bool(passed[i]) and i in present for i in range(n)]
    else:
        ok = [i in present and _close(*present[i], rtol, atol) for i in range(n)]
    if not present or all(ok):
        return []
    right = [i for i in present if ok[i]]
    wrong = [i for i in present if not ok[i]]
    dims = case_dims if case_dims is not None and len(case_dims) >= n else None
    out: list[Diagnosis] = []
    if wrong:
        pairs = [present[i] for i in wrong]
        wdims = [dims[i] for i in wrong] if dims is not None else None
        if wdims is not None and not all(isinstance(d, Mapping) for d in wdims):
            wdims = None
        out += _shape_diagnoses(pairs, wdims, rtol, atol)
        out += _constant_diagnoses(pairs, rtol, atol)
    crashed = [i for i in range(n) if gs[i] is None and graded[i]]
    if right and (wrong or crashed):
        out.append(_partial_diagnosis(right, sorted(wrong + crashed), crashed, dims))
    return out


# --- structural diagnoses --------------------------------------------------------------------


def _identifiable(a: np.ndarray, budget: float) -> list[bool]:
    """Per column: does it stick out of the span of the others by more than noise and tolerance?"""
    out = []
    for k in range(a.shape[1]):
        col, others = a[:, k], np.delete(a, k, axis=1)
        if others.shape[1]:
            col = col - others @ np.linalg.lstsq(others, col, rcond=None)[0]
        r = _norm(col)
        out.append(r > COLLINEAR_RTOL * _norm(a[:, k]) and COEF_RESOLUTION * r > budget)
    return out


def _term_diagnoses(
    names: list[str], coef: np.ndarray, ident: list[bool], labels: Mapping[str, str]
) -> list[Diagnosis]:
    label = {k: str(labels.get(k, k)) for k in names}
    known = [(names[k], float(coef[k])) for k in range(len(names)) if ident[k]]
    present = [name for name, c in known if abs(c - 1) <= SNAP_RTOL]
    # "only X is present" is a claim about every term, so it needs every term identifiable.
    lead = f"only {' and '.join(label[p] for p in present)} is present: "
    lead = lead if present and all(ident) else ""
    out = []
    for name, c in known:
        params = {"term": name, "coefficient": c}
        if abs(c) <= SNAP_RTOL:
            msg = f"{lead}{label[name]} is missing"
            out.append(Diagnosis("missing_term", msg, params | {"present": present}))
        elif abs(c + 1) <= SNAP_RTOL:
            out.append(Diagnosis("term_sign", f"{label[name]} has the wrong sign", params))
        elif abs(c - 1) > SNAP_RTOL:
            text = (_describe_factor(c, lambda v, c=c: v == c) or (c, f"{c:.4g}"))[1]
            msg = f"{label[name]} is {text} times what it should be"
            out.append(Diagnosis("term_scale", msg, params | {"factor": c}))
    order = ("missing_term", "term_sign", "term_scale")
    return sorted(out, key=lambda d: order.index(d.code))  # stable: term order within a code


def diagnose_terms(
    got: Sequence[np.ndarray | None],
    terms: Mapping[str, Sequence[np.ndarray]],
    *,
    labels: Mapping[str, str],
    rtol: float,
    atol: float,
) -> list[Diagnosis]:
    """Structural: the correct answer is sum(terms) with every coefficient 1.

    Fit got ~= sum_k c_k term_k by least squares over all cases jointly (a case is left out
    where got or a term is missing, non-finite or of another shape). Only if that fit passes the
    tolerance rule on every case, name each identifiable coefficient that is not 1: ~0
    missing_term, ~-1 term_sign, else term_scale (params "factor"). Coefficients are snapped to
    simple fractions when the snapped fit still passes. Terms that are (near) combinations of
    the others across the cases are not identifiable and never named. [] for a correct answer.
    Order: missing_term, term_sign, term_scale, each in the order of `terms`.
    """
    names = list(terms)
    rows: list[tuple[np.ndarray, list[np.ndarray]]] = []
    for i, raw in enumerate(got):
        g = _as_array(raw)
        if g is None or not np.all(np.isfinite(g)):
            continue
        ts = [_as_array(terms[k][i]) if i < len(terms[k]) else None for k in names]
        usable = [t for t in ts if t is not None and t.shape == g.shape and np.all(np.isfinite(t))]
        if len(usable) == len(names):
            rows.append((g, usable))
    if not names or not rows or sum(g.size for g, _ in rows) == 0:
        return []

    def fits(c: Sequence[float]) -> bool:
        with np.errstate(all="ignore"):
            return all(
                _close(g, sum(ck * t for ck, t in zip(c, ts, strict=True)), rtol, atol)
                for g, ts in rows
            )

    def solve(fixed: Mapping[int, float]) -> np.ndarray | None:
        """Coefficients with `fixed` held, the rest by least squares; None unless the fit passes."""
        c = np.zeros(len(names))
        c[list(fixed)] = list(fixed.values())
        free = [k for k in range(len(names)) if k not in fixed]
        if free:
            c[free] = np.linalg.lstsq(a[:, free], b - a @ c, rcond=None)[0]
        return c if fits(c) else None

    if fits([1.0] * len(names)):
        return []  # correct within tolerance: nothing to name
    a = np.column_stack(
        [np.concatenate([ts[k].ravel() for _, ts in rows]) for k in range(len(names))]
    )
    b = np.concatenate([g.ravel() for g, _ in rows])
    if b.size <= len(names):
        return []  # as many unknowns as numbers: every answer "fits", so the fit says nothing
    try:
        with np.errstate(all="ignore"):
            ident = _identifiable(a, budget=atol * math.sqrt(len(rows)) + rtol * _norm(b))
            coef = solve({})
            if coef is None or not any(ident):
                return []
            snapped = {}
            for k in (k for k in range(len(names)) if ident[k]):
                frac = float(Fraction(float(coef[k])).limit_denominator(MAX_DENOMINATOR))
                snapped[k] = frac if abs(frac - coef[k]) <= SNAP_RTOL else float(coef[k])
            coef = refit if (refit := solve(snapped)) is not None else coef
    except (np.linalg.LinAlgError, ValueError, OverflowError):
        return []
    return _term_diagnoses(names, coef, ident, labels)


def match_alternatives(
    got: Sequence[np.ndarray | None],
    alternatives: Mapping[str, Sequence[np.ndarray]],
    *,
    rtol: float,
    atol: float,
) -> str | None:
    """Instructor-declared wrong answers (misconceptions): the name of the first alternative the
    student's output matches on every case where both exist (same shape, within tolerance), else
    None. An alternative with no case to compare never matches."""
    gs = [_as_array(g) for g in got]
    for name, values in alternatives.items():
        pairs = [(g, _as_array(v)) for g, v in zip(gs, values, strict=False)]
        pairs = [(g, v) for g, v in pairs if g is not None and v is not None]
        if pairs and all(_close(g, v, rtol, atol) for g, v in pairs):
            return name
    return None
