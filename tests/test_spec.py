"""Tests for grader.spec: the shipped spec loads as declared, and every broken spec gives a
SpecError naming the file, the key path and the bad value (and, through the CLI, exit code 2 and
one line on stderr)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grader.errors import SpecError
from grader.spec import ArrayOutput, GradientSpec, Tolerance, load_spec
from tests.conftest import SOLUTIONS, CliRun

# --------------------------------------------------------------------------- the shipped spec

SHIPPED_PARTS = {
    "autoencoder": [
        ("loss", 1),
        ("grad_c", 1),
        ("grad_b", 1),
        ("grad_a", 1),
        ("grad_W_via_b", 2),
        ("grad_W_via_a", 2),
        ("grad_W", 2),
    ],
    "gplvm": [
        ("log_likelihood", 1),
        ("grad_K", 2),
        ("grad_X_logdet", 2),
        ("grad_X_trace", 2),
        ("grad_X", 1),
        ("grad_alpha", 1),
        ("grad_beta", 1),
    ],
}


def test_shipped_spec_loads_with_its_problems_parts_and_points(assignment_dir: Path) -> None:
    spec = load_spec(assignment_dir)
    assert spec.name == "matrix-calculus"
    assert spec.seed == 2026
    assert [p.name for p in spec.problems] == ["autoencoder", "gplvm"]
    assert {p.name: [(part.function, part.points) for part in p.parts] for p in spec.problems} == (
        SHIPPED_PARTS
    )
    assert sum(len(p.parts) for p in spec.problems) == 14
    assert spec.max_score == 20
    assert spec.reference == SOLUTIONS.resolve()


def test_shipped_spec_declares_what_the_handout_says(assignment_dir: Path) -> None:
    spec = load_spec(assignment_dir)
    autoencoder, gplvm = spec.problems
    assert {d.name: (d.min, d.max, d.distinct_from) for d in autoencoder.dims} == {
        "m": (2, 6, ()),
        "n": (2, 7, ("m",)),
    }
    assert {d.name: d.distinct_from for d in gplvm.dims} == {"N": (), "q": ("N",), "D": ("N",)}
    assert (autoencoder.cases, autoencoder.hidden_cases) == (3, 2)
    _, grad_w_via_b = spec.part("grad_W_via_b")
    assert grad_w_via_b.gradient == GradientSpec(of="L", wrt="W", through=("b",))
    assert grad_w_via_b.output == ArrayOutput(("m", "n"))
    assert grad_w_via_b.args == ("W", "x")
    _, grad_beta = spec.part("grad_beta")
    assert grad_beta.args == ("X", "Y", "alpha", "beta")
    assert grad_beta.output == ArrayOutput(())
    # Top-level tolerance and time limit reach every part.
    assert {part.tolerance for p in spec.problems for part in p.parts} == {Tolerance(1e-6, 1e-9)}
    assert {part.time_limit for p in spec.problems for part in p.parts} == {5.0}


def test_shipped_spec_declares_terms_misconceptions_and_uses(assignment_dir: Path) -> None:
    spec = load_spec(assignment_dir)
    _, grad_w = spec.part("grad_W")
    assert [(t.name, t.part) for t in grad_w.terms] == [
        ("grad_W_via_b", "grad_W_via_b"),
        ("grad_W_via_a", "grad_W_via_a"),
    ]
    assert grad_w.terms[1].label == "the path through a = Wx"
    _, grad_k = spec.part("grad_K")
    assert [t.reference for t in grad_k.terms] == ["grad_K_logdet", "grad_K_trace"]
    _, grad_x = spec.part("grad_X")
    assert grad_x.uses == ("grad_K",)
    slip = next(m for m in grad_x.misconceptions if m.name == "logdet_sign")
    assert (slip.credit, slip.expression) == (0.5, "grad_X_trace - grad_X_logdet")
    assert slip.compiled is not None
    credits = [m.credit for p in spec.problems for part in p.parts for m in part.misconceptions]
    assert credits and all(0 <= c < 1 for c in credits)  # never the points of a right answer


def test_reference_argument_overrides_the_spec(assignment_dir: Path, tmp_path: Path) -> None:
    assert load_spec(assignment_dir, reference=tmp_path).reference == tmp_path.resolve()


def test_problem_and_part_settings_override_the_defaults(
    tmp_assignment: Callable[..., Path],
) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["tolerance"] = {"rtol": 1e-5}
        problem = spec["problems"][0]
        problem["time_limit"] = 3
        problem["parts"][1]["tolerance"] = {"atol": 0.5}
        problem["parts"][2]["time_limit"] = 0.25

    spec = load_spec(tmp_assignment(edit))
    loss, grad_x, grad_a = spec.problems[0].parts
    assert loss.tolerance == Tolerance(rtol=1e-5, atol=1e-9)
    assert grad_x.tolerance == Tolerance(rtol=1e-5, atol=0.5)
    assert (loss.time_limit, grad_x.time_limit, grad_a.time_limit) == (3.0, 3.0, 0.25)


# --------------------------------------------------------------------------- broken specs


def _problem(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["problems"][0]


def _part(spec: dict[str, Any], j: int = 0) -> dict[str, Any]:
    return spec["problems"][0]["parts"][j]


# (id, edit of the tiny spec, fragments the message must contain: key path, bad value, rule)
BROKEN: list[tuple[str, Callable[[dict[str, Any]], object], tuple[str, ...]]] = [
    (
        "negative-points",
        lambda s: _part(s).update(points=-1),
        ("problems[0].parts[0].points: expected a number >= 0, got -1",),
    ),
    (
        "points-not-a-number",
        lambda s: _part(s).update(points="two"),
        ("problems[0].parts[0].points", "expected a number", "'two'"),
    ),
    (
        "missing-points",
        lambda s: _part(s).pop("points"),
        ("problems[0].parts[0].points: missing required key",),
    ),
    (
        "unknown-part-key",
        lambda s: _part(s).update(pionts=1),
        ("problems[0].parts[0].pionts: unknown key", "did you mean 'points'?"),
    ),
    (
        "unknown-top-key",
        lambda s: s.update(seeed=3),
        ("seeed: unknown key", "did you mean 'seed'?"),
    ),
    (
        "negative-rtol",
        lambda s: s.update(tolerance={"rtol": -1}),
        ("tolerance.rtol: expected a number >= 0, got -1",),
    ),
    (
        "zero-time-limit",
        lambda s: _part(s).update(time_limit=0),
        ("problems[0].parts[0].time_limit: expected a number > 0, got 0",),
    ),
    (
        "unknown-credit-rule",
        lambda s: _part(s).update(credit="partial"),
        ("problems[0].parts[0].credit", "'partial'", "all_or_nothing, fraction_of_cases"),
    ),
    (
        "term-names-no-other-part",
        lambda s: _part(s, 2).update(
            terms=[{"part": "grad_A", "label": "self"}, {"part": "loss", "label": "x"}]
        ),
        ("problems[0].parts[2].terms[0].part", "'grad_A' is not another part", "loss, grad_x"),
    ),
    (
        "term-part-of-another-shape",
        lambda s: _part(s, 2).update(
            terms=[{"part": "grad_x", "label": "a"}, {"expression": "A", "name": "b", "label": "b"}]
        ),
        ("problems[0].parts[2].terms[0].part", "'grad_x' has another output than grad_A"),
    ),
    (
        "single-term",
        lambda s: _part(s, 2).update(terms=[{"reference": "grad_A", "label": "all of it"}]),
        ("problems[0].parts[2].terms", "expected at least two terms"),
    ),
    (
        "term-expression-without-name",
        lambda s: _part(s, 2).update(
            terms=[{"expression": "A", "label": "a"}, {"expression": "A", "label": "b"}]
        ),
        ("problems[0].parts[2].terms[0].name: missing required key",),
    ),
    (
        "misconception-two-sources",
        lambda s: _part(s, 1).update(
            misconceptions=[
                {"name": "m", "message": "no", "reference": "f", "expression": "A.T @ y"}
            ]
        ),
        ("problems[0].parts[1].misconceptions[0]", "exactly one of reference, expression"),
    ),
    (
        "misconception-credit-above-one",
        lambda s: _part(s, 1).update(
            misconceptions=[{"name": "m", "message": "no", "credit": 1.5, "expression": "y"}]
        ),
        ("problems[0].parts[1].misconceptions[0].credit", "a fraction from 0 to 1, got 1.5"),
    ),
    (
        "misconception-unknown-name",
        lambda s: _part(s, 1).update(
            misconceptions=[{"name": "m", "message": "no", "expression": "2 * grad_xx"}]
        ),
        (
            "problems[0].parts[1].misconceptions[0].expression",
            "unknown name 'grad_xx'",
            "did you mean 'grad_x'?",
        ),
    ),
    (
        "misconception-duplicate-name",
        lambda s: _part(s, 1).update(
            misconceptions=[
                {"name": "m", "message": "a", "expression": "y"},
                {"name": "m", "message": "b", "expression": "2 * y"},
            ]
        ),
        ("problems[0].parts[1].misconceptions[1].name", "duplicate misconception 'm'"),
    ),
    (
        "misconception-without-message",
        lambda s: _part(s, 1).update(misconceptions=[{"name": "m", "expression": "y"}]),
        ("problems[0].parts[1].misconceptions[0].message: missing required key",),
    ),
    (
        "uses-unknown-part",
        lambda s: _part(s, 2).update(uses=["grad_y"]),
        ("problems[0].parts[2].uses[0]", "'grad_y' is not another part"),
    ),
    (
        "cases-is-a-bool",
        lambda s: s.update(cases=True),
        ("cases: expected an integer, got True",),
    ),
    (
        "no-parts",
        lambda s: _problem(s).update(parts=[]),
        ("problems[0].parts: expected at least one part",),
    ),
    (
        "dim-max-below-min",
        lambda s: _problem(s)["dims"]["m"].update(max=1),
        ("problems[0].dims.m.max", "got 1"),
    ),
    (
        "distinct-from-unknown-dim",
        lambda s: _problem(s)["dims"]["n"].update(distinct_from=["k"]),
        ("problems[0].dims.n.distinct_from", "'k' is not a dimension", "dims: m, n"),
    ),
    (
        "input-shape-unknown-dim",
        lambda s: _problem(s)["inputs"]["A"].update(shape=["m", "k"]),
        ("problems[0].inputs.A.shape[1]", "got 'k'", "(m, n)"),
    ),
    (
        "graph-syntax-error",
        lambda s: _problem(s)["graph"].update(y="A @@ x"),
        ("problems[0].graph.y", "invalid expression 'A @@ x'"),
    ),
    (
        "graph-unknown-name",
        lambda s: _problem(s)["graph"].update(y="A @ xx"),
        ("problems[0].graph.y", "unknown name 'xx'", "did you mean 'x'?"),
    ),
    (
        "graph-unknown-function",
        lambda s: _problem(s)["graph"].update(L="0.5 * summ(y**2)"),
        ("problems[0].graph.L", "unknown name 'summ'", "did you mean 'sum'?"),
    ),
    (
        "gradient-of-unknown",
        lambda s: _part(s, 1)["gradient"].update(of="Z"),
        ("problems[0].parts[1].gradient.of", "'Z' is not a graph node", "nodes: y, L"),
    ),
    (
        "gradient-wrt-unknown",
        lambda s: _part(s, 1)["gradient"].update(wrt="Z"),
        ("problems[0].parts[1].gradient.wrt", "'Z'"),
    ),
    (
        "gradient-through-unknown",
        lambda s: _part(s, 2)["gradient"].update(through=["Z"]),
        ("problems[0].parts[2].gradient.through[0]", "'Z' is not a graph node"),
    ),
    (
        "gradient-missing-wrt",
        lambda s: _part(s, 1)["gradient"].pop("wrt"),
        ("problems[0].parts[1].gradient.wrt: missing required key",),
    ),
    (
        "value-of-unknown",
        lambda s: _part(s).update(value_of="Q"),
        ("problems[0].parts[0].value_of", "'Q' is not a graph node"),
    ),
    (
        "output-with-two-kinds",
        lambda s: _part(s, 1).update(output={"shape": ["n", 1], "tuple": []}),
        ("problems[0].parts[1].output", "exactly one of", "['shape', 'tuple']"),
    ),
    (
        "output-unknown-dim",
        lambda s: _part(s, 1).update(output={"shape": ["k", 1]}),
        ("problems[0].parts[1].output.shape[0]", "got 'k'"),
    ),
    (
        "duplicate-part-function",
        lambda s: _part(s, 1).update(function="loss"),
        (
            "problems[0].parts[1].function",
            "duplicate part function 'loss'",
            "first at problems[0].parts[0].function",
        ),
    ),
    (
        "function-is-a-keyword",
        lambda s: _part(s).update(function="lambda"),
        ("problems[0].parts[0].function", "expected an identifier", "'lambda'"),
    ),
    (
        "args-not-an-input",
        lambda s: _part(s).update(args=["A", "z"]),
        ("problems[0].parts[0].args[1]", "'z' is not an input", "inputs: A, x"),
    ),
    (
        "missing-name",
        lambda s: s.pop("name"),
        ("name: missing required key",),
    ),
    (
        "problems-not-a-list",
        lambda s: s.update(problems=None),
        ("problems: expected a list, got None",),
    ),
    (
        "call-result-not-last",
        lambda s: _part(s).update(call=[{"result": "A"}, {"function": "loss", "args": ["A"]}]),
        ("problems[0].parts[0].call[0].result", "a result step can only be the last step"),
    ),
    (
        "call-result-unknown-name",
        lambda s: _part(s).update(
            call=[
                {"function": "loss", "args": ["A", "x"], "returns": ["out", "cache"]},
                {"result": "outt"},
            ]
        ),
        ("problems[0].parts[0].call[1]", "unknown name 'outt'", "did you mean 'out'?"),
    ),
    (
        "call-returns-mapping-bad-name",
        lambda s: _part(s).update(
            call=[{"function": "loss", "args": ["A", "x"], "returns": ["out", {"W": "1dW"}]}]
        ),
        ("problems[0].parts[0].call[0].returns[1].W", "expected an identifier", "'1dW'"),
    ),
    (
        "call-returns-empty",
        lambda s: _part(s).update(call=[{"function": "loss", "args": ["A"], "returns": []}]),
        ("problems[0].parts[0].call[0].returns", "got an empty one"),
    ),
    (
        "assume-unknown-name",
        lambda s: _problem(s).update(assume=["abs(yy) > 0.1"]),
        ("problems[0].assume[0]", "unknown name 'yy'", "did you mean 'y'?"),
    ),
    (
        "assume-syntax-error",
        lambda s: _problem(s).update(assume=["abs(y) >"]),
        ("problems[0].assume[0]", "invalid expression 'abs(y) >'"),
    ),
]


@pytest.mark.parametrize(("edit", "fragments"), [pytest.param(e, f, id=i) for i, e, f in BROKEN])
def test_broken_spec_names_file_key_path_and_value(
    tmp_assignment: Callable[..., Path],
    edit: Callable[[dict[str, Any]], object],
    fragments: tuple[str, ...],
) -> None:
    root = tmp_assignment(edit)
    with pytest.raises(SpecError) as info:
        load_spec(root)
    message = str(info.value)
    assert message.startswith(f"{root / 'assignment.yaml'}: "), message
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param("points", float("nan"), id="points-nan"),
        pytest.param("points", float("inf"), id="points-inf"),
        pytest.param("tolerance", {"rtol": float("nan")}, id="rtol-nan"),
    ],
)
def test_non_finite_numbers_are_rejected(
    tmp_assignment: Callable[..., Path], key: str, value: object
) -> None:
    root = tmp_assignment(lambda s: _part(s).update({key: value}))
    with pytest.raises(SpecError, match=rf"problems\[0\]\.parts\[0\]\.{key}"):
        load_spec(root)


def test_yaml_syntax_error_gives_line_and_column(tmp_assignment: Callable[..., Path]) -> None:
    root = tmp_assignment(text="name: tiny\nproblems: [\n  - a: b\n   c: [\n")
    with pytest.raises(SpecError) as info:
        load_spec(root)
    message = str(info.value)
    assert message.startswith(f"{root / 'assignment.yaml'}: line 3, column 3: invalid YAML")


def test_spec_that_is_not_a_mapping(tmp_assignment: Callable[..., Path]) -> None:
    root = tmp_assignment(text="- 1\n- 2\n")
    with pytest.raises(SpecError, match=r"assignment\.yaml: expected a mapping, got \[1, 2\]"):
        load_spec(root)


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'assignment.yaml'}: no such file")


def test_missing_assignment_folder(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "nope")
    assert str(info.value).startswith(f"{tmp_path / 'nope'}: not a directory")


def test_spec_error_carries_its_parts_and_exit_code(tmp_assignment: Callable[..., Path]) -> None:
    root = tmp_assignment(lambda s: _part(s).update(points=-1))
    with pytest.raises(SpecError) as info:
        load_spec(root)
    assert info.value.file == str(root / "assignment.yaml")
    assert info.value.where == "problems[0].parts[0].points"
    assert info.value.exit_code == 2


@pytest.mark.parametrize("verb", ["grade", "validate"])
def test_cli_reports_a_broken_spec_in_one_line_with_exit_code_2(
    tmp_assignment: Callable[..., Path],
    cli: Callable[..., CliRun],
    tmp_path: Path,
    verb: str,
) -> None:
    root = tmp_assignment(lambda s: _part(s).update(points=-1))
    submission = tmp_path / "sub.py"
    submission.write_text("def loss(A, x):\n    return 0.0\n", encoding="utf-8")
    args = [verb, root, submission, "--out", tmp_path / "out"] if verb == "grade" else [verb, root]
    run = cli(*args)
    assert run.code == 2
    assert run.err == (
        f"grader: error: {root / 'assignment.yaml'}: "
        "problems[0].parts[0].points: expected a number >= 0, got -1\n"
    )
    assert "Traceback" not in run.out + run.err
    if verb == "grade":  # never lost work: the submission still gets a report saying why
        report = json.loads((tmp_path / "out" / "sub.json").read_text(encoding="utf-8"))
        assert report["status"] == "error" and report["score"] == 0
        assert "points: expected a number >= 0, got -1" in report["error"]
