"""Verdicts are sacred: over 1,000 seeds, a correct answer always earns full marks and gets no
diagnosis, and a wrong one never earns full marks (not even with a misconception's credit).

The variants' outputs are scored as ``grader grade`` scores them, sandbox aside
(``tests/scored.py``): the verdict depends on the numbers, not on the process they came from.
"""

from __future__ import annotations

import pytest

from tests.scored import MODULES, SPEC, score_variant
from tests.variants import CORRECT, WRONG

SEEDS = range(1000)


def _ids(table: dict[str, dict[str, object]]) -> list[tuple[str, str]]:
    return [(problem, name) for problem, variants in table.items() for name in variants]


@pytest.mark.parametrize(("problem", "name"), _ids(CORRECT), ids=lambda v: str(v))
def test_correct_variants_always_earn_full_marks(problem: str, name: str) -> None:
    variant = CORRECT[problem][name]
    for seed in SEEDS:
        for function, r in score_variant(variant, problem, seed).items():
            assert r.score == r.max_score, f"seed {seed}: correct {name}.{function} got {r.status}"
            assert r.diagnoses == (), f"seed {seed}: correct {name}.{function}: {r.diagnoses}"


def test_reference_itself_earns_full_marks() -> None:
    for seed in SEEDS:
        for problem in SPEC.problems:
            variant = {
                p.function: getattr(MODULES[problem.module], p.function) for p in problem.parts
            }
            for function, r in score_variant(variant, problem.name, seed).items():
                assert r.score == r.max_score, f"seed {seed}: reference {function} got {r.status}"
                assert r.diagnoses == ()


@pytest.mark.parametrize(("problem", "name"), _ids(WRONG), ids=lambda v: str(v))
def test_wrong_variants_never_earn_full_marks(problem: str, name: str) -> None:
    variant = WRONG[problem][name]
    for seed in SEEDS:
        for function, r in score_variant(variant, problem, seed).items():
            assert r.score < r.max_score, f"seed {seed}: wrong {name}.{function} got full marks"
            assert r.status != "passed"
