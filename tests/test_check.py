"""Tests for grader.check (``grader check``), in-process through the CLI, on a copy of the
assignment that has no reference solutions anywhere near it (what a student has)."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
import yaml

from grader.spec import load_spec
from tests.conftest import ASSIGNMENT, EXAMPLES, SOLUTIONS, run_cli, write_spec

ROW = re.compile(r"^(✓|✗|\?) +\S+  (\w+)", re.MULTILINE)


@pytest.fixture(scope="module")
def handout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The assignment folder as students get it: no solutions/ anywhere."""
    root = tmp_path_factory.mktemp("student") / "matrix-calculus"
    shutil.copytree(ASSIGNMENT, root)
    assert not load_spec(root).reference.exists()
    return root


def rows(out: str) -> dict[str, str]:
    return {m.group(2): m.group(1) for m in ROW.finditer(out)}


def test_correct_files_pass_without_solutions(handout: Path) -> None:
    start = time.perf_counter()
    run = run_cli("check", handout, EXAMPLES / "correct")
    elapsed = time.perf_counter() - start
    print(f"grader check, the correct example: {elapsed:.2f} s in-process")  # shown with -s
    assert run.code == 0, run.err
    assert set(rows(run.out).values()) == {"✓"} and len(rows(run.out)) == 14
    assert "expected values from the assignment's graph (finite differences)" in run.out
    assert re.search(r"^20/20 points on the public cases \(\d+\.\d\d s\)", run.out, re.MULTILINE)


def test_wrong_files_fail_with_the_graders_feedback(handout: Path, tmp_path: Path) -> None:
    run = run_cli("check", handout, EXAMPLES / "sign_slip")
    assert run.code == 0, run.err
    assert rows(run.out)["grad_X_logdet"] == "✗"
    # The grader on the same public cases (hidden ones off), with the real reference:
    spec = yaml.safe_load((ASSIGNMENT / "assignment.yaml").read_text(encoding="utf-8"))
    spec["hidden_cases"] = 0
    spec["reference"] = str(SOLUTIONS)
    graded_root = shutil.copytree(ASSIGNMENT, tmp_path / "a")
    write_spec(graded_root, spec)
    from grader.grading import grade

    [result] = grade(graded_root, [EXAMPLES / "sign_slip"])
    feedback = next(p for p in result.parts if p.function == "grad_X_logdet").feedback
    head, *rest = feedback.splitlines()
    row = next(line for line in run.out.splitlines() if "grad_X_logdet:" in line)
    assert row.endswith(head) and head == "grad_X_logdet: wrong values on 3 of 3 cases"
    hints = [line.strip() for line in rest if line.strip().startswith("hint:")]
    assert hints and all(h in run.out for h in hints)


def test_runs_from_inside_the_assignment_folder(
    handout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = shutil.copytree(handout, tmp_path / "work")
    for f in (EXAMPLES / "correct").glob("*.py"):
        shutil.copy(f, work / f.name)
    monkeypatch.chdir(work)
    run = run_cli("check")
    assert run.code == 0, run.err
    assert "20/20 points" in run.out


def test_stubs_are_reported_not_implemented(handout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(handout)
    run = run_cli("check", ".")
    assert run.code == 0, run.err
    assert "✗ 0/2  grad_W: not implemented yet" in run.out
    assert "0/20 points on the public cases" in run.out


def test_no_assignment_here_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run = run_cli("check")
    assert run.code == 2
    assert "no assignment.yaml here: run grader check inside the assignment folder" in run.err


def test_parts_the_spec_relates_are_compared(handout: Path, tmp_path: Path) -> None:
    sub = shutil.copytree(EXAMPLES / "correct", tmp_path / "sub")
    source = (sub / "autoencoder.py").read_text(encoding="utf-8")
    source = source.replace(
        "def grad_W(W, x):\n", "def grad_W(W, x):\n    return grad_W_via_b(W, x)\n", 1
    )
    (sub / "autoencoder.py").write_text(source, encoding="utf-8")
    run = run_cli("check", handout, sub)
    assert rows(run.out)["grad_W"] == "✗"
    assert "hint: only the path through b = Wᵀa is present: the path through a = Wx is missing" in (
        run.out
    )
    assert "hint: your grad_W_via_b and grad_W_via_a are right: grad_W should be their sum" in (
        run.out
    )


@pytest.mark.parametrize(
    ("submission", "extra"),
    [
        (
            "correct_notebook.ipynb",
            "warning: correct_notebook.ipynb cell 15, line 2 failed (NameError",
        ),
        ("correct_zip.zip", ""),
        ("latex_answers", "✓ 2/2  grad_W (answers.yaml): correct on all 3 cases"),
    ],
    ids=["notebook", "zip", "answers"],
)
def test_every_submission_form_checks(handout: Path, submission: str, extra: str) -> None:
    run = run_cli("check", handout, EXAMPLES / submission)
    assert run.code == 0, run.err
    assert "20/20 points on the public cases" in run.out
    assert extra in run.out


def test_several_files_make_one_submission(handout: Path) -> None:
    correct = EXAMPLES / "correct"
    run = run_cli(
        "check",
        handout,
        correct / "autoencoder.py",
        correct / "gplvm.py",
        correct / "linalg_helpers.py",
    )
    assert "20/20 points" in run.out, run.out


def test_a_corrupt_notebook_is_reported(handout: Path, tmp_path: Path) -> None:
    bad = tmp_path / "hw.ipynb"
    bad.write_text("{", encoding="utf-8")
    run = run_cli("check", handout, bad)
    assert run.code == 0
    assert "✗ could not check: hw.ipynb: not a Jupyter notebook: invalid JSON" in run.out
    assert "not checked here" not in run.out


def test_reference_when_given(handout: Path) -> None:
    run = run_cli("check", handout, EXAMPLES / "correct", "--reference", SOLUTIONS)
    assert run.code == 0, run.err
    assert f"expected values from the reference in {SOLUTIONS}" in run.out
    assert "20/20 points" in run.out


def test_a_part_the_graph_does_not_determine_is_listed(tmp_assignment, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def add_part(spec: dict) -> None:  # type: ignore[type-arg]
        spec["problems"][0]["parts"].append(
            {"function": "predict", "points": 1, "output": {"shape": ["m", 1]}}
        )

    root = tmp_assignment(add_part)
    sub = tmp_path / "sub"
    sub.mkdir()
    shutil.copy(root.parent.parent / "solutions" / "tiny" / "lin.py", sub / "lin.py")
    run = run_cli("check", root, sub / "lin.py")
    assert run.code == 0, run.err
    assert re.search(
        r"^\? +-/1  predict: not checked here \(the spec gives no formula", run.out, re.M
    )
    assert "5/5 points on the public cases" in run.out
