"""``grader check``: a student's local check, no reference solutions needed.

Runs the public cases on the student's own files in the same sandbox as ``grader grade`` and
prints the feedback the grader would give, one line per part. Expected values come from the
reference when one is passed (``--reference``); otherwise from the assignment's computational
graph: a ``value_of`` part is its node's value, a gradient is the finite-difference gradient of
its declared loss (``grader.numdiff``: Richardson central differences on every coordinate, whose
error is far inside the tolerance: notes A4). They are computed while the sandbox runs, so a
check costs about one sandbox start. A part the graph says nothing about is listed, unchecked.

Scoring is the grader's own (``score_problem``), so the parts the spec relates (``uses``,
``terms``: grad_W is the sum of its two paths) are compared with each other, and declared
misconceptions earn their credit and hints, as in grading. Without the reference, the terms and
misconceptions given as ``reference:`` functions are left out (those given as expressions
stay), so a few hints only appear in the real report.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from grader import isolation
from grader.cases import Case, build_cases, resolve_shape
from grader.errors import UsageError
from grader.graph import evaluate_graph, scalar_loss
from grader.intake import mark_answered, stage
from grader.launch import RunnerProcess
from grader.numdiff import gradient
from grader.results import PartResult
from grader.runner import PartRun, run_batch
from grader.scoring import PartTargets, score_problem
from grader.spec import SPEC_FILE, AssignmentSpec, ProblemSpec, declared_leaves, load_spec

if TYPE_CHECKING:
    from grader.answers import AnswerGrader, AnswerSheet

__all__ = ["CheckReport", "PartCheck", "check", "find_assignment"]

# Lines of evidence shown under a failing part: enough at a glance; hints are always shown.
SHOWN_LINES = 6

PartExpected = list[dict[str, np.ndarray]] | None  # per case {leaf path: array}; None: unknown


@dataclass(frozen=True, slots=True)
class PartCheck:
    function: str
    points: float
    result: PartResult | None  # None: the spec gives no way to check it without the reference


@dataclass(frozen=True, slots=True)
class CheckReport:
    assignment: str
    expected_from: str
    cases: str  # "3 public cases per problem"
    parts: tuple[PartCheck, ...]
    warnings: tuple[str, ...] = ()
    error: str | None = None  # the submission could not be staged (a corrupt notebook or zip)
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(p.result.score for p in self.parts if p.result is not None)

    def text(self, *, symbols: tuple[str, str, str] = ("✓", "✗", "?")) -> str:
        ok, bad, unknown = symbols
        lines = [f"{self.assignment}: {self.cases}; expected values {self.expected_from}"]
        if self.error is not None:
            return "\n".join([*lines, f"{bad} could not check: {self.error}"])
        width = max((len(f"{p.points:g}/{p.points:g}") for p in self.parts), default=3)
        for part in self.parts:
            r = part.result
            if r is None:
                score = f"-/{part.points:g}"
                lines.append(
                    f"{unknown} {score:>{width}}  {part.function}: not checked here (the spec "
                    "gives no formula for it); the grader checks it"
                )
                continue
            head, *rest = r.feedback.splitlines()
            score = f"{r.score:g}/{r.max_score:g}"
            lines.append(f"{ok if r.passed else bad} {score:>{width}}  {head}")
            if r.passed:
                continue
            hints = [x for x in rest if x.lstrip().startswith("hint:")]
            shown = [x for x in rest if x not in hints][:SHOWN_LINES]
            shown += hints
            if r.status == "error" and r.traceback:
                shown += ["  " + t for t in r.traceback.rstrip().splitlines()[-4:]]
            lines += [" " * (width + 2) + x for x in shown]
        lines += [f"warning: {w}" for w in self.warnings]
        checked = [p for p in self.parts if p.result is not None]
        total = sum(p.points for p in checked)
        lines.append(
            f"{self.score:g}/{total:g} points on the public cases ({self.seconds:.2f} s); "
            "grading also uses hidden cases."
        )
        return "\n".join(lines)


# --------------------------------------------------------------------------- expected values


def _graph_expected(problem: ProblemSpec, cases: Sequence[Case]) -> list[PartExpected]:
    """Per part of the problem: expected leaves from the graph, or None when a leaf is not
    declared as a node's value or a gradient."""
    envs = [evaluate_graph(problem.compiled, {**c.dims, **c.inputs}) for c in cases]
    out: list[PartExpected] = []
    for part in problem.parts:
        leaves = declared_leaves(part)
        if any(leaf.value_of is None and leaf.gradient is None for _, leaf in leaves):
            out.append(None)
            continue
        per_case = []
        for case, env in zip(cases, envs, strict=True):
            values = {}
            for path, leaf in leaves:
                if leaf.value_of is not None:
                    value = env[leaf.value_of]
                else:
                    g = leaf.gradient
                    assert g is not None
                    f, at = scalar_loss(
                        problem.compiled,
                        {**case.dims, **case.inputs},
                        of=g.of,
                        wrt=g.wrt,
                        through=g.through,
                    )
                    value = gradient(f, at)
                shape = resolve_shape(leaf.shape, case.dims)
                values[path] = np.asarray(value, dtype=np.float64).reshape(shape)
            per_case.append(values)
        out.append(per_case)
    return out


