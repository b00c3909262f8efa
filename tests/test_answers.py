"""Tests for grader.answers (LaTeX answers in answers.yaml) and grader.intake (twins of .py
submissions: a notebook, a zip, answers.yaml). The spec's ``symbols:`` key is tested here too.

Grading is end to end through ``grader grade`` in-process, in one batch (the fixture
``graded``); each test reads its report.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.answers import AnswerGrader, clean_formula, read_answers
from grader.cases import build_cases
from grader.errors import SpecError
from grader.spec import load_spec
from tests.conftest import ASSIGNMENT, EXAMPLES, SOLUTIONS, run_cli, write_files

S1 = "Wx(W^TWx - x)^T + W(W^TWx - x)x^T"
S2 = r"\alpha\left(K^{-1}YY^TK^{-1} - DK^{-1}\right)X"

Report = Callable[[str], dict[str, Any]]


def yaml_answers(**answers: str) -> str:
    """answers.yaml text, each formula in single quotes (as the handout says)."""
    return "".join(f"{k}: '{v}'\n" for k, v in answers.items())


def part(report: dict[str, Any], function: str) -> dict[str, Any]:
    return next(p for p in report["parts"] if p["function"] == function)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Report:
    root = tmp_path_factory.mktemp("answers")
    subs = root / "subs"
    code_wins = shutil.copytree(EXAMPLES / "correct", subs / "code_wins")
    (code_wins / "answers.yaml").write_text(yaml_answers(grad_W="W"), encoding="utf-8")
    stub_plus = shutil.copytree(EXAMPLES / "stub", subs / "stub_plus")
    (stub_plus / "answers.yaml").write_text(yaml_answers(grad_W=S1), encoding="utf-8")
    write_files(subs / "bad_yaml", {"answers.yaml": "grad_W: 'W\ngrad_c: [\n"})
    write_files(
        subs / "undeclared",
        {
            "answers.yaml": yaml_answers(
                grad_X=r"\alpha Kx",
                grad_X_trace=r"\alpha Z",
                loss="L",
                grad_c="c x",
                grad_a="W c + 1",
                grad_w="c",
            )
            + 'grad_K: "\\alpha K"\n'
        },
    )
    (subs / "broken.zip").write_bytes(b"PK\x03\x04 truncated")
    out = root / "reports"
    run = run_cli(
        "grade",
        ASSIGNMENT,
        EXAMPLES / "correct",
        EXAMPLES / "correct_zip.zip",
        EXAMPLES / "correct_notebook.ipynb",
        EXAMPLES / "latex_answers",
        EXAMPLES / "latex_wrong",
        EXAMPLES / "sign_slip",
        code_wins,
        stub_plus,
        subs / "bad_yaml",
        subs / "undeclared",
        subs / "broken.zip",
        "--out",
        out,
        "--quiet",
    )
    assert run.code == 0, run.err

    def report(name: str) -> dict[str, Any]:
        return json.loads((out / f"{name}.json").read_text(encoding="utf-8"))

    return report


# --------------------------------------------------------------------------- twins


@pytest.mark.parametrize(
    "twin", ["correct_zip", "correct_notebook", "latex_answers"], ids=["zip", "notebook", "answers"]
)
def test_twins_grade_exactly_like_the_py_folder(graded: Report, twin: str) -> None:
    folder, other = graded("correct"), graded(twin)
    assert other["status"] == "graded"
    assert other["score"] == folder["score"] == folder["max_score"]
    assert [(p["function"], p["status"], p["score"]) for p in other["parts"]] == [
        (p["function"], p["status"], p["score"]) for p in folder["parts"]
    ]


def test_latex_twin_of_a_wrong_submission_gets_the_same_verdict_and_hint(graded: Report) -> None:
    code, latex = (
        part(graded("sign_slip"), "grad_X_logdet"),
        part(graded("latex_wrong"), "grad_X_logdet"),
    )
    assert latex["status"] == code["status"] == "wrong_value"
    assert latex["score"] == code["score"]
    assert latex["diagnoses"] == code["diagnoses"] != []
    assert latex["feedback"].split("\n  hint: ")[1:] == code["feedback"].split("\n  hint: ")[1:]


# --------------------------------------------------------------------------- the seed answers


def test_seed_answers_grade_correct(graded: Report) -> None:
    report = graded("latex_answers")
    for function in ("grad_W", "grad_X"):
        p = part(report, function)
        assert p["status"] == "passed"
        assert p["feedback"].startswith(f"{function} (answers.yaml): correct on all 5 cases")


def test_seed_answers_match_the_reference_to_rounding() -> None:
    spec = load_spec(ASSIGNMENT)
    cases = [build_cases(p, 7) for p in spec.problems]
    grader = AnswerGrader(spec.problems, cases)
    import importlib.util

    for p, (module, function, formula) in enumerate(
        [("autoencoder", "grad_W", S1), ("gplvm", "grad_X", S2)]
    ):
        loaded = importlib.util.spec_from_file_location(f"ref_{module}", SOLUTIONS / f"{module}.py")
        assert loaded is not None and loaded.loader is not None
        ref = importlib.util.module_from_spec(loaded)
        loaded.loader.exec_module(ref)
        run = grader.run(p, spec.part(function)[1], formula)
        for case, values in zip(cases[p], run.values, strict=True):
            problem = spec.problems[p]
            args = [case.inputs[a] for a in problem.parts[0].args]
            expected = getattr(ref, function)(*args)
            assert values is not None
            np.testing.assert_allclose(values[""], expected, rtol=1e-10, atol=1e-12)


def test_sign_slipped_seed_answer_is_wrong(graded: Report) -> None:
    p = part(graded("latex_wrong"), "grad_W")
    assert p["status"] == "wrong_value" and p["score"] == 0
    assert p["feedback"].splitlines()[:2] == [
        "grad_W (answers.yaml): wrong values on 5 of 5 cases",
        f"  your answer: {S1.replace('+ W(', '- W(')}",
    ]


@pytest.mark.parametrize("function", ["grad_W_via_b", "grad_X_trace"])
def test_transposed_answer_is_wrong_shape(graded: Report, function: str) -> None:
    p = part(graded("latex_wrong"), function)
    assert p["status"] == "wrong_shape"
    assert "hint: your answer equals the transpose of the gradient" in p["feedback"]


def test_unanswered_parts_are_not_graded_as_correct(graded: Report) -> None:
    report = graded("latex_wrong")
    assert part(report, "loss")["status"] == "missing"
    assert part(report, "loss")["score"] == 0
    right = [p["function"] for p in report["parts"] if p["status"] == "passed"]
    assert right == ["grad_c", "grad_a", "grad_X"]


# --------------------------------------------------------------------------- invalid answers


def test_undeclared_symbol_says_did_you_mean(graded: Report) -> None:
    p = part(graded("undeclared"), "grad_X")
    assert p["status"] == "invalid_answer"
    assert p["feedback"].splitlines() == [
        "grad_X (answers.yaml): your LaTeX answer cannot be read",
        "  unknown symbol x at column 9; did you mean X?",
        r"  your answer: \alpha Kx",
    ]
    other = part(graded("undeclared"), "grad_X_trace")
    assert (
        "unknown symbol Z at column 8; declared: \\alpha, \\beta, D, K, N, q, X, Y"
        in (other["feedback"])
    )


def test_a_part_cannot_use_its_own_node(graded: Report) -> None:
    p = part(graded("undeclared"), "loss")
    assert p["status"] == "invalid_answer"
    assert "unknown symbol L" in p["feedback"]


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ("grad_c", "cannot multiply c (n x 1) by x (n x 1)"),
        ("grad_a", "cannot add scalar 1 to W c (m x 1) at column 5"),
        ("grad_K", "control character '\\x07'"),
    ],
    ids=["shapes", "scalar-plus-matrix", "double-quoted-yaml"],
)
def test_invalid_answers_say_why(graded: Report, function: str, message: str) -> None:
    p = part(graded("undeclared"), function)
    assert p["status"] == "invalid_answer" and p["score"] == 0
    assert message in p["feedback"]


def test_unknown_part_names_are_warnings(graded: Report) -> None:
    warnings = graded("undeclared")["warnings"]
    assert (
        "answers.yaml: 'grad_w' is not a part of this assignment; did you mean grad_W?" in warnings
    )


def test_invalid_yaml_fails_the_unanswered_parts_with_the_reason(graded: Report) -> None:
    report = graded("bad_yaml")
    p = part(report, "grad_W")
    assert p["status"] == "invalid_answer"
    assert "answers.yaml is not valid YAML at line" in p["feedback"]
    assert any("not valid YAML" in w for w in report["warnings"])


def test_corrupt_zip_gets_a_failed_report(graded: Report) -> None:
    report = graded("broken")
    assert report["status"] == "error"
    assert report["error"] == "broken.zip: not a zip file, or a corrupt one"


# --------------------------------------------------------------------------- code and answers


def test_code_wins_over_answers(graded: Report) -> None:
    report = graded("code_wins")
    assert part(report, "grad_W")["status"] == "passed"
    assert not part(report, "grad_W")["feedback"].startswith("grad_W (answers.yaml)")
    assert any("grad_W is graded from your code" in w for w in report["warnings"])


def test_answers_fill_in_for_not_implemented_stubs(graded: Report) -> None:
    report = graded("stub_plus")
    assert part(report, "grad_W")["status"] == "passed"
    assert part(report, "grad_c")["status"] == "not_implemented"
    assert report["score"] == 2


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("text", "formula"),
    [
        ("Wx^T", "Wx^T"),
        (r"\frac{\partial L}{\partial W} = Wx^T", "Wx^T"),
        (r"dL/dW = \boxed{W c x^T} \text{ by the chain rule}", "W c x^T"),
        (r"\boxed{\frac{1}{2}\left(K^{-1}\right)}", r"\frac{1}{2}\left(K^{-1}\right)"),
        ("$Wx^T$.", "Wx^T"),
        (r"\[ Wx^T \]", "Wx^T"),
    ],
    ids=["plain", "equation", "boxed", "boxed-braces", "dollars", "display"],
)
def test_clean_formula(text: str, formula: str) -> None:
    assert clean_formula(text) == formula


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\x07lpha K", "single quotes"),
        ("((((2^9)^9)^9)^9)^9", "too large"),
        ("x" * 3000, "longer than"),
        (r"\boxed{Wx", "never closed"),
    ],
    ids=["bell", "exponent-bomb", "long", "unclosed-box"],
)
def test_clean_formula_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        clean_formula(text)


def test_read_answers_keeps_strings_and_numbers(tmp_path: Path) -> None:
    spec = load_spec(ASSIGNMENT)
    path = tmp_path / "answers.yaml"
    path.write_text("grad_c: c\ngrad_alpha: 0\ngrad_b: [c]\n", encoding="utf-8")
    sheet = read_answers(path, spec)
    assert dict(sheet.answers) == {"grad_c": "c", "grad_alpha": "0"}
    assert sheet.warnings == ("answers.yaml: grad_b: expected a LaTeX string, got list",)


def test_symbols_come_from_the_spec_with_inferred_node_shapes() -> None:
    spec = load_spec(ASSIGNMENT)
    grader = AnswerGrader(spec.problems, [build_cases(p, 1) for p in spec.problems])
    q1 = {k: v.shape for k, v in grader.table(0).items()}
    assert q1 == {
        "W": ("m", "n"),
        "x": ("n", 1),
        "m": (),
        "n": (),
        "a": ("m", 1),
        "b": ("n", 1),
        "c": ("n", 1),
    }
    q2 = {k: v.shape for k, v in grader.table(1).items()}
    assert q2["K"] == ("N", "N") and q2["alpha"] == () and q2["D"] == ()
    assert "logdet_term" not in q2  # not writable as a symbol
    assert "K" in grader.symbols_for(1, spec.part("grad_K")[1])  # dL/dK is written with K


def test_a_part_never_uses_its_own_node_or_later_ones(tmp_path: Path) -> None:
    """Without a symbols: list every node is declared, but loss = L would give the answer away."""
    root = shutil.copytree(ASSIGNMENT, tmp_path / "a")
    text = (root / "assignment.yaml").read_text(encoding="utf-8")
    text = text.replace("    symbols: [W, x, a, b, c, m, n]\n", "")
    (root / "assignment.yaml").write_text(text, encoding="utf-8")
    spec = load_spec(root)
    grader = AnswerGrader(spec.problems, [build_cases(p, 1) for p in spec.problems])
    assert grader.table(0)["L"].shape == ()
    assert set(grader.symbols_for(0, spec.part("loss")[1])) == {"W", "x", "m", "n", "a", "b", "c"}
    run = grader.run(0, spec.part("loss")[1], "L")
    assert run.failure is not None and "unknown symbol L" in run.failure.message
    run = grader.run(0, spec.part("loss")[1], r"\frac{1}{2}c^Tc")
    assert run.failure is None and run.values[0] is not None


@pytest.mark.parametrize(
    ("symbols", "message"),
    [
        (["W", "y"], r"problems\[0\]\.symbols\[1\]: 'y' is not an input, dimension or graph node"),
        (["W", "L2"], "did you mean 'L'"),
    ],
    ids=["unknown", "did-you-mean"],
)
def test_spec_symbols_must_be_declared_names(
    tmp_path: Path, symbols: list[str], message: str
) -> None:
    root = shutil.copytree(ASSIGNMENT, tmp_path / "a")
    text = (root / "assignment.yaml").read_text(encoding="utf-8")
    text = text.replace("symbols: [W, x, a, b, c, m, n]", f"symbols: [{', '.join(symbols)}]")
    (root / "assignment.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match=message):
        load_spec(root)


def test_spec_symbols_must_be_writable(tmp_path: Path) -> None:
    root = shutil.copytree(ASSIGNMENT, tmp_path / "a")
    text = (root / "assignment.yaml").read_text(encoding="utf-8")
    text = text.replace("symbols: [X, Y, alpha, beta, K, N, q, D]", "symbols: [X, logdet_term]")
    (root / "assignment.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match="'logdet_term' cannot be written in a LaTeX answer"):
        load_spec(root)
