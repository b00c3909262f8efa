"""Tests for the report formats (grader.reports.*): every format produced through the CLI for
the example submissions, then each read back the way its consumer reads it: the native JSON
and YAML validated against the shipped JSON Schema, the Gradescope file checked field by
field, the JUnit XML parsed, the Markdown inspected, the gradebook CSV read with ``csv``, the
histogram PNG decoded with ``zlib``.
"""

from __future__ import annotations

import csv
import io
import json
import struct
import xml.etree.ElementTree as ET
import zlib
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from grader.cli import main
from grader.grading import find_submissions
from grader.reports import SCHEMA_FILE
from grader.reports.gradebook import gradebook_csv, score_bins
from grader.reports.gradescope import FAILED_TEST_NAME, failure_results, to_gradescope
from grader.reports.histogram import BAR, bar_chart_png, encode_png
from grader.reports.junit import to_junit
from grader.reports.markdown import math_label, render_markdown
from grader.results import STATUSES, PartResult, SubmissionResult
from tests.conftest import EXAMPLES as EXAMPLES_DIR

# Report names as grading gives them: the file or folder name without its extension.
EXAMPLES = [s.name for s in find_submissions(sorted(EXAMPLES_DIR.iterdir()))]
# The correct folder and its notebook, zip and LaTeX twins.
FULL_MARKS = ("correct", "correct_notebook", "correct_zip", "latex_answers")
ALL_FORMATS = "json,yaml,gradescope,junit,markdown,csv"
PER_SUBMISSION = (".json", ".yaml", ".gradescope.json", ".junit.xml", ".md")


