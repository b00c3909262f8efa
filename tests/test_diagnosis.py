"""Tests for grader.diagnosis.

A corpus of wrong answers to the two homework problems, each pinned to the diagnosis it must
get, plus the contract that correct answers (exact or within 1e-12 noise) get none.
Q1: L(W) = ½‖WᵀWx − x‖², grad_W = W x cᵀ + W c xᵀ with c = WᵀWx − x.
Q2: K = αXXᵀ + I/β, L = −D/2 log|K| − ½ tr(K⁻¹YYᵀ), grad_X = α(K⁻¹YYᵀK⁻¹ − DK⁻¹)X.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.diagnosis import (
    Alternatives,
    Diagnosis,
    TermBasis,
    diagnose_terms,
    diagnose_values,
    match_alternatives,
    matching_alternatives,
)

RTOL, ATOL = 1e-6, 1e-9  # the grader's defaults (grader/spec.py)

Inputs = dict[str, Any]
Student = Callable[[Inputs], np.ndarray]

# --- Q1 --------------------------------------------------------------------------------------

Q1_DIMS = ({"m": 3, "n": 5}, {"m": 4, "n": 2}, {"m": 6, "n": 3})  # m != n: transposes show
Q1_LABELS = {"via_b": "the path through b = Wᵀa", "via_a": "the path through a = Wx"}


def q1_inputs(dims: Sequence[Mapping[str, int]], seed: int = 0) -> list[Inputs]:
    rng = np.random.default_rng(seed)
    return [
        {"W": rng.normal(size=(d["m"], d["n"])), "x": rng.normal(size=(d["n"], 1))} for d in dims
    ]


def q1_terms(v: Inputs) -> dict[str, np.ndarray]:
    w, x = v["W"], v["x"]
    c = w.T @ w @ x - x
    return {"via_b": w @ x @ c.T, "via_a": w @ c @ x.T}


def q1_grad(v: Inputs) -> np.ndarray:
    t = q1_terms(v)
    return t["via_b"] + t["via_a"]


def q1_grad_x(v: Inputs) -> np.ndarray:
    """Gradient with respect to x, shape (n, 1): a column-vector answer."""
    w, x = v["W"], v["x"]
    a = w.T @ w - np.eye(x.shape[0])
    return a.T @ (a @ x)


# --- Q2 --------------------------------------------------------------------------------------

Q2_DIMS = ({"N": 5, "q": 2, "D": 3}, {"N": 7, "q": 3, "D": 2}, {"N": 4, "q": 1, "D": 4})
Q2_LABELS = {"logdet": "the log-det term", "trace": "the trace term"}


def q2_inputs(
    dims: Sequence[Mapping[str, int]], seed: int = 0, alpha: float | None = None
) -> list[Inputs]:
    rng = np.random.default_rng(seed)
    out = []
    for d in dims:
        a = float(rng.uniform(1.3, 2.0)) if alpha is None else alpha
        out.append(
            {
                "X": rng.normal(size=(d["N"], d["q"])),
                "Y": rng.normal(size=(d["N"], d["D"])),
                "alpha": a,
                "beta": float(rng.uniform(0.5, 0.8)),
            }
        )
    return out


def q2_parts(v: Inputs) -> tuple[np.ndarray, np.ndarray]:
    x, y, alpha, beta = v["X"], v["Y"], v["alpha"], v["beta"]
    k_inv = np.linalg.inv(alpha * x @ x.T + np.eye(x.shape[0]) / beta)
    return k_inv, y


def q2_terms(v: Inputs) -> dict[str, np.ndarray]:
    k_inv, y = q2_parts(v)
    x, alpha, d = v["X"], v["alpha"], y.shape[1]
    return {"logdet": -d * alpha * k_inv @ x, "trace": alpha * k_inv @ y @ y.T @ k_inv @ x}


def q2_grad(v: Inputs) -> np.ndarray:
    t = q2_terms(v)
    return t["logdet"] + t["trace"]


# --- helpers ---------------------------------------------------------------------------------

PROBLEMS: dict[str, tuple[Callable[..., list[Inputs]], Student, Callable[[Inputs], Any]]] = {
    "q1": (q1_inputs, q1_grad, q1_terms),
    "q2": (q2_inputs, q2_grad, q2_terms),
}


def run(student: Student, cases: Sequence[Inputs]) -> list[np.ndarray]:
    return [np.asarray(student(v), dtype=np.float64) for v in cases]


def values(
    student: Student, problem: str, cases: Sequence[Inputs], dims: Sequence[Mapping[str, int]]
) -> list[Diagnosis]:
    got, want = run(student, cases), run(PROBLEMS[problem][1], cases)
    return diagnose_values(got, want, rtol=RTOL, atol=ATOL, case_dims=dims)


def terms_of(problem: str, cases: Sequence[Inputs]) -> dict[str, list[np.ndarray]]:
    per_case = [PROBLEMS[problem][2](v) for v in cases]
    return {name: [t[name] for t in per_case] for name in per_case[0]}


def structure(student: Student, problem: str, cases: Sequence[Inputs]) -> list[Diagnosis]:
    labels = Q1_LABELS if problem == "q1" else Q2_LABELS
    got = run(student, cases)
    return diagnose_terms(got, terms_of(problem, cases), labels=labels, rtol=RTOL, atol=ATOL)


def assert_pinned(found: list[Diagnosis], pinned: list[tuple[str, Mapping[str, Any]]]) -> None:
    """Codes in order, then each pinned param (floats compared approximately)."""
    assert [d.code for d in found] == [code for code, _ in pinned], [d.message for d in found]
    for d, (_, params) in zip(found, pinned, strict=True):
        plain = json.loads(json.dumps(d.as_dict()))["params"]  # JSON-serialisable, lists
        for key, want in json.loads(json.dumps(params)).items():
            numeric = isinstance(want, float) or (
                isinstance(want, list) and all(isinstance(w, float) for w in want)
            )
            assert plain[key] == (pytest.approx(want) if numeric else want), key


# --- the corpus of wrong answers -------------------------------------------------------------

VALUE_CORPUS = [
    pytest.param(
        "q1", lambda v: q1_grad(v).T, [("transposed", {"values_match": True})], id="q1-transposed"
    ),
    pytest.param(
        "q1",
        lambda v: q1_grad(v).ravel(),
        [("reshaped", {"values_match": True, "got_shape": (15,), "expected_shape": (3, 5)})],
        id="q1-flattened-matrix",
    ),
    pytest.param("q1", lambda v: -q1_grad(v), [("sign_flip", {"factor": -1.0})], id="q1-sign"),
    pytest.param(
        "q1", lambda v: 2 * q1_grad(v), [("scale_factor", {"factor": 2.0})], id="q1-times-2"
    ),
    pytest.param("q1", lambda v: q1_grad(v) / 2, [("scale_factor", {"factor": 0.5})], id="q1-half"),
    pytest.param("q1", lambda v: np.zeros_like(v["W"]), [("zero", {})], id="q1-zero"),
    pytest.param(
        "q1",
        lambda v: np.ones_like(v["W"]),
        [("constant", {"kind": "filled"})],
        id="q1-constant-filled",
    ),
    pytest.param(
        "q1",
        lambda v: 2 * q1_grad(v).T,
        [
            ("transposed", {"values_match": False}),
            ("scale_factor", {"factor": 2.0, "view": "transposed"}),
        ],
        id="q1-transposed-times-2",
    ),
    pytest.param(
        "q1",
        lambda v: -q1_grad(v).ravel(),
        [("reshaped", {"values_match": False}), ("sign_flip", {"view": "reshaped"})],
        id="q1-flattened-sign",
    ),
    pytest.param(
        "q1",
        lambda v: q1_terms(v)["via_b"].T,
        [("transposed", {"values_match": False})],
        id="q1-transposed-and-wrong",
    ),
    pytest.param("q2", lambda v: -q2_grad(v), [("sign_flip", {})], id="q2-sign"),
    pytest.param(
        "q2", lambda v: 2 * q2_grad(v), [("scale_factor", {"factor": 2.0})], id="q2-times-2"
    ),
    pytest.param(
        "q2",
        lambda v: q2_grad(v) * v["Y"].shape[1],
        [("varying_scale", {"dim_factor": "D", "factors": [3.0, 2.0, 4.0]})],
        id="q2-extra-D",
    ),
]


@pytest.mark.parametrize(("problem", "student", "pinned"), VALUE_CORPUS)
def test_diagnose_values_names_the_mistake(
    problem: str, student: Student, pinned: list[tuple[str, Mapping[str, Any]]]
) -> None:
    dims = Q1_DIMS if problem == "q1" else Q2_DIMS
    assert_pinned(values(student, problem, PROBLEMS[problem][0](dims), dims), pinned)


@pytest.mark.parametrize(
    ("student", "pinned", "hint"),
    [
        pytest.param(
            lambda v: q1_grad_x(v).ravel(),
            {"got_shape": (5,), "expected_shape": (5, 1), "values_match": True},
            "x.reshape(-1, 1)",
            id="flat-vector",
        ),
        pytest.param(
            lambda v: q1_grad_x(v).T,
            {"got_shape": (1, 5), "expected_shape": (5, 1), "values_match": True},
            "column vector",
            id="row-vector",
        ),
        pytest.param(
            lambda v: q1_grad_x(v)[None],
            {"got_shape": (1, 5, 1), "expected_shape": (5, 1), "values_match": True},
            "column vector",
            id="extra-axis",
        ),
        pytest.param(
            lambda v: q1_grad_x(v).ravel() + 1.0,
            {"got_shape": (5,), "values_match": False},
            "values are wrong too",
            id="flat-and-wrong",
        ),
    ],
)
def test_vector_shape_slips_are_reshaped_not_transposed(
    student: Student, pinned: Mapping[str, Any], hint: str
) -> None:
    cases = q1_inputs(Q1_DIMS)
    got, want = run(student, cases), run(q1_grad_x, cases)
    found = diagnose_values(got, want, rtol=RTOL, atol=ATOL)
    assert_pinned(found, [("reshaped", pinned)])
    assert hint in found[0].message


def test_transposed_square_values_are_named() -> None:
    dims = [{"m": 4, "n": 4}, {"m": 3, "n": 3}]
    found = values(lambda v: q1_grad(v).T, "q1", q1_inputs(dims), dims)
    assert_pinned(found, [("transposed", {"values_match": True})])
    assert found[0].message == "your answer equals the transpose of the gradient"
    found = values(lambda v: -0.5 * q1_grad(v).T, "q1", q1_inputs(dims), dims)
    pinned = [("transposed", {}), ("scale_factor", {"factor": -0.5, "view": "transposed"})]
    assert_pinned(found, pinned)
    assert found[1].message == "after transposing, your answer is -1/2 times the gradient"


def test_wrong_answer_outside_every_rule_gets_no_generic_claim() -> None:
    # The "2Wcxᵀ" slip is not a transform of the gradient: only diagnose_terms can name it.
    found = values(
        lambda v: q1_terms(v)["via_b"] + 2 * q1_terms(v)["via_a"], "q1", q1_inputs(Q1_DIMS), Q1_DIMS
    )
    assert found == []


@pytest.mark.parametrize(
    ("factor", "text"),
    [
        pytest.param(2.0, "2 times", id="two"),
        pytest.param(0.5, "1/2 times", id="half"),
        pytest.param(0.75, "3/4 times", id="three-quarters"),
        pytest.param(-3.0, "-3 times", id="minus-three"),
        pytest.param(1 / 1.3, "0.7692 (1/1.3) times", id="one-over-1.3"),
        pytest.param(0.123456, "0.1235 times", id="plain-decimal"),
        pytest.param(1 + 1e-4, "1.0001 times", id="near-one-not-shown-as-one"),
    ],
)
def test_scale_factor_message_is_friendly(factor: float, text: str) -> None:
    cases = q1_inputs(Q1_DIMS)
    found = values(lambda v: factor * q1_grad(v), "q1", cases, Q1_DIMS)
    assert_pinned(found, [("scale_factor", {"factor": factor})])
    assert found[0].message == f"your answer is {text} the gradient"


def test_missing_alpha_with_fixed_alpha_is_one_factor() -> None:
    cases = q2_inputs(Q2_DIMS, alpha=1.7)
    found = values(lambda v: q2_grad(v) / v["alpha"], "q2", cases, Q2_DIMS)
    assert_pinned(found, [("scale_factor", {"factor": 1 / 1.7})])
    assert "(1/1.7)" in found[0].message


def test_missing_alpha_with_varying_alpha_claims_no_single_factor() -> None:
    cases = q2_inputs(Q2_DIMS)
    alphas = [v["alpha"] for v in cases]
    assert len({round(a, 6) for a in alphas}) == 3
    found = values(lambda v: q2_grad(v) / v["alpha"], "q2", cases, Q2_DIMS)
    assert_pinned(found, [("varying_scale", {})])
    assert found[0].params["factors"] == pytest.approx([1 / a for a in alphas])
    assert "factor" not in found[0].params
    assert "changes from case to case" in found[0].message


def test_constant_same_array_every_case() -> None:
    dims = [Q1_DIMS[0]] * 3
    fixed = np.arange(15.0).reshape(3, 5)
    found = values(lambda v: fixed, "q1", q1_inputs(dims), dims)
    assert_pinned(found, [("constant", {"kind": "same_every_case"})])


# --- partial cases ---------------------------------------------------------------------------


def test_partial_cases_reports_indices() -> None:
    cases = q1_inputs(Q1_DIMS)
    got = run(q1_grad, cases)
    got[1] = got[1] + np.outer(np.arange(got[1].shape[0]), np.ones(got[1].shape[1]))
    found = diagnose_values(got, run(q1_grad, cases), rtol=RTOL, atol=ATOL, case_dims=Q1_DIMS)
    assert_pinned(found, [("partial_cases", {"passed": (0, 2), "failed": (1,), "crashed": ()})])
    assert found[0].message == "your answer is right on cases 0 and 2 but not on case 1"


def test_partial_cases_names_what_is_wrong_on_the_failing_case() -> None:
    cases = q1_inputs(Q1_DIMS)
    got = run(q1_grad, cases)
    got[1] = 2 * got[1]
    found = diagnose_values(got, run(q1_grad, cases), rtol=RTOL, atol=ATOL)
    assert_pinned(found, [("scale_factor", {"factor": 2.0}), ("partial_cases", {"failed": (1,)})])


def test_partial_cases_uses_passed_from_the_caller() -> None:
    cases = q1_inputs(Q1_DIMS)
    want = run(q1_grad, cases)
    got = [want[0], -want[1], want[2]]
    found = diagnose_values(got, want, rtol=RTOL, atol=ATOL, passed=[True, False, True])
    assert_pinned(found, [("sign_flip", {}), ("partial_cases", {"passed": (0, 2)})])


def test_crash_on_non_square_is_right_only_when_m_equals_n() -> None:
    dims = ({"m": 3, "n": 3}, {"m": 4, "n": 2}, {"m": 5, "n": 5})
    cases = q1_inputs(dims)
    want = run(q1_grad, cases)
    got = [want[0], None, want[2]]
    found = diagnose_values(got, want, rtol=RTOL, atol=ATOL, case_dims=dims)
    pinned = {"passed": (0, 2), "failed": (1,), "crashed": (1,), "conditions": ("m == n",)}
    assert_pinned(found, [("partial_cases", pinned)])
    assert found[0].message.endswith("right only when m == n")


def test_dropped_d_is_right_only_when_d_is_1() -> None:
    dims = ({"N": 5, "q": 2, "D": 3}, {"N": 7, "q": 3, "D": 1}, {"N": 4, "q": 1, "D": 4})
    cases = q2_inputs(dims)

    def dropped_d(v: Inputs) -> np.ndarray:
        t = q2_terms(v)
        return t["logdet"] / v["Y"].shape[1] + t["trace"]

    found = diagnose_values(
        run(dropped_d, cases), run(q2_grad, cases), rtol=RTOL, atol=ATOL, case_dims=dims
    )
    pinned = {"passed": (1,), "failed": (0, 2), "conditions": ("D == 1",)}
    assert_pinned(found, [("partial_cases", pinned)])


# --- structural diagnoses --------------------------------------------------------------------

TERM_CORPUS = [
    pytest.param(
        "q1",
        lambda v: q1_terms(v)["via_b"],
        [("missing_term", {"term": "via_a", "coefficient": 0.0, "present": ("via_b",)})],
        "only the path through b = Wᵀa is present: the path through a = Wx is missing",
        id="q1-only-via-b",
    ),
    pytest.param(
        "q1",
        lambda v: q1_terms(v)["via_a"],
        [("missing_term", {"term": "via_b", "present": ("via_a",)})],
        "only the path through a = Wx is present: the path through b = Wᵀa is missing",
        id="q1-only-via-a",
    ),
    pytest.param(
        "q1",
        lambda v: q1_terms(v)["via_b"] + 2 * q1_terms(v)["via_a"],
        [("term_scale", {"term": "via_a", "factor": 2.0})],
        "the path through a = Wx is 2 times what it should be",
        id="q1-via-a-twice",
    ),
    pytest.param(
        "q2",
        lambda v: -q2_terms(v)["logdet"] + q2_terms(v)["trace"],
        [("term_sign", {"term": "logdet", "coefficient": -1.0})],
        "the log-det term has the wrong sign",
        id="q2-logdet-sign",
    ),
    pytest.param(
        "q2",
        lambda v: q2_terms(v)["logdet"] + 2 * q2_terms(v)["trace"],
        [("term_scale", {"term": "trace", "factor": 2.0})],
        "the trace term is 2 times what it should be",
        id="q2-trace-twice",
    ),
    pytest.param(
        "q2",
        lambda v: q2_terms(v)["logdet"],
        [("missing_term", {"term": "trace", "present": ("logdet",)})],
        "only the log-det term is present: the trace term is missing",
        id="q2-trace-missing",
    ),
    pytest.param(
        "q2",
        lambda v: -q2_grad(v),
        [("term_sign", {"term": "logdet"}), ("term_sign", {"term": "trace"})],
        "the log-det term has the wrong sign",
        id="q2-all-signs",
    ),
]


@pytest.mark.parametrize(("problem", "student", "pinned", "message"), TERM_CORPUS)
def test_diagnose_terms_names_the_term(
    problem: str, student: Student, pinned: list[tuple[str, Mapping[str, Any]]], message: str
) -> None:
    cases = PROBLEMS[problem][0](Q1_DIMS if problem == "q1" else Q2_DIMS)
    found = structure(student, problem, cases)
    assert_pinned(found, pinned)
    assert found[0].message == message


@pytest.mark.parametrize(
    "student",
    [
        pytest.param(lambda v: q2_grad(v) / v["alpha"], id="alpha-missing-varying"),
        pytest.param(lambda v: q2_grad(v) + v["X"], id="outside-the-span"),
        pytest.param(lambda v: q2_grad(v).T, id="wrong-shape"),
    ],
)
def test_diagnose_terms_is_silent_when_no_constant_coefficients_fit(student: Student) -> None:
    assert structure(student, "q2", q2_inputs(Q2_DIMS)) == []


def test_collinear_terms_are_not_named() -> None:
    cases = q1_inputs(Q1_DIMS)
    t = terms_of("q1", cases)
    doubled = {"via_b": t["via_b"], "via_a": t["via_a"], "again": [2 * a for a in t["via_a"]]}
    # via_a and "again" are collinear: their coefficients cannot be told apart, so a missing
    # via_a path is not named; the identifiable via_b term is right, so nothing is said.
    got = t["via_b"]
    assert diagnose_terms(got, doubled, labels=Q1_LABELS, rtol=RTOL, atol=ATOL) == []
    # ...but via_b, still identifiable, is named when it is the one that is off.
    got = [-b + a for b, a in zip(t["via_b"], t["via_a"], strict=True)]
    found = diagnose_terms(got, doubled, labels=Q1_LABELS, rtol=RTOL, atol=ATOL)
    assert_pinned(found, [("term_sign", {"term": "via_b"})])


def test_identical_terms_are_not_identifiable() -> None:
    cases = q1_inputs(Q1_DIMS)
    g = run(q1_grad, cases)
    same = {"left": g, "right": g}
    assert diagnose_terms([2 * a for a in g], same, labels={}, rtol=RTOL, atol=ATOL) == []


# --- correct answers never get a diagnosis ---------------------------------------------------


def random_dims(problem: str, rng: np.random.Generator) -> list[dict[str, int]]:
    if problem == "q1":
        dims = []
        while len(dims) < 3:
            m, n = (int(k) for k in rng.integers(2, 9, size=2))
            if m != n:
                dims.append({"m": m, "n": n})
        return dims
    return [
        {"N": int(rng.integers(3, 11)), "q": int(rng.integers(1, 5)), "D": int(rng.integers(2, 6))}
        for _ in range(3)
    ]


@pytest.mark.parametrize("problem", ["q1", "q2"])
def test_correct_answers_get_no_diagnosis_on_many_seeds(problem: str) -> None:
    make, reference, _ = PROBLEMS[problem]
    for seed in range(200):
        rng = np.random.default_rng(seed)
        dims = random_dims(problem, rng)
        cases = make(dims, seed=seed)
        want = run(reference, cases)
        noisy = [w * (1 + 1e-12 * rng.normal(size=w.shape)) for w in want]
        terms = terms_of(problem, cases)
        for got in (want, noisy, [w.copy() for w in want]):
            assert diagnose_values(got, want, rtol=RTOL, atol=ATOL, case_dims=dims) == []
            assert diagnose_terms(got, terms, labels={}, rtol=RTOL, atol=ATOL) == []


@pytest.mark.parametrize("problem", ["q1", "q2"])
def test_unrelated_answers_get_no_false_transformation(problem: str) -> None:
    make, reference, _ = PROBLEMS[problem]
    claims = {"transposed", "reshaped", "sign_flip", "scale_factor", "varying_scale"}
    for seed in range(100):
        rng = np.random.default_rng(seed)
        dims = random_dims(problem, rng)
        cases = make(dims, seed=seed)
        want = run(reference, cases)
        got = [rng.normal(size=w.shape) for w in want]
        found = diagnose_values(got, want, rtol=RTOL, atol=ATOL, case_dims=dims)
        assert not claims & {d.code for d in found}
        assert diagnose_terms(got, terms_of(problem, cases), labels={}, rtol=RTOL, atol=ATOL) == []


# --- match_alternatives ----------------------------------------------------------------------


def q2_alternatives(cases: Sequence[Inputs]) -> dict[str, list[np.ndarray]]:
    def k_for_k_inv(v: Inputs) -> np.ndarray:
        k_inv, y = q2_parts(v)
        k = np.linalg.inv(k_inv)
        return v["alpha"] * (k @ y @ y.T @ k - y.shape[1] * k) @ v["X"]

    return {
        "K instead of K⁻¹": run(k_for_k_inv, cases),
        "alpha dropped": run(lambda v: q2_grad(v) / v["alpha"], cases),
        "trace term only": run(lambda v: q2_terms(v)["trace"], cases),
        "trace term only (again)": run(lambda v: q2_terms(v)["trace"], cases),
    }


@pytest.mark.parametrize(
    ("student", "name"),
    [
        pytest.param(lambda v: q2_terms(v)["trace"], "trace term only", id="first-of-two-matches"),
        pytest.param(lambda v: q2_grad(v) / v["alpha"], "alpha dropped", id="alpha-dropped"),
        pytest.param(q2_grad, None, id="correct"),
        pytest.param(lambda v: q2_terms(v)["trace"].T, None, id="wrong-shape"),
        pytest.param(lambda v: 2 * q2_grad(v), None, id="unlisted-mistake"),
    ],
)
def test_match_alternatives(student: Student, name: str | None) -> None:
    cases = q2_inputs(Q2_DIMS)
    got = run(student, cases)
    assert match_alternatives(got, q2_alternatives(cases), rtol=RTOL, atol=ATOL) == name


def test_match_alternatives_skips_failed_cases() -> None:
    cases = q2_inputs(Q2_DIMS)
    alternatives = q2_alternatives(cases)
    got: list[np.ndarray | None] = [None, *alternatives["alpha dropped"][1:]]
    assert match_alternatives(got, alternatives, rtol=RTOL, atol=ATOL) == "alpha dropped"
    assert match_alternatives([None] * 3, alternatives, rtol=RTOL, atol=ATOL) is None
    assert match_alternatives(got, {}, rtol=RTOL, atol=ATOL) is None


# --- odd inputs never raise ------------------------------------------------------------------

ODD = [
    pytest.param([None, None], [np.ones((2, 2)), np.ones((2, 2))], [], id="all-none"),
    pytest.param([], [], [], id="no-cases"),
    pytest.param([np.full((2, 2), np.nan)], [np.ones((2, 2))], [], id="nan-got"),
    pytest.param([np.full((2, 2), np.inf)], [np.full((2, 2), np.inf)], [], id="inf-both"),
    pytest.param([np.ones((2, 2))], [np.full((2, 2), np.nan)], [], id="nan-expected"),
    pytest.param([np.empty((0,))], [np.empty((0,))], [], id="empty-both"),
    pytest.param([np.empty((0, 3))], [np.ones((2, 3))], [], id="empty-got"),
    pytest.param([np.float64(2.0)], [np.array([[2.0]])], ["reshaped"], id="0d-vs-1x1"),
    pytest.param([np.float64(2.0)], [np.float64(-2.0)], ["sign_flip"], id="0d-sign"),
    pytest.param([[[1.0, 2.0], [3.0]]], [np.ones((2, 2))], [], id="ragged"),
    pytest.param([np.array([1j, 2j])], [np.ones(2)], [], id="complex"),
    pytest.param([np.array(["a", "b"])], [np.ones(2)], [], id="strings"),
    pytest.param([np.ones(2), np.ones(2)], [np.ones(2)], [], id="more-got-than-expected"),
    pytest.param([np.zeros(3)], [np.zeros(3)], [], id="zero-is-right"),
    pytest.param([np.full(3, 1e308)], [np.full(3, -1e308)], ["sign_flip"], id="huge"),
    # Any wrong scalar is "c times" a nonzero scalar: a fitted factor needs more numbers.
    pytest.param([np.float64(2.37)], [np.float64(1.0)], [], id="scalar-factor-no-claim"),
    pytest.param([2.37, 5.0], [1.0, 1.0], [], id="scalar-varying-no-claim"),
]


@pytest.mark.parametrize(("got", "expected", "codes"), ODD)
def test_odd_inputs_never_raise(got: list[Any], expected: list[Any], codes: list[str]) -> None:
    found = diagnose_values(got, expected, rtol=RTOL, atol=ATOL, case_dims=[{}] * len(got))
    assert [d.code for d in found] == codes
    terms = {"a": expected, "b": [None] * len(expected)}
    assert diagnose_terms(got, terms, labels={}, rtol=RTOL, atol=ATOL) == []
    assert diagnose_terms(got, {"a": expected}, labels={}, rtol=RTOL, atol=ATOL) is not None
    match_alternatives(got, {"x": expected}, rtol=RTOL, atol=ATOL)


def test_passed_from_the_caller_is_trusted() -> None:
    cases = q1_inputs(Q1_DIMS)
    want = run(q1_grad, cases)
    got = [2 * w for w in want]
    assert diagnose_values(got, want, rtol=RTOL, atol=ATOL, passed=[True] * 3) == []


def test_bad_case_dims_and_passed_lengths_are_ignored() -> None:
    cases = q1_inputs(Q1_DIMS)
    want = run(q1_grad, cases)
    got = [want[0], 2 * want[1], want[2]]
    found = diagnose_values(got, want, rtol=RTOL, atol=ATOL, case_dims=[{}], passed=[True])
    assert [d.code for d in found] == ["scale_factor", "partial_cases"]


# --- the Diagnosis value ---------------------------------------------------------------------


def test_diagnosis_is_frozen_hashable_and_serialisable() -> None:
    d = Diagnosis("partial_cases", "m", {"passed": [0, 2], "nested": {"k": [1.5]}})
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.code = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        d.params["passed"] = []  # type: ignore[index]
    assert hash(d) == hash(Diagnosis("partial_cases", "m", {}))
    assert d == Diagnosis("partial_cases", "m", {"passed": (0, 2), "nested": {"k": (1.5,)}})
    plain = d.as_dict()
    assert plain == {
        "code": "partial_cases",
        "message": "m",
        "params": {"passed": [0, 2], "nested": {"k": [1.5]}},
    }
    assert json.loads(json.dumps(plain)) == plain


def test_module_is_a_leaf() -> None:
    package = Path(__file__).parents[1] / "grader" / "diagnosis"
    imported: set[str] = set()
    for source in package.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        imported |= {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
    outside = {name for name in imported if not name.startswith("grader.diagnosis")}
    assert {name.split(".")[0] for name in outside} - {"__future__"} <= set(
        sys.stdlib_module_names
    ) | {"numpy"}


# --- prepared once, used for many answers ----------------------------------------------------


def test_prepared_term_basis_and_alternatives_answer_as_the_mappings_do() -> None:
    cases = q2_inputs(Q2_DIMS)
    terms = terms_of("q2", cases)
    basis = TermBasis.build(terms)
    alternatives = q2_alternatives(cases)
    prepared = Alternatives.build(alternatives)
    students = [
        lambda v: q2_terms(v)["logdet"],
        lambda v: -q2_terms(v)["logdet"] + q2_terms(v)["trace"],
        lambda v: q2_grad(v) / v["alpha"],
        q2_grad,
    ]
    for student in students:
        got = run(student, cases)
        assert diagnose_terms(got, basis, labels=Q2_LABELS, rtol=RTOL, atol=ATOL) == (
            diagnose_terms(got, terms, labels=Q2_LABELS, rtol=RTOL, atol=ATOL)
        )
        assert matching_alternatives(got, prepared, rtol=RTOL, atol=ATOL) == (
            matching_alternatives(got, alternatives, rtol=RTOL, atol=ATOL)
        )
        # A case the answer is missing on, or misshapen on, is left out of both.
        holes = [None, got[1].T, *got[2:]]
        assert diagnose_terms(holes, basis, labels=Q2_LABELS, rtol=RTOL, atol=ATOL) == (
            diagnose_terms(holes, terms, labels=Q2_LABELS, rtol=RTOL, atol=ATOL)
        )
        assert matching_alternatives(holes, prepared, rtol=RTOL, atol=ATOL) == (
            matching_alternatives(holes, alternatives, rtol=RTOL, atol=ATOL)
        )
    trace_only = run(lambda v: q2_terms(v)["trace"], cases)
    both = ["trace term only", "trace term only (again)"]
    assert matching_alternatives(trace_only, prepared, rtol=RTOL, atol=ATOL) == both
    assert matching_alternatives([None, *trace_only[1:]], prepared, rtol=RTOL, atol=ATOL) == both


# --- hidden cases ----------------------------------------------------------------------------


def test_hidden_cases_shapes_and_factors_are_never_shown() -> None:
    cases = q1_inputs(Q1_DIMS)
    want = run(q1_grad, cases)
    got = [2 * w.T for w in want]
    shown = diagnose_values(got, want, rtol=RTOL, atol=ATOL, hidden=[False, True, True])
    assert shown[0].params["got_shape"] == (5, 3)  # from case 0, public
    secret = diagnose_values(got, want, rtol=RTOL, atol=ATOL, hidden=[True] * 3)
    assert [d.code for d in secret] == ["transposed", "scale_factor"]
    assert "got_shape" not in secret[0].params
    assert "(" not in secret[0].message  # no shape at all
    q2 = q2_inputs(Q2_DIMS)
    want = run(q2_grad, q2)
    got = [w * v["Y"].shape[1] * v["alpha"] for w, v in zip(want, q2, strict=True)]
    found = diagnose_values(got, want, rtol=RTOL, atol=ATOL, hidden=[False, True, True])
    assert found[0].code == "varying_scale"
    assert found[0].params["factors"] == pytest.approx([3 * q2[0]["alpha"]])
    assert f"{2 * q2[1]['alpha']:.4g}" not in found[0].message
