"""``grader ci``: grade the submissions a pull request adds or changes (GitHub Actions).

The course repository's layout::

    assignments/<assignment>/assignment.yaml   the spec, stubs and handout
    solutions/<assignment>/                    reference solutions (where the spec's ``reference``
                                               points; any folder of the repository works)
    submissions/<student>/<assignment>/*.py    one folder per student and assignment

What is graded and with what: every ``submissions/<student>/<assignment>/`` folder in which
``git diff BASE...HEAD`` shows a change is taken from HEAD (the pull request) and graded with the
spec and the reference solutions taken from BASE (the branch the pull request targets), never
from the pull request, so editing the tests in a pull request changes nothing. Both are read
from git objects (``git archive``), not from the working tree. Other changed files are listed in
the report and ignored.

Outputs, for the workflow: the Markdown report appended to ``$GITHUB_STEP_SUMMARY`` and written
to ``OUT/comment.md`` (to post on the pull request), the native JSON and Markdown reports in
``OUT/<assignment>/<student>.json|md`` (to upload as an artifact), and ``score``, ``max_score``,
``passed`` and ``submissions`` in ``$GITHUB_OUTPUT`` (summed over the graded submissions).

Refs: ``--base`` or the event's ``pull_request.base.sha`` or ``GITHUB_BASE_REF`` (as
``origin/<ref>`` when that exists); ``--head`` or ``pull_request.head.sha`` or
``GITHUB_HEAD_REF`` or ``HEAD``. The pass mark is a fraction of the points, 1.0 by default: the
check is green when every changed submission has full marks (``--pass-mark 0.6`` for 60%).
Exit codes: 0 every submission reached the pass mark (or none changed), 1 one did not or could
not be graded, 2 usage error (no base, a ref that is not in the clone, a bad pass mark).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from grader.errors import GraderError, UsageError
from grader.reports import write_reports
from grader.reports.markdown import render_markdown, table_cell
from grader.results import SubmissionResult
from grader.spec import SPEC_FILE

__all__ = ["DEFAULT_PASS_MARK", "CiGrade", "CiOptions", "CiOutcome", "Target", "run_ci"]

SUBMISSIONS = "submissions"
ASSIGNMENTS = "assignments"
DEFAULT_PASS_MARK = 1.0  # green means full marks; a course that wants less says so
COMMENT_MARKER = "<!-- grader-ci -->"  # lets the workflow find and update its own comment
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class CiOptions:
    repo: Path = Path(".")
    base: str | None = None
    head: str | None = None
    out: Path = Path("grader-reports")
    pass_mark: float = DEFAULT_PASS_MARK
    seed: int | None = None
    jobs: int | None = None


@dataclass(frozen=True, slots=True, order=True)
class Target:
    """A submission folder the pull request touches."""

    assignment: str
    student: str

    @property
    def path(self) -> str:
        return f"{SUBMISSIONS}/{self.student}/{self.assignment}"


@dataclass(frozen=True, slots=True)
class CiGrade:
    target: Target
    result: SubmissionResult | None
    error: str | None
    passed: bool


@dataclass(frozen=True, slots=True)
class CiOutcome:
    base: str
    head: str
    pass_mark: float
    grades: tuple[CiGrade, ...]
    ignored: tuple[str, ...]
    markdown: str

    @property
    def exit_code(self) -> int:
        return 0 if all(g.passed for g in self.grades) else 1

    def text(self) -> str:
        """One line per submission, for the job log."""
        if not self.grades:
            return f"grader ci: no submission changed under {SUBMISSIONS}/<student>/<assignment>/"
        lines = []
        for g in self.grades:
            verdict = "passed" if g.passed else "BELOW THE PASS MARK"
            if g.result is None:
                lines.append(f"{g.target.path}: NOT GRADED: {g.error}")
            else:
                score = f"{g.result.score:g}/{g.result.max_score:g}"
                lines.append(f"{g.target.path}: {score} {verdict}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- git


def _git(repo: Path, *args: str) -> bytes:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    if proc.returncode:
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        raise GraderError(f"git {' '.join(args)}: {message[-1] if message else 'failed'}")
    return proc.stdout


def _commit(repo: Path, ref: str, what: str) -> str:
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    except GraderError:
        raise UsageError(
            f"{what} {ref!r} is not a commit in {repo}; fetch the whole history "
            "(actions/checkout with fetch-depth: 0) or pass --base/--head"
        ) from None


def _branch(repo: Path, name: str | None) -> str | None:
    for candidate in (f"origin/{name}", name) if name else ():
        try:
            return _commit(repo, candidate, "ref")
        except UsageError:
            continue
    return None


def _event(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"GITHUB_EVENT_PATH={path}: cannot read the event: {exc}") from None
    return event if isinstance(event, dict) else {}


def resolve_refs(options: CiOptions, env: Mapping[str, str]) -> tuple[str, str]:
    pr = _event(env).get("pull_request") or {}
    base = (
        options.base
        or (pr.get("base") or {}).get("sha")
        or _branch(options.repo, env.get("GITHUB_BASE_REF"))
    )
    if not base:
        raise UsageError(
            "no base to compare with: pass --base REF, or run on a pull_request event "
            "(GITHUB_EVENT_PATH or GITHUB_BASE_REF)"
        )
    head = (
        options.head
        or (pr.get("head") or {}).get("sha")
        or _branch(options.repo, env.get("GITHUB_HEAD_REF"))
        or "HEAD"
    )
    return _commit(options.repo, base, "base"), _commit(options.repo, head, "head")


def changed_submissions(repo: Path, base: str, head: str) -> tuple[list[Target], list[str]]:
    """The submission folders touched between the merge base and ``head``, and the other
    changed paths (ignored for grading)."""
    names = _git(repo, "diff", "--name-only", "--no-renames", "-z", f"{base}...{head}")
    targets: set[Target] = set()
    ignored: list[str] = []
    for name in filter(None, names.decode("utf-8", errors="replace").split("\0")):
        parts = name.split("/")
        if parts[0] == SUBMISSIONS and len(parts) >= 4:
            targets.add(Target(assignment=parts[2], student=parts[1]))
        else:
            ignored.append(name)
    return sorted(targets), ignored


def _export(repo: Path, ref: str, paths: Sequence[str], dest: Path) -> int:
    """Regular files of ``paths`` at ``ref`` into ``dest``; returns how many. Symlinks and other
    special entries are skipped: a student's link must not reach outside their folder."""
    data = _git(repo, "archive", "--format=tar", ref, "--", *paths)
    count = 0
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            rel = PurePosixPath(member.name)
            if not member.isfile() or rel.is_absolute() or ".." in rel.parts:
                continue
            target = dest.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            target.write_bytes(source.read() if source else b"")
            count += 1
    return count


