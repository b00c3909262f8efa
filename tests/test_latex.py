"""Tests for grader.latex: students' LaTeX -> shape-checked sympy -> numbers.

The seed strings are the two homework gradients and the Q2 log-likelihood; every numeric check
compares against a plain numpy reference on random, non-square data (m != n, N != q != D).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import sympy as sp

from grader.latex import LatexError, ParsedAnswer, SymbolSpec, evaluate, parse_latex

RTOL = 1e-12  # answer and reference are the same algebra in float64: only rounding separates them


def _symbols(*specs: SymbolSpec) -> dict[str, SymbolSpec]:
    return {s.name: s for s in specs}


Q1 = _symbols(
    SymbolSpec("W", ("m", "n")),
    SymbolSpec("x", ("n", 1)),
    SymbolSpec("a", ("m", 1)),
    SymbolSpec("b", ("n", 1)),
    SymbolSpec("c", ("n", 1)),
)
Q2 = _symbols(
    SymbolSpec("X", ("N", "q")),
    SymbolSpec("Y", ("N", "D")),
    SymbolSpec("K", ("N", "N")),
    SymbolSpec("alpha", ()),
    SymbolSpec("beta", ()),
    SymbolSpec("D", ()),
    SymbolSpec("N", ()),
)
Q2_NO_K = {name: spec for name, spec in Q2.items() if name != "K"}
GRAD_Q1 = r"Wx(W^TWx - x)^T + W(W^TWx - x)x^T"
GRAD_Q2 = r"\alpha\left(K^{-1}YY^TK^{-1} - DK^{-1}\right)X"
LOGLIK_Q2 = r"-\frac{D}{2}\log|K| - \frac{1}{2}\operatorname{tr}(K^{-1}YY^T)"
K_LATEX = r"\left(\alpha XX^T + \beta^{-1} I\right)"


def _rel(got: np.ndarray | float, ref: np.ndarray | float) -> float:
    return float(np.linalg.norm(np.subtract(got, ref)) / np.linalg.norm(ref))


def _q1_values(m: int, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"W": rng.standard_normal((m, n))} | {
        name: rng.standard_normal((rows, 1))
        for name, rows in (("x", n), ("a", m), ("b", n), ("c", n))
    }


def _q2_values(seed: int = 0) -> dict[str, np.ndarray | float]:
    rng = np.random.default_rng(seed)
    n_, q, d, alpha, beta = 7, 2, 3, 1.6, 0.6  # D >= 2, alpha and beta away from 1 (notes A5)
    x, y = rng.standard_normal((n_, q)), rng.standard_normal((n_, d))
    k = alpha * x @ x.T + np.eye(n_) / beta
    return {"X": x, "Y": y, "K": k, "alpha": alpha, "beta": beta, "D": float(d), "N": float(n_)}


def _q2_reference(kind: str, v: dict[str, np.ndarray | float]) -> np.ndarray | float:
    k, x, y, d = v["K"], v["X"], v["Y"], v["D"]
    if kind == "grad":
        k_inv = np.linalg.inv(k)
        return v["alpha"] * (k_inv @ y @ y.T @ k_inv - d * k_inv) @ x
    return -d / 2 * np.linalg.slogdet(k)[1] - 0.5 * np.trace(np.linalg.solve(k, y @ y.T))


@pytest.mark.parametrize(("m", "n"), [(3, 5), (5, 3), (1, 4)], ids=["wide", "tall", "one-row"])
def test_q1_gradient_matches_reference(m: int, n: int) -> None:
    values = _q1_values(m, n)
    w, x = values["W"], values["x"]
    c = w.T @ w @ x - x
    answer = parse_latex(GRAD_Q1, Q1)
    assert answer.shape == ("m", "n")
    assert _rel(evaluate(answer, values), w @ x @ c.T + w @ c @ x.T) < RTOL


@pytest.mark.parametrize("kind", ["grad", "loglik"])
@pytest.mark.parametrize("k_as", ["symbol", "sympy-substituted", "written-out"])
def test_q2_matches_reference(kind: str, k_as: str) -> None:
    """K as a symbol with a numeric value, K replaced in the tree, and K typed out in LaTeX."""
    source = GRAD_Q2 if kind == "grad" else LOGLIK_Q2
    values = _q2_values()
    if k_as == "symbol":
        answer = parse_latex(source, Q2)
    elif k_as == "sympy-substituted":
        parsed = parse_latex(source, Q2)
        k_expr = parse_latex(K_LATEX, Q2).expr
        expr = parsed.expr.xreplace({parse_latex("K", Q2).expr: k_expr})
        answer = ParsedAnswer(source, expr, parsed.shape)
        values = {name: value for name, value in values.items() if name != "K"}
    else:
        answer = parse_latex(source.replace("K", K_LATEX), Q2_NO_K)
    assert answer.shape == (("N", "q") if kind == "grad" else ())
    got = evaluate(answer, values)
    if kind == "loglik":
        assert isinstance(got, float)
    assert _rel(got, _q2_reference(kind, _q2_values())) < RTOL


Q1_VARIANTS = {
    "top": r"Wx(W^\top Wx - x)^\top + W(W^\top Wx - x)x^\top",
    "braced-top": r"Wx(W^{\top}Wx - x)^{\top} + W(W^{\top}Wx - x)x^{\top}",
    "braced-T": r"Wx(W^{T}Wx - x)^{T} + W(W^{T}Wx - x)x^{T}",
    "intercal": r"Wx(W^\intercal Wx - x)^\intercal + W(W^\intercal Wx - x)x^\intercal",
    "mathbf": r"\mathbf{W}\mathbf{x}(\mathbf{W}^T\mathbf{W}\mathbf{x} - \mathbf{x})^T"
    r" + \mathbf{W}(\mathbf{W}^T\mathbf{W}\mathbf{x} - \mathbf{x})\mathbf{x}^T",
    "boldsymbol-bm": r"\boldsymbol{W}\bm{x}(W^TWx - x)^T + \bm W(W^TWx - x)x^T",
    "left-right": r"Wx\left(W^TWx - x\right)^T + W\left(W^TWx - x\right)x^T",
    "big": r"Wx\big(W^TWx - x\big)^T + W\Big[W^TWx - x\Big]x^T",
    "brackets": r"Wx[W^TWx - x]^T + W[W^TWx - x]x^T",
    "cdot": r"W \cdot x \cdot (W^T W x - x)^T + W * (W^T \times W x - x) x^T",
    "spacing": r"$W\,x\,(W^T\!W\;x - x)^T \quad + ~W(W^TWx - x)x^T$",
}
Q2_VARIANTS = {
    "top": r"\alpha\left(K^{-1}YY^\top K^{-1} - DK^{-1}\right)X",
    "spaces": r"\alpha \left( K^{-1} Y Y^{T} K^{-1} - D K^{-1} \right) X",
    "plain-parens": r"\alpha(K^{-1}YY^TK^{-1} - D\,K^{-1})X",
    "brackets": r"\alpha\left[K^{-1}YY^TK^{-1} - DK^{-1}\right]X",
    "boldsymbol": r"\boldsymbol{\alpha}\left(\mathbf{K}^{-1}\mathbf{Y}\mathbf{Y}^T\mathbf{K}^{-1}"
    r" - D\mathbf{K}^{-1}\right)\mathbf{X}",
}
LOGLIK_VARIANTS = {
    "det": r"-\frac{D}{2}\log\det K - \frac{1}{2}\operatorname{tr}(K^{-1}YY^T)",
    "det-parens": r"-\frac{D}{2}\log\det(K) - \frac{1}{2}\operatorname{tr}(K^{-1}YY^T)",
    "mathrm-tr": r"-\frac{D}{2}\log|K| - \frac{1}{2}\mathrm{tr}\left(K^{-1}YY^T\right)",
    "text-tr": r"-\frac{D}{2}\log|K| - \frac{1}{2}\text{tr}(K^{-1}YY^\top)",
    "mathrm-Tr": r"-\frac{D}{2}\log|K| - \frac{1}{2}\mathrm{Tr}(K^{-1}YY^T)",
    "tr-macro": r"-\frac{D}{2}\log|K| - \frac{1}{2}\tr(K^{-1}YY^T)",
    "trace-unbracketed": r"-\frac{D}{2}\log|K| - \frac{1}{2}\trace K^{-1}YY^T",
    "ln": r"-\frac{D}{2}\ln|K| - \frac{1}{2}\operatorname{tr}(K^{-1}YY^T)",
    "left-bars": r"-\frac{D}{2}\log\left|K\right| - \frac{1}{2}\operatorname{tr}(K^{-1}YY^T)",
    "tex-frac": r"-\frac D2\log|K| - \frac12\operatorname{tr}(K^{-1}YY^T)",
}
VARIANTS = (
    [(GRAD_Q1, v, Q1, f"q1-{k}") for k, v in Q1_VARIANTS.items()]
    + [(GRAD_Q2, v, Q2, f"q2-{k}") for k, v in Q2_VARIANTS.items()]
    + [(LOGLIK_Q2, v, Q2, f"loglik-{k}") for k, v in LOGLIK_VARIANTS.items()]
)


@pytest.mark.parametrize(
    ("seed", "variant", "symbols"), [v[:3] for v in VARIANTS], ids=[v[3] for v in VARIANTS]
)
def test_notation_variants_parse_identically(
    seed: str, variant: str, symbols: dict[str, SymbolSpec]
) -> None:
    expected, got = parse_latex(seed, symbols), parse_latex(variant, symbols)
    assert (got.expr, got.shape) == (expected.expr, expected.shape)


@pytest.mark.parametrize(
    ("source", "shape"),
    [
        ("ac^T", ("m", "n")),
        ("Wcx^T", ("m", "n")),
        ("x^Tx", (1, 1)),
        ("(x^Tx)^T", (1, 1)),
        (r"\frac{W}{2}", ("m", "n")),
        ("W/2", ("m", "n")),
        ("x(W^TWx - x)^TW^T + (W^TWx - x)x^TW^T", ("n", "m")),  # transposed: reported, not refused
        (r"\left(Wx(W^TWx - x)^T + W(W^TWx - x)x^T\right)^T", ("n", "m")),
        (r"\operatorname{tr}(W^TW)", ()),
    ],
    ids=[
        "ac^T",
        "Wcx^T",
        "1x1",
        "1x1-transposed",
        "frac-W-2",
        "slash",
        "transposed",
        "T-of-sum",
        "tr",
    ],
)
def test_shapes(source: str, shape: tuple[str | int, ...]) -> None:
    assert parse_latex(source, Q1).shape == shape


def test_superscript_binds_one_token() -> None:
    w, x = parse_latex("W", Q1).expr, parse_latex("x", Q1).expr
    assert parse_latex("W^TWx", Q1).expr == w.T * w * x
    squared_then_3 = parse_latex("x^23", {"x": SymbolSpec("x")})  # TeX: x^{2} 3
    assert evaluate(squared_then_3, {"x": 2.0}) == 12.0


def test_one_by_one_factor_acts_as_a_scalar() -> None:
    values = _q1_values(3, 5)
    w, x = values["W"], values["x"]
    answer = parse_latex("(x^Tx)W + W x x^T x x^T", Q1)
    assert answer.shape == ("m", "n")
    assert _rel(evaluate(answer, values), (x.T @ x).item() * w + w @ x @ x.T @ x @ x.T) < RTOL
    one_by_one = evaluate(parse_latex("x^Tx", Q1), values)
    assert isinstance(one_by_one, np.ndarray) and one_by_one.shape == (1, 1)


def test_scalar_transpose_and_inverse() -> None:
    assert parse_latex(r"\alpha^T", Q2).expr == sp.Symbol("alpha")
    answer = parse_latex(r"\beta^{-1} + \alpha^2 + |\alpha - 3|", Q2)
    assert answer.shape == ()
    assert evaluate(answer, {"alpha": 1.5, "beta": 4.0}) == pytest.approx(0.25 + 2.25 + 1.5)


@pytest.mark.parametrize(
    "source",
    [r"K - \beta^{-1} I", r"K - \beta^{-1} I_N", r"K - \beta^{-1} I_{N}", r"I K - \frac{I}{\beta}"],
    ids=["inferred", "subscript", "braced-subscript", "inferred-in-product"],
)
def test_identity(source: str) -> None:
    values = _q2_values()
    answer = parse_latex(source, Q2)
    assert answer.shape == ("N", "N")
    expected = values["K"] - np.eye(7) / values["beta"]
    assert _rel(evaluate(answer, values), expected) < RTOL


def test_declared_identity_and_trace_of_identity() -> None:
    symbols = {**Q2_NO_K, "I": SymbolSpec("I", ("N", "N"))}
    answer = parse_latex(r"\alpha XX^T + \beta^{-1} I", symbols)
    assert answer.shape == ("N", "N")
    values = _q2_values()
    assert _rel(evaluate(answer, values), values["K"]) < RTOL
    assert evaluate(parse_latex(r"\operatorname{tr}(I_N)", Q2), {"N": 7.0}) == 7.0


def test_one_by_one_times_identity_is_a_multiple_of_identity() -> None:
    """(x^Tx) I must not become I_1: the 1 x 1 factor scales an identity sized by W^TW."""
    values = _q1_values(3, 5)
    w, x = values["W"], values["x"]
    answer = parse_latex("(x^Tx) I + W^TW + I^0", Q1)
    assert answer.shape == ("n", "n")
    expected = (x.T @ x).item() * np.eye(5) + w.T @ w + np.eye(5)
    assert _rel(evaluate(answer, values), expected) < RTOL


def test_cancelled_matrix_needs_its_sizes() -> None:
    """sympy folds W - W to ZeroMatrix(m, n): no W is left to read m and n from."""
    answer = parse_latex("W - W", Q1)
    assert answer.shape == ("m", "n")
    with pytest.raises(ValueError, match=r"pass values\['m'\]"):
        evaluate(answer, _q1_values(3, 5))
    got = evaluate(answer, _q1_values(3, 5) | {"m": 3, "n": 5})
    assert isinstance(got, np.ndarray) and got.shape == (3, 5) and not got.any()


def test_log_det_does_not_overflow() -> None:
    """det(1000 I_200) = 1e600 overflows float64; slogdet does not."""
    answer = parse_latex(r"\log|K|", Q2)
    assert evaluate(answer, {"K": 1e3 * np.eye(200)}) == pytest.approx(200 * np.log(1e3))


def test_complex_step_goes_through_evaluate() -> None:
    """Complex inputs stay complex, so the grader can complex-step through a parsed loss."""
    values = _q2_values()
    k, y, d = values["K"], values["Y"], values["D"]
    direction = np.random.default_rng(1).standard_normal(k.shape)
    k_inv = np.linalg.inv(k)
    grad_k = -d / 2 * k_inv + 0.5 * k_inv @ y @ y.T @ k_inv  # dL/dK (K not assumed symmetric)
    h = 1e-20
    got = evaluate(parse_latex(LOGLIK_Q2, Q2), values | {"K": k + 1j * h * direction})
    assert isinstance(got, complex)
    assert got.imag / h == pytest.approx(np.sum(grad_k * direction), rel=1e-10)


ERRORS = [
    ("WW", Q1, 2, "cannot multiply W (m x n) by W (m x n) at column 2: inner dimensions n and m"),
    ("W^TWW", Q1, 5, "cannot multiply W^TW (n x n) by W (m x n) at column 5"),
    ("w", Q1, 1, "unknown symbol w at column 1; did you mean W?"),
    ("Wx + y", Q1, 6, "unknown symbol y at column 6; declared: a, b, c, W, x"),
    ("alpha X", Q2, 1, r"did you mean \alpha?"),
    (r"\gamma X", Q2, 1, r"unknown symbol \gamma at column 1"),
    (r"\foo W", Q1, 1, r"unknown command \foo at column 1; supported: Greek letters, \frac"),
    (r"\fract{1}{2}", Q1, 1, r"did you mean \frac?"),
    (r"\operatorname{diag}(x)", Q1, 1, r"unknown operator \operatorname{diag} at column 1"),
    ("(Wx", Q1, 1, "unbalanced parentheses: ( at column 1 is never closed; add )"),
    ("Wx)", Q1, 3, "unbalanced parentheses: ) at column 3 has no matching opener"),
    (r"\left(Wx\right]", Q1, 6, "( at column 6 is closed by ] at column 15"),
    ("|W", Q1, 1, "unbalanced parentheses: | at column 1 is never closed"),
    ("", Q1, 1, "empty answer"),
    ("  $ $ ", Q1, 1, "empty answer"),
    ("W +", Q1, 4, "incomplete answer"),
    (r"\frac{1}{W}", Q1, 9, "cannot divide by W (m x n) at column 9: the denominator must be a"),
    (
        r"YY^TK^{-1} - D",
        Q2,
        12,
        "cannot add scalar D to YY^TK^{-1} (N x N) at column 12; write D I",
    ),
    ("x + W", Q1, 3, "cannot add x (n x 1) and W (m x n) at column 3: shapes differ"),
    ("W^{-1}", Q1, 2, "cannot invert W (m x n) at column 2: only square matrices"),
    ("W^2", Q1, 2, "cannot take a power of W (m x n) at column 2"),
    ("W^x", Q1, 2, "unsupported superscript at column 2"),
    ("W^-1", Q1, 2, "unsupported superscript at column 2"),
    ("W'", Q1, 2, "write a transpose as ^T"),
    (r"\log K", Q2, 1, r"it needs a scalar; for a log-determinant write \log|K|"),
    (r"\operatorname{tr}(W)", Q1, 1, "cannot take the trace of (W) (m x n) at column 1"),
    ("|W|", Q1, 1, "cannot take the determinant of |W| (m x n)"),
    ("2I", Q2, 1, "cannot infer the size of I at column 1; write I_N"),
    (r"\alpha I + \beta", Q2, 10, r"cannot add scalar \beta to \alpha I (size unknown)"),
    (r"\frac{W}{0}", Q1, 1, "the answer divides by zero or takes log 0 at column 1"),
    ("x_1", Q1, 2, "unexpected subscript on x at column 2"),
    ("K + I_z", Q2, 6, "unknown dimension z in I_{z} at column 6; declared: D, N, q"),
    ("K + I_q", Q2, 3, "cannot add K (N x N) and I_q (q x q) at column 3"),
    ("W \\top", Q1, 3, r"unexpected \top at column 3"),
]


@pytest.mark.parametrize(
    ("source", "symbols", "column", "message"),
    ERRORS,
    ids=[e[0] or "empty" for e in ERRORS],
)
def test_errors_say_what_and_where(
    source: str, symbols: dict[str, SymbolSpec], column: int, message: str
) -> None:
    with pytest.raises(LatexError) as info:
        parse_latex(source, symbols)
    text = str(info.value)
    assert message in text
    assert "\n" not in text and f"column {column}" in text and info.value.column == column


@pytest.mark.parametrize(
    "specs",
    [
        {"W": SymbolSpec("Wx", ("m", "n"))},
        {"Wx": SymbolSpec("Wx", ("m", "n"))},
        {"W": SymbolSpec("W", ("m",))},
        {"W": SymbolSpec("W", ("m", 0))},
        {"I": SymbolSpec("I", ("m", "n"))},
    ],
    ids=["key-mismatch", "multi-letter", "one-dim", "zero-size", "non-square-I"],
)
def test_bad_declarations_are_the_callers_fault(specs: dict[str, SymbolSpec]) -> None:
    with pytest.raises(ValueError, match=r"^symbols\[") as info:
        parse_latex("W", specs)
    assert not isinstance(info.value, LatexError)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"x": np.ones((5, 1))}, r"values\['W'\] is missing"),
        ({"W": np.ones(15), "x": np.ones((5, 1))}, "expected a 2-D array"),
        ({"W": np.ones((3, 5)), "x": np.ones((4, 1))}, r"values\['x'\] has shape \(4, 1\)"),
        ({"W": np.ones((3, 5)), "x": np.ones((5, 2))}, r"expected \(n, 1\)"),
    ],
    ids=["missing", "1-D", "inconsistent-dimension", "wrong-fixed-dimension"],
)
def test_evaluate_rejects_bad_values(values: dict[str, np.ndarray], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        evaluate(parse_latex("Wx", Q1), values)


@pytest.mark.parametrize(
    ("source", "symbols"),
    [(GRAD_Q1, Q1), (GRAD_Q2, Q2), (LOGLIK_Q2, Q2)],
    ids=["grad-q1", "grad-q2", "loglik-q2"],
)
def test_parsing_is_fast(source: str, symbols: dict[str, SymbolSpec]) -> None:
    parse_latex(source, symbols)  # warm sympy's caches once, as a grading run would
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        parse_latex(source, symbols)
        best = min(best, time.perf_counter() - start)
    assert best < 0.05
