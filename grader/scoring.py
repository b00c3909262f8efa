"""From what a submission returned to a scored, explained part.

Per case: call error, else each returned array compared with the expected one
(``grader.checks``). Per part: a verdict, the credit the spec's rule gives, the diagnoses of a
wrong answer, and feedback a student reads at a glance (``grader.feedback``).

Credit rules (``credit:`` in the spec):
- ``all_or_nothing`` (default): the points when every case passes, else 0. Parts are already
  small steps of one derivation (grad_c, grad_b, ... grad_W), so the partial credit lives in
  the parts; inside a part, an answer right on some random inputs only (say square ones) is
  a wrong formula, and credit by luck of the draw would make the score depend on the seed.
- ``fraction_of_cases``: points x (cases passed / cases).
- On top of either: an answer that matches a declared misconception on every case (a value on
  each) earns that misconception's ``credit`` x points, when that is more.

Diagnoses of a failing part, most specific first (``grader.diagnosis`` does the numbers):
1. a declared misconception the answer matches (code ``misconception``, params name, credit);
2. else the declared terms: which one is missing, flipped or scaled (``missing_term``, ...);
3. else the generic rules: transposed, reshaped, sign, factor, zero, constant, some cases;
then, after any of these, how the part relates to the student's own other parts:
``wrong_sum`` (the terms are right, their sum is not), ``upstream_wrong`` (a part it builds on
is wrong too: fix that first), ``step_wrong`` (what it builds on is right: this step is not).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from grader.cases import Case
from grader.checks import Comparison, compare, matches
from grader.diagnosis import (
    Alternatives,
    Diagnosis,
    Stack,
    TermBasis,
    diagnose_terms,
    diagnose_values,
    matching_alternatives,
)
from grader.feedback import case_evidence, evidence, failure_text, part_text
from grader.reference import Declared, Expected
from grader.results import CaseResult, PartResult
from grader.runner import CallError, PartRun
from grader.spec import AssignmentSpec, MisconceptionSpec, PartSpec, ProblemSpec

__all__ = ["PartTargets", "prepare_targets", "score_part", "score_problem"]

_CALL_STATUS = {
    "exception": "error",
    "not_implemented": "not_implemented",
    "memory": "memory",
    "type": "wrong_type",
    "import": "import_error",
    "invalid_answer": "invalid_answer",
    "missing": "missing",
    "timeout": "timeout",
    "crashed": "crashed",
    "exited": "exited",
}

# Statuses with nothing to diagnose: the student has not answered yet.
_UNANSWERED = ("not_implemented",)


@dataclass(frozen=True, slots=True)
class PartTargets:
    """What a part's wrong answers are diagnosed against, prepared once per assignment and seed
    (the reference side never changes between submissions)."""

    expected: Mapping[str, Stack] = field(default_factory=dict)  # leaf path -> expected values
    terms: TermBasis | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    # (leaf path, the declared misconceptions' values at that leaf)
    alternatives: tuple[tuple[str, Alternatives], ...] = ()


def prepare_targets(
    spec: AssignmentSpec, expected: Expected, declared: Sequence[Declared]
) -> tuple[PartTargets, ...]:
    """One PartTargets per part (all problems' parts in order), from the reference's values."""
    parts = [part for problem in spec.problems for part in problem.parts]
    out = []
    for part, per_case, values in zip(parts, expected, declared, strict=True):
        stacks = {path: Stack.build([e[path] for e in per_case]) for path in per_case[0]}
        terms = TermBasis.build(values.terms) if values.terms else None
        per_name = values.misconceptions
        paths = next(iter(per_name.values()))[0].keys() if per_name else ()
        alternatives = tuple(
            (path, Alternatives.build({n: [c[path] for c in vs] for n, vs in per_name.items()}))
            for path in paths
        )
        labels = {t.name: t.label for t in part.terms}
        out.append(PartTargets(stacks, terms, labels, alternatives))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class _Checked:
    """A part's case verdicts (the first pass), before diagnosis."""

    run: PartRun
    status: str
    cases: tuple[CaseResult, ...] = ()
    lines: tuple[str, ...] = ()  # evidence from public cases
    traceback: str = ""

    @property
    def passed(self) -> int:
        return sum(c.status == "passed" for c in self.cases)


def _compare_case(
    values: Mapping[str, np.ndarray], expected: Mapping[str, np.ndarray], part: PartSpec
) -> tuple[str, list[tuple[str, Comparison]]]:
    comparisons = [
        (path, compare(values[path], exp, rtol=part.tolerance.rtol, atol=part.tolerance.atol))
        for path, exp in expected.items()
    ]
    failing = [c for _, c in comparisons if not c.passed]
    return (failing[0].status if failing else "passed"), comparisons


def _check(
    part: PartSpec,
    run: PartRun,
    expected: Sequence[Mapping[str, np.ndarray]],
    cases: Sequence[Case],
) -> _Checked:
    if run.failure is not None:
        return _Checked(run, _CALL_STATUS.get(run.failure.kind, "crashed"))
    results: list[CaseResult] = []
    lines: list[str] = []  # evidence from public cases: one error, or up to two wrong values
    traceback = ""
    for case, values, error, exp in zip(cases, run.values, run.errors, expected, strict=True):
        if error is not None or values is None:
            error = error or CallError("crashed", "no result")
            status = _CALL_STATUS.get(error.kind, "error")
            shown = "" if case.hidden else error.message
            results.append(CaseResult(case.index, case.hidden, status, case.dims, shown))
            if case.hidden or status == "not_implemented":
                continue
            traceback = traceback or error.traceback
            if not lines:
                lines.append(case_evidence(case, error.message))
            continue
        status, comparisons = _compare_case(values, exp, part)
        bad = [(p, c) for p, c in comparisons if not c.passed]
        message = evidence(bad[0][1], part, bad[0][0]) if bad else ""
        rel = max((c.rel_error for _, c in comparisons if c.rel_error is not None), default=None)
        absolute = max(
            (c.max_abs_error for _, c in comparisons if c.max_abs_error is not None), default=None
        )
        shown = "" if case.hidden else message
        results.append(CaseResult(case.index, case.hidden, status, case.dims, shown, rel, absolute))
        if status != "passed" and not case.hidden and len(lines) < 2:
            lines.append(case_evidence(case, message))
    failing = [c.status for c in results if c.status != "passed"]
    status = Counter(failing).most_common(1)[0][0] if failing else "passed"
    return _Checked(run, status, tuple(results), tuple(lines), traceback)


def score_part(
    problem: ProblemSpec,
    part: PartSpec,
    run: PartRun,
    expected: Sequence[Mapping[str, np.ndarray]],
    cases: Sequence[Case],
    *,
    targets: PartTargets | None = None,
) -> PartResult:
    """Score one part on its own: generic diagnoses, and the declared ones given `targets`;
    hints about the student's other parts need ``score_problem``."""
    checked = _check(part, run, expected, cases)
    return _finish(problem, part, checked, expected, cases, targets, {})


def score_problem(
    problem: ProblemSpec,
    runs: Sequence[PartRun],
    expected: Sequence[Sequence[Mapping[str, np.ndarray]]],
    cases: Sequence[Case],
    targets: Sequence[PartTargets] | None = None,
) -> list[PartResult]:
    """Score every part of a problem: every part's verdicts first, so that a wrong part's
    diagnosis can point at the student's own parts it builds on."""
    checked = {
        part.function: _check(part, run, exp, cases)
        for part, run, exp in zip(problem.parts, runs, expected, strict=True)
    }
    return [
        _finish(
            problem,
            part,
            checked[part.function],
            exp,
            cases,
            targets[k] if targets is not None else None,
            checked,
        )
        for k, (part, exp) in enumerate(zip(problem.parts, expected, strict=True))
    ]


def _credit(part: PartSpec, passed: int, total: int) -> float:
    if part.credit == "fraction_of_cases":
        return part.points * passed / total if total else 0.0
    return part.points if passed == total else 0.0


def _finish(
    problem: ProblemSpec,
    part: PartSpec,
    checked: _Checked,
    expected: Sequence[Mapping[str, np.ndarray]],
    cases: Sequence[Case],
    targets: PartTargets | None,
    others: Mapping[str, _Checked],
) -> PartResult:
    run = checked.run
    if run.failure is not None:
        return PartResult(
            problem=problem.name,
            function=part.function,
            score=0.0,
            max_score=part.points,
            status=checked.status,
            feedback=failure_text(part, checked.status, run.failure.message, len(cases)),
            cases=tuple(CaseResult(c.index, c.hidden, checked.status, c.dims) for c in cases),
            traceback=run.failure.traceback,
        )
    passed, total = checked.passed, len(checked.cases)
    diagnoses: list[Diagnosis] = []
    matched = None
    if checked.status not in ("passed", *_UNANSWERED):
        diagnoses, matched = _diagnose(part, checked, expected, cases, targets, others)
    score = _credit(part, passed, total)
    if matched is not None and all(v is not None for v in run.values):
        score = max(score, matched.credit * part.points)
    failing = [c for c in checked.cases if c.status != "passed"]
    return PartResult(
        problem=problem.name,
        function=part.function,
        score=score,
        max_score=part.points,
        status=checked.status,
        feedback=part_text(part, checked.status, passed, total, failing, checked.lines, diagnoses),
        cases=checked.cases,
        diagnoses=tuple(d.as_dict() for d in diagnoses),
        traceback=checked.traceback,
    )


# --------------------------------------------------------------------------- diagnosis


def _leaves(
    run: PartRun, expected: Sequence[Mapping[str, np.ndarray]]
) -> dict[str, list[np.ndarray | None]]:
    """The student's value per leaf and case (None where the call failed); a size-1 answer to
    a scalar is a scalar, as the checks read it."""
    out: dict[str, list[np.ndarray | None]] = {}
    for path, first in expected[0].items() if expected else ():
        column: list[np.ndarray | None] = []
        for values in run.values:
            got = None if values is None else values.get(path)
            if got is not None and first.shape == () and got.size == 1:
                got = got.reshape(())
            column.append(got)
        out[path] = column
    return out


def _diagnose(
    part: PartSpec,
    checked: _Checked,
    expected: Sequence[Mapping[str, np.ndarray]],
    cases: Sequence[Case],
    targets: PartTargets | None,
    others: Mapping[str, _Checked],
) -> tuple[list[Diagnosis], MisconceptionSpec | None]:
    """The diagnoses of a failing part (see the module docstring) and the misconception its
    answer matches, if any."""
    tol = {"rtol": part.tolerance.rtol, "atol": part.tolerance.atol}
    got = _leaves(checked.run, expected)
    out: list[Diagnosis] = []
    matched = None
    if (
        targets is not None
        and targets.alternatives
        and any(g is not None for g in next(iter(got.values()), []))
    ):
        names: list[str] | None = None
        for path, alternatives in targets.alternatives:
            found = matching_alternatives(got[path], alternatives, **tol)
            names = found if names is None else [n for n in names if n in found]
        if names:
            matched = next(m for m in part.misconceptions if m.name == names[0])
            params = {"name": matched.name, "credit": matched.credit}
            out.append(Diagnosis("misconception", matched.message, params))
    if not out and targets is not None and targets.terms is not None and "" in got:
        found = diagnose_terms(got[""], targets.terms, labels=targets.labels, **tol)
        # Every term off by the same factor is the whole answer off by it: the generic rules
        # say that more directly ("2 times the gradient", "the negative of the gradient").
        same = {round(d.params["coefficient"], 9) for d in found}
        out += [] if len(found) == len(targets.terms.names) and len(same) == 1 else found
    if not out:
        several = len(got) > 1
        for path, column in got.items():
            stack = targets.expected.get(path) if targets is not None else None
            found = diagnose_values(
                column,
                stack if stack is not None else [e[path] for e in expected],
                case_dims=[c.dims for c in cases],
                # Per case verdicts hold for the whole output: with several leaves, each leaf
                # is judged again on its own.
                passed=None if several else [c.status == "passed" for c in checked.cases],
                hidden=[c.hidden for c in cases],
                **tol,
            )
            out += [_in_leaf(d, path) for d in found] if several else found
    return out + _consistency(part, checked, got, others), matched


def _in_leaf(d: Diagnosis, path: str) -> Diagnosis:
    return Diagnosis(d.code, f"result{path}: {d.message}", {**d.params, "leaf": path})


def _names(functions: Sequence[str]) -> str:
    if len(functions) == 1:
        return functions[0]
    return ", ".join(functions[:-1]) + f" and {functions[-1]}"


def _is_sum(got: Sequence[np.ndarray | None], terms: Sequence[_Checked], part: PartSpec) -> bool:
    """The student's answer equals the sum of their own answers to the term parts, on every
    case where all of them returned a value of one shape."""
    agreed = 0
    for i, g in enumerate(got):
        values = [t.run.values[i] for t in terms]
        if g is None or any(v is None or "" not in v for v in values):
            continue
        parts = [v[""] for v in values]  # type: ignore[index]
        if any(p.shape != g.shape for p in parts):
            return False
        if not matches(g, sum(parts), rtol=part.tolerance.rtol, atol=part.tolerance.atol):
            return False
        agreed += 1
    return agreed > 0


def _consistency(
    part: PartSpec,
    checked: _Checked,
    got: Mapping[str, Sequence[np.ndarray | None]],
    others: Mapping[str, _Checked],
) -> list[Diagnosis]:
    """How a wrong part relates to the student's own parts it is the sum of or builds on."""
    term_parts = [t.part for t in part.terms if t.part is not None and t.part in others]
    uses = [n for n in part.uses if n in others]
    builds_on = list(dict.fromkeys([*term_parts, *uses]))
    wrong = [n for n in builds_on if others[n].status != "passed"]
    out = []
    if term_parts and not any(n in wrong for n in term_parts):
        msg = f"your {_names(term_parts)} are right: {part.function} should be their sum"
        out.append(Diagnosis("wrong_sum", msg, {"parts": term_parts}))
    if wrong:
        one = len(wrong) == 1
        summed = "" in got and any(n in wrong for n in term_parts)
        consistent = summed and _is_sum(got[""], [others[n] for n in term_parts], part)
        if consistent:
            msg = (
                f"{part.function} is the sum of your {_names(term_parts)}, so it is wrong "
                f"because {_names(wrong)} {'is' if one else 'are'}: fix {_names(wrong)} first"
            )
        else:
            msg = (
                f"{part.function} builds on {_names(wrong)}, which {'does' if one else 'do'} "
                f"not pass either: fix {'it' if one else 'them'} first"
            )
        out.append(Diagnosis("upstream_wrong", msg, {"parts": wrong, "consistent": consistent}))
    elif uses and not out:
        one = len(uses) == 1
        msg = (
            f"your {_names(uses)} {'is' if one else 'are'} right: the mistake is in the step "
            f"from {'it' if one else 'them'} to {part.function}"
        )
        out.append(Diagnosis("step_wrong", msg, {"parts": uses}))
    return out