@dataclass(frozen=True, slots=True)
class _Expectations:
    """What the grader would compare against: per part, expected leaves and diagnosis targets,
    and the problems as scored (without the declarations a missing reference cannot give)."""

    expected: list[PartExpected]
    targets: list[PartTargets | None]
    problems: tuple[ProblemSpec, ...]


def _without_reference_items(problem: ProblemSpec) -> ProblemSpec:
    """Drop terms and misconceptions computed by reference functions. A part loses all of its
    terms if any is such a function: half a basis would name the wrong term as missing."""
    parts = tuple(
        dataclasses.replace(
            part,
            terms=() if any(t.reference is not None for t in part.terms) else part.terms,
            misconceptions=tuple(m for m in part.misconceptions if m.reference is None),
        )
        for part in problem.parts
    )
    return dataclasses.replace(problem, parts=parts)


def _from_graph(spec: AssignmentSpec, cases: Sequence[Sequence[Case]]) -> _Expectations:
    from grader.reference import compute_declared
    from grader.scoring import prepare_targets

    problems = tuple(_without_reference_items(p) for p in spec.problems)
    expected: list[PartExpected] = []
    targets: list[PartTargets | None] = []
    for problem, problem_cases in zip(problems, cases, strict=True):
        with np.errstate(all="ignore"):
            chunk = _graph_expected(problem, problem_cases)
        expected += chunk
        if any(e is None for e in chunk):  # a declaration may need the unknown part's values
            targets += [None] * len(chunk)
            continue
        alone = dataclasses.replace(spec, problems=(problem,))
        declared = compute_declared(alone, (tuple(problem_cases),), chunk, {})  # type: ignore[arg-type]
        targets += prepare_targets(alone, chunk, declared)  # type: ignore[arg-type]
    return _Expectations(expected, targets, problems)


def _from_reference(spec: AssignmentSpec, cases: Sequence[Sequence[Case]]) -> _Expectations:
    """What ``grader grade`` prepares, on the public cases."""
    from grader.reference import (
        compute_declared,
        compute_expected,
        load_reference_modules,
        reference_module_names,
    )
    from grader.scoring import prepare_targets

    frozen = tuple(tuple(c) for c in cases)
    modules = load_reference_modules(spec.reference, reference_module_names(spec))
    expected = compute_expected(spec, frozen, modules)
    declared = compute_declared(spec, frozen, expected, modules)
    targets = prepare_targets(spec, expected, declared)
    return _Expectations(list(expected), list(targets), spec.problems)


def _answer_grader(
    spec: AssignmentSpec, cases: Sequence[Sequence[Case]], sheet: AnswerSheet
) -> AnswerGrader:
    from grader.answers import AnswerGrader  # sympy: only for a submission with answers.yaml

    return AnswerGrader(spec.problems, cases).warm(sheet)


# --------------------------------------------------------------------------- the verb


def _score(
    e: _Expectations, runs: Sequence[PartRun], cases: Sequence[Sequence[Case]]
) -> list[PartResult | None]:
    """The grader's scoring, problem by problem; None for a part with no expected values."""
    results: list[PartResult | None] = []
    index = 0
    for problem, problem_cases in zip(e.problems, cases, strict=True):
        at = slice(index, index + len(problem.parts))
        index = at.stop
        known = [x is not None for x in e.expected[at]]
        expected = [x if x is not None else [{} for _ in problem_cases] for x in e.expected[at]]
        targets = e.targets[at]
        scored = score_problem(
            problem,
            runs[at],
            expected,
            problem_cases,
            targets if all(t is not None for t in targets) else None,  # type: ignore[arg-type]
        )
        results += [r if k else None for r, k in zip(scored, known, strict=True)]
    return results


