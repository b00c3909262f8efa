"""Tests for grader.validation (``grader validate``): the shipped assignment is ready to hand
out, and each way a tiny assignment can be broken is caught by the check that names it, with
exit code 1 and no traceback."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import grader
from tests.conftest import REPO, TINY_REFERENCE, TINY_STUB, CliRun, write_spec

# The finite-difference check over a few seeds is enough to catch a wrong reference here; the
# shipped assignment is validated with the default (20 seeds), as an instructor would.
FEW_SEEDS = "3"


def failures(run: CliRun) -> list[str]:
    return [line.strip() for line in run.out.splitlines() if line.strip().startswith("FAIL")]


def test_shipped_assignment_validates(assignment_dir: Path, cli: Callable[..., CliRun]) -> None:
    run = cli("validate", assignment_dir)
    assert run.code == 0, run.out
    lines = run.out.splitlines()
    assert lines[0] == f"validate {assignment_dir}"
    assert lines[-1] == "all checks passed"
    assert "ok    spec: 2 problems, 14 parts, 20 points" in run.out
    assert "ok    stub autoencoder.py" in run.out and "ok    stub gplvm.py" in run.out
    assert "reference grad_W_via_b vs finite differences" in run.out
    assert "ok    reference scores 100% in the sandbox: 20/20" in run.out
    assert failures(run) == []


def test_tiny_assignment_validates(
    tmp_assignment: Callable[..., Path], cli: Callable[..., CliRun]
) -> None:
    """The base the broken variants below start from is itself valid."""
    run = cli("validate", tmp_assignment(), "--seeds", FEW_SEEDS)
    assert run.code == 0, run.out
    assert run.out.splitlines()[-1] == "all checks passed"


FACTOR_2 = TINY_REFERENCE.replace("return A.T @ (A @ x)", "return 2 * A.T @ (A @ x)")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"reference": FACTOR_2},
            "FAIL  reference grad_x vs finite differences: relative error 5.00e-01 > 1e-06",
            id="reference-grad-times-2",
        ),
        pytest.param(
            {"reference": TINY_REFERENCE.replace("0.5 * np.sum", "np.sum")},
            "FAIL  reference loss vs graph node L: relative error 5.00e-01",
            id="reference-value-times-2",
        ),
        pytest.param(
            {"reference": TINY_REFERENCE.replace("return (A @ x) @ x.T", "return x @ (A @ x).T")},
            "FAIL  reference grad_A vs finite differences: reference returns shape",
            id="reference-transposed",
        ),
        pytest.param(
            {
                "stub": TINY_STUB.replace(
                    'raise NotImplementedError("grad_x")', "return A.T @ (A @ x)"
                )
            },
            "FAIL  stub lin.py: grad_x does not raise NotImplementedError",
            id="stub-gives-the-answer",
        ),
        pytest.param(
            {"stub": TINY_STUB.replace("def grad_x(A, x)", "def grad_x(B, x)")},
            "FAIL  stub lin.py: grad_x('B', 'x') but the spec calls it with ('A', 'x')",
            id="stub-wrong-argument-names",
        ),
        pytest.param(
            {"stub": TINY_STUB.split("def grad_A")[0]},
            "FAIL  stub lin.py: grad_A is not defined",
            id="stub-missing-function",
        ),
        pytest.param(
            {"stub": "def loss(A, x:\n"},
            "FAIL  stub lin.py: syntax error line 1",
            id="stub-syntax-error",
        ),
        pytest.param(
            {"reference": TINY_REFERENCE.replace("return (A @ x) @ x.T", "return 1 / 0")},
            "FAIL  reference: ",
            id="reference-raises",
        ),
        pytest.param(
            {"reference": "import no_such_module_xyz\n" + TINY_REFERENCE},
            "the reference does not import: ModuleNotFoundError",
            id="reference-does-not-import",
        ),
        pytest.param(
            {
                "edit": lambda s: s["problems"][0]["parts"][2].update(
                    terms=[
                        {"name": "outer", "label": "y xᵀ", "expression": "y @ x.T"},
                        {"name": "extra", "label": "A", "expression": "A"},
                    ]
                )
            },
            "FAIL  grad_A: declared 2 terms: its terms do not add up to the reference",
            id="terms-do-not-add-up",
        ),
        pytest.param(
            {
                "edit": lambda s: s["problems"][0]["parts"][2].update(
                    misconceptions=[{"name": "same", "message": "m", "expression": "y @ x.T"}]
                )
            },
            "misconception same equals the reference on every case",
            id="misconception-that-is-right",
        ),
        pytest.param(
            {"reference": TINY_REFERENCE.split("def grad_A")[0]},
            "grad_A: not defined in the reference solution",
            id="reference-missing-function",
        ),
    ],
)
def test_broken_assignment_fails_the_check_that_names_it(
    tmp_assignment: Callable[..., Path],
    cli: Callable[..., CliRun],
    files: dict[str, str],
    expected: str,
) -> None:
    run = cli("validate", tmp_assignment(**files), "--seeds", FEW_SEEDS)
    assert run.code == 1
    assert len(failures(run)) == 1, run.out
    assert expected in failures(run)[0]
    assert run.out.splitlines()[-1] == "1 check(s) failed"
    assert "Traceback" not in run.out + run.err


def test_reference_that_raises_says_where_and_what(
    tmp_assignment: Callable[..., Path], cli: Callable[..., CliRun]
) -> None:
    root = tmp_assignment(reference=TINY_REFERENCE.replace("return (A @ x) @ x.T", "return 1 / 0"))
    run = cli("validate", root, "--seeds", FEW_SEEDS)
    (line,) = failures(run)
    reference = (root.parent.parent / "solutions" / "tiny" / "lin.py").resolve()
    assert f"{reference}: grad_A: the reference failed on case 0" in line
    assert line.endswith("ZeroDivisionError: division by zero")
    assert run.err == ""


def test_python_api_returns_the_report(tmp_assignment: Callable[..., Path]) -> None:
    report = grader.validate(tmp_assignment(reference=FACTOR_2), seeds=2)
    assert not report.ok
    failed = [(name, detail) for name, ok, detail in report.checks if not ok]
    assert [name for name, _ in failed] == ["reference grad_x vs finite differences"]
    assert report.text().splitlines()[-1] == "1 check(s) failed"


def test_broken_spec_is_exit_2_not_a_failed_check(
    tmp_assignment: Callable[..., Path], cli: Callable[..., CliRun]
) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["problems"][0]["parts"][1]["gradient"]["wrt"] = "Z"

    root = tmp_assignment(edit)
    run = cli("validate", root)
    assert run.code == 2
    assert run.out == ""
    assert run.err.startswith(f"grader: error: {root / 'assignment.yaml'}: problems[0].parts[1]")


def test_unsatisfiable_dims_is_reported_not_a_traceback(
    tmp_assignment: Callable[..., Path], cli: Callable[..., CliRun]
) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["problems"][0]["dims"]["m"] = {"min": 2, "max": 2}
        spec["problems"][0]["dims"]["n"] = {"min": 2, "max": 2, "distinct_from": ["m"]}

    try:
        run = cli("validate", tmp_assignment(edit), "--seeds", FEW_SEEDS)
    except ValueError as exc:
        pytest.fail(f"uncaught {exc!r}")
    assert run.code in (1, 2)
    assert "distinct_from" in run.out + run.err


@pytest.mark.parametrize("seeds", ["0", "-3"])
def test_validate_needs_at_least_one_seed(
    tmp_assignment: Callable[..., Path], cli: Callable[..., CliRun], seeds: str
) -> None:
    run = cli("validate", tmp_assignment(reference=FACTOR_2), "--seeds", seeds)
    assert run.code == 2
    assert "--seeds" in run.err


def test_stubs_of_call_chains_are_checked_step_by_step(
    tmp_path: Path, cli: Callable[..., CliRun]
) -> None:
    """A part with a call chain: each function and method it calls must be in the stub, accept
    the call and raise NotImplementedError; a constructor may be given (homework gives
    __init__)."""
    root = shutil.copytree(REPO / "assignments" / "two-layer-net", tmp_path / "two-layer-net")
    spec = yaml.safe_load((root / "assignment.yaml").read_text(encoding="utf-8"))
    spec["reference"] = str(REPO / "solutions" / "two-layer-net")
    write_spec(root, spec)
    layers = (root / "layers.py").read_text(encoding="utf-8")
    (root / "layers.py").write_text(
        layers.replace("def affine_backward(dout, cache):", "def affine_backward(dout):"),
        encoding="utf-8",
    )
    net = (root / "neural_net.py").read_text(encoding="utf-8")
    given = 'raise NotImplementedError("TwoLayerNet.loss: not implemented yet")'
    (root / "neural_net.py").write_text(net.replace(given, "return 0.0, {}"), encoding="utf-8")
    run = cli("validate", root, "--seeds", FEW_SEEDS)
    assert run.code == 1
    assert failures(run) == [
        "FAIL  stub layers.py: affine_backward(dout) but the spec calls it with (dout, cache)",
        "FAIL  stub neural_net.py: TwoLayerNet.loss does not raise NotImplementedError "
        "(does the stub give the answer away?)",
    ]
