"""``grader grade``: grade many submissions against one assignment and write their reports.

spec + submissions -> cases -> expected outputs (trusted) -> sandboxed runs -> scores ->
reports. ``grade(...)`` in Python does exactly what the CLI does.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader import isolation
from grader.answers import AnswerGrader
from grader.cases import Case, CaseError, build_cases
from grader.errors import GraderError, SpecError, UsageError
from grader.intake import SUBMISSION_SUFFIXES, Intake, label_answered, stage
from grader.launch import RunnerProcess
from grader.reference import (
    Expected,
    compute_declared,
    compute_expected,
    load_reference_modules,
    reference_module_names,
)
from grader.reports import write_batch_reports, write_reports
from grader.results import PartResult, SubmissionResult
from grader.runner import SubmissionRun, run_batch
from grader.scoring import PartTargets, prepare_targets, score_problem
from grader.spec import SPEC_FILE, AssignmentSpec, load_spec

__all__ = ["Submission", "find_submissions", "grade", "prepare"]


@dataclass(frozen=True, slots=True)
class Submission:
    name: str
    path: Path


@dataclass(frozen=True, slots=True)
class Prepared:
    """Everything that is the same for every submission: computed once per assignment and seed."""

    spec: AssignmentSpec
    seed: int
    cases: tuple[tuple[Case, ...], ...]
    expected: Expected
    targets: tuple[PartTargets, ...] = ()  # per part: what its wrong answers are diagnosed against


def find_submissions(paths: Iterable[str | Path]) -> list[Submission]:
    """Folders, .py files, notebooks and zips; names are file or folder names without the
    extension."""
    found: list[Submission] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder")
        if path.is_file() and path.suffix not in SUBMISSION_SUFFIXES:
            raise UsageError(
                f"{path}: a submission is a folder, a .py file, a notebook (.ipynb) or a .zip "
                f"(got a {path.suffix or 'file without extension'})"
            )
        found.append(
            Submission(name=path.stem if path.is_file() else path.resolve().name, path=path)
        )
    return _unique_names(found)


def _unique_names(found: list[Submission]) -> list[Submission]:
    """Two alice/ from different sections keep both reports: the second becomes alice-2, or
    the first free alice-N (never the name of another submission in the batch)."""
    taken = {s.name for s in found}
    seen: set[str] = set()
    unique = []
    for sub in found:
        name = sub.name
        if name in seen:
            k = 2
            while f"{sub.name}-{k}" in taken:
                k += 1
            name = f"{sub.name}-{k}"
            taken.add(name)
        seen.add(name)
        unique.append(Submission(name=name, path=sub.path))
    return unique


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def prepare(spec: AssignmentSpec, seed: int | None = None) -> Prepared:
    seed = spec.seed if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UsageError(f"--seed: expected an integer >= 0, got {seed!r}")
    cases = []
    for index, problem in enumerate(spec.problems):
        try:
            cases.append(build_cases(problem, seed))
        except ValueError as exc:
            key = exc.key if isinstance(exc, CaseError) else "dims"
            raise SpecError(
                str(spec.root / "assignment.yaml"), f"problems[{index}].{key}", str(exc)
            ) from None
    modules = load_reference_modules(spec.reference, reference_module_names(spec))
    expected = compute_expected(spec, tuple(cases), modules)
    declared = compute_declared(spec, tuple(cases), expected, modules)
    return Prepared(
        spec=spec,
        seed=seed,
        cases=tuple(cases),
        expected=expected,
        targets=prepare_targets(spec, expected, declared),
    )


def score_run(
    prepared: Prepared,
    submission: Submission,
    run: SubmissionRun,
    capabilities: isolation.Capabilities,
    *,
    warnings: Sequence[str] = (),
) -> SubmissionResult:
    """Score every part; ``warnings`` (from staging the submission) go into the report."""
    parts: list[PartResult] = []
    index = 0
    for problem, cases in zip(prepared.spec.problems, prepared.cases, strict=True):
        at = slice(index, index + len(problem.parts))
        parts += score_problem(
            problem, run.parts[at], prepared.expected[at], cases, prepared.targets[at] or None
        )
        index = at.stop
    notes = [f"isolation: {reason}" for reason in capabilities.reasons]
    if run.fatal:
        notes.append(run.fatal)
    notes += warnings
    return SubmissionResult(
        submission=submission.name,
        source=str(submission.path),
        assignment=prepared.spec.name,
        seed=prepared.seed,
        score=round(sum(p.score for p in parts), 6),
        max_score=prepared.spec.max_score,
        parts=tuple(parts),
        isolation=run.layers,
        warnings=tuple(notes),
        stdout=run.stdout,
    )


def error_result(
    spec: AssignmentSpec | None, seed: int | None, submission: Submission, message: str
) -> SubmissionResult:
    """The report written when a submission could not be graded: work is never lost. Without
    a spec (it did not load) the report has no parts, only the reason."""
    problems = spec.problems if spec is not None else ()
    parts = tuple(
        PartResult(
            problem=problem.name,
            function=part.function,
            score=0.0,
            max_score=part.points,
            status="crashed",
            feedback=f"{part.function}: not graded: {message}",
        )
        for problem in problems
        for part in problem.parts
    )
    return SubmissionResult(
        submission=submission.name,
        source=str(submission.path),
        assignment=spec.name if spec is not None else "",
        seed=seed if seed is not None else (spec.seed if spec is not None else 0),
        score=0.0,
        max_score=spec.max_score if spec is not None else 0.0,
        parts=parts,
        status="error",
        error=message,
    )


def _answer_grader(prepared: Prepared, intakes: Sequence[Intake]) -> AnswerGrader | None:
    """Built only when some submission has answers.yaml (it imports sympy)."""
    if not any(intake.answers is not None for intake in intakes):
        return None
    return AnswerGrader(prepared.spec.problems, prepared.cases)


def grade(
    assignment: str | Path | AssignmentSpec,
    submissions: Sequence[str | Path],
    *,
    out: str | Path | None = None,
    seed: int | None = None,
    jobs: int | None = None,
    formats: Sequence[str] = ("json", "yaml"),
    reference: str | Path | None = None,
    strict: bool = False,
    on_result: Callable[[SubmissionResult], None] | None = None,
    runner: RunnerProcess | None = None,
) -> list[SubmissionResult]:
    """Grade submissions (folders, .py files, notebooks, zips); write reports to ``out``.

    Returns one result per submission, in the order given. Raises GraderError (exit code 1)
    when grading cannot run at all, UsageError or SpecError (exit code 2) for bad input.
    ``runner``: a sandbox runner started earlier (``grader.runner.start_runner``), so that its
    start overlaps this work; it is closed when grading ends, whatever happens.
    """
    try:
        return _grade(
            assignment,
            submissions,
            out=out,
            seed=seed,
            jobs=jobs,
            formats=formats,
            reference=reference,
            strict=strict,
            on_result=on_result,
            runner=runner,
        )
    finally:
        if runner is not None:
            runner.close()


def _report_spec_error(
    assignment: str | Path,
    submissions: Sequence[str | Path],
    out: str | Path | None,
    formats: Sequence[str],
    message: str,
) -> None:
    """The spec did not load: each submission still gets a report saying so (never lost
    work). Best effort: bad submission paths or an unwritable --out have their own errors."""
    if out is None or not (Path(assignment) / SPEC_FILE).is_file():
        return  # no spec at all is a usage mistake (a wrong path), not a broken spec
    try:
        subs = find_submissions(submissions)
        name = Path(assignment).resolve().name or "assignment"  # the spec's name is unknown
        for sub in subs:
            result = dataclasses.replace(error_result(None, None, sub, message), assignment=name)
            write_reports(result, Path(out), formats)
    except (GraderError, OSError):
        pass


def _grade(
    assignment: str | Path | AssignmentSpec,
    submissions: Sequence[str | Path],
    *,
    out: str | Path | None,
    seed: int | None,
    jobs: int | None,
    formats: Sequence[str],
    reference: str | Path | None,
    strict: bool,
    on_result: Callable[[SubmissionResult], None] | None,
    runner: RunnerProcess | None,
) -> list[SubmissionResult]:
    try:
        spec = (
            assignment
            if isinstance(assignment, AssignmentSpec)
            else load_spec(assignment, reference=reference)
        )
    except SpecError as exc:
        _report_spec_error(assignment, submissions, out, formats, str(exc))
        raise
    subs = find_submissions(submissions)
    if not subs:
        raise UsageError("no submissions given")
    missing = [m for m in spec.requires if not _importable(m)]
    if missing:
        raise GraderError(
            f"{spec.root / 'assignment.yaml'}: requires {', '.join(missing)}, not installed "
            f"here; install it (pip install {' '.join(m.split('.')[0] for m in missing)})"
        )
    capabilities = isolation.probe()
    if strict and capabilities.reasons:
        raise GraderError(
            "--strict: refusing to grade without full isolation: " + "; ".join(capabilities.reasons)
        )
    parallel = jobs if jobs is not None else (os.cpu_count() or 1)
    if parallel < 1:
        raise UsageError(f"--jobs must be at least 1, got {parallel}")
    if out is not None:
        try:
            Path(out).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(
                f"{out}: cannot create the reports folder ({exc.strerror or exc}); "
                "choose another --out"
            ) from None
    results: list[SubmissionResult | None] = [None] * len(subs)

    def finish(i: int, result: SubmissionResult) -> None:
        results[i] = result
        if out is not None:
            try:
                write_reports(result, Path(out), formats)
            except OSError as exc:
                raise GraderError(
                    f"{out}: cannot write reports ({exc.strerror or exc}); choose another --out"
                ) from None
        if on_result is not None:
            on_result(result)

    try:
        prepared = prepare(spec, seed)
    except UsageError:
        raise
    except GraderError as exc:  # the reference failed, or the cases cannot be drawn
        for i, sub in enumerate(subs):
            finish(i, error_result(spec, seed, sub, str(exc)))
        raise
    scratch = tempfile.TemporaryDirectory(prefix="grader-intake-")
    try:
        # Zips are extracted and notebooks converted first; one that cannot be read gets its
        # failed report now (work is never lost) and the batch goes on.
        intakes = [stage([s.path], Path(scratch.name, str(i)), spec) for i, s in enumerate(subs)]
        for i, intake in enumerate(intakes):
            if intake.error is not None:
                finish(i, error_result(spec, prepared.seed, subs[i], intake.error))
        runnable = [i for i, intake in enumerate(intakes) if intake.error is None]
        answers = _answer_grader(prepared, intakes)
        for k, run in (
            run_batch(
                spec.problems,
                prepared.cases,
                [intakes[i].path for i in runnable],
                parallel=parallel,
                limits=isolation.Limits(),
                capabilities=capabilities,
                runner=runner,
            )
            if runnable
            else ()
        ):
            i = runnable[k]
            run, answered, notes = intakes[i].complete(run, answers)
            result = score_run(prepared, subs[i], run, capabilities, warnings=notes)
            finish(i, label_answered(result, answered, intakes[i].answers))
    except GraderError as exc:
        for i, result in enumerate(results):
            if result is None:
                finish(i, error_result(spec, prepared.seed, subs[i], str(exc)))
        if out is not None:
            write_batch_reports([r for r in results if r is not None], Path(out), formats)
        raise
    finally:
        scratch.cleanup()
    done = [r for r in results if r is not None]
    if out is not None:  # the class gradebook and summary (--format csv)
        write_batch_reports(done, Path(out), formats)
    return done
