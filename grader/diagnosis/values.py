"""Generic diagnoses, for any array-valued part with no instructor work: transposed, reshaped,
a sign, a constant factor (or one per case, such as a dimension), zero, constant, right on some
cases only (and what those cases share).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.diagnosis.base import (
    Diagnosis,
    Flat,
    Forms,
    as_array,
    cases_text,
    close,
    passes,
)

__all__ = ["Stack", "diagnose_values"]

_Dims = Sequence[Mapping[str, int]]


class _Projection:
    """How far each case's answer is from every multiple of its expected value, in closed form.

    With p_i = <got_i, e_i/|e_i|> and r_i = |got_i - p_i e_i/|e_i||, the residual of any factor
    f on case i is hypot(r_i, f |e_i| - p_i) (Pythagoras: r_i is orthogonal to e_i). One pass
    over the arrays, then every candidate factor (1, -1, 0, a fit, one per case, a dimension)
    is a few operations on (candidates, cases) numbers: this runs for every wrong answer.
    """

    __slots__ = ("atol", "enorms", "factors", "p", "r", "rtol")

    def __init__(self, got: Flat, exp: Flat, rtol: float, atol: float) -> None:
        unit = exp.unit
        self.p = got.sums(got.flat * unit)
        self.r = got.norms_of(got.flat - self.p[got.seg] * unit)
        self.enorms = exp.norms
        self.factors = self.p / exp.norms  # per case least squares (NaN where expected is 0)
        self.rtol, self.atol = rtol, atol

    def fits(self, factors: np.ndarray) -> np.ndarray:
        """(..., cases) bool: the tolerance rule for got ~= factor * expected, cell by cell."""
        target = factors * self.enorms
        return passes(np.hypot(self.r, target - self.p), np.abs(target), self.rtol, self.atol)

    def fitted(self) -> float | None:
        """The least-squares factor over all cases jointly; None when undefined or 0."""
        den = float((self.enorms * self.enorms).sum())
        c = float((self.p * self.enorms).sum()) / den if den > 0 else math.nan
        return c if math.isfinite(c) and c != 0 else None


@dataclass(frozen=True, slots=True)
class _Pattern:
    code: str  # "exact", "sign_flip", "scale_factor" or "varying_scale"
    phrase: str  # completes "your answer is ..."
    params: Mapping[str, Any]


def _dim_rows(dims: _Dims | None) -> tuple[list[str], list[np.ndarray]]:
    """Candidate per-case factors D, 1/D, -D, -1/D for every dimension defined on every case."""
    names: list[str] = []
    rows: list[np.ndarray] = []
    for name in dims[0] if dims else ():
        values = [d.get(name) for d in dims]
        if not all(type(v) is int and 0 < abs(v) < 2**53 for v in values):
            continue
        v = np.array(values, dtype=np.float64)
        names += [name, f"1/{name}", f"-{name}", f"-1/{name}"]
        rows += [v, 1.0 / v, -v, -1.0 / v]
    return names, rows


def _value_pattern(
    got: Flat, exp: Flat, dims: _Dims | None, public: Sequence[int], rtol: float, atol: float
) -> _Pattern | None:
    """How the (shape-aligned) answers relate to the expected ones, if one rule fits every case.

    `public` are the positions (among these cases) whose per-case factors may be shown.
    """
    n = got.n
    proj = _Projection(got, exp, rtol, atol)
    fit = proj.fits(np.array([[1.0], [-1.0], [0.0]]))
    if fit[0].all():
        return _Pattern("exact", "the gradient", {})
    if fit[1].all():
        return _Pattern("sign_flip", "the negative of the gradient", {"factor": -1.0})
    if fit[2].any():
        return None  # a zero answer is "zero", not a factor of 0
    # A fitted factor is a claim only when there are more numbers than factors: any wrong
    # scalar is "c times" a nonzero scalar.
    one = Forms.of(proj.fitted() if int(got.sizes.sum()) > 1 else None)
    found = one.describe(proj.fits(np.array(one.values)[:, None]).all(axis=1))
    if found is not None:
        return _Pattern("scale_factor", f"{found[1]} times the gradient", {"factor": found[0]})
    # Proportional on each case but with a different factor: a scalar input (alpha, D) is
    # missing or extra. Needs two cases of more than one number each; the least-squares
    # factor of a case fits it best, so when it does not fit (with room for a rounded form
    # of it), no factor does.
    if n < 2 or not (exp.sizes > 1).all():
        return None
    if not passes(proj.r, 2 * np.abs(proj.factors) * proj.enorms, rtol, 2 * atol).all():
        return None
    each = [Forms.of(float(c)) for c in proj.factors]
    fit = proj.fits(np.array([f.values for f in each]).T)  # (3 forms, cases)
    described = [f.describe(fit[:, i]) for i, f in enumerate(each)]
    if any(d is None for d in described):
        return None
    shown = [d for i, d in enumerate(described) if i in public and d is not None]
    params: dict[str, Any] = {"factors": [v for v, _ in shown]}
    dim_names, dim_rows = _dim_rows(dims)
    if dim_rows:
        for name, ok in zip(dim_names, proj.fits(np.array(dim_rows)), strict=True):
            if ok.all():
                phrase = f"{name} times the gradient"
                return _Pattern("varying_scale", phrase, params | {"dim_factor": name})
    texts = f" ({', '.join(t for _, t in shown)})" if shown else ""
    phrase = (
        f"proportional to the gradient, but the factor changes from case to case{texts}: "
        "a scalar such as a parameter is probably missing or extra"
    )
    return _Pattern("varying_scale", phrase, params)


_VIEW_PREFIX = {None: "", "transposed": "after transposing, ", "reshaped": "after reshaping, "}


def _pattern_diagnosis(p: _Pattern, view: str | None) -> Diagnosis:
    prefix = _VIEW_PREFIX[view]
    params = dict(p.params) | ({"view": view} if view else {})
    return Diagnosis(p.code, f"{prefix}your answer is {p.phrase}", params)


def _reshape_hint(shape: tuple[int, ...] | None, ndim: int) -> str:
    """What to return instead; `shape` None when it may not be shown (a hidden case)."""
    if shape is not None and len(shape) == 2 and 1 in shape:
        kind, call = ("column", "-1, 1") if shape[1] == 1 else ("row", "1, -1")
        return f"return a {kind} vector (x.reshape({call}))"
    if ndim == 1:
        return "return a flat vector (x.reshape(-1))"
    return f"reshape it to {shape}" if shape is not None else "reshape it to the expected shape"


def _shape_diagnoses(
    gs: Sequence[np.ndarray],
    es: Sequence[np.ndarray],
    got: Flat | None,
    exp: Flat | None,
    dims: _Dims | None,
    public: Sequence[int],
    rtol: float,
    atol: float,
) -> tuple[list[Diagnosis], bool]:
    """Transposed / reshaped, each followed by the value pattern that holds in that view; and
    whether a pattern (exact, a sign, a factor) explains the values.

    `got` and `exp` are the raveled arrays (None when one is empty): raveled, a reshaped
    answer is the same numbers in the same order, so the as-is and reshaped views share `got`.
    Shapes are shown from the first public case only: a hidden case's shape is not revealed.
    """
    shown = public[0] if public else None
    gshape = gs[shown].shape if shown is not None else None
    eshape = es[shown].shape if shown is not None else None
    shapes = (
        {"got_shape": list(gshape), "expected_shape": list(eshape)} if shown is not None else {}
    )
    head = (
        f"your answer has shape {gshape} but the gradient has shape {eshape}"
        if shown is not None
        else "your answer has the wrong shape"
    )
    transpose_of = (
        f"your answer has shape {gshape}, the transpose of the gradient's shape {eshape}"
        if shown is not None
        else "your answer has the transposed shape of the gradient"
    )

    def in_view(code: str, p: _Pattern, exact_msg: str, other_msg: str) -> list[Diagnosis]:
        if p.code == "exact":
            return [Diagnosis(code, exact_msg, shapes | {"values_match": True})]
        first = Diagnosis(code, other_msg, shapes | {"values_match": False})
        return [first, _pattern_diagnosis(p, code)]

    # Vectors stored as (n, 1) vs (1, n) are a reshape issue, not a transpose: "transposed" is
    # kept for genuine matrices, where it is the classic index-order slip (a case with a
    # vector-shaped gradient, say q = 1, may sit among them).
    transposable = (
        exp is not None
        and all(g.ndim == e.ndim == 2 and g.T.shape == e.shape for g, e in zip(gs, es, strict=True))
        and any(min(e.shape) > 1 for e in es)
    )
    tpat = None

    def transposed_pattern() -> _Pattern | None:
        if not transposable or exp is None:
            return None
        return _value_pattern(Flat([g.T for g in gs]), exp, dims, public, rtol, atol)

    same = all(g.shape == e.shape for g, e in zip(gs, es, strict=True))
    if same:
        p = (
            None
            if got is None or exp is None
            else _value_pattern(got, exp, dims, public, rtol, atol)
        )
        if p is not None:
            return ([] if p.code == "exact" else [_pattern_diagnosis(p, None)]), True
        tpat = transposed_pattern()
        if tpat is None:
            return [], False
        exact = "your answer equals the transpose of the gradient"
        return in_view("transposed", tpat, exact, "your answer is transposed"), True
    tpat = transposed_pattern()
    if tpat is not None:
        exact = "your answer equals the transpose of the gradient" + (
            f" ({gshape}, not {eshape})" if shown is not None else ""
        )
        return in_view("transposed", tpat, exact, transpose_of), True
    if all(g.size == e.size for g, e in zip(gs, es, strict=True)):
        hint = _reshape_hint(eshape, es[0].ndim)
        rpat = (
            None
            if got is None or exp is None
            else _value_pattern(got, exp, dims, public, rtol, atol)
        )
        if rpat is not None:
            right, wrong = f"{head}: the values are right, {hint}", f"{head}: {hint}"
            return in_view("reshaped", rpat, right, wrong), True
        # Shapes that differ only by singleton axes are a reshape slip whatever the values.
        if all(np.squeeze(g).shape == np.squeeze(e).shape for g, e in zip(gs, es, strict=True)):
            msg = f"{head}: {hint}; the values are wrong too"
            return [Diagnosis("reshaped", msg, shapes | {"values_match": False})], False
    if transposable:
        msg = f"{transpose_of}, and even transposed its values are wrong"
        return [Diagnosis("transposed", msg, shapes | {"values_match": False})], False
    return [], False


def _constant_diagnoses(
    gs: Sequence[np.ndarray],
    es: Sequence[np.ndarray],
    got: Flat | None,
    exp: Flat | None,
    public: Sequence[int],
    rtol: float,
    atol: float,
) -> list[Diagnosis]:
    if got is None or exp is None:
        return []
    if (got.norms <= atol).all():  # the tolerance rule against zero: atol + rtol * 0
        return [Diagnosis("zero", "your answer is all zeros, but the gradient is not", {})]
    if len(gs) >= 2 and all(g.shape == gs[0].shape for g in gs):
        same_got = all(close(g, gs[0], rtol, atol) for g in gs[1:])
        if same_got and not all(close(e, es[0], rtol, atol) for e in es[1:]):
            msg = "your answer is the same array on every case: it does not depend on the inputs"
            return [Diagnosis("constant", msg, {"kind": "same_every_case"})]
    if _filled(got, rtol, atol).all() and not _filled(exp, rtol, atol).all():
        msg = "every entry of your answer is the same number, but the gradient's entries differ"
        values = [float(gs[i].flat[0]) for i in public]
        return [Diagnosis("constant", msg, {"kind": "filled", "values": values})]
    return []


def _filled(x: Flat, rtol: float, atol: float) -> np.ndarray:
    """Per case: every entry the same number (an array of one element does not count)."""
    first = x.flat[x.starts]
    residual = x.norms_of(x.flat - first[x.seg])
    return (x.sizes > 1) & passes(residual, np.abs(first) * np.sqrt(x.sizes), rtol, atol)


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
    msg = f"your answer is right on {cases_text(right)} but not on {cases_text(failed)}"
    if dims is not None and all(isinstance(dims[i], Mapping) for i in (*right, *failed)):
        conditions = _conditions(dims, right, failed)
        if conditions:
            params["conditions"] = conditions
            msg += f": right only when {conditions[0]}"
            if len(conditions) > 1:
                msg += f" (on these cases the same as: {', '.join(conditions[1:])})"
    return Diagnosis("partial_cases", msg, params)


class Stack:
    """The expected values of one output on every case, checked and raveled once: what many
    answers to the same part are diagnosed against (``diagnose_values`` also takes a list)."""

    __slots__ = ("_all", "arrays", "graded")

    def __init__(self, expected: Sequence[object]) -> None:
        self.arrays = [as_array(e) for e in expected]
        # A non-finite reference cannot be compared with: such a case is neither right nor wrong.
        self.graded = [a is not None and bool(np.isfinite(a).all()) for a in self.arrays]
        self._all: Flat | None = None

    @classmethod
    def build(cls, expected: Sequence[object]) -> Stack:
        return cls(expected)

    def flat(self, cases: Sequence[int]) -> Flat | None:
        """These cases raveled (None if one is empty); every case at once is kept for reuse."""
        arrays = [a for i in cases if (a := self.arrays[i]) is not None]
        if len(arrays) != len(cases) or any(a.size == 0 for a in arrays):
            return None
        if len(cases) < len(self.arrays):
            return Flat(arrays)
        if self._all is None:
            self._all = Flat(arrays)
        return self._all


@np.errstate(all="ignore")
def diagnose_values(
    got: Sequence[np.ndarray | None],
    expected: Sequence[np.ndarray] | Stack,
    *,
    rtol: float,
    atol: float,
    case_dims: Sequence[Mapping[str, int]] | None = None,
    passed: Sequence[bool] | None = None,
    hidden: Sequence[bool] | None = None,
) -> list[Diagnosis]:
    """Generic diagnoses, no instructor work; [] when every case matches.

    Shape and value rules are tested on the failing cases (got present, not matching), so an
    answer right on some cases is still named on the others. partial_cases is added when a
    present answer passes while another case fails or crashed (got None; listed in "failed" and
    "crashed"). Order, most specific first: transposed/reshaped, then the value relation in that
    view (sign_flip, scale_factor, varying_scale; params "view"), then zero/constant, then
    partial_cases. So a transposed answer times 2 gives "transposed" then "scale_factor".

    `hidden` marks cases whose inputs and expected values are never shown: their shapes, their
    per-case factors and their values stay out of every message and param. `expected` may be
    a Stack built once for many answers.
    """
    stack = expected if isinstance(expected, Stack) else Stack(expected)
    n = min(len(got), len(stack.arrays))
    gs = [as_array(g) for g in got[:n]]
    # (got, expected) of the cases with both, by case index
    present = {
        i: (g, e)
        for i, (g, e) in enumerate(zip(gs, stack.arrays[:n], strict=True))
        if g is not None and e is not None and stack.graded[i]
    }
    if passed is not None and len(passed) == n:
        ok = {i: bool(passed[i]) for i in present}
    else:
        ok = {i: close(g, e, rtol, atol) for i, (g, e) in present.items()}
    if not present or (len(ok) == n and all(ok.values())):
        return []
    right = [i for i in present if ok[i]]
    wrong = [i for i in present if not ok[i]]
    secret = list(hidden) if hidden is not None and len(hidden) == n else [False] * n
    dims = case_dims if case_dims is not None and len(case_dims) >= n else None
    out: list[Diagnosis] = []
    if wrong:
        wgs = [present[i][0] for i in wrong]
        wes = [present[i][1] for i in wrong]
        public = [k for k, i in enumerate(wrong) if not secret[i]]
        wdims = [dims[i] for i in wrong] if dims is not None else None
        if wdims is not None and not all(isinstance(d, Mapping) for d in wdims):
            wdims = None
        exp_flat = stack.flat(wrong)
        got_flat = Flat(wgs) if exp_flat is not None and all(g.size for g in wgs) else None
        exp_flat = exp_flat if got_flat is not None else None  # both raveled, or neither
        found, explained = _shape_diagnoses(wgs, wes, got_flat, exp_flat, wdims, public, rtol, atol)
        out += found
        # Values explained by a sign or a factor are neither zero nor constant.
        if not explained:
            out += _constant_diagnoses(wgs, wes, got_flat, exp_flat, public, rtol, atol)
    crashed = [i for i in range(n) if gs[i] is None and stack.graded[i]]
    if right and (wrong or crashed):
        out.append(_partial_diagnosis(right, sorted(wrong + crashed), crashed, dims))
    return out
