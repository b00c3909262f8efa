"""Name the mistake behind a wrong array-valued answer instead of saying "mismatch".

The checks step has already decided *that* an answer is wrong on some cases; this module says
*how*: transposed, reshaped, off by a sign or a constant factor, zero, constant, right only on
some cases, which declared term is missing, flipped or scaled (``diagnose_terms``), or which
declared wrong answer it is (``match_alternatives``). Every claim is tested with the grader's
own tolerance rule, ``||got - c * expected||_F <= atol + rtol * ||c * expected||_F`` on every
case it is about, so a diagnosis holds within the tolerance that graded the answer and a
correct answer never gets one.

Fast because it runs for every wrong part of every submission: the cases are raveled end to
end (``_Flat``) and every candidate relation (factor 1, -1, 0, a fitted factor and its simple
forms, one factor per case, a dimension) is tested in one numpy pass over all cases. What
depends on the reference only (term bases, declared wrong answers) is prepared once per
assignment and seed with ``TermBasis.build`` and ``Alternatives.build``.

Leaf module: stdlib and numpy only. Nothing here raises on odd input (NaN, inf, empty, 0-d,
None): a rule that cannot be evaluated does not fire.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = [
    "Alternatives",
    "Diagnosis",
    "TermBasis",
    "diagnose_terms",
    "diagnose_values",
    "match_alternatives",
    "matching_alternatives",
]

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


class _Flat:
    """Arrays of several cases raveled end to end: one numpy call covers every case.

    `norms` are the per-case Frobenius norms. Sums over a case use `np.add.reduceat`, which
    needs every case non-empty: callers leave empty arrays out.
    """

    __slots__ = ("flat", "n", "norms", "seg", "sizes", "starts")

    def __init__(self, arrays: Sequence[np.ndarray]) -> None:
        self.n = len(arrays)
        self.sizes = np.array([a.size for a in arrays], dtype=np.intp)
        self.starts = np.concatenate(([0], np.cumsum(self.sizes)[:-1])).astype(np.intp)
        self.flat = np.concatenate([a.ravel() for a in arrays]) if arrays else np.empty(0)
        self.seg = np.repeat(np.arange(self.n), self.sizes)
        self.norms = self.norms_of(self.flat)

    def sums(self, x: np.ndarray) -> np.ndarray:
        """Per-case sums along the last axis."""
        return np.add.reduceat(x, self.starts, axis=-1)

    def norms_of(self, x: np.ndarray) -> np.ndarray:
        """Per-case Frobenius norms along the last axis, exact where squares would overflow."""
        with np.errstate(all="ignore"):
            out = np.sqrt(self.sums(x * x))
        if not np.all(np.isfinite(out)):  # rare: rescale the cells that overflowed
            rows = out.reshape(-1, self.n)
            data = x.reshape(-1, x.shape[-1])
            for r, i in zip(*np.nonzero(np.isinf(rows)), strict=True):
                start = self.starts[i]
                rows[r, i] = _norm(data[r, start : start + self.sizes[i]])
        return out


def _passes(residual: np.ndarray, reference: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """The tolerance rule, cell by cell; NaN or inf never passes."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(residual) & np.isfinite(reference) & (residual <= atol + rtol * reference)


def _scaled_fits(
    got: _Flat, exp: _Flat, factors: np.ndarray, rtol: float, atol: float
) -> np.ndarray:
    """(J, n) bool: got ~= factors[j, i] * expected on case i, for J candidate rows at once."""
    with np.errstate(all="ignore"):
        residual = got.norms_of(got.flat - factors[:, exp.seg] * exp.flat)
        return _passes(residual, np.abs(factors) * exp.norms, rtol, atol)


def _fraction(c: float) -> float | None:
    """The simple fraction near c (denominator <= MAX_DENOMINATOR), if there is one."""
    if not math.isfinite(c) or c == 0:
        return None
    frac = Fraction(c).limit_denominator(MAX_DENOMINATOR)
    ok = abs(frac.numerator) <= MAX_NUMERATOR and abs(float(frac) - c) <= SNAP_RTOL * abs(c)
    return float(frac) if ok else None