def _exists(repo: Path, ref: str, path: str) -> bool:
    return bool(_git(repo, "ls-tree", "--name-only", ref, "--", path).strip())


# --------------------------------------------------------------------------- grading


def _passed(result: SubmissionResult, pass_mark: float) -> bool:
    return result.status == "graded" and result.score >= pass_mark * result.max_score - _EPS


def _grade_assignment(
    options: CiOptions, base_tree: Path, scratch: Path, head: str, targets: list[Target]
) -> list[CiGrade]:
    from grader.grading import grade

    assignment = targets[0].assignment
    spec_dir = base_tree / ASSIGNMENTS / assignment
    if not (spec_dir / SPEC_FILE).is_file():
        known = sorted(p.parent.name for p in (base_tree / ASSIGNMENTS).glob(f"*/{SPEC_FILE}"))
        error = (
            f"no assignment {assignment!r} on the base branch; submissions go in "
            f"{SUBMISSIONS}/<student>/<assignment>/ with <assignment> one of: "
            f"{', '.join(known) or '(none)'}"
        )
        return [CiGrade(t, None, error, False) for t in targets]
    grades: list[CiGrade] = []
    ready: list[tuple[Target, Path]] = []
    for t in targets:
        exported = scratch / "head" / assignment / t.student
        if not _export(options.repo, head, [t.path], exported):
            grades.append(CiGrade(t, None, f"{t.path} holds no regular files", False))
            continue
        folder = scratch / "grade" / assignment / t.student  # the folder name is the report name
        folder.parent.mkdir(parents=True, exist_ok=True)
        exported.joinpath(*t.path.split("/")).rename(folder)
        ready.append((t, folder))
    if not ready:
        return grades
    try:
        results = grade(spec_dir, [f for _, f in ready], seed=options.seed, jobs=options.jobs)
    except GraderError as exc:
        return grades + [CiGrade(t, None, str(exc), False) for t, _ in ready]
    for (t, _), result in zip(ready, results, strict=True):
        result = replace(result, source=f"{t.path} @ {head[:12]}")
        write_reports(result, options.out / assignment, ("json", "markdown"))
        grades.append(CiGrade(t, result, None, _passed(result, options.pass_mark)))
    return grades


