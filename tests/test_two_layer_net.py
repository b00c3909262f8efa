"""The second shipped assignment, ``assignments/two-layer-net`` (the two-layer network of CS231n
as taught in UCLA ECE C147), proves the framework general: a class whose parameters the grader
sets before calling a method, tuple and dict results, integer labels, a forward's cache passed to
a backward, and gradients checked by finite differences, all declared in the spec.

It validates; the reference and the examples written the course's way earn full marks on many
seeds and each known mistake never does; every example grades end to end through the sandbox
with its statuses and a named diagnosis; ``grader check`` and notebooks work for it; a plotting
import is harmless and a missing module is named; and no module of ``grader/`` knows any
assignment by name.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import shutil
import sys
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import numpy as np
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import grader
from grader.calls import CallChainError, run_call
from grader.cases import build_cases
from grader.harness import flatten_output
from grader.notebook import notebook_text
from grader.reference import compute_expected, load_reference_modules
from grader.results import SubmissionResult
from grader.runner import CallError, PartRun
from grader.scoring import score_part
from grader.spec import load_spec, output_structure
from tests.conftest import REPO, CliRun, run_cli, write_spec

ASSIGNMENT = REPO / "assignments" / "two-layer-net"
SOLUTIONS = REPO / "solutions" / "two-layer-net"
EXAMPLES = REPO / "examples" / "two-layer-net"
SPEC = load_spec(ASSIGNMENT)
SEEDS = range(50)
MODULES = ("layers", "neural_net")

# Per example: the parts it fails, each with its status and the diagnosis the student reads
# (a generic code, or "misconception:<name>" for one declared in assignment.yaml). Every other
# part passes.
EXPECTED: dict[str, dict[str, tuple[str, str]]] = {
    "correct": {},
    "naive_softmax": {},  # no max shift: right on the moderate scores the spec draws
    "transposed_W1": {"grad_W1": ("wrong_shape", "transposed")},
    "missing_reg": {
        "loss": ("wrong_value", "misconception:missing_reg"),
        "grad_W1": ("wrong_value", "misconception:missing_reg"),
        "grad_W2": ("wrong_value", "misconception:missing_reg"),
    },
    "reg_times_two": {
        "loss": ("wrong_value", "misconception:reg_times_two"),
        "grad_W1": ("wrong_value", "misconception:reg_times_two"),
        "grad_W2": ("wrong_value", "misconception:reg_times_two"),
    },
    "missing_1_over_N": {
        "softmax_loss": ("wrong_value", "varying_scale"),  # on dx: "N times the gradient"
        "loss": ("wrong_value", "misconception:missing_1_over_N"),
        "grad_W1": ("wrong_value", "misconception:missing_1_over_N"),
        "grad_b1": ("wrong_value", "varying_scale"),
        "grad_W2": ("wrong_value", "misconception:missing_1_over_N"),
        "grad_b2": ("wrong_value", "varying_scale"),
    },
    "relu_mask_wrong_side": {
        "relu_backward": ("wrong_value", "misconception:relu_mask_wrong_side"),
        "grad_W1": ("wrong_value", "misconception:relu_mask_wrong_side"),
        "grad_b1": ("wrong_value", "misconception:relu_mask_wrong_side"),
    },
}
ALL_PARTS = [part.function for problem in SPEC.problems for part in problem.parts]
POINTS = {part.function: part.points for problem in SPEC.problems for part in problem.parts}


def test_the_example_folders_are_the_ones_listed() -> None:
    assert sorted(p.name for p in EXAMPLES.iterdir()) == sorted(EXPECTED)


# --------------------------------------------------------------------------- grader validate


def test_validate_passes_over_50_seeds() -> None:
    run = run_cli("validate", ASSIGNMENT, "--seeds", len(SEEDS))
    assert run.code == 0, run.out
    assert run.out.splitlines()[-1] == "all checks passed"
    assert "ok    spec: 2 problems, 11 parts, 17 points" in run.out
    assert "ok    stub layers.py" in run.out and "ok    stub neural_net.py" in run.out
    for leaf in ("affine_backward[1]", "softmax_loss[1]", "grad_W1", "grad_b1"):
        assert f"ok    reference {leaf} vs finite differences" in run.out
    assert "ok    reference scores 100% in the sandbox: 17/17" in run.out


def test_cases_keep_relu_inputs_away_from_the_kink() -> None:
    """assume: redraws a case whose ReLU input is within 0.01 of 0, where finite differences
    (steps up to 1e-3, times |X| for W1) would straddle the kink."""
    layers, net = SPEC.problems
    for seed in SEEDS:
        for case in build_cases(layers, seed):
            assert np.abs(case.inputs["z"]).min() > 0.01
        for case in build_cases(net, seed):
            z1 = case.inputs["X"] @ case.inputs["W1"].T + case.inputs["b1"]
            assert np.abs(z1).min() > 0.01
            assert case.inputs["y"].dtype == np.int64
            assert case.inputs["y"].min() >= 0 and case.inputs["y"].max() < case.dims["C"]


# --------------------------------------------------------------------------- verdicts, in process


@contextlib.contextmanager
def _plotting_stand_in() -> Iterator[None]:
    """Real submissions import matplotlib.pyplot at the top; the sandbox gives them an inert
    stand-in when matplotlib is missing, and so does this in-process import."""
    if importlib.util.find_spec("matplotlib") is not None:
        yield
        return
    saved = {k: sys.modules.get(k) for k in ("matplotlib", "matplotlib.pyplot")}
    root, pyplot = types.ModuleType("matplotlib"), types.ModuleType("matplotlib.pyplot")
    root.pyplot = pyplot  # type: ignore[attr-defined]
    sys.modules.update({"matplotlib": root, "matplotlib.pyplot": pyplot})
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


@functools.cache
def _modules(folder: Path) -> dict[str, ModuleType]:
    with _plotting_stand_in():
        return load_reference_modules(folder, list(MODULES))


@functools.cache
def _prepared(seed: int) -> tuple[tuple[Any, ...], list[Any]]:
    cases = tuple(build_cases(p, seed) for p in SPEC.problems)
    return cases, compute_expected(SPEC, cases, _modules(SOLUTIONS))


def _run(modules: Mapping[str, ModuleType], module: str, part: Any, cases: Any) -> PartRun:
    """What the sandbox child does for one part, in process: the same call chain code."""
    values, errors = [], []
    for case in cases:
        try:
            value = run_call(
                part.call,
                functools.partial(getattr, modules[module]),
                {**case.dims, **case.inputs},
            )
            values.append(dict(flatten_output(value, output_structure(part.output), "")))
            errors.append(None)
        except (CallChainError, ValueError) as exc:  # a wrong form is a verdict too
            values.append(None)
            errors.append(CallError("type", str(exc)))
    return PartRun(values=tuple(values), errors=tuple(errors))


def _passed_parts(folder: Path, seed: int) -> set[str]:
    cases, expected = _prepared(seed)
    modules = _modules(folder)
    passed = set()
    index = 0
    for problem, problem_cases in zip(SPEC.problems, cases, strict=True):
        for part in problem.parts:
            run = _run(modules, problem.module, part, problem_cases)
            result = score_part(problem, part, run, expected[index], problem_cases)
            if result.score == result.max_score:
                assert result.status == "passed"
                passed.add(part.function)
            index += 1
    return passed


@pytest.mark.parametrize("name", ["reference", *EXPECTED])
def test_verdicts_hold_on_every_seed(name: str) -> None:
    """Correct code, however written, always earns full marks; each mistake never does, and
    costs only the parts it touches."""
    folder = SOLUTIONS if name == "reference" else EXAMPLES / name
    failing = set(EXPECTED.get(name, {}))
    for seed in SEEDS:
        assert _passed_parts(folder, seed) == set(ALL_PARTS) - failing, f"seed {seed}"


# --------------------------------------------------------------------------- end to end


@dataclass(frozen=True, slots=True)
class Graded:
    run: CliRun
    out: Path

    def report(self, name: str) -> dict[str, Any]:
        return json.loads((self.out / f"{name}.json").read_text(encoding="utf-8"))

    def parts(self, name: str) -> dict[str, dict[str, Any]]:
        return {p["function"]: p for p in self.report(name)["parts"]}


def _correct_with(folder: Path, module: str, old: str, new: str) -> Path:
    shutil.copytree(EXAMPLES / "correct", folder)
    path = folder / f"{module}.py"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return folder


def _notebook(path: Path) -> Path:
    """The correct example as a student's notebook: cells, a magic, a cell that uses the net."""
    cells = [
        new_markdown_cell("# HW3: two-layer network"),
        new_code_cell("%matplotlib inline"),
        *[new_code_cell((EXAMPLES / "correct" / f"{m}.py").read_text()) for m in MODULES],
        new_code_cell("net = TwoLayerNet(4, 10, 3)\nprint(net.params['W1'].shape)"),
    ]
    nbformat.write(new_notebook(cells=cells), path)
    return path