def _reciprocal(c: float) -> float | None:
    """1/r for a short decimal r near 1/c: a missing scalar parameter such as 1/1.7."""
    if not math.isfinite(c) or c == 0:
        return None
    recip = round(1.0 / c, 2)
    ok = 1 < abs(recip) <= MAX_NUMERATOR and abs(1.0 / recip - c) <= SNAP_RTOL * abs(c)
    return 1.0 / recip if ok else None


def _candidates(c: float | None) -> list[float]:
    """[fraction, 1/decimal, c] forms of a fitted factor, NaN where a form does not apply."""
    if c is None:
        return [math.nan] * 3
    forms = (_fraction(c), _reciprocal(c), c)
    return [math.nan if v is None else v for v in forms]


def _describe(forms: Sequence[float], fit: Sequence[bool]) -> tuple[float, str] | None:
    """The first form of a factor that fits, with friendly text: '1/2', '0.5882 (1/1.7)', ..."""
    frac, recip, raw = forms
    if fit[0]:
        return frac, str(Fraction(frac).limit_denominator(MAX_DENOMINATOR))
    if fit[1]:
        c, hint = recip, f" (1/{round(1.0 / recip, 2):g})"
    elif fit[2]:
        c, hint = raw, ""
    else:
        return None
    return c, _number(c) + hint


def _number(c: float) -> str:
    for digits in (4, 6, 9, 12, 17):  # enough digits that 1.0000001 is not shown as "1"
        text = f"{c:.{digits}g}"
        if abs(float(text)) not in (0.0, 1.0):
            return text
    return text


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


def _dim_rows(dims: _Dims | None) -> tuple[list[str], list[list[float]]]:
    """Candidate per-case factors D, 1/D, -D, -1/D for every dimension defined on every case."""
    names: list[str] = []
    rows: list[list[float]] = []
    for name in dims[0] if dims else ():
        values = [d.get(name) for d in dims]
        sizes = [float(v) for v in values if isinstance(v, int) and 0 < abs(v) < 2**53]
        if len(sizes) != len(dims):
            continue
        for sign, power in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
            names.append(("-" if sign < 0 else "") + (name if power > 0 else f"1/{name}"))
            rows.append([sign * v**power for v in sizes])
    return names, rows