def _markdown(outcome: CiOutcome, base_name: str) -> str:
    below = sum(not g.passed for g in outcome.grades)
    n = len(outcome.grades)
    lines = [
        COMMENT_MARKER,
        f"## Grader: {n} submission{'s' * (n != 1)}"
        + (f", {below} below the pass mark" if below else ", all at the pass mark" if n else ""),
        "",
        f"Pass mark: {outcome.pass_mark:.0%} of the points. Graded with the assignment and "
        f"tests as they are on `{table_cell(base_name)}` (`{outcome.base[:12]}`), never with "
        "the copy in this pull request.",
        "",
    ]
    if not outcome.grades:
        lines += [f"No submission changed under `{SUBMISSIONS}/<student>/<assignment>/`.", ""]
    for g in outcome.grades:
        if g.result is None:
            lines += [f"### {g.target.path}: not graded", "", f"**Error:** {g.error}", ""]
            continue
        verdict = "✅ reaches the pass mark" if g.passed else "❌ below the pass mark"
        lines += [f"**`{g.target.path}`: {verdict}**", "", render_markdown(g.result, heading="###")]
    if outcome.ignored:
        shown = ", ".join(f"`{table_cell(p)}`" for p in outcome.ignored[:20])
        more = f" and {len(outcome.ignored) - 20} more" if len(outcome.ignored) > 20 else ""
        lines += [
            f"⚠️ Also changed, not graded and not used for grading: {shown}{more}. "
            f"Only `{SUBMISSIONS}/<student>/<assignment>/` folders are graded.",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def _append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)


def run_ci(options: CiOptions, env: Mapping[str, str] | None = None) -> CiOutcome:
    """Grade a pull request's changed submissions; write the summary, comment, reports and
    outputs. ``env`` defaults to the process environment (what GitHub Actions sets)."""
    env = os.environ if env is None else env
    if not 0.0 <= options.pass_mark <= 1.0:
        raise UsageError(f"--pass-mark: expected a fraction in [0, 1], got {options.pass_mark}")
    base, head = resolve_refs(options, env)
    targets, ignored = changed_submissions(options.repo, base, head)
    targets = [t for t in targets if _exists(options.repo, head, t.path)]  # deleted: nothing to do
    grades: list[CiGrade] = []
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="grader-ci-") as tmp:
        scratch = Path(tmp)
        # The base tree but its submissions: specs, and solutions wherever the specs point.
        tops = _git(options.repo, "ls-tree", "--name-only", "-z", base).decode().split("\0")
        tops = [t for t in tops if t and t != SUBMISSIONS]
        if targets and tops:
            _export(options.repo, base, tops, scratch / "base")
        for assignment in sorted({t.assignment for t in targets}):
            group = [t for t in targets if t.assignment == assignment]
            grades += _grade_assignment(options, scratch / "base", scratch, head, group)
    outcome = CiOutcome(base, head, options.pass_mark, tuple(grades), tuple(ignored), "")
    markdown = _markdown(outcome, env.get("GITHUB_BASE_REF") or base[:12])
    outcome = replace(outcome, markdown=markdown)
    (options.out / "comment.md").write_text(markdown, encoding="utf-8")
    _append(env.get("GITHUB_STEP_SUMMARY"), markdown)
    graded = [g.result for g in grades if g.result is not None]
    _append(
        env.get("GITHUB_OUTPUT"),
        f"score={sum(r.score for r in graded):g}\n"
        f"max_score={sum(r.max_score for r in graded):g}\n"
        f"passed={'true' if outcome.exit_code == 0 else 'false'}\n"
        f"submissions={len(grades)}\n",
    )
    return outcome