SEABORN_INSTALLED = importlib.util.find_spec("seaborn") is not None


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    """The examples and a few hand-made submissions, graded once through the CLI."""
    root = tmp_path_factory.mktemp("two-layer-net")
    subs = [EXAMPLES / name for name in EXPECTED]
    subs.append(_notebook(root / "notebook.ipynb"))
    subs.append(
        shutil.copytree(
            ASSIGNMENT, root / "stub", ignore=shutil.ignore_patterns("*.yaml", "*.md", "*.ipynb")
        )
    )
    subs.append(
        _correct_with(
            root / "grads_without_b2", "neural_net", "grads['b2'] = np.sum(dscores, axis=0)", ""
        )
    )
    subs.append(
        _correct_with(
            root / "forward_without_cache",
            "layers",
            "cache = (x, w, b)\n    return out, cache",
            "return out",
        )
    )
    if not SEABORN_INSTALLED:
        subs.append(
            _correct_with(
                root / "seaborn",
                "neural_net",
                "import matplotlib.pyplot as plt\n",
                "import matplotlib.pyplot as plt\nimport seaborn as sns\n",
            )
        )
    out = root / "reports"
    return Graded(run_cli("grade", ASSIGNMENT, *subs, "--out", out), out)


def _named(diagnoses: list[dict[str, Any]]) -> list[str]:
    return [
        f"misconception:{d['params']['name']}" if d["code"] == "misconception" else d["code"]
        for d in diagnoses
    ]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_examples_grade_with_their_statuses_and_a_named_diagnosis(batch: Graded, name: str) -> None:
    assert batch.run.code == 0, batch.run.err
    report = batch.report(name)
    failing = EXPECTED[name]
    assert report["score"] == SPEC.max_score - sum(POINTS[f] for f in failing)
    for function, part in batch.parts(name).items():
        if function not in failing:
            assert part["status"] == "passed", part["feedback"]
            continue
        status, diagnosis = failing[function]
        assert part["status"] == status, part["feedback"]
        assert _named(part["diagnoses"])[0] == diagnosis, part["feedback"]
        hint = part["diagnoses"][0]["message"]
        assert f"hint: {hint}" in part["feedback"]


