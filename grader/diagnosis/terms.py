"""Structural diagnoses: the correct answer is a sum of declared terms (two paths to W, a
log-det and a trace term); fit the answer as a combination of them and say which term is
missing, has the wrong sign or the wrong factor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from grader.diagnosis.base import (
    COEF_RESOLUTION,
    COLLINEAR_RTOL,
    SNAP_RTOL,
    Diagnosis,
    Flat,
    as_array,
    fraction,
    fraction_text,
    frobenius,
    nearest_fraction,
    number,
    passes,
)

__all__ = ["TermBasis", "diagnose_terms"]


class TermBasis:
    """The declared terms of a correct answer, stacked and factored once for every submission.

    The terms' columns over all usable cases (every term finite, all of one shape) are
    QR-factored: a least-squares fit to an answer is then one product with a precomputed
    pseudo-inverse, and which terms can be told apart from the others is known in advance.
    """

    __slots__ = ("cases", "columns", "flat", "names", "pinv", "shapes", "spread", "values")

    @np.errstate(all="ignore")
    def __init__(self, terms: Mapping[str, Sequence[object]]) -> None:
        self.names = tuple(terms)
        n = max((len(v) for v in terms.values()), default=0)
        # Per case, every term's value, or None when one is missing, empty, non-finite or of
        # another shape than the others: such a case is left out of every fit.
        self.values: list[list[np.ndarray] | None] = []
        for i in range(n):
            raw = [as_array(terms[k][i]) if i < len(terms[k]) else None for k in self.names]
            usable = [t for t in raw if t is not None and t.size > 0 and np.isfinite(t).all()]
            same = len(usable) == len(raw) and all(t.shape == usable[0].shape for t in usable)
            self.values.append(usable if same else None)
        self.cases = tuple(i for i, v in enumerate(self.values) if v is not None)
        self.shapes = {i: v[0].shape for i, v in enumerate(self.values) if v is not None}
        self._factor()

    @classmethod
    def build(cls, terms: Mapping[str, Sequence[object]]) -> TermBasis:
        return cls(terms)

    def _factor(self) -> None:
        k = len(self.names)
        per_case = [
            np.column_stack([t.ravel() for t in values])
            for i in self.cases
            if (values := self.values[i]) is not None
        ]
        self.columns = np.concatenate(per_case) if per_case else np.empty((0, k))
        self.flat = Flat.layout([p.shape[0] for p in per_case])
        self.pinv = np.full((k, self.columns.shape[0]), np.nan)
        if per_case and k:
            try:
                q, r = np.linalg.qr(self.columns)
                self.pinv = np.linalg.pinv(r) @ q.T
            except (np.linalg.LinAlgError, ValueError):
                pass  # NaN coefficients: no fit, no claim
        self.spread = self._spread()

    def _spread(self) -> np.ndarray:
        """Per term: the norm of its part outside the span of the others (0: not identifiable)."""
        a = self.columns
        out = np.zeros(a.shape[1])
        for k in range(a.shape[1]):
            col, others = a[:, k], np.delete(a, k, axis=1)
            if others.shape[1]:
                col = col - others @ np.linalg.lstsq(others, col, rcond=None)[0]
            r = frobenius(col)
            out[k] = r if r > COLLINEAR_RTOL * frobenius(a[:, k]) else 0.0
        return out

    def subset(self, cases: Sequence[int]) -> TermBasis:
        """The same terms on fewer cases (an answer missing or misshapen on some)."""
        other = object.__new__(TermBasis)
        other.names, other.values, other.shapes = self.names, self.values, self.shapes
        other.cases = tuple(cases)
        other._factor()
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
            frac = fraction(c)
            exact = frac is not None and frac[0] / frac[1] == c
            text = fraction_text(frac) if exact and frac else number(c)
            msg = f"{label[name]} is {text} times what it should be"
            out.append(Diagnosis("term_scale", msg, params | {"factor": c}))
    order = ("missing_term", "term_sign", "term_scale")
    return sorted(out, key=lambda d: order.index(d.code))  # stable: term order within a code


@np.errstate(all="ignore")
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
        g = as_array(got[i]) if i < len(got) else None
        if g is not None and g.shape == basis.shapes[i] and bool(np.isfinite(g).all()):
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
        fitted = a @ c
        return bool(passes(flat.norms_of(b - fitted), flat.norms_of(fitted), rtol, atol).all())

    if fits(np.ones(len(names))):
        return []  # correct within tolerance: nothing to name
    if b.size <= len(names):
        return []  # as many unknowns as numbers: every answer "fits", so the fit says nothing
    try:
        budget = atol * math.sqrt(len(rows)) + rtol * frobenius(b)
        ident = [bool(s > 0 and COEF_RESOLUTION * s > budget) for s in basis.spread]
        coef = basis.pinv @ b
        if not np.isfinite(coef).all() or not fits(coef) or not any(ident):
            return []
        snapped = coef.copy()
        for k in (k for k in range(len(names)) if ident[k]):
            p, d, err = nearest_fraction(float(coef[k]))
            snapped[k] = p / d if err <= SNAP_RTOL else float(coef[k])
        free = [k for k in range(len(names)) if not ident[k]]
        if free:  # refit the unidentifiable rest around the snapped values
            fixed = [k for k in range(len(names)) if ident[k]]
            rest = b - a[:, fixed] @ snapped[fixed]
            snapped[free] = np.linalg.lstsq(a[:, free], rest, rcond=None)[0]
        coef = snapped if fits(snapped) else coef
    except (np.linalg.LinAlgError, ValueError, OverflowError):
        return []
    return _term_diagnoses(names, coef, ident, labels)
