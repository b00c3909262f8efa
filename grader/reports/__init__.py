"""Report writers. Each reads a frozen SubmissionResult and writes one format; none reaches
back into grading. ``write_reports`` dispatches on the ``--format`` names; batch formats
(``BATCH_WRITERS``: the class gradebook and summary) are written once per batch by
``write_batch_reports``. ``SCHEMA_FILE`` is the JSON Schema of the native report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from grader.errors import UsageError
from grader.reports.gradebook import write_gradebook
from grader.reports.gradescope import write_gradescope
from grader.reports.junit import write_junit
from grader.reports.markdown import write_markdown
from grader.reports.native import write_json, write_yaml
from grader.results import SubmissionResult

__all__ = [
    "BATCH_WRITERS",
    "SCHEMA_FILE",
    "WRITERS",
    "check_formats",
    "write_batch_reports",
    "write_reports",
]

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "report_schema.json"

WRITERS: dict[str, Callable[[SubmissionResult, Path], Path]] = {
    "json": write_json,
    "yaml": write_yaml,
    "gradescope": write_gradescope,
    "junit": write_junit,
    "markdown": write_markdown,
}

# Written once per batch, from all its results.
BATCH_WRITERS: dict[str, Callable[[Sequence[SubmissionResult], Path], list[Path]]] = {
    "csv": write_gradebook,
}


def check_formats(formats: Sequence[str]) -> None:
    known = [*WRITERS, *BATCH_WRITERS]
    unknown = [f for f in formats if f not in known]
    if unknown:
        raise UsageError(
            f"unknown report format(s) {', '.join(unknown)}; choose from {', '.join(known)}"
        )


def write_reports(result: SubmissionResult, out: Path, formats: Sequence[str]) -> list[Path]:
    check_formats(formats)
    out.mkdir(parents=True, exist_ok=True)
    return [WRITERS[f](result, out) for f in formats if f in WRITERS]


def write_batch_reports(
    results: Sequence[SubmissionResult], out: Path, formats: Sequence[str]
) -> list[Path]:
    """The class-level files of the batch formats among ``formats`` (none for the others)."""
    check_formats(formats)
    batch = [f for f in formats if f in BATCH_WRITERS]
    if not batch or not results:
        return []
    out.mkdir(parents=True, exist_ok=True)
    return [path for f in batch for path in BATCH_WRITERS[f](results, out)]