@pytest.fixture(scope="module")
def reports(fast_assignment: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every example graded once, in every format, through the CLI."""
    out = tmp_path_factory.mktemp("reports")
    examples = sorted(EXAMPLES_DIR.iterdir())
    args = ["grade", str(fast_assignment), *map(str, examples), "--out", str(out)]
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        code = main([*args, "--format", ALL_FORMATS, "--quiet"])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _part(function: str = "grad_W", status: str = "passed", **kw: Any) -> PartResult:
    score = 2.0 if status == "passed" else 0.0
    fields: dict[str, Any] = {
        "problem": "autoencoder",
        "function": function,
        "score": score,
        "max_score": 2.0,
        "status": status,
        "feedback": f"{function}: correct on all 5 cases"
        if status == "passed"
        else f"{function}: wrong values on 5 of 5 cases\n  hint: a hint",
        **kw,
    }
    return PartResult(**fields)


def _result(*parts: PartResult, **kw: Any) -> SubmissionResult:
    fields: dict[str, Any] = {
        "submission": "alice",
        "source": "alice/",
        "assignment": "hw",
        "seed": 1,
        "score": sum(p.score for p in parts),
        "max_score": sum(p.max_score for p in parts),
        "parts": parts,
        **kw,
    }
    return SubmissionResult(**fields)


# --------------------------------------------------------------------------- every format


def test_every_format_is_written(reports: Path) -> None:
    for name in EXAMPLES:
        for suffix in PER_SUBMISSION:
            assert (reports / f"{name}{suffix}").is_file(), f"{name}{suffix}"
    for batch in ("gradebook.csv", "summary.json", "summary.md", "histogram.png"):
        assert (reports / batch).is_file(), batch


def test_unknown_format_is_a_usage_error(fast_assignment: Path, tmp_path: Path, cli) -> None:
    run = cli("grade", fast_assignment, tmp_path, "--out", tmp_path / "r", "--format", "json,pdf")
    assert run.code == 2
    assert "pdf" in run.err and "gradescope" in run.err and "csv" in run.err


# --------------------------------------------------------------------------- native + schema


@pytest.mark.parametrize("name", EXAMPLES)
def test_native_reports_match_the_schema(reports: Path, validator, name: str) -> None:
    report = json.loads((reports / f"{name}.json").read_text(encoding="utf-8"))
    validator.validate(report)
    validator.validate(yaml.safe_load((reports / f"{name}.yaml").read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param(lambda r: r.pop("score"), id="missing-score"),
        pytest.param(lambda r: r.update(extra=1), id="unknown-key"),
        pytest.param(lambda r: r.update(status="done"), id="bad-status"),
        pytest.param(lambda r: r["parts"][0].pop("feedback"), id="part-without-feedback"),
        pytest.param(lambda r: r["parts"][0].update(status="ok"), id="bad-part-status"),
        # A hidden case that carries its dims or message would leak it: the schema forbids it.
        pytest.param(
            lambda r: next(c for c in r["parts"][0]["cases"] if c["hidden"]).update(dims={"m": 2}),
            id="hidden-case-with-dims",
        ),
    ],
)
def test_schema_rejects_broken_reports(reports: Path, validator, breakage) -> None:
    report = json.loads((reports / "correct.json").read_text(encoding="utf-8"))
    breakage(report)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(report)


def test_schema_statuses_are_the_results_statuses() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert tuple(schema["$defs"]["status"]["enum"]) == STATUSES


# --------------------------------------------------------------------------- gradescope


def test_gradescope_results_for_a_correct_submission(reports: Path) -> None:
    data = json.loads((reports / "correct.gradescope.json").read_text(encoding="utf-8"))
    assert data["score"] == 20
    assert isinstance(data["execution_time"], (int, float))
    assert (data["output_format"], data["visibility"], data["stdout_visibility"]) == (
        "text",
        "visible",
        "hidden",
    )
    tests = data["tests"]
    assert len(tests) == 14
    assert [t["number"] for t in tests[:2]] == ["1.1", "1.2"]
    assert tests[-1]["number"] == "2.7"
    assert tests[0]["name"] == "autoencoder.loss"
    for t in tests:
        assert set(t) >= {"name", "number", "score", "max_score", "status", "output", "tags"}
        assert t["visibility"] == "visible" and t["status"] == "passed"
        assert t["score"] == t["max_score"]


def test_gradescope_tags_carry_status_and_diagnosis(reports: Path) -> None:
    data = json.loads((reports / "transposed.gradescope.json").read_text(encoding="utf-8"))
    by_name = {t["name"]: t for t in data["tests"]}
    part = by_name["autoencoder.grad_W_via_b"]
    assert part["status"] == "failed" and part["score"] == 0
    assert part["tags"] == ["autoencoder", "wrong_shape", "transposed", "step_wrong"]
    assert "transpose" in part["output"]
    assert data["score"] == sum(t["score"] for t in data["tests"]) == 15


def test_gradescope_error_result_has_a_visible_failure_test() -> None:
    result = _result(
        _part(status="crashed", score=0.0), status="error", error="the sandbox could not start"
    )
    data = to_gradescope(result, execution_time=1.5)
    assert data["score"] == 0 and data["execution_time"] == 1.5
    first = data["tests"][0]
    assert first["name"] == FAILED_TEST_NAME and first["visibility"] == "visible"
    assert "the sandbox could not start" in first["output"]
    assert failure_results("no spec", max_score=20)["tests"][0]["max_score"] == 20


# --------------------------------------------------------------------------- junit


def test_junit_is_one_testcase_per_part(reports: Path) -> None:
    root = ET.parse(reports / "crash.junit.xml").getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == int(suite.get("tests")) == 14
    failures = [c for c in cases if c.find("failure") is not None]
    errors = [c for c in cases if c.find("error") is not None]
    assert len(failures) == int(suite.get("failures")) > 0
    assert len(errors) == int(suite.get("errors")) > 0
    assert not list(suite.iter("skipped"))
    assert cases[0].get("classname") == "matrix-calculus.autoencoder"
    error = next(c for c in errors if c.get("name") == "grad_W").find("error")
    assert error.get("type") == "timeout" and error.get("message") == "grad_W: timed out"
    assert "time limit" in error.text


def test_junit_survives_control_characters() -> None:
    part = _part(status="wrong_value", feedback="grad_W: wrong\x00 values\x1b[31m")
    text = ET.tostring(to_junit(_result(part)), encoding="unicode")
    failure = ET.fromstring(text).find(".//failure")
    assert failure is not None and failure.get("message").startswith("grad_W: wrong")


# --------------------------------------------------------------------------- markdown


def test_markdown_report(reports: Path) -> None:
    text = (reports / "transposed.md").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "## matrix-calculus: transposed — 15/20"
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 2 + 14  # header, rule, one row per part
    assert r"`grad_W_via_b` ($\nabla_{W} L$ through $b$) | 0/2 |" in text
    assert "```text\ngrad_W_via_b: wrong shape on 5 of 5 cases" in text
    # Hidden cases (indices 3 and 4 here) are summarised, never shown with their dims.
    assert "hidden case(s) 3, 4" in text and "case 3 (" not in text


def test_markdown_escapes_pipes_and_fences() -> None:
    part = _part(
        function="grad|W", status="wrong_value", feedback="bad | value\n```\nnot code\n```"
    )
    text = render_markdown(_result(part, submission="a|b"))
    assert "a\\|b" in text and "`grad\\|W`" in text
    assert "````text\nbad | value\n```\nnot code\n```\n````" in text


@pytest.mark.parametrize(
    ("function", "label"),
    [
        ("grad_W", r"$\nabla_{W} L$"),
        ("grad_alpha", r"$\nabla_{\alpha} L$"),
        ("grad_W_via_b", r"$\nabla_{W} L$ through $b$"),
        ("grad_X_logdet", r"$\nabla_{X}$ of the logdet term"),
        ("loss", ""),
        ("grad_", ""),
        ("gradient_W", ""),
    ],
)
def test_math_label(function: str, label: str) -> None:
    assert math_label(function) == label


# --------------------------------------------------------------------------- class reports


def test_gradebook_csv_reads_back(reports: Path) -> None:
    with (reports / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["submission"] for r in rows] == EXAMPLES
    header = list(rows[0])
    assert header[0] == "submission" and header[-3:] == ["total", "max_score", "status"]
    assert len(header) == 1 + 14 + 3
    for row in rows:
        native = json.loads((reports / f"{row['submission']}.json").read_text(encoding="utf-8"))
        assert float(row["total"]) == native["score"]
        assert sum(float(row[f]) for f in header[1:-3]) == pytest.approx(native["score"])
        assert row["max_score"] == "20" and row["status"] == "graded"


def test_gradebook_defuses_spreadsheet_formulas() -> None:
    rows = list(
        csv.reader(io.StringIO(gradebook_csv([_result(_part(), submission="=HYPERLINK(1)")])))
    )
    assert rows[1][0] == "'=HYPERLINK(1)"


def test_class_summary(reports: Path) -> None:
    summary = json.loads((reports / "summary.json").read_text(encoding="utf-8"))
    assert summary["submissions"] == summary["graded"] == len(EXAMPLES)
    assert summary["full_marks"] == len(FULL_MARKS) and summary["max"] == 20
    assert summary["min"] == 0
    parts = {p["function"]: p for p in summary["parts"]}
    assert len(parts) == 14
    via_b = parts["grad_W_via_b"]
    assert via_b["passed"] == sum(
        json.loads((reports / f"{n}.json").read_text(encoding="utf-8"))["parts"][4]["status"]
        == "passed"
        for n in EXAMPLES
    )
    assert via_b["pass_rate"] == via_b["passed"] / len(EXAMPLES)
    assert via_b["diagnoses"][0]["code"] == "transposed"
    assert sum(summary["histogram"]["counts"]) == len(EXAMPLES)
    text = (reports / "summary.md").read_text(encoding="utf-8")
    assert "![score histogram](histogram.png)" in text
    assert (
        "| autoencoder: `grad_W_via_b` | 2 |" in text and "`transposed` ×2" in text
    )  # transposed/ and latex_wrong/


def test_class_summary_leaves_ungraded_out_of_the_rates(tmp_path: Path) -> None:
    from grader.reports.gradebook import class_summary

    good = _result(_part())
    bad = _result(_part(status="crashed"), submission="bob", status="error", error="boom")
    summary = class_summary([good, bad])
    assert summary["not_graded"] == ["bob"] and summary["graded"] == 1
    assert summary["parts"][0]["pass_rate"] == 1.0


def test_class_summary_counts_each_declared_misconception_apart() -> None:
    from grader.reports.gradebook import class_summary

    def wrong(name: str, *more: str) -> PartResult:
        diagnoses = [
            {"code": "misconception", "message": f"m {n}", "params": {"name": n, "credit": 0}}
            for n in (name, *more)
        ]
        return _part(status="wrong_value", diagnoses=tuple(diagnoses))

    graded = [_result(wrong("sign")), _result(wrong("sign")), _result(wrong("transpose"))]
    (part,) = class_summary(graded)["parts"]
    counted = {d["code"]: d["submissions"] for d in part["diagnoses"]}
    assert counted == {"misconception:sign": 2, "misconception:transpose": 1}


# --------------------------------------------------------------------------- the PNG


def _decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB rows of an 8-bit RGB PNG with filter 0 (what we write)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + body), tag
        chunks.setdefault(tag, b"")
        chunks[tag] += body
        pos += 12 + length
    assert b"IEND" in chunks
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, color, interlace) == (8, 2, 0)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + 3 * width
    assert len(raw) == stride * height
    rows = [raw[y * stride : (y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows)
    return width, height, [row[1:] for row in rows]


def test_histogram_png(reports: Path) -> None:
    width, height, rows = _decode_png((reports / "histogram.png").read_bytes())
    assert (width, height) == (640, 360)
    pixels = [tuple(row[i : i + 3]) for row in rows for i in range(0, len(row), 3)]
    assert sum(max(p) < 80 for p in pixels) > 500  # axes, ticks and labels
    assert pixels.count(BAR) > 1000  # six submissions' worth of bars


def test_png_encoder_checks_its_input() -> None:
    assert _decode_png(encode_png(2, 1, bytes([0, 0, 0, 255, 255, 255])))[2] == [
        bytes([0, 0, 0, 255, 255, 255])
    ]
    with pytest.raises(ValueError, match="expected 6"):
        encode_png(2, 1, b"\x00")
    with pytest.raises(ValueError):
        bar_chart_png([1, 2], ["a"])


@pytest.mark.parametrize(
    ("scores", "max_score", "labels", "counts"),
    [
        pytest.param([0, 1.5, 2, 2], 2, ["0", "1", "2"], [1, 1, 2], id="one-bar-per-point"),
        pytest.param([-1, 3], 2, ["0", "1", "2"], [1, 0, 1], id="clamped"),
        pytest.param([0, 50, 100], 100, None, None, id="twenty-bins"),
    ],
)
def test_score_bins(scores, max_score, labels, counts) -> None:
    got_labels, got_counts = score_bins(scores, max_score)
    if labels is None:
        assert len(got_counts) == 20 and got_counts[0] == 1 and got_counts[10] == 1
        assert got_counts[-1] == 1 and got_labels[1] == "5"
    else:
        assert (got_labels, got_counts) == (labels, counts)
