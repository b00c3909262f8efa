"""Tests for grader.cases: random cases are reproducible from the seed, respect the spec's
dimension constraints and ranges, and do not depend on the other problems of the spec."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.cases import Case, CaseError, build_cases
from grader.grading import prepare
from grader.spec import AssignmentSpec, ProblemSpec, load_spec
from tests.conftest import CliRun

MANY_SEEDS = range(500)


@pytest.fixture(scope="module")
def spec(assignment_dir: Path) -> AssignmentSpec:
    return load_spec(assignment_dir)


@pytest.fixture(scope="module")
def autoencoder(spec: AssignmentSpec) -> ProblemSpec:
    return spec.problems[0]


@pytest.fixture(scope="module")
def gplvm(spec: AssignmentSpec) -> ProblemSpec:
    return spec.problems[1]


def assert_same_cases(a: tuple[Case, ...], b: tuple[Case, ...]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert (x.index, x.hidden, dict(x.dims)) == (y.index, y.hidden, dict(y.dims))
        assert x.inputs.keys() == y.inputs.keys()
        for name in x.inputs:
            np.testing.assert_array_equal(x.inputs[name], y.inputs[name], err_msg=name)


@pytest.mark.parametrize("problem", ["autoencoder", "gplvm"])
def test_same_seed_gives_identical_cases(spec: AssignmentSpec, problem: str) -> None:
    p = next(p for p in spec.problems if p.name == problem)
    assert_same_cases(build_cases(p, 7), build_cases(p, 7))


@pytest.mark.parametrize("problem", ["autoencoder", "gplvm"])
def test_different_seed_gives_different_inputs(spec: AssignmentSpec, problem: str) -> None:
    p = next(p for p in spec.problems if p.name == problem)
    first = p.inputs[0].name
    a, b = build_cases(p, 7), build_cases(p, 8)
    assert any(
        x.inputs[first].shape != y.inputs[first].shape
        or not np.array_equal(x.inputs[first], y.inputs[first])
        for x, y in zip(a, b, strict=True)
    )


def test_cases_of_one_seed_differ_from_each_other(autoencoder: ProblemSpec) -> None:
    cases = build_cases(autoencoder, 2026)
    firsts = [c.inputs["W"].ravel()[0] for c in cases]
    assert len(set(firsts)) == len(cases)


def test_autoencoder_dims_are_in_range_and_never_square(autoencoder: ProblemSpec) -> None:
    for seed in MANY_SEEDS:
        for case in build_cases(autoencoder, seed):
            m, n = case.dims["m"], case.dims["n"]
            assert 2 <= m <= 6 and 2 <= n <= 7, (seed, case.dims)
            assert m != n, (seed, case.dims)
            assert case.inputs["W"].shape == (m, n)
            assert case.inputs["x"].shape == (n, 1)


def test_gplvm_dims_and_scalars_respect_the_spec(gplvm: ProblemSpec) -> None:
    for seed in MANY_SEEDS:
        for case in build_cases(gplvm, seed):
            big_n, q, d = case.dims["N"], case.dims["q"], case.dims["D"]
            assert big_n != q and big_n != d, (seed, case.dims)
            assert 3 <= big_n <= 8 and 1 <= q <= 4 and 2 <= d <= 5, (seed, case.dims)
            assert case.inputs["X"].shape == (big_n, q)
            assert case.inputs["Y"].shape == (big_n, d)
            alpha, beta = case.inputs["alpha"], case.inputs["beta"]
            assert type(alpha) is float and type(beta) is float
            assert 1.3 <= alpha <= 2.0, (seed, alpha)
            assert 0.5 <= beta <= 0.8, (seed, beta)


def test_every_allowed_dimension_value_occurs(autoencoder: ProblemSpec) -> None:
    """The constraint is enforced by redrawing, not by never drawing the edge values."""
    seen_m = {c.dims["m"] for seed in range(100) for c in build_cases(autoencoder, seed)}
    seen_n = {c.dims["n"] for seed in range(100) for c in build_cases(autoencoder, seed)}
    assert seen_m == set(range(2, 7))
    assert seen_n == set(range(2, 8))


def test_public_cases_come_first_then_the_hidden_ones(spec: AssignmentSpec) -> None:
    for problem in spec.problems:
        cases = build_cases(problem, 2026)
        assert [c.index for c in cases] == list(range(5))
        assert [c.hidden for c in cases] == [False, False, False, True, True]


def test_array_inputs_are_float64_c_contiguous(spec: AssignmentSpec) -> None:
    for problem in spec.problems:
        for case in build_cases(problem, 3):
            for name, value in case.inputs.items():
                if isinstance(value, np.ndarray):
                    assert value.dtype == np.float64, name
                    assert value.flags.c_contiguous, name
                    assert value.ndim == 2, name


def test_a_problem_does_not_change_when_another_is_added(spec: AssignmentSpec) -> None:
    """Each problem draws from its own (seed, problem name) stream."""
    alone = dataclasses.replace(spec, problems=spec.problems[1:])
    both = prepare(spec, 11)
    only_gplvm = prepare(alone, 11)
    assert_same_cases(both.cases[1], only_gplvm.cases[0])


def test_more_hidden_cases_keep_the_earlier_ones(autoencoder: ProblemSpec) -> None:
    more = dataclasses.replace(autoencoder, hidden_cases=autoencoder.hidden_cases + 3)
    assert_same_cases(build_cases(more, 5)[:5], build_cases(autoencoder, 5))


def _unsatisfiable(spec: dict) -> None:
    spec["problems"][0]["dims"] = {
        "m": {"min": 2, "max": 2},
        "n": {"min": 2, "max": 2, "distinct_from": ["m"]},
    }
    spec["problems"][0]["parts"] = spec["problems"][0]["parts"][:2]


def test_unsatisfiable_distinct_from_is_a_clear_error(
    tmp_assignment: Callable[..., Path],
) -> None:
    problem = load_spec(tmp_assignment(_unsatisfiable)).problems[0]
    with pytest.raises(ValueError, match=r"problem lin: no dimensions satisfy the distinct_from"):
        build_cases(problem, 0)


def test_grade_with_unsatisfiable_dims_is_a_spec_error(
    tmp_assignment: Callable[..., Path], cli: Callable[..., CliRun], tmp_path: Path
) -> None:
    root = tmp_assignment(_unsatisfiable)
    run = cli("grade", root, root / "lin.py", "--out", tmp_path / "out")
    assert run.code == 2
    assert run.err.startswith(f"grader: error: {root / 'assignment.yaml'}: problems[0].dims")
    assert run.err.count("\n") == 1


def _assume(condition: str) -> Callable[[dict[str, Any]], None]:
    def edit(spec: dict[str, Any]) -> None:
        spec["problems"][0]["assume"] = [condition]

    return edit


def test_cases_are_redrawn_until_the_assume_conditions_hold(
    tmp_assignment: Callable[..., Path],
) -> None:
    problem = load_spec(tmp_assignment(_assume("abs(y) > 0.5"))).problems[0]
    for seed in range(50):
        for case in build_cases(problem, seed):
            y = case.inputs["A"] @ case.inputs["x"]
            assert np.all(np.abs(y) > 0.5)
    assert_same_cases(build_cases(problem, 7), build_cases(problem, 7))


def test_unsatisfiable_assume_is_a_spec_error_naming_it(
    tmp_assignment: Callable[..., Path], cli: Callable[..., CliRun], tmp_path: Path
) -> None:
    root = tmp_assignment(_assume("sum(x) > 1e9"))
    with pytest.raises(CaseError, match=r"no case met assume\[0\] \(sum\(x\) > 1e9\)"):
        build_cases(load_spec(root).problems[0], 0)
    run = cli("grade", root, root / "lin.py", "--out", tmp_path / "out")
    assert run.code == 2
    assert run.err.startswith(f"grader: error: {root / 'assignment.yaml'}: problems[0].assume")
