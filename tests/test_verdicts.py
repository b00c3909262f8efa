"""Verdicts are sacred: over 1,000 seeds, a correct answer always earns full marks and a
wrong one never does.

The cases come from the grader's own generator and the expected values from the shipped
reference, exactly as in grading; the variants' outputs are scored by the grader's own
``score_part``. Only the sandbox is skipped here (it is tested end to end elsewhere): the
verdict depends on the numbers, not on the process they came from.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from grader.cases import build_cases
from grader.reference import compute_expected, load_reference_modules
from grader.runner import CallError, PartRun
from grader.scoring import score_part
from grader.spec import load_spec
from tests.variants import CORRECT, WRONG

ROOT = Path(__file__).resolve().parent.parent
SPEC = load_spec(ROOT / "assignments" / "matrix-calculus")
MODULES = load_reference_modules(SPEC.reference, [p.module for p in SPEC.problems])
SEEDS = range(1000)


def _run(fn: Callable[..., object], part_args: tuple[str, ...], cases) -> PartRun:
    values, errors = [], []
    for case in cases:
        args = [
            np.array(case.inputs[a]) if isinstance(case.inputs[a], np.ndarray) else case.inputs[a]
            for a in part_args
        ]
        try:
            values.append({"": np.asarray(fn(*args), dtype=float)})
            errors.append(None)
        except Exception as exc:  # a wrong answer may fail on shapes: that is a verdict too
            values.append(None)
            errors.append(CallError("exception", str(exc)))
    return PartRun(values=tuple(values), errors=tuple(errors))


@functools.cache
def _prepared(seed: int):
    cases = tuple(build_cases(p, seed) for p in SPEC.problems)
    return cases, compute_expected(SPEC, cases, MODULES)


def _scores(
    variant: dict[str, Callable[..., object]], problem_name: str, seed: int
) -> dict[str, tuple[float, float, str]]:
    cases, expected = _prepared(seed)
    out = {}
    index = 0
    for problem, problem_cases in zip(SPEC.problems, cases, strict=True):
        for part in problem.parts:
            if problem.name == problem_name and part.function in variant:
                run = _run(variant[part.function], part.args, problem_cases)
                result = score_part(problem, part, run, expected[index], problem_cases)
                out[part.function] = (result.score, result.max_score, result.status)
            index += 1
    return out


def _ids(table: dict[str, dict[str, object]]) -> list[tuple[str, str]]:
    return [(problem, name) for problem, variants in table.items() for name in variants]


@pytest.mark.parametrize(("problem", "name"), _ids(CORRECT), ids=lambda v: str(v))
def test_correct_variants_always_earn_full_marks(problem: str, name: str) -> None:
    variant = CORRECT[problem][name]
    for seed in SEEDS:
        for function, (score, max_score, status) in _scores(variant, problem, seed).items():
            assert score == max_score, f"seed {seed}: correct {name}.{function} got {status}"


def test_reference_itself_earns_full_marks() -> None:
    for seed in SEEDS:
        for problem in SPEC.problems:
            variant = {
                p.function: getattr(MODULES[problem.module], p.function) for p in problem.parts
            }
            for function, (score, max_score, status) in _scores(
                variant, problem.name, seed
            ).items():
                assert score == max_score, f"seed {seed}: reference {function} got {status}"


@pytest.mark.parametrize(("problem", "name"), _ids(WRONG), ids=lambda v: str(v))
def test_wrong_variants_never_earn_full_marks(problem: str, name: str) -> None:
    variant = WRONG[problem][name]
    for seed in SEEDS:
        for function, (score, max_score, status) in _scores(variant, problem, seed).items():
            assert score < max_score, f"seed {seed}: wrong {name}.{function} got full marks"
            assert status != "passed"
