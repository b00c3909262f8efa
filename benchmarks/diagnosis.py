"""How long the diagnosis of a wrong part takes, and how many wrong answers it names.

    .venv/bin/python benchmarks/diagnosis.py [--seeds N]

Scores the corpus of wrong answers (tests/variants.py, WRONG) as ``grader grade`` does, sandbox
aside (tests/scored.py), on N seeds. Prints:
- the time of the whole diagnosis of a failing part (declared misconceptions, declared terms,
  the student's own other parts, the generic rules), replayed on every failing part;
- the grader's own (parent process) time to score a batch of 1,000 submissions of 14 parts,
  half of them right and half with one of the corpus's mistakes, with and without diagnosis;
- the share of wrong answers whose diagnosis names the mistake in the part itself, and the
  share with any diagnosis (a pointer such as "fix grad_K first" included).
Numbers, not a test: they depend on the machine (best of several repeats, to damp its load).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import scoring  # noqa: E402
from grader.runner import PartRun  # noqa: E402
from tests.scored import SPEC, prepared, run_variant  # noqa: E402
from tests.variants import WRONG  # noqa: E402

POINTERS = {"upstream_wrong", "step_wrong", "partial_cases"}  # where to look, not what is wrong
REPEATS = 7


def _best(fn: Callable[[], object], number: int) -> float:
    """Seconds per call, best of REPEATS."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return min(times)


def _problems(seed: int, variant: dict | None) -> list[tuple]:
    """score_problem's arguments for every problem: the variant's answers where it has them,
    the reference's elsewhere."""
    cases, expected, targets = prepared(seed)
    out, index = [], 0
    for problem, problem_cases in zip(SPEC.problems, cases, strict=True):
        at = slice(index, index + len(problem.parts))
        index = at.stop
        runs = [
            run_variant(variant[p.function], p.args, problem_cases)
            if variant and p.function in variant
            else PartRun(values=tuple(exp), errors=(None,) * len(problem_cases))
            for p, exp in zip(problem.parts, expected[at], strict=True)
        ]
        out.append((problem, runs, expected[at], problem_cases, targets[at]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    seeds = range(parser.parse_args().seeds)
    variants = [(p, v) for p, table in WRONG.items() for v in table.values()]

    # Every failing part's diagnosis, recorded while scoring, then replayed.
    calls: list[tuple] = []
    named = any_hint = total = 0
    diagnose = scoring._diagnose

    def record(*args: object) -> object:
        calls.append(args)
        return diagnose(*args)

    scoring._diagnose = record
    try:
        for seed, (problem_name, variant) in itertools.product(seeds, variants):
            for problem, *rest in _problems(seed, variant):
                if problem.name != problem_name:
                    continue
                for result in scoring.score_problem(problem, *rest):
                    if result.function in variant:
                        codes = {d["code"] for d in result.diagnoses}
                        total += 1
                        named += bool(codes - POINTERS)
                        any_hint += bool(codes)
    finally:
        scoring._diagnose = diagnose
    per_part = _best(lambda: [diagnose(*args) for args in calls], 3) / len(calls)
    print(f"diagnosis of a failing part: {per_part * 1e3:.3f} ms (mean of {len(calls)} parts)")

    # A batch: the parent scores every part of every submission.
    submissions = [
        _problems(seed, variant if k % 2 else None)
        for k, (seed, (_, variant)) in enumerate(itertools.product(seeds, variants))
    ]

    def batch() -> None:
        for problems in submissions:
            for args in problems:
                scoring.score_problem(*args)

    with_diagnosis = _best(batch, 1) / len(submissions) * 1000
    scoring._diagnose = lambda *args: ([], None)
    try:
        without = _best(batch, 1) / len(submissions) * 1000
    finally:
        scoring._diagnose = diagnose
    print(
        f"scoring 1,000 submissions (half wrong): {with_diagnosis:.2f} s, of which diagnosis "
        f"{with_diagnosis - without:.2f} s"
    )
    print(
        f"wrong answers whose diagnosis names the mistake: {named}/{total} = {named / total:.1%}"
        f"; with any diagnosis: {any_hint}/{total} = {any_hint / total:.1%}"
    )


if __name__ == "__main__":
    main()