def _value_pattern(
    got: _Flat, exp: _Flat, dims: _Dims | None, public: Sequence[int], rtol: float, atol: float
) -> _Pattern | None:
    """How the (shape-aligned) answers relate to the expected ones, if one rule fits every case.

    `public` are the positions (among these cases) whose per-case factors may be shown.
    """
    n = got.n
    with np.errstate(all="ignore"):
        ge = got.sums(got.flat * exp.flat)
        ee = exp.norms * exp.norms
        num, den = float(ge.sum()), float(ee.sum())
        c = num / den if den > 0 else math.nan
    # A fitted factor is a claim only when there are more numbers than factors: any wrong
    # scalar is "c times" a nonzero scalar.
    c = c if math.isfinite(c) and c != 0 and int(got.sizes.sum()) > 1 else None
    # Proportional on each case but with a different factor: a scalar input (alpha, D) is
    # missing or extra. Needs two cases of more than one number each.
    per_case = n >= 2 and bool(np.all(exp.sizes > 1))
    with np.errstate(all="ignore"):
        ci = [float(v) for v in ge / ee] if per_case else []
    ci_forms = [_candidates(v if math.isfinite(v) and v != 0 else None) for v in ci]
    dim_names, dim_rows = _dim_rows(dims) if per_case else ([], [])
    rows = [[1.0] * n, [-1.0] * n, [0.0] * n]
    rows += [[v] * n for v in _candidates(c)]
    rows += [[f[k] for f in ci_forms] for k in range(3)] if per_case else []
    rows += dim_rows
    fit = _scaled_fits(got, exp, np.array(rows), rtol, atol)
    if fit[0].all():
        return _Pattern("exact", "the gradient", {})
    if fit[1].all():
        return _Pattern("sign_flip", "the negative of the gradient", {"factor": -1.0})
    if fit[2].any():
        return None  # a zero answer is "zero", not a factor of 0
    found = _describe(rows[3][:1] + rows[4][:1] + rows[5][:1], fit[3:6].all(axis=1))
    if found is not None:
        return _Pattern("scale_factor", f"{found[1]} times the gradient", {"factor": found[0]})
    if not per_case:
        return None
    described = [_describe(ci_forms[i], fit[6:9, i]) for i in range(n)]
    if any(d is None for d in described):
        return None
    shown = [d for i, d in enumerate(described) if i in public and d is not None]
    params: dict[str, Any] = {"factors": [v for v, _ in shown]}
    for name, ok in zip(dim_names, fit[9:], strict=True):
        if ok.all():
            return _Pattern("varying_scale", f"{name} times the gradient", params | {"dim_factor": name})
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
    dims: _Dims | None,
    public: Sequence[int],
    rtol: float,
    atol: float,
) -> list[Diagnosis]:
    """Transposed / reshaped, each followed by the value pattern that holds in that view.

    Shapes are shown from the first public case only: a hidden case's shape is not revealed.
    """
    shown = public[0] if public else None
    gshape = gs[shown].shape if shown is not None else None
    eshape = es[shown].shape if shown is not None else None
    shapes = {"got_shape": list(gshape), "expected_shape": list(eshape)} if shown is not None else {}
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

    nonempty = all(e.size > 0 for e in es)
    exp = _Flat(es) if nonempty else None
    # Vectors stored as (n, 1) vs (1, n) are a reshape issue, not a transpose: "transposed" is
    # kept for genuine matrices, where it is the classic index-order slip (a case with a
    # vector-shaped gradient, say q = 1, may sit among them).
    transposable = nonempty and all(
        g.ndim == e.ndim == 2 and g.T.shape == e.shape for g, e in zip(gs, es, strict=True)
    ) and any(min(e.shape) > 1 for e in es)
    tpat = None
    if transposable and exp is not None:
        tpat = _value_pattern(_Flat([g.T for g in gs]), exp, dims, public, rtol, atol)
    same = all(g.shape == e.shape for g, e in zip(gs, es, strict=True))
    if same:
        p = None if exp is None else _value_pattern(_Flat(gs), exp, dims, public, rtol, atol)
        if p is not None:
            return [] if p.code == "exact" else [_pattern_diagnosis(p, None)]
        exact = "your answer equals the transpose of the gradient"
        return [] if tpat is None else in_view("transposed", tpat, exact, "your answer is transposed")
    if tpat is not None:
        exact = "your answer equals the transpose of the gradient" + (
            f" ({gshape}, not {eshape})" if shown is not None else ""
        )
        return in_view("transposed", tpat, exact, transpose_of)
    if all(g.size == e.size for g, e in zip(gs, es, strict=True)):
        hint = _reshape_hint(eshape, es[0].ndim)
        # Raveled, a reshaped answer is the same numbers in the same order: same flat view.
        rpat = None if exp is None else _value_pattern(_Flat(gs), exp, dims, public, rtol, atol)
        if rpat is not None:
            return in_view(
                "reshaped", rpat, f"{head}: the values are right, {hint}", f"{head}: {hint}"
            )
        # Shapes that differ only by singleton axes are a reshape slip whatever the values.
        if all(np.squeeze(g).shape == np.squeeze(e).shape for g, e in zip(gs, es, strict=True)):
            msg = f"{head}: {hint}; the values are wrong too"
            return [Diagnosis("reshaped", msg, shapes | {"values_match": False})]
    if transposable:
        msg = f"{transpose_of}, and even transposed its values are wrong"
        return [Diagnosis("transposed", msg, shapes | {"values_match": False})]
    return []


def _constant_diagnoses(
    gs: Sequence[np.ndarray], es: Sequence[np.ndarray], public: Sequence[int], rtol: float, atol: float
) -> list[Diagnosis]:
    if not all(g.size > 0 for g in gs) or not all(e.size > 0 for e in es):
        return []
    got = _Flat(gs)
    if bool(_passes(got.norms, np.zeros(got.n), rtol, atol).all()):
        return [Diagnosis("zero", "your answer is all zeros, but the gradient is not", {})]
    exp = _Flat(es)
    if len(gs) >= 2 and all(g.shape == gs[0].shape for g in gs):
        same_got = all(_close(g, gs[0], rtol, atol) for g in gs[1:])
        if same_got and not all(_close(e, es[0], rtol, atol) for e in es[1:]):
            msg = "your answer is the same array on every case: it does not depend on the inputs"
            return [Diagnosis("constant", msg, {"kind": "same_every_case"})]
    if _filled(got, rtol, atol).all() and not _filled(exp, rtol, atol).all():
        msg = "every entry of your answer is the same number, but the gradient's entries differ"
        values = [float(gs[i].flat[0]) for i in public]
        return [Diagnosis("constant", msg, {"kind": "filled", "values": values})]
    return []


