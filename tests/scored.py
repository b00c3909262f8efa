"""Score answer variants (tests/variants.py) the way ``grader grade`` does, without the sandbox.

The cases come from the grader's own generator; the expected values, declared terms and
misconceptions from the shipped reference and spec (``grader.grading.prepare`` computes the
same); every part of the variant's problem is scored together (``score_problem``), the parts
the variant does not answer with the reference's own output, so hints about the student's
other parts work as in grading. The verdict depends on the numbers, not on the process they
came from: the sandbox is tested end to end elsewhere.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from grader.cases import Case, build_cases
from grader.reference import (
    Expected,
    compute_declared,
    compute_expected,
    load_reference_modules,
    reference_module_names,
)
from grader.results import PartResult
from grader.runner import CallError, PartRun
from grader.scoring import PartTargets, prepare_targets, score_problem
from grader.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
SPEC = load_spec(ROOT / "assignments" / "matrix-calculus")
MODULES = load_reference_modules(SPEC.reference, reference_module_names(SPEC))


def run_variant(fn: Callable[..., object], args: Sequence[str], cases: Sequence[Case]) -> PartRun:
    """What the sandbox would send back for `fn` on the cases (an exception is a verdict too)."""
    values, errors = [], []
    for case in cases:
        inputs = [
            np.array(case.inputs[a]) if isinstance(case.inputs[a], np.ndarray) else case.inputs[a]
            for a in args
        ]
        try:
            values.append({"": np.asarray(fn(*inputs), dtype=float)})
            errors.append(None)
        except Exception as exc:  # a wrong answer may fail on shapes
            values.append(None)
            errors.append(CallError("exception", str(exc)))
    return PartRun(values=tuple(values), errors=tuple(errors))


@functools.cache
def prepared(
    seed: int,
) -> tuple[tuple[tuple[Case, ...], ...], Expected, tuple[PartTargets, ...]]:
    cases = tuple(build_cases(p, seed) for p in SPEC.problems)
    expected = compute_expected(SPEC, cases, MODULES)
    declared = compute_declared(SPEC, cases, expected, MODULES)
    return cases, expected, prepare_targets(SPEC, expected, declared)


def score_variant(
    variant: Mapping[str, Callable[..., object]], problem_name: str, seed: int
) -> dict[str, PartResult]:
    """The results of the parts `variant` answers, scored together with the parts they build
    on (the reference's own output where the variant does not answer them)."""
    cases, expected, targets = prepared(seed)
    index = 0
    for problem, problem_cases in zip(SPEC.problems, cases, strict=True):
        first, index = index, index + len(problem.parts)
        if problem.name != problem_name:
            continue
        needed = {
            name
            for part in problem.parts
            if part.function in variant
            for name in (part.function, *part.uses, *(t.part for t in part.terms if t.part))
        }
        keep = [k for k, part in enumerate(problem.parts) if part.function in needed]
        runs = [
            run_variant(variant[problem.parts[k].function], problem.parts[k].args, problem_cases)
            if problem.parts[k].function in variant
            else PartRun(values=tuple(expected[first + k]), errors=(None,) * len(problem_cases))
            for k in keep
        ]
        results = score_problem(
            dataclasses.replace(problem, parts=tuple(problem.parts[k] for k in keep)),
            runs,
            [expected[first + k] for k in keep],
            problem_cases,
            [targets[first + k] for k in keep],
        )
        return {r.function: r for r in results if r.function in variant}
    raise KeyError(problem_name)
