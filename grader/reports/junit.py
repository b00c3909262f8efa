"""JUnit XML: one ``<testcase>`` per part, so CI systems (GitLab, Jenkins, GitHub test
reporters) show a submission as a test run without a plugin.

Mapping: a wrong answer (wrong value, shape or type, not finite, the stub untouched, the function
missing) is a ``<failure>``; code that did not run to an answer (it raised, timed out, crashed,
exited, ran out of memory, failed to import, or the submission could not be graded) is an
``<error>``. Nothing is ``<skipped>``: an unanswered part is a failure that costs points. The
element text is the student's feedback (hidden cases already hidden), the ``message`` its first
line. There are no timings: results carry none, so ``time`` is absent rather than invented.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from grader.results import PartResult, SubmissionResult

__all__ = ["ERROR_STATUSES", "to_junit", "write_junit"]

ERROR_STATUSES = frozenset({"error", "import_error", "timeout", "crashed", "exited", "memory"})

# XML 1.0 forbids most control characters; student output can contain any of them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(s: str) -> str:
    return _NOT_XML.sub("\N{REPLACEMENT CHARACTER}", s)


def _kind(part: PartResult) -> str | None:
    if part.passed:
        return None
    return "error" if part.status in ERROR_STATUSES else "failure"


def _testcase(parent: ET.Element, result: SubmissionResult, part: PartResult) -> None:
    case = ET.SubElement(
        parent,
        "testcase",
        classname=f"{result.assignment}.{part.problem}",
        name=part.function,
        assertions="1",
    )
    kind = _kind(part)
    if kind is None:
        return
    body = part.feedback
    if part.traceback:
        body += "\n\n" + part.traceback.rstrip()
    first = part.feedback.splitlines()[0] if part.feedback else part.status
    node = ET.SubElement(case, kind, message=_text(first), type=part.status)
    node.text = _text(body)


def to_junit(result: SubmissionResult) -> ET.Element:
    kinds = [_kind(p) for p in result.parts]
    counts = {
        "tests": str(len(result.parts)),
        "failures": str(kinds.count("failure")),
        "errors": str(kinds.count("error")),
        "skipped": "0",
    }
    root = ET.Element("testsuites", name=result.assignment, **counts)
    suite = ET.SubElement(root, "testsuite", name=result.submission, **counts)
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("assignment", result.assignment),
        ("source", result.source),
        ("seed", str(result.seed)),
        ("status", result.status),
        ("score", f"{result.score:g}"),
        ("max_score", f"{result.max_score:g}"),
    ):
        ET.SubElement(props, "property", name=name, value=_text(value))
    if result.error:
        ET.SubElement(props, "property", name="error", value=_text(result.error))
    for part in result.parts:
        _testcase(suite, result, part)
    return root


def write_junit(result: SubmissionResult, out: Path) -> Path:
    """``<submission>.junit.xml``."""
    root = to_junit(result)
    ET.indent(root)
    path = out / f"{result.submission}.junit.xml"
    tmp = path.with_name(f".{path.name}.tmp")
    ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(path)
    return path