def _filled(x: _Flat, rtol: float, atol: float) -> np.ndarray:
    """Per case: every entry the same number (an array of one element does not count)."""
    first = x.flat[x.starts]
    with np.errstate(all="ignore"):
        residual = x.norms_of(x.flat - first[x.seg])
        return (x.sizes > 1) & _passes(residual, np.abs(first) * np.sqrt(x.sizes), rtol, atol)


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
    per-case factors and their values stay out of every message and param.
    """
    n = min(len(got), len(expected))
    gs, es = [_as_array(g) for g in got[:n]], [_as_array(e) for e in expected[:n]]
    # A non-finite reference cannot be compared with: such a case is neither right nor wrong.
    graded = [e is not None and bool(np.all(np.isfinite(e))) for e in es]
    present = [g is not None and e is not None and graded[i] for i, (g, e) in enumerate(zip(gs, es))]
    if passed is not None and len(passed) == n:
        ok = [bool(passed[i]) and present[i] for i in range(n)]
    else:
        ok = [present[i] and _close(gs[i], es[i], rtol, atol) for i in range(n)]  # type: ignore[arg-type]
    if not any(present) or all(ok):
        return []
    right = [i for i in range(n) if present[i] and ok[i]]
    wrong = [i for i in range(n) if present[i] and not ok[i]]
    secret = list(hidden) if hidden is not None and len(hidden) == n else [False] * n
    dims = case_dims if case_dims is not None and len(case_dims) >= n else None
    out: list[Diagnosis] = []
    if wrong:
        wgs = [gs[i] for i in wrong]
        wes = [es[i] for i in wrong]
        public = [k for k, i in enumerate(wrong) if not secret[i]]
        wdims = [dims[i] for i in wrong] if dims is not None else None
        if wdims is not None and not all(isinstance(d, Mapping) for d in wdims):
            wdims = None
        with np.errstate(all="ignore"):
            out += _shape_diagnoses(wgs, wes, wdims, public, rtol, atol)  # type: ignore[arg-type]
            out += _constant_diagnoses(wgs, wes, public, rtol, atol)  # type: ignore[arg-type]
    crashed = [i for i in range(n) if gs[i] is None and graded[i]]
    if right and (wrong or crashed):
        out.append(_partial_diagnosis(right, sorted(wrong + crashed), crashed, dims))
    return out


# --- structural diagnoses --------------------------------------------------------------------


class TermBasis:
    """The declared terms of a correct answer, stacked and factored once for every submission.

    The terms' columns over all usable cases (every term finite, all of one shape) are
    QR-factored: a least-squares fit to an answer is then one product with a precomputed
    pseudo-inverse, and which terms can be told apart from the others is known in advance.
    """

    __slots__ = ("cases", "columns", "flat", "names", "pinv", "shapes", "spread", "values")

    def __init__(self, terms: Mapping[str, Sequence[object]]) -> None:
        self.names = tuple(terms)
        n = max((len(v) for v in terms.values()), default=0)
        self.values: list[list[np.ndarray] | None] = []
        for i in range(n):
            per_term = [_as_array(terms[k][i]) if i < len(terms[k]) else None for k in self.names]
            ok = all(
                t is not None and t.size > 0 and t.shape == per_term[0].shape  # type: ignore[union-attr]
                and bool(np.all(np.isfinite(t)))
                for t in per_term
            )
            self.values.append(per_term if ok else None)  # type: ignore[arg-type]
        self.cases = tuple(i for i, v in enumerate(self.values) if v is not None)
        self.shapes = {i: self.values[i][0].shape for i in self.cases}  # type: ignore[index]
        self._factor(self.cases)

    @classmethod
    def build(cls, terms: Mapping[str, Sequence[object]]) -> TermBasis:
        return cls(terms)

    def _factor(self, cases: Sequence[int]) -> None:
        k = len(self.names)
        if not cases or not k:
            self.columns = np.empty((0, k))
            self.flat = None
            self.pinv = np.empty((k, 0))
            self.spread = np.zeros(k)
            return
        per_case = [np.column_stack([t.ravel() for t in self.values[i]]) for i in cases]  # type: ignore[union-attr]
        self.columns = np.concatenate(per_case)
        self.flat = _Flat([np.empty(p.shape[0]) for p in per_case])
        with np.errstate(all="ignore"):
            try:
                q, r = np.linalg.qr(self.columns)
                self.pinv = np.linalg.pinv(r) @ q.T
            except (np.linalg.LinAlgError, ValueError):
                self.pinv = np.full((k, self.columns.shape[0]), np.nan)
            self.spread = self._spread()

    def _spread(self) -> np.ndarray:
        """Per term: the norm of its part outside the span of the others (0: not identifiable)."""
        a = self.columns
        out = np.zeros(a.shape[1])
        for k in range(a.shape[1]):
            col, others = a[:, k], np.delete(a, k, axis=1)
            if others.shape[1]:
                col = col - others @ np.linalg.lstsq(others, col, rcond=None)[0]
            r = _norm(col)
            out[k] = r if r > COLLINEAR_RTOL * _norm(a[:, k]) else 0.0
        return out

    def subset(self, cases: Sequence[int]) -> TermBasis:
        """The same terms on fewer cases (an answer missing or misshapen on some)."""
        other = object.__new__(TermBasis)
        other.names, other.values, other.shapes = self.names, self.values, self.shapes
        other.cases = tuple(cases)
        other._factor(other.cases)
        return other


def _term_diagnoses(
    names: Sequence[str], coef: np.ndarray, ident: list[bool], labels: Mapping[str, str]
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
            frac = _fraction(c)
            text = str(Fraction(frac).limit_denominator(MAX_DENOMINATOR)) if frac == c else None
            msg = f"{label[name]} is {text or _number(c)} times what it should be"
            out.append(Diagnosis("term_scale", msg, params | {"factor": c}))
    order = ("missing_term", "term_sign", "term_scale")
    return sorted(out, key=lambda d: order.index(d.code))  # stable: term order within a code


def diagnose_terms(
    got: Sequence[np.ndarray | None],
    terms: Mapping[str, Sequence[np.ndarray]] | TermBasis,
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
    `terms` may be a TermBasis built once for many answers.
    """
    basis = terms if isinstance(terms, TermBasis) else TermBasis(terms)
    names = basis.names
    rows: list[int] = []
    gs: list[np.ndarray] = []
    for i in basis.cases:
        g = _as_array(got[i]) if i < len(got) else None
        if g is not None and g.shape == basis.shapes[i] and bool(np.all(np.isfinite(g))):
            rows.append(i)
            gs.append(g)
    if not names or not rows:
        return []
    if tuple(rows) != basis.cases:
        basis = basis.subset(rows)
    a, flat = basis.columns, basis.flat
    assert flat is not None
    b = np.concatenate([g.ravel() for g in gs])

    def fits(c: np.ndarray) -> bool:
        with np.errstate(all="ignore"):
            fitted = a @ c
            return bool(_passes(flat.norms_of(b - fitted), flat.norms_of(fitted), rtol, atol).all())

    if fits(np.ones(len(names))):
        return []  # correct within tolerance: nothing to name
    if b.size <= len(names):
        return []  # as many unknowns as numbers: every answer "fits", so the fit says nothing
    try:
        with np.errstate(all="ignore"):
            budget = atol * math.sqrt(len(rows)) + rtol * _norm(b)
            ident = [bool(s > 0 and COEF_RESOLUTION * s > budget) for s in basis.spread]
            coef = basis.pinv @ b
            if not np.all(np.isfinite(coef)) or not fits(coef) or not any(ident):
                return []
            snapped = coef.copy()
            for k in (k for k in range(len(names)) if ident[k]):
                frac = float(Fraction(float(coef[k])).limit_denominator(MAX_DENOMINATOR))
                snapped[k] = frac if abs(frac - coef[k]) <= SNAP_RTOL else float(coef[k])
            free = [k for k in range(len(names)) if not ident[k]]
            if free:  # refit the unidentifiable rest around the snapped values
                fixed = [k for k in range(len(names)) if ident[k]]
                rest = b - a[:, fixed] @ snapped[fixed]
                snapped[free] = np.linalg.lstsq(a[:, free], rest, rcond=None)[0]
            coef = snapped if fits(snapped) else coef
    except (np.linalg.LinAlgError, ValueError, OverflowError):
        return []
    return _term_diagnoses(names, coef, ident, labels)


