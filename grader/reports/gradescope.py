"""Gradescope's ``results.json``: one test per part, the total on top.

Format: Gradescope's "Autograder Specifications" (summarised in shared/notes, §2). Choices:

- Every test is ``visible``. Gradescope hides a student's *total* when any test is hidden, and
  our feedback already hides the inputs and expected values of hidden cases, so there is nothing
  to hold back at the test level.
- ``number`` is ``problem.part`` (``"1.7"``), both 1-based in spec order, so Gradescope sorts
  the tests the way the handout numbers them.
- ``tags``: the problem, the status and the diagnosis codes, for filtering in the review UI.
- ``stdout_visibility`` is ``hidden``: the captured stdout holds the grader's own log and the
  isolation warnings, which are for the instructor.
- A submission that could not be graded still gets a file: score 0 and a first, visible test
  that says why (``failure_results`` when there is not even a result object).
- ``execution_time`` is a number (gradescope-utils writes a string; both are accepted). Results
  carry no timings, to keep native reports reproducible, so ``write_gradescope`` writes 0 and
  the Gradescope runner (grader.gradescope) passes the measured wall time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader.results import PartResult, SubmissionResult

__all__ = [
    "FAILED_TEST_NAME",
    "dump",
    "failure_results",
    "to_gradescope",
    "write_gradescope",
    "write_results_file",
]

FAILED_TEST_NAME = "Autograder failed"


def _number(x: float) -> float | int:
    # 2.0 -> 2: Gradescope shows what we write, and "2.0 / 2.0" reads worse than "2 / 2".
    return int(x) if float(x).is_integer() else round(x, 6)


def _numbers(parts: tuple[PartResult, ...]) -> list[str]:
    """``problem.part``, 1-based, in the order the parts appear."""
    problems: dict[str, int] = {}
    counts: dict[str, int] = {}
    numbers = []
    for p in parts:
        problems.setdefault(p.problem, len(problems) + 1)
        counts[p.problem] = counts.get(p.problem, 0) + 1
        numbers.append(f"{problems[p.problem]}.{counts[p.problem]}")
    return numbers


def _test(part: PartResult, number: str) -> dict[str, Any]:
    output = part.feedback
    if part.traceback:
        output += "\n\n" + part.traceback.rstrip()
    return {
        "name": f"{part.problem}.{part.function}",
        "number": number,
        "score": _number(part.score),
        "max_score": _number(part.max_score),
        "status": "passed" if part.passed else "failed",
        "output": output.replace("\r\n", "\n"),
        "output_format": "text",
        "visibility": "visible",
        "tags": [part.problem, part.status, *(str(d["code"]) for d in part.diagnoses)],
    }


def _failure_test(message: str, max_score: float | None) -> dict[str, Any]:
    test: dict[str, Any] = {
        "name": FAILED_TEST_NAME,
        "number": "0",
        "score": 0,
        "status": "failed",
        "output": (
            "Your submission could not be graded, so it scores 0 for now. This is not a "
            f"verdict on your answers.\n\n{message}\n\nIf this looks wrong, tell your instructor."
        ),
        "output_format": "text",
        "visibility": "visible",
        "tags": ["error"],
    }
    if max_score is not None:
        test["max_score"] = _number(max_score)
    return test


def _envelope(
    score: float, output: str, tests: list[dict[str, Any]], execution_time: float
) -> dict[str, Any]:
    return {
        "score": _number(score),
        "execution_time": round(max(execution_time, 0.0), 3),
        "output": output,
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def to_gradescope(result: SubmissionResult, *, execution_time: float = 0.0) -> dict[str, Any]:
    tests = [_test(p, n) for p, n in zip(result.parts, _numbers(result.parts), strict=True)]
    passed = sum(p.passed for p in result.parts)
    if result.status == "error":
        message = result.error or "grading failed"
        tests.insert(0, _failure_test(message, None))
        return _envelope(0.0, f"{result.assignment}: not graded: {message}", tests, execution_time)
    output = (
        f"{result.assignment}: {result.score:g}/{result.max_score:g} "
        f"({passed} of {len(result.parts)} parts passed). Each test below is one part; "
        "open it for the evidence and, where one is known, a hint."
    )
    return _envelope(result.score, output, tests, execution_time)


def failure_results(
    message: str, *, max_score: float | None = None, execution_time: float = 0.0
) -> dict[str, Any]:
    """The results.json written when grading could not even produce a result."""
    return _envelope(
        0.0, f"not graded: {message}", [_failure_test(message, max_score)], execution_time
    )


def dump(payload: dict[str, Any]) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_results_file(payload: dict[str, Any], path: Path) -> Path:
    # Build in memory, write once, rename: Gradescope must never read half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(dump(payload), encoding="utf-8")
    tmp.replace(path)
    return path


def write_gradescope(result: SubmissionResult, out: Path) -> Path:
    """``<submission>.gradescope.json``: what Gradescope would get for this submission."""
    return write_results_file(to_gradescope(result), out / f"{result.submission}.gradescope.json")
