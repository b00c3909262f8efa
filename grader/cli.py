"""The ``grader`` command. Parses arguments, calls the verb's function, prints, exits.

Exit codes: 0 graded (whatever the scores), 1 could not grade, 2 usage or spec error.
Errors are one line on stderr, never a traceback from inside the grader.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from grader import __version__
from grader.errors import GraderError, UsageError
from grader.results import SubmissionResult

if TYPE_CHECKING:
    from grader.launch import RunnerProcess

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="grader", description="Grade homework on gradients (matrix calculus, backpropagation)."
    )
    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)

    g = verbs.add_parser("grade", help="grade submissions and write reports")
    g.add_argument("assignment", type=Path, help="assignment folder (holds assignment.yaml)")
    g.add_argument(
        "submissions",
        nargs="+",
        type=Path,
        help="submission folders, .py files, notebooks (.ipynb) or .zip files "
        "(a whole class is normal)",
    )
    g.add_argument(
        "--out",
        type=Path,
        default=Path("reports"),
        help="folder for the reports (default: reports)",
    )
    g.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed for the random cases (default: the spec's); reproduces a report",
    )
    g.add_argument("--jobs", type=int, default=None, help="parallel processes (default: cores)")
    g.add_argument(
        "--format",
        default="json,yaml",
        help="comma-separated report formats: json, yaml, gradescope, junit, markdown, csv "
        "(the class gradebook and summary) (default: json,yaml)",
    )
    g.add_argument(
        "--reference",
        type=Path,
        default=None,
        help="folder of reference solutions (default: the spec's 'reference')",
    )
    g.add_argument(
        "--strict",
        action="store_true",
        help="refuse to grade unless every isolation layer is available",
    )
    g.add_argument("--quiet", action="store_true", help="print no summary table")

    v = verbs.add_parser("validate", help="check an assignment: spec, stubs, reference")
    v.add_argument("assignment", type=Path)
    v.add_argument("--reference", type=Path, default=None)
    v.add_argument(
        "--seeds",
        type=int,
        default=20,
        help="random seeds on which to check the reference (default: 20)",
    )

    gs = verbs.add_parser("gradescope", help="build the autograder zip to upload to Gradescope")
    gs.add_argument("assignment", type=Path, help="assignment folder (holds assignment.yaml)")
    gs.add_argument(
        "--out", type=Path, default=None, help="zip to write (default: <name>-autograder.zip)"
    )
    gs.add_argument("--reference", type=Path, default=None, help="reference solutions folder")
    gs.add_argument(
        "--wheel", type=Path, default=None, help="bundle this grader wheel (default: build one)"
    )

    c = verbs.add_parser("ci", help="grade the submissions a pull request changes (GitHub Actions)")
    c.add_argument(
        "--repo", type=Path, default=Path("."), help="the course repository (default: .)"
    )
    c.add_argument("--base", default=None, help="base ref (default: from the pull_request event)")
    c.add_argument("--head", default=None, help="head ref (default: from the event, else HEAD)")
    c.add_argument(
        "--out",
        type=Path,
        default=Path("grader-reports"),
        help="reports folder (default: grader-reports)",
    )
    c.add_argument(
        "--pass-mark",
        type=float,
        default=1.0,
        help="fraction of the points a submission needs for a green check (default: 1.0)",
    )
    c.add_argument(
        "--seed", type=int, default=None, help="seed for the cases (default: the spec's)"
    )
    c.add_argument("--jobs", type=int, default=None, help="parallel processes (default: cores)")

    k = verbs.add_parser(
        "check", help="students: run the public cases on your files, no solutions needed"
    )
    k.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="[ASSIGNMENT_DIR] [FILES...]: the assignment folder (default: the current one) "
        "and your files (default: its .py files and answers.yaml; or a folder, a notebook, a zip)",
    )
    k.add_argument(
        "--reference",
        type=Path,
        default=None,
        help="compare with these reference solutions instead of finite differences",
    )
    k.add_argument(
        "--seed", type=int, default=None, help="seed for the cases (default: the spec's)"
    )

    nb = verbs.add_parser("notebook", help="write the student notebook from the handout and stubs")
    nb.add_argument("assignment", type=Path, help="assignment folder (holds assignment.yaml)")
    nb.add_argument(
        "--out",
        type=Path,
        default=None,
        help="notebook to write (default: ASSIGNMENT_DIR/<name>.ipynb)",
    )
    return parser


def _progress(stream: TextIO, total: int) -> object:
    start = time.monotonic()
    done = 0

    def tick(_: SubmissionResult) -> None:
        nonlocal done
        done += 1
        if stream.isatty():
            width = 30
            filled = width * done // total
            rate = done / max(time.monotonic() - start, 1e-9)
            stream.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} ({rate:.0f}/s)"
            )
            if done == total:
                stream.write("\n")
            stream.flush()

    return tick


def summary_table(results: Sequence[SubmissionResult]) -> str:
    rows = [("submission", "score", "parts passed", "not passed")]
    for r in results:
        passed = sum(p.passed for p in r.parts)
        failing = ", ".join(f"{p.function} ({p.status})" for p in r.parts if not p.passed)
        if r.status == "error":
            failing = f"NOT GRADED: {r.error}"
        rows.append(
            (
                r.submission,
                f"{r.score:g}/{r.max_score:g}",
                f"{passed}/{len(r.parts)}",
                failing if len(failing) <= 70 else failing[:67] + "...",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c:>{widths[2]}}  {d}".rstrip() for a, b, c, d in rows
    ]
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)


def _grade(args: argparse.Namespace) -> int:
    # First: the sandbox runner's interpreter start then overlaps everything below.
    from grader.launch import start_runner

    runner = start_runner()
    try:
        return _grade_with(args, runner)
    finally:
        runner.close()


def _grade_with(args: argparse.Namespace, runner: RunnerProcess) -> int:
    from grader.grading import grade
    from grader.isolation import probe

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    from grader.reports import check_formats

    check_formats(formats)
    capabilities = probe()
    if capabilities.reasons and not args.strict:
        print(
            "WARNING: student code is NOT fully isolated on this machine; only grade "
            "trusted code here:",
            file=sys.stderr,
        )
        for reason in capabilities.reasons:
            print(f"  - {reason}", file=sys.stderr)
    results = grade(
        args.assignment,
        args.submissions,
        out=args.out,
        seed=args.seed,
        jobs=args.jobs,
        formats=formats,
        reference=args.reference,
        strict=args.strict,
        on_result=_progress(sys.stderr, len(args.submissions)),  # type: ignore[arg-type]
        runner=runner,
    )
    if not args.quiet:
        print(summary_table(results))
        print(f"\nreports: {args.out}/ ({', '.join(formats)})")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from grader.validation import validate

    report = validate(args.assignment, reference=args.reference, seeds=args.seeds)
    print(report.text())
    return 0 if report.ok else 1


def _gradescope(args: argparse.Namespace) -> int:
    from grader.gradescope import build_autograder

    path = build_autograder(args.assignment, args.out, reference=args.reference, wheel=args.wheel)
    print(f"{path}: upload it as the Gradescope autograder (Configure Autograder > Zip file)")
    return 0


def _ci(args: argparse.Namespace) -> int:
    from grader.ci import CiOptions, run_ci

    options = CiOptions(
        repo=args.repo,
        base=args.base,
        head=args.head,
        out=args.out,
        pass_mark=args.pass_mark,
        seed=args.seed,
        jobs=args.jobs,
    )
    outcome = run_ci(options)
    print(outcome.text())
    return outcome.exit_code


def _check(args: argparse.Namespace) -> int:
    from grader.launch import start_runner

    runner = start_runner()  # first, as for grade: its start overlaps the imports below
    from grader.check import check

    report = check(args.paths, reference=args.reference, seed=args.seed, runner=runner)
    try:
        "✓✗".encode(sys.stdout.encoding or "utf-8")
        symbols = ("✓", "✗", "?")
    except (UnicodeEncodeError, LookupError):
        symbols = ("ok", "XX", "??")
    print(report.text(symbols=symbols))
    return 0


def _notebook(args: argparse.Namespace) -> int:
    from grader.notebook import write_notebook

    path = write_notebook(args.assignment, args.out)
    print(f"{path}: the student notebook (handout and stubs); hand it out with the stubs")
    return 0


_VERBS = {
    "grade": _grade,
    "validate": _validate,
    "gradescope": _gradescope,
    "ci": _ci,
    "check": _check,
    "notebook": _notebook,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _build_parser().parse_args(argv)
        return _VERBS[args.verb](args)
    except GraderError as exc:
        print(f"grader: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