# --- declared wrong answers ------------------------------------------------------------------


class Alternatives:
    """Declared wrong answers (misconceptions), stacked once for every submission.

    Alternatives with the same per-case shapes share one (k, total) block, so an answer is
    compared with all of them in one numpy pass.
    """

    __slots__ = ("blocks", "names", "values")

    def __init__(self, alternatives: Mapping[str, Sequence[object]]) -> None:
        self.names = tuple(alternatives)
        self.values = {k: [_as_array(v) for v in vs] for k, vs in alternatives.items()}
        groups: dict[tuple[Any, ...], list[str]] = {}
        for name, vs in self.values.items():
            key = tuple(None if v is None or v.size == 0 else v.shape for v in vs)
            groups.setdefault(key, []).append(name)
        # key -> (names, flat layout, stacked values); a None shape is a case with no value.
        self.blocks: list[tuple[tuple[Any, ...], list[str], _Flat | None, np.ndarray]] = []
        for key, names in groups.items():
            cases = [i for i, s in enumerate(key) if s is not None]
            if not cases:
                self.blocks.append((key, names, None, np.empty((len(names), 0))))
                continue
            layout = _Flat([self.values[names[0]][i] for i in cases])  # type: ignore[misc]
            stacked = np.stack([_Flat([self.values[k][i] for i in cases]).flat for k in names])  # type: ignore[misc]
            self.blocks.append((key, names, layout, stacked))

    @classmethod
    def build(cls, alternatives: Mapping[str, Sequence[object]]) -> Alternatives:
        return cls(alternatives)


