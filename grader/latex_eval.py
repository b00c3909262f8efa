"""Evaluate a parsed LaTeX answer (``grader.latex``) at numeric values by walking its sympy tree.

Why not lambdify: sympy 1.14's NumPy printer cannot print Trace or Determinant. ``A^{-1}B`` is
computed with ``solve`` and ``\\log|K|`` with ``slogdet`` (no over/underflow).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

if TYPE_CHECKING:
    from grader.latex import ParsedAnswer

__all__ = ["evaluate"]


def evaluate(answer: ParsedAnswer, values: Mapping[str, np.ndarray | float]) -> np.ndarray | float:
    """Evaluate a parsed answer at numeric values: a float for a scalar, else a 2-D array.

    Dimension sizes are read off the arrays (a named dimension must have one size throughout).
    sympy folds ``0W`` and ``W - W`` into a ZeroMatrix with no W left to read m and n from: pass
    such sizes in ``values`` under the dimension's name (``values["m"] = 3``).
    Complex inputs stay complex, so complex-step differentiation works through the answer.
    """
    arrays: dict[str, np.ndarray] = {}
    sizes: dict[sp.Basic, int] = {}
    for sym in sorted(answer.expr.atoms(sp.MatrixSymbol), key=str):
        if sym.name not in values:
            raise ValueError(f"values[{sym.name!r}] is missing: the answer uses {sym.name}")
        arr = np.asarray(values[sym.name])
        arr = arr.astype(float) if arr.dtype.kind in "biu" else arr
        if arr.ndim != 2:
            raise ValueError(f"values[{sym.name!r}]: expected a 2-D array, got shape {arr.shape}")
        for dim, size in zip(sym.shape, arr.shape, strict=True):
            if (dim.is_Integer and dim != size) or sizes.setdefault(dim, size) != size:
                raise ValueError(
                    f"values[{sym.name!r}] has shape {arr.shape}, expected ({sym.rows}, {sym.cols})"
                )
        arrays[sym.name] = arr
    out = _Evaluator(values, arrays, sizes).ev(answer.expr)
    if answer.shape:
        return np.asarray(out)
    return complex(out) if np.iscomplexobj(out) else float(out)


@dataclass(frozen=True, slots=True)
class _Evaluator:
    values: Mapping[str, np.ndarray | float]
    arrays: dict[str, np.ndarray]
    sizes: dict[sp.Basic, int]

    def size(self, dim: sp.Basic) -> int:
        if dim.is_Integer:
            return int(dim)
        if dim in self.sizes:
            return self.sizes[dim]
        # An I_N with no matrix of size N in the answer: fall back on a scalar value named N.
        value = self.values.get(str(dim))
        if value is None or np.ndim(value) != 0 or float(value) != int(value):  # type: ignore[arg-type]
            raise ValueError(
                f"cannot tell the size {dim}: no matrix in the answer has it (sympy may have"
                f" simplified it away); pass values[{str(dim)!r}] = the size"
            )
        return int(value)  # type: ignore[arg-type]

    def ev(self, e: sp.Basic) -> Any:
        if isinstance(e, sp.MatrixSymbol):
            return self.arrays[e.name]
        if isinstance(e, sp.Identity):
            return np.eye(self.size(e.rows))
        if isinstance(e, sp.ZeroMatrix):
            return np.zeros((self.size(e.rows), self.size(e.cols)))
        if isinstance(e, sp.Symbol):
            if e.is_integer:  # a dimension, e.g. from Trace(Identity(N)) = N
                return float(self.size(e))
            if e.name not in self.values or np.ndim(self.values[e.name]) != 0:
                raise ValueError(f"values[{e.name!r}]: expected a scalar for {e.name}")
            return np.asarray(self.values[e.name])[()]
        if e.is_number:  # a constant sympy folded: 1/2, or log(log(2)) + I*pi from \log\log 0.5
            value = complex(e)  # type: ignore[arg-type]
            return value.real if value.imag == 0 else value
        if isinstance(e, (sp.MatMul, sp.Mul)):
            return self.product(e.args)
        if isinstance(e, (sp.MatAdd, sp.Add)):
            return sum((self.ev(a) for a in e.args[1:]), start=self.ev(e.args[0]))
        if isinstance(e, sp.MatPow):
            return np.linalg.matrix_power(self.ev(e.base), int(e.exp))
        if isinstance(e, sp.Pow):
            return self.ev(e.base) ** (int(e.exp) if e.exp.is_Integer else float(e.exp))
        if isinstance(e, sp.log) and isinstance(e.args[0], sp.Determinant):
            sign, logabs = np.linalg.slogdet(self.ev(e.args[0].arg))
            if np.iscomplexobj(sign):
                return logabs + np.log(sign)
            return logabs if sign > 0 else -np.inf if sign == 0 else np.nan
        for kind, func in _UNARY:
            if isinstance(e, kind):
                return func(self.ev(e.args[0]))
        raise TypeError(f"evaluate: no numeric rule for {type(e).__name__} in {e}")

    def product(self, args: tuple[sp.Basic, ...]) -> Any:
        """Multiply right to left, so that ``A^{-1} B`` is ``solve(A, B)``, never ``inv(A) @ B``."""
        acc, scale = None, 1.0
        for a in reversed(args):
            if isinstance(a, sp.Inverse) and acc is not None:
                acc = np.linalg.solve(self.ev(a.arg), acc)
                continue
            v = self.ev(a)
            if np.ndim(v) == 0:
                scale = scale * v
            else:
                acc = v if acc is None else v @ acc
        return scale if acc is None else scale * acc


_UNARY: tuple[tuple[type, Any], ...] = (
    (sp.Transpose, np.transpose),
    (sp.Inverse, np.linalg.inv),
    (sp.Trace, np.trace),
    (sp.Determinant, np.linalg.det),
    (sp.log, np.log),
    (sp.Abs, np.abs),
)
