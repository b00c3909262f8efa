"""Report writers. Each reads a frozen SubmissionResult and writes one format; none reaches
back into grading. ``write_reports`` dispatches on the ``--format`` names; batch formats
(``BATCH_WRITERS``: the class gradebook and summary) are written once per batch by
``write_batch_reports``. ``SCHEMA_FILE`` is the JSON Schema of the native report."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from grader.errors import UsageError
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

# Format -> "module:function", imported when a format is first used: a run that writes
# json and yaml does not pay for importing the XML, PNG and CSV writers.
WRITERS: dict[str, str] = {
    "json": "grader.reports.native:write_json",
    "yaml": "grader.reports.native:write_yaml",
    "gradescope": "grader.reports.gradescope:write_gradescope",
    "junit": "grader.reports.junit:write_junit",
    "markdown": "grader.reports.markdown:write_markdown",
}

# Written once per batch, from all its results.
BATCH_WRITERS: dict[str, str] = {
    "csv": "grader.reports.gradebook:write_gradebook",
}


def _writer(target: str) -> Callable[..., Any]:
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)  # cached by sys.modules


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
    return [_writer(WRITERS[f])(result, out) for f in formats if f in WRITERS]


def write_batch_reports(
    results: Sequence[SubmissionResult], out: Path, formats: Sequence[str]
) -> list[Path]:
    """The class-level files of the batch formats among ``formats`` (none for the others)."""
    check_formats(formats)
    batch = [f for f in formats if f in BATCH_WRITERS]
    if not batch or not results:
        return []
    out.mkdir(parents=True, exist_ok=True)
    return [path for f in batch for path in _writer(BATCH_WRITERS[f])(results, out)]
