"""What a student reads about one part: the verdict first, then the evidence, then the hints.

``grader.scoring`` decides the verdict, the credit and the diagnoses; this module only words
them. Hidden cases show their verdict only, never their inputs or expected values.
"""

from __future__ import annotations

from collections.abc import Sequence

from grader.cases import Case
from grader.checks import Comparison
from grader.diagnosis import Diagnosis
from grader.results import CaseResult
from grader.spec import PartSpec

__all__ = ["HEADLINE", "PART_HEADLINE", "case_evidence", "evidence", "failure_text", "part_text"]

# Per-case statuses, as the verdict line says them.
HEADLINE = {
    "wrong_value": "wrong values",
    "wrong_shape": "wrong shape",
    "not_finite": "non-finite values (nan or inf)",
    "wrong_type": "wrong return type",
    "error": "raised an exception",
    "not_implemented": "not implemented yet (it raises NotImplementedError)",
    "memory": "ran out of memory",
}

# Statuses of a part that failed as a whole (no case ran to its end).
PART_HEADLINE = {
    "missing": "function not found",
    "import_error": "your file does not import",
    "invalid_answer": "your LaTeX answer cannot be read",
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


def evidence(cmp: Comparison, part: PartSpec, path: str) -> str:
    """Got vs expected for one leaf of one case: shape, non-finite entries, or the errors."""
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


def case_evidence(case: Case, message: str) -> str:
    return f"  case {case.index} ({_dims(case)}): {message}"


def failure_text(part: PartSpec, status: str, message: str, n_cases: int) -> str:
    """The feedback of a part that failed as a whole (missing, import error, timeout, ...)."""
    headline = PART_HEADLINE.get(status) or HEADLINE.get(status, status)
    text = f"{part.function}: {headline}\n  {message}"
    if status == "timeout":
        text += f" (limit {part.time_limit:g} s for all {n_cases} cases)"
    return text


def _hint(d: Diagnosis) -> str:
    credit = d.params.get("credit") if d.code == "misconception" else None
    earned = f" (a known mistake: {credit:.0%} of the points)" if credit else ""
    return f"  hint: {d.message}{earned}"


def part_text(
    part: PartSpec,
    status: str,
    passed: int,
    total: int,
    failing: Sequence[CaseResult],
    lines: Sequence[str],
    diagnoses: Sequence[Diagnosis],
) -> str:
    """Verdict line, evidence lines (public cases), the hidden cases' verdicts, then hints."""
    if status == "passed":
        return f"{part.function}: correct on all {total} cases"
    hints = [_hint(d) for d in diagnoses]
    if status == "not_implemented":
        first = f"{part.function}: {HEADLINE[status]}; replace the raise with your code"
        return "\n".join([first, *hints])
    out = [f"{part.function}: {HEADLINE.get(status, status)} on {total - passed} of {total} cases"]
    out += lines
    hidden = [c.index for c in failing if c.hidden]
    if hidden:
        out.append(
            f"  hidden case(s) {', '.join(map(str, hidden))}: failed "
            "(inputs and expected values of hidden cases are not shown)"
        )
    return "\n".join(out + hints)
