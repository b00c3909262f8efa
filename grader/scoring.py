"""From what a submission returned to a scored, explained part.

Per case: call error, else each returned array compared with the expected one
(``grader.checks``). Per part: a verdict, the credit the spec's rule gives, and feedback a
student reads at a glance: the verdict first, then the evidence (got vs expected), then a hint
when the mistake is recognised (``grader.diagnosis``). Hidden cases report their verdict only,
never their inputs or expected values.

Credit rules (``credit:`` in the spec):
- ``all_or_nothing`` (default): the points when every case passes, else 0. Parts are already
  small steps of one derivation (grad_c, grad_b, ... grad_W), so the partial credit lives in
  the parts; inside a part, an answer right on some random inputs only (say square ones) is
  a wrong formula, and credit by luck of the draw would make the score depend on the seed.
- ``fraction_of_cases``: points x (cases passed / cases).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from grader.cases import Case
from grader.checks import Comparison, compare
from grader.diagnosis import Diagnosis, diagnose_values
from grader.results import CaseResult, PartResult
from grader.runner import CallError, PartRun
from grader.spec import PartSpec, ProblemSpec

__all__ = ["score_part"]

_CALL_STATUS = {
    "exception": "error",
    "not_implemented": "not_implemented",
    "memory": "memory",
    "type": "wrong_type",
    "import": "import_error",
    "missing": "missing",
    "timeout": "timeout",
    "crashed": "crashed",
    "exited": "exited",
}

_HEADLINE = {
    "wrong_value": "wrong values",
    "wrong_shape": "wrong shape",
    "not_finite": "non-finite values (nan or inf)",
    "wrong_type": "wrong return type",
    "error": "raised an exception",
    "not_implemented": "not implemented yet (it raises NotImplementedError)",
    "memory": "ran out of memory",
}

_PART_HEADLINE = {
    "missing": "function not found",
    "import_error": "your file does not import",
    "timeout": "timed out",
    "crashed": "crashed",
    "exited": "exited the process",
    "memory": "ran out of memory",
}


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _dims(case: Case) -> str:
    return ", ".join(f"{k}={v}" for k, v in case.dims.items())


def _leaf_name(path: str) -> str:
    return f"result{path}" if path else "result"


def _evidence(cmp: Comparison, part: PartSpec, path: str) -> str:
    what = f"{_leaf_name(path)} " if path else ""
    if cmp.status == "wrong_shape":
        return f"{what}shape {cmp.got_shape}, expected {cmp.expected_shape}"
    if cmp.status == "not_finite":
        return f"{what}has {cmp.mismatched} of {cmp.total} entries nan or inf"
    tol = part.tolerance
    lines = [
        f"{what}relative error {_fmt(cmp.rel_error or 0.0)} > tolerance {tol.rtol:g} "
        f"(max abs error {_fmt(cmp.max_abs_error or 0.0)}); {cmp.mismatched} of "
        f"{cmp.total} entries differ"
    ]
    if cmp.worst:
        lines.append("      index      yours          expected")
        lines += [f"      {i!s:<10} {_fmt(g):<14} {_fmt(e)}" for i, g, e in cmp.worst]
    return "\n".join(lines)


def _compare_case(
    values: Mapping[str, np.ndarray], expected: Mapping[str, np.ndarray], part: PartSpec
) -> tuple[str, list[tuple[str, Comparison]]]:
    comparisons = [
        (path, compare(values[path], exp, rtol=part.tolerance.rtol, atol=part.tolerance.atol))
        for path, exp in expected.items()
    ]
    failing = [c for _, c in comparisons if not c.passed]
    return (failing[0].status if failing else "passed"), comparisons


def _credit(part: PartSpec, passed: int, total: int) -> float:
    if part.credit == "fraction_of_cases":
        return part.points * passed / total if total else 0.0
    return part.points if passed == total else 0.0


def _failure_result(
    problem: ProblemSpec, part: PartSpec, failure: CallError, cases: Sequence[Case]
) -> PartResult:
    status = _CALL_STATUS.get(failure.kind, "crashed")
    headline = _PART_HEADLINE.get(status) or _HEADLINE.get(status, status)
    feedback = f"{part.function}: {headline}\n  {failure.message}"
    if status == "timeout":
        feedback += f" (limit {part.time_limit:g} s for all {len(cases)} cases)"
    return PartResult(
        problem=problem.name,
        function=part.function,
        score=0.0,
        max_score=part.points,
        status=status,
        feedback=feedback,
        cases=tuple(CaseResult(c.index, c.hidden, status, c.dims) for c in cases),
        traceback=failure.traceback,
    )


def score_part(
    problem: ProblemSpec,
    part: PartSpec,
    run: PartRun,
    expected: Sequence[Mapping[str, np.ndarray]],
    cases: Sequence[Case],
) -> PartResult:
    if run.failure is not None:
        return _failure_result(problem, part, run.failure, cases)
    case_results: list[CaseResult] = []
    evidence: list[str] = []
    traceback = ""
    for case, values, error, exp in zip(cases, run.values, run.errors, expected, strict=True):
        if error is not None or values is None:
            error = error or CallError("crashed", "no result")
            status = _CALL_STATUS.get(error.kind, "error")
            message = error.message
            if status != "not_implemented" and not case.hidden and not traceback:
                traceback = error.traceback
        else:
            status, comparisons = _compare_case(values, exp, part)
            bad = [(p, c) for p, c in comparisons if not c.passed]
            message = _evidence(bad[0][1], part, bad[0][0]) if bad else ""
            rel = max(
                (c.rel_error for _, c in comparisons if c.rel_error is not None), default=None
            )
            absolute = max(
                (c.max_abs_error for _, c in comparisons if c.max_abs_error is not None),
                default=None,
            )
            case_results.append(
                CaseResult(
                    case.index,
                    case.hidden,
                    status,
                    case.dims,
                    "" if case.hidden else message,
                    rel,
                    absolute,
                )
            )
            if status != "passed" and not case.hidden and len(evidence) < 2:
                evidence.append(f"  case {case.index} ({_dims(case)}): {message}")
            continue
        case_results.append(
            CaseResult(case.index, case.hidden, status, case.dims, "" if case.hidden else message)
        )
        if not case.hidden and len(evidence) < 1 and status != "not_implemented":
            evidence.append(f"  case {case.index} ({_dims(case)}): {message}")
    passed = sum(c.status == "passed" for c in case_results)
    total = len(case_results)
    failing = [c for c in case_results if c.status != "passed"]
    status = "passed" if not failing else Counter(c.status for c in failing).most_common(1)[0][0]
    diagnoses = _diagnose(part, run, expected, cases, case_results) if failing else []
    feedback = _feedback(part, status, passed, total, failing, evidence, diagnoses)
    return PartResult(
        problem=problem.name,
        function=part.function,
        score=_credit(part, passed, total),
        max_score=part.points,
        status=status,
        feedback=feedback,
        cases=tuple(case_results),
        diagnoses=tuple(d.as_dict() for d in diagnoses),
        traceback=traceback,
    )


def _diagnose(
    part: PartSpec,
    run: PartRun,
    expected: Sequence[Mapping[str, np.ndarray]],
    cases: Sequence[Case],
    results: Sequence[CaseResult],
) -> list[Diagnosis]:
    """Generic diagnoses, for single-array outputs with a value on every failing case."""
    if any(len(e) != 1 for e in expected):
        return []
    path = next(iter(expected[0]))
    got = [None if v is None else v[path] for v in run.values]
    if all(g is None for g in got):
        return []
    return diagnose_values(
        got,
        [e[path] for e in expected],
        rtol=part.tolerance.rtol,
        atol=part.tolerance.atol,
        case_dims=[dict(c.dims) for c in cases],
        passed=[r.status == "passed" for r in results],
    )


def _feedback(
    part: PartSpec,
    status: str,
    passed: int,
    total: int,
    failing: Sequence[CaseResult],
    evidence: Sequence[str],
    diagnoses: Sequence[Diagnosis],
) -> str:
    if status == "passed":
        return f"{part.function}: correct on all {total} cases"
    if status == "not_implemented":
        return f"{part.function}: {_HEADLINE[status]}; replace the raise with your code"
    lines = [
        f"{part.function}: {_HEADLINE.get(status, status)} on {total - passed} of {total} cases"
    ]
    hidden = [c.index for c in failing if c.hidden]
    lines += evidence
    if hidden:
        lines.append(
            f"  hidden case(s) {', '.join(map(str, hidden))}: failed "
            "(inputs and expected values of hidden cases are not shown)"
        )
    lines += [f"  hint: {d.message}" for d in diagnoses]
    return "\n".join(lines)


def summarize(parts: Sequence[PartResult]) -> dict[str, Any]:
    return {"score": sum(p.score for p in parts), "max_score": sum(p.max_score for p in parts)}
