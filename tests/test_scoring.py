"""Tests for grader.scoring: which mistake a wrong part is told it made, and what it earns.

A corpus of wrong answers (``tests/variants.py``, WRONG), each pinned to the diagnoses it must
get on many seeds; misconception credit; hints about the student's own other parts; hidden
cases that never leak into a diagnosis; and the examples end to end through ``grader.grade``.
That no correct answer ever gets a diagnosis is checked on 1,000 seeds in test_verdicts.py.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import grader
from grader.errors import GraderError
from grader.grading import prepare
from grader.runner import CallError, PartRun
from grader.scoring import score_part
from grader.spec import load_spec
from tests.conftest import ASSIGNMENT, EXAMPLES
from tests.scored import SPEC, prepared, run_variant, score_variant
from tests.variants import WRONG

SEEDS = range(20)

# (problem, variant, part) -> the diagnoses it must get, in order: (code, params it must have).
# Codes of the mistake in the part itself come first, then the hints about the other parts.
PINNED: dict[tuple[str, str, str], list[tuple[str, Mapping[str, Any]]]] = {
    ("autoencoder", "transposed", "grad_W_via_b"): [
        ("transposed", {"values_match": True}),
        ("step_wrong", {"parts": ["grad_b"]}),
    ],
    ("autoencoder", "transposed", "grad_W"): [
        ("misconception", {"name": "gradient_wrt_transpose", "credit": 0.0}),
        ("upstream_wrong", {"parts": ["grad_W_via_b"], "consistent": False}),
    ],
    ("autoencoder", "only_path_b", "grad_W"): [
        ("missing_term", {"term": "grad_W_via_a", "present": ["grad_W_via_b"]}),
        ("wrong_sum", {"parts": ["grad_W_via_b", "grad_W_via_a"]}),
    ],
    ("autoencoder", "only_path_a", "grad_W"): [
        ("missing_term", {"term": "grad_W_via_b", "present": ["grad_W_via_a"]}),
        ("wrong_sum", {}),
    ],
    ("autoencoder", "sign", "grad_c"): [("sign_flip", {"factor": -1.0})],
    ("autoencoder", "sign", "grad_W"): [("sign_flip", {}), ("wrong_sum", {})],
    ("autoencoder", "times_2", "grad_a"): [
        ("scale_factor", {"factor": 2.0}),
        ("step_wrong", {"parts": ["grad_b"]}),
    ],
    ("autoencoder", "times_2", "grad_W"): [("scale_factor", {"factor": 2.0}), ("wrong_sum", {})],
    ("autoencoder", "half", "loss"): [("misconception", {"name": "missing_half"})],
    ("autoencoder", "half", "grad_W"): [("scale_factor", {"factor": 0.5}), ("wrong_sum", {})],
    ("autoencoder", "double_path_a", "grad_W"): [
        ("term_scale", {"term": "grad_W_via_a", "factor": 2.0}),
        ("wrong_sum", {}),
    ],
    ("autoencoder", "grad_a_forward", "grad_a"): [
        ("misconception", {"name": "forward_value"}),
        ("step_wrong", {}),
    ],
    ("autoencoder", "flattened", "grad_c"): [("reshaped", {"values_match": True})],
    ("autoencoder", "flattened", "grad_b"): [
        ("reshaped", {"values_match": True}),
        ("upstream_wrong", {"parts": ["grad_c"]}),
    ],
    ("autoencoder", "via_swapped", "grad_W_via_b"): [
        ("misconception", {"name": "swapped_paths"}),
        ("step_wrong", {"parts": ["grad_b"]}),
    ],
    ("autoencoder", "via_swapped", "grad_W_via_a"): [
        ("misconception", {"name": "swapped_paths"}),
        ("step_wrong", {"parts": ["grad_a"]}),
    ],
    ("autoencoder", "zero", "grad_c"): [("zero", {})],
    ("autoencoder", "zero", "grad_W"): [("zero", {}), ("wrong_sum", {})],
    ("autoencoder", "paths_subtracted", "grad_W"): [
        ("term_sign", {"term": "grad_W_via_a", "coefficient": -1.0}),
        ("wrong_sum", {}),
    ],
    ("autoencoder", "grad_b_from_wrong_grad_c", "grad_c"): [("scale_factor", {"factor": 3.0})],
    ("autoencoder", "grad_b_from_wrong_grad_c", "grad_b"): [
        ("scale_factor", {"factor": 3.0}),
        ("upstream_wrong", {"parts": ["grad_c"]}),
    ],
    ("gplvm", "K_for_K_inverse", "grad_K"): [("misconception", {"name": "K_for_K_inverse"})],
    ("gplvm", "K_for_K_inverse", "grad_X"): [
        ("misconception", {"name": "K_for_K_inverse"}),
        ("wrong_sum", {"parts": ["grad_X_logdet", "grad_X_trace"]}),
        ("upstream_wrong", {"parts": ["grad_K"]}),
    ],
    ("gplvm", "missing_alpha", "grad_X_trace"): [
        ("misconception", {"name": "missing_alpha", "credit": 0.5}),
    ],
    ("gplvm", "missing_alpha", "grad_X"): [
        ("misconception", {"name": "missing_alpha"}),
        ("upstream_wrong", {"parts": ["grad_X_trace"]}),
    ],
    ("gplvm", "sign", "grad_X"): [("sign_flip", {}), ("wrong_sum", {})],
    ("gplvm", "sign", "grad_beta"): [
        ("misconception", {"name": "derivative_sign"}),
        ("step_wrong", {"parts": ["grad_K"]}),
    ],
    ("gplvm", "times_2", "grad_K"): [("misconception", {"name": "missing_half"})],
    ("gplvm", "times_2", "grad_X"): [
        ("scale_factor", {"factor": 2.0}),
        ("wrong_sum", {}),
        ("upstream_wrong", {"parts": ["grad_K"]}),
    ],
    ("gplvm", "missing_symmetry_factor", "grad_X"): [
        ("misconception", {"name": "missing_symmetry_factor"}),
        ("wrong_sum", {}),
    ],
    ("gplvm", "seed_sign_slip", "grad_X_logdet"): [("misconception", {"name": "logdet_sign"})],
    ("gplvm", "seed_sign_slip", "grad_X"): [
        ("misconception", {"name": "logdet_sign"}),
        ("upstream_wrong", {"parts": ["grad_X_logdet"], "consistent": True}),
    ],
    ("gplvm", "only_trace_term", "grad_X"): [
        ("missing_term", {"term": "grad_X_logdet", "present": ["grad_X_trace"]}),
        ("wrong_sum", {}),
    ],
    ("gplvm", "only_logdet_term", "grad_X"): [
        ("missing_term", {"term": "grad_X_trace", "present": ["grad_X_logdet"]}),
        ("wrong_sum", {}),
    ],
    ("gplvm", "D_dropped", "grad_X_logdet"): [("misconception", {"name": "missing_D"})],
    ("gplvm", "one_inverse_dropped", "grad_X_trace"): [
        ("misconception", {"name": "one_inverse_dropped"}),
    ],
    ("gplvm", "grad_alpha_without_XXt", "grad_alpha"): [
        ("misconception", {"name": "missing_XXt"}),
        ("step_wrong", {}),
    ],
    ("gplvm", "beta_for_inverse_square", "grad_beta"): [
        ("misconception", {"name": "beta_for_inverse_square"}),
        ("step_wrong", {}),
    ],
    ("gplvm", "loglik_plus_logdet", "log_likelihood"): [("misconception", {"name": "logdet_sign"})],
    ("gplvm", "loglik_with_constant", "log_likelihood"): [
        ("misconception", {"name": "with_constant"}),
    ],
    ("gplvm", "symmetric_convention", "grad_K"): [
        ("misconception", {"name": "symmetric_convention"}),
    ],
    ("gplvm", "grad_K_trace_term_only", "grad_K"): [
        ("missing_term", {"term": "grad_K_logdet", "present": ["grad_K_trace"]}),
    ],
    ("gplvm", "trace_sign", "grad_X_trace"): [("misconception", {"name": "trace_sign"})],
    ("gplvm", "logdet_missing_symmetry_factor", "grad_X_logdet"): [
        ("misconception", {"name": "missing_symmetry_factor"}),
    ],
    # q = 1 on some cases makes the gradient a column there: still a transpose, not a reshape.
    ("gplvm", "trace_transposed", "grad_X_trace"): [("transposed", {"values_match": True})],
    ("gplvm", "wrt_inverse_beta", "grad_beta"): [
        ("misconception", {"name": "wrt_inverse_beta"}),
        ("step_wrong", {}),
    ],
    ("gplvm", "grad_X_from_doubled_grad_K", "grad_K"): [
        ("misconception", {"name": "missing_half"}),
    ],
    ("gplvm", "grad_X_from_doubled_grad_K", "grad_X"): [
        ("scale_factor", {"factor": 2.0}),
        ("wrong_sum", {}),
        ("upstream_wrong", {"parts": ["grad_K"], "consistent": False}),
    ],
}

# Codes that say where to look rather than what is wrong in the part itself.
POINTERS = {"upstream_wrong", "step_wrong", "partial_cases"}


def _plain(diagnoses: tuple[Mapping[str, Any], ...]) -> list[dict[str, Any]]:
    return json.loads(json.dumps(list(diagnoses)))  # as the JSON report carries them


def _assert_pinned(
    found: list[dict[str, Any]], pinned: list[tuple[str, Mapping[str, Any]]]
) -> None:
    assert [d["code"] for d in found] == [code for code, _ in pinned], found
    for d, (_, params) in zip(found, pinned, strict=True):
        for key, want in params.items():
            assert d["params"][key] == (pytest.approx(want) if isinstance(want, float) else want)


def test_every_wrong_answer_in_the_corpus_is_pinned() -> None:
    answers = {
        (problem, name, function)
        for problem, variants in WRONG.items()
        for name, variant in variants.items()
        for function in variant
    }
    assert answers == set(PINNED)


@pytest.mark.parametrize(
    ("key", "pinned"), [pytest.param(k, v, id="/".join(k[1:])) for k, v in PINNED.items()]
)
def test_wrong_answer_gets_its_pinned_diagnoses(
    key: tuple[str, str, str], pinned: list[tuple[str, Mapping[str, Any]]]
) -> None:
    problem, name, function = key
    for seed in SEEDS:
        result = score_variant(WRONG[problem][name], problem, seed)[function]
        found = _plain(result.diagnoses)
        _assert_pinned(found, pinned)
        assert all(d["message"] for d in found)
        for d in found:  # the feedback shows every diagnosis as a hint
            assert f"hint: {d['message']}" in result.feedback


def test_every_wrong_answer_names_its_mistake() -> None:
    """The share of the corpus that gets a diagnosis of the part's own mistake (not only a
    pointer to another part): all of it (benchmarks/diagnosis.py prints the share)."""
    for problem, name, function in PINNED:
        result = score_variant(WRONG[problem][name], problem, 0)[function]
        codes = {d["code"] for d in result.diagnoses}
        assert codes - POINTERS, f"{problem}/{name}/{function}: only {codes}"


# --------------------------------------------------------------------------- credit


def test_misconception_earns_its_declared_credit() -> None:
    slip = score_variant(WRONG["gplvm"]["seed_sign_slip"], "gplvm", 0)
    assert slip["grad_X_logdet"].score == 0.5 * 2  # credit 0.5 of 2 points
    assert slip["grad_X"].score == 0.5 * 1
    assert "50% of the points" in slip["grad_X_logdet"].feedback
    k_for_k_inv = score_variant(WRONG["gplvm"]["K_for_K_inverse"], "gplvm", 0)
    assert k_for_k_inv["grad_K"].score == 0  # a misconception without credit names it only
    assert "of the points" not in k_for_k_inv["grad_K"].feedback


def _gplvm_part(function: str) -> tuple[int, Any, Any]:
    problem = SPEC.problems[1]
    k = [p.function for p in problem.parts].index(function)
    return len(SPEC.problems[0].parts) + k, problem, problem.parts[k]


def test_misconception_credit_needs_an_answer_on_every_case() -> None:
    index, problem, part = _gplvm_part("grad_X_logdet")
    cases, expected, targets = prepared(0)
    run = run_variant(WRONG["gplvm"]["seed_sign_slip"]["grad_X_logdet"], part.args, cases[1])
    broken = PartRun(
        values=(None, *run.values[1:]),
        errors=(CallError("exception", "ValueError: boom"), *run.errors[1:]),
    )
    result = score_part(problem, part, broken, expected[index], cases[1], targets=targets[index])
    assert result.diagnoses[0]["code"] == "misconception"  # still named...
    assert result.score == 0  # ...but earns nothing: it did not give that answer everywhere


def test_misconception_credit_is_never_less_than_the_rule_gives() -> None:
    index, problem, part = _gplvm_part("grad_X_logdet")
    part = dataclasses.replace(part, credit="fraction_of_cases")
    cases, expected, targets = prepared(0)
    run = run_variant(WRONG["gplvm"]["seed_sign_slip"]["grad_X_logdet"], part.args, cases[1])
    result = score_part(problem, part, run, expected[index], cases[1], targets=targets[index])
    assert result.score == 0.5 * part.points
    right = PartRun(values=tuple(expected[index]), errors=(None,) * len(cases[1]))
    assert score_part(problem, part, right, expected[index], cases[1]).score == part.points


def test_a_part_scored_alone_gets_no_hint_about_other_parts() -> None:
    index, problem, part = _gplvm_part("grad_X")
    cases, expected, targets = prepared(0)
    run = run_variant(WRONG["gplvm"]["only_trace_term"]["grad_X"], part.args, cases[1])
    result = score_part(problem, part, run, expected[index], cases[1], targets=targets[index])
    assert [d["code"] for d in result.diagnoses] == ["missing_term"]


# --------------------------------------------------------------------------- declared values


def _declare(misconception: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def edit(spec: dict[str, Any]) -> None:
        spec["problems"][0]["parts"][2]["misconceptions"] = [misconception]

    return edit


def test_misconception_from_misconceptions_py_is_named_with_its_message(
    tmp_assignment: Callable[..., Path],
) -> None:
    root = tmp_assignment(
        _declare({"name": "outer_swapped", "message": "x yᵀ, not y xᵀ", "reference": "swapped"})
    )
    (root.parent.parent / "solutions" / "tiny" / "misconceptions.py").write_text(
        "def swapped(A, x):\n    return x @ (A @ x).T\n", encoding="utf-8"
    )
    prepared_ = prepare(load_spec(root))
    problem = prepared_.spec.problems[0]
    cases = prepared_.cases[0]
    # A submission answering grad_A = x (Ax)ᵀ: the transpose, of another shape.
    wrong = [{"": c.inputs["x"] @ (c.inputs["A"] @ c.inputs["x"]).T} for c in cases]
    run = PartRun(values=tuple(wrong), errors=(None,) * len(cases))
    result = score_part(
        problem, problem.parts[2], run, prepared_.expected[2], cases, targets=prepared_.targets[2]
    )
    assert result.diagnoses[0]["code"] == "misconception"
    assert result.diagnoses[0]["message"] == "x yᵀ, not y xᵀ"


def test_a_declared_function_that_does_not_exist_names_the_key(
    tmp_assignment: Callable[..., Path],
) -> None:
    root = tmp_assignment(_declare({"name": "m", "message": "no", "reference": "no_such_fn"}))
    with pytest.raises(GraderError) as info:
        prepare(load_spec(root))
    message = str(info.value)
    assert "assignment.yaml: problems[0].parts[2].misconceptions[0] (m)" in message
    assert "no_such_fn is defined neither in lin.py nor in misconceptions.py" in message


# --------------------------------------------------------------------------- hidden cases


def _hidden_dims_text(cases: Any) -> list[str]:
    return [", ".join(f"{k}={v}" for k, v in c.dims.items()) for c in cases if c.hidden]


def test_hidden_cases_shapes_stay_out_of_a_transposed_diagnosis() -> None:
    problem = SPEC.problems[0]
    part = problem.parts[-1]  # grad_W
    cases, expected, _ = prepared(0)
    exp = expected[len(problem.parts) - 1]
    got = [{"": e[""].T if c.hidden else e[""]} for c, e in zip(cases[0], exp, strict=True)]
    run = PartRun(values=tuple(got), errors=(None,) * len(got))
    result = score_part(problem, part, run, exp, cases[0])
    first = result.diagnoses[0]
    assert first["code"] == "transposed"
    assert "got_shape" not in first["params"] and "expected_shape" not in first["params"]
    hidden_shapes = [str(e[""].shape) for c, e in zip(cases[0], exp, strict=True) if c.hidden]
    for text in hidden_shapes + [s.replace(" ", "") for s in hidden_shapes]:
        assert text not in result.feedback
    for text in _hidden_dims_text(cases[0]):
        assert text not in result.feedback


def test_hidden_cases_factors_and_values_stay_out_of_a_diagnosis() -> None:
    index, problem, part = _gplvm_part("grad_X")
    cases, expected, _ = prepared(0)
    alphas = [c.inputs["alpha"] for c in cases[1]]
    got = [{"": e[""] / a} for e, a in zip(expected[index], alphas, strict=True)]
    run = PartRun(values=tuple(got), errors=(None,) * len(got))
    result = score_part(problem, part, run, expected[index], cases[1])  # no misconceptions
    (found,) = result.diagnoses
    assert found["code"] == "varying_scale"
    public = [a for c, a in zip(cases[1], alphas, strict=True) if not c.hidden]
    assert found["params"]["factors"] == pytest.approx([1 / a for a in public])
    for c, a in zip(cases[1], alphas, strict=True):
        if c.hidden:
            assert f"{1 / a:.4g}" not in result.feedback and f"{a:.2f}" not in result.feedback
    # An answer filled with a hidden input's value cannot read it back from the report.
    secret = [float(c.inputs["X"][0, 0]) for c in cases[1]]
    got = [{"": np.full_like(e[""], s)} for e, s in zip(expected[index], secret, strict=True)]
    run = PartRun(values=tuple(got), errors=(None,) * len(got))
    result = score_part(problem, part, run, expected[index], cases[1])
    (found,) = result.diagnoses
    assert (found["code"], found["params"]["kind"]) == ("constant", "filled")
    shown = [s for c, s in zip(cases[1], secret, strict=True) if not c.hidden]
    assert found["params"]["values"] == shown
    report = json.dumps([dict(d) for d in result.diagnoses]) + result.feedback
    for c, s in zip(cases[1], secret, strict=True):
        if c.hidden:
            assert repr(s) not in report and f"{s:.4g}" not in report


# --------------------------------------------------------------------------- end to end

GRADED = ("missing_path", "sign_slip", "transposed", "factor_two")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("diagnosed")
    grader.grade(ASSIGNMENT, [EXAMPLES / name for name in GRADED], out=out, formats=("json",))
    return out


def _parts(reports: Path, name: str) -> dict[str, dict[str, Any]]:
    data = json.loads((reports / f"{name}.json").read_text(encoding="utf-8"))
    return {p["function"]: p for p in data["parts"]}


@pytest.mark.parametrize(
    ("example", "function", "pinned", "score"),
    [
        pytest.param(
            "missing_path",
            "grad_W",
            [("missing_term", {"term": "grad_W_via_a"}), ("wrong_sum", {})],
            0,
            id="missing-path",
        ),
        pytest.param(
            "missing_path",
            "grad_X",
            [("missing_term", {"term": "grad_X_logdet"}), ("wrong_sum", {})],
            0,
            id="missing-logdet-term",
        ),
        pytest.param(
            "sign_slip",
            "grad_X_logdet",
            [("misconception", {"name": "logdet_sign", "credit": 0.5})],
            1.0,
            id="seed-sign-slip",
        ),
        pytest.param(
            "sign_slip",
            "grad_X",
            [
                ("misconception", {"name": "logdet_sign"}),
                ("upstream_wrong", {"parts": ["grad_X_logdet"], "consistent": True}),
            ],
            0.5,
            id="sign-slip-carried-into-grad-X",
        ),
        pytest.param(
            "transposed",
            "grad_W_via_b",
            [("transposed", {"values_match": True}), ("step_wrong", {"parts": ["grad_b"]})],
            0,
            id="transposed",
        ),
        pytest.param(
            "transposed",
            "grad_X",
            [("upstream_wrong", {"parts": ["grad_X_trace"]})],
            0,
            id="error-from-a-wrong-term",
        ),
        pytest.param(
            "factor_two",
            "grad_W",
            [("scale_factor", {"factor": 2.0}), ("wrong_sum", {})],
            0,
            id="times-two",
        ),
        pytest.param(
            "factor_two",
            "grad_X_trace",
            [("misconception", {"name": "missing_alpha", "credit": 0.5})],
            1.0,
            id="missing-alpha",
        ),
    ],
)
def test_reports_carry_the_diagnosis_as_data(
    reports: Path,
    example: str,
    function: str,
    pinned: list[tuple[str, Mapping[str, Any]]],
    score: float,
) -> None:
    part = _parts(reports, example)[function]
    _assert_pinned(part["diagnoses"], pinned)
    assert part["score"] == score
    for d in part["diagnoses"]:
        assert f"hint: {d['message']}" in part["feedback"]


@pytest.mark.parametrize("example", GRADED)
def test_every_wrong_part_of_the_examples_is_diagnosed_and_right_ones_are_clean(
    reports: Path, example: str
) -> None:
    for function, part in _parts(reports, example).items():
        if part["status"] == "passed":
            assert part["diagnoses"] == [], function
        else:
            assert part["diagnoses"], f"{example}.{function}: {part['feedback']}"