def matching_alternatives(
    got: Sequence[np.ndarray | None],
    alternatives: Mapping[str, Sequence[np.ndarray]] | Alternatives,
    *,
    rtol: float,
    atol: float,
) -> list[str]:
    """Every alternative (in declared order) the answer matches on each case where both exist:
    same shape, within tolerance. An alternative with no case to compare never matches."""
    alts = alternatives if isinstance(alternatives, Alternatives) else Alternatives(alternatives)
    gs = [_as_array(g) for g in got]
    found: set[str] = set()
    for key, names, layout, stacked in alts.blocks:
        cases = [i for i, s in enumerate(key) if s is not None and i < len(gs) and gs[i] is not None]
        if not cases or layout is None or any(gs[i].shape != key[i] for i in cases):  # type: ignore[union-attr]
            continue
        every = [i for i, s in enumerate(key) if s is not None]
        if cases != every:  # the answer is missing on some cases: compare on the others only
            keep = np.concatenate(
                [np.arange(layout.starts[j], layout.starts[j] + layout.sizes[j])
                 for j, i in enumerate(every) if i in cases]
            )
            layout = _Flat([alts.values[names[0]][i] for i in cases])  # type: ignore[misc]
            stacked = stacked[:, keep]
        got_flat = np.concatenate([gs[i].ravel() for i in cases])  # type: ignore[union-attr]
        with np.errstate(all="ignore"):
            residual = layout.norms_of(got_flat - stacked)
            ok = _passes(residual, layout.norms_of(stacked), rtol, atol).all(axis=1)
        found.update(name for name, hit in zip(names, ok, strict=True) if hit)
    return [name for name in alts.names if name in found]


def match_alternatives(
    got: Sequence[np.ndarray | None],
    alternatives: Mapping[str, Sequence[np.ndarray]] | Alternatives,
    *,
    rtol: float,
    atol: float,
) -> str | None:
    """Instructor-declared wrong answers (misconceptions): the name of the first alternative the
    student's output matches on every case where both exist (same shape, within tolerance), else
    None. An alternative with no case to compare never matches."""
    found = matching_alternatives(got, alternatives, rtol=rtol, atol=atol)
    return found[0] if found else None