def test_a_transposed_W1_gradient_is_named_with_both_shapes(batch: Graded) -> None:
    part = batch.parts("transposed_W1")["grad_W1"]
    first, *_ = part["feedback"].splitlines()
    assert first == "grad_W1: wrong shape on 5 of 5 cases"
    assert "hint: your answer equals the transpose of the gradient" in part["feedback"]


def test_a_missing_1_over_N_in_a_tuple_result_names_the_leaf(batch: Graded) -> None:
    diagnosis = batch.parts("missing_1_over_N")["softmax_loss"]["diagnoses"][0]
    assert diagnosis["params"]["leaf"] == "[1]"
    assert diagnosis["params"]["dim_factor"] == "N"
    assert diagnosis["message"] == "result[1]: your answer is N times the gradient"


def test_a_notebook_submission_grades_like_the_folder(batch: Graded) -> None:
    report = batch.report("notebook")
    assert report["score"] == SPEC.max_score, report
    assert "(10, 4)" in report["stdout"]


def test_the_stubs_are_not_implemented_everywhere(batch: Graded) -> None:
    parts = batch.parts("stub")
    assert {p["status"] for p in parts.values()} == {"not_implemented"}


def test_a_grads_dict_without_a_key_fails_that_gradient_only(batch: Graded) -> None:
    parts = batch.parts("grads_without_b2")
    assert [f for f, p in parts.items() if p["status"] != "passed"] == ["grad_b2"]
    assert parts["grad_b2"]["status"] == "wrong_type"
    assert (
        "net.loss(...)[1]: the dict has no key 'b2' (its keys: 'W2', 'W1', 'b1')"
        in (parts["grad_b2"]["feedback"])
    )


def test_a_forward_without_its_cache_says_what_was_expected(batch: Graded) -> None:
    parts = batch.parts("forward_without_cache")
    failing = {f: p["status"] for f, p in parts.items() if p["status"] != "passed"}
    assert failing == {"affine_forward": "wrong_type", "affine_backward": "wrong_type"}
    assert (
        "affine_forward(...): expected 2 values (out, cache), got ndarray"
        in (parts["affine_forward"]["feedback"])
    )


@pytest.mark.skipif(SEABORN_INSTALLED, reason="seaborn is installed here")
def test_an_import_the_grading_environment_lacks_is_named(batch: Graded) -> None:
    parts = batch.parts("seaborn")
    net = [p.function for p in SPEC.problems[1].parts]
    assert {f for f, p in parts.items() if p["status"] != "passed"} == set(net)
    for function in net:
        assert parts[function]["status"] == "import_error"
        assert (
            "could not import neural_net.py: it imports seaborn, which the grading environment "
            "does not have" in parts[function]["feedback"]
        )


@pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is not None, reason="matplotlib is installed here"
)
def test_without_stub_modules_a_plotting_import_is_named(tmp_path: Path) -> None:
    """stub_modules: is what makes `import matplotlib.pyplot as plt` harmless."""
    root = shutil.copytree(ASSIGNMENT, tmp_path / "two-layer-net")
    spec = yaml.safe_load((ASSIGNMENT / "assignment.yaml").read_text(encoding="utf-8"))
    for problem in spec["problems"]:
        del problem["stub_modules"]
    spec["reference"] = str(SOLUTIONS)
    write_spec(root, spec)
    results: list[SubmissionResult] = grader.grade(root, [EXAMPLES / "correct"])
    assert {p.status for p in results[0].parts} == {"import_error"}
    assert "it imports matplotlib, which the grading environment does not have" in (
        results[0].parts[0].feedback
    )


def test_loss_can_also_be_one_part_with_a_tuple_and_dict_output(tmp_path: Path) -> None:
    """The shipped spec grades each gradient as its own part; the same method can be declared
    as one part whose output is (loss, grads) with every leaf checked, and a transposed
    grads['W1'] is still named, on its leaf."""
    root = shutil.copytree(ASSIGNMENT, tmp_path / "two-layer-net")
    spec = yaml.safe_load((ASSIGNMENT / "assignment.yaml").read_text(encoding="utf-8"))
    net = spec["problems"][1]
    grads = {
        name: {"shape": shape, "gradient": {"of": "L", "wrt": name}}
        for name, shape in (("W1", ["H", "D"]), ("b1", ["H"]), ("W2", ["C", "H"]), ("b2", ["C"]))
    }
    net["parts"] = [
        {
            "function": "loss_and_grads",
            "points": 5,
            "call": [
                *net["parts"][0]["call"][:2],
                {"method": "net.loss", "args": ["X"], "kwargs": {"y": "y", "reg": "reg"}},
            ],
            "output": {"tuple": [{"shape": [], "value_of": "L"}, {"dict": grads}]},
        }
    ]
    spec["reference"] = str(SOLUTIONS)
    write_spec(root, spec)
    run = run_cli("validate", root, "--seeds", "5")
    assert run.code == 0, run.out
    assert "ok    reference loss_and_grads[1]['W1'] vs finite differences" in run.out
    result = grader.grade(root, [EXAMPLES / "transposed_W1"])[0]
    part = {p.function: p for p in result.parts}["loss_and_grads"]
    assert part.status == "wrong_shape"
    assert part.diagnoses[0]["code"] == "transposed"
    assert part.diagnoses[0]["params"]["leaf"] == "[1]['W1']"


# --------------------------------------------------------------------------- check, notebook


def test_grader_check_runs_without_the_reference() -> None:
    run = run_cli("check", ASSIGNMENT, EXAMPLES / "correct")
    assert run.code == 0, run.err
    assert "expected values from the assignment's graph (finite differences)" in run.out
    assert "17/17 points on the public cases" in run.out
    run = run_cli("check", ASSIGNMENT, EXAMPLES / "relu_mask_wrong_side")
    assert "0/2  grad_W1: wrong values on 3 of 3 cases" in run.out
    assert "hint: the ReLU mask keeps the gradient where the hidden pre-activation" in run.out


def test_the_shipped_notebook_is_up_to_date() -> None:
    shipped = ASSIGNMENT / "two-layer-net.ipynb"
    assert notebook_text(SPEC) == shipped.read_text(encoding="utf-8"), (
        "run: grader notebook assignments/two-layer-net"
    )


# --------------------------------------------------------------------------- the framework


ASSIGNMENT_NAMES = ("two-layer", "twolayernet", "neural_net", "matrix-calculus", "autoencoder")


def _grader_files() -> list[Path]:
    package = Path(grader.__file__).resolve().parent
    return [
        p
        for p in sorted(package.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in (".py", ".json", ".txt")
    ]


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_no_module_of_grader_names_an_assignment(name: str) -> None:
    """The framework knows no assignment: all of one lives in its folder and its spec."""
    files = _grader_files()
    assert any(p.name == "grading.py" for p in files)  # the walk found the package
    named = [str(p) for p in files if name in p.read_text(encoding="utf-8").lower()]
    assert named == [], f"{name!r} appears in {named}"