def find_assignment(paths: Sequence[str | Path]) -> tuple[Path, list[Path]]:
    """``grader check [ASSIGNMENT_DIR] [FILES...]``: the assignment folder (the first path if it
    holds assignment.yaml, else the current folder) and the student's files (default: the
    folder's .py files and answers.yaml; a notebook is checked when passed by name)."""
    given = [Path(p) for p in paths]
    if given and given[0].is_dir() and (given[0] / SPEC_FILE).is_file():
        root, files = given[0], given[1:]
    elif (Path.cwd() / SPEC_FILE).is_file():
        root, files = Path.cwd(), given
    else:
        raise UsageError(
            f"no {SPEC_FILE} here: run grader check inside the assignment folder, or pass it: "
            "grader check ASSIGNMENT_DIR [FILES...]"
        )
    for f in files:
        if not f.exists():
            raise UsageError(f"{f}: no such file or folder")
        if len(files) > 1 and f.is_dir():
            raise UsageError(f"{f}: pass one submission folder, or files (not several folders)")
    if not files:
        files = sorted(p for p in root.glob("*.py") if p.is_file())
        files += [root / n for n in ("answers.yaml", "answers.yml") if (root / n).is_file()]
        if not files:
            raise UsageError(f"{root}: no .py files to check; pass your files after the folder")
    return root, files


def check(
    paths: Sequence[str | Path] = (),
    *,
    reference: str | Path | None = None,
    seed: int | None = None,
    runner: RunnerProcess | None = None,
) -> CheckReport:
    """Run the public cases on the student's files and return what ``text()`` prints.

    ``runner``: a sandbox runner started earlier (``grader.launch.start_runner``), so that its
    start overlaps this work; it is closed when the check ends."""
    try:
        return _check(paths, reference=reference, seed=seed, runner=runner)
    finally:
        if runner is not None:
            runner.close()


def _check(
    paths: Sequence[str | Path],
    *,
    reference: str | Path | None,
    seed: int | None,
    runner: RunnerProcess | None,
) -> CheckReport:
    start = time.perf_counter()
    root, files = find_assignment(paths)
    full = load_spec(root, reference=reference)
    spec = dataclasses.replace(
        full, problems=tuple(dataclasses.replace(p, hidden_cases=0) for p in full.problems)
    )
    seed = spec.seed if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UsageError(f"--seed: expected an integer >= 0, got {seed!r}")
    cases = [build_cases(p, seed) for p in spec.problems]
    expect = _from_reference if reference is not None else _from_graph
    expected_from = (
        f"from the reference in {reference}"
        if reference is not None
        else "from the assignment's graph (finite differences)"
    )
    parts_spec = [(problem, part) for problem in spec.problems for part in problem.parts]
    counts = sorted({p.cases for p in spec.problems})
    n_cases = f"{counts[0]} public cases per problem" if len(counts) == 1 else "public cases"
    scratch = tempfile.TemporaryDirectory(prefix="grader-check-")
    try:
        with ThreadPoolExecutor(2) as pool:
            # Finite differences, and sympy for LaTeX answers, overlap with the sandbox run.
            future = pool.submit(expect, spec, cases)
            intake = stage(files, scratch.name, spec)
            sheet = intake.answers
            answers = pool.submit(_answer_grader, spec, cases, sheet) if sheet else None
            if intake.error is not None:
                return CheckReport(
                    spec.name,
                    expected_from,
                    n_cases,
                    tuple(PartCheck(part.function, part.points, None) for _, part in parts_spec),
                    error=intake.error,
                    seconds=time.perf_counter() - start,
                )
            runs = dict(
                run_batch(
                    spec.problems,
                    cases,
                    [intake.path],
                    parallel=1,
                    limits=isolation.Limits(),
                    capabilities=isolation.probe(),
                    runner=runner,
                )
            )
            expectations = future.result()
            grader = answers.result() if answers is not None else None
    finally:
        scratch.cleanup()
    run, answered, warnings = intake.complete(runs[0], grader)
    results = _score(expectations, run.parts, cases)
    if intake.answers is not None:
        formulas = intake.answers.answers
        results = [
            mark_answered(r, formulas.get(r.function)) if r and r.function in answered else r
            for r in results
        ]
    return CheckReport(
        spec.name,
        expected_from,
        n_cases,
        tuple(
            PartCheck(part.function, part.points, r)
            for (_, part), r in zip(parts_spec, results, strict=True)
        ),
        warnings=tuple(warnings),
        seconds=time.perf_counter() - start,
    )
