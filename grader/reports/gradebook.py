"""Class-level reports, written once per batch (``--format csv``):

- ``gradebook.csv``: one row per submission, one column per part, then ``total``,
  ``max_score`` and ``status`` (graded | error), ready for an LMS import. A cell that a
  spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` first) gets a leading ``'``.
- ``summary.json`` and ``summary.md``: the score distribution and, per part, the pass rate, the
  mean score, the statuses and the diagnosed mistakes, most common first.
- ``histogram.png``: submissions per total score (one bar per point up to 40 points, else 20
  equal bins), drawn by grader.reports.histogram.

Submissions that could not be graded (status error) are in the gradebook (with their 0) and
counted in the summary, but left out of the pass rates, means and histogram: they measure the
grading run, not the class.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.reports.histogram import bar_chart_png
from grader.reports.markdown import table_cell
from grader.results import SubmissionResult

__all__ = [
    "BATCH_FILES",
    "PartSummary",
    "class_summary",
    "gradebook_csv",
    "render_summary",
    "score_bins",
    "write_gradebook",
]

BATCH_FILES = ("gradebook.csv", "summary.json", "summary.md", "histogram.png")
MAX_POINT_BINS = 40  # up to this many points, one bar per point; above, 20 equal bins
TOP_MISTAKES = 3


@dataclass(frozen=True, slots=True)
class PartSummary:
    problem: str
    function: str
    max_score: float
    graded: int
    passed: int
    mean_score: float
    statuses: tuple[tuple[str, int], ...]  # most common first
    diagnoses: tuple[tuple[str, int, str], ...]  # (code, submissions, an example message)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


def _cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _num(x: float) -> str:
    return f"{x:g}" if math.isfinite(x) else ""


def _functions(results: Sequence[SubmissionResult]) -> list[str]:
    seen: dict[str, None] = {}
    for r in results:
        for p in r.parts:
            seen.setdefault(p.function, None)
    return list(seen)


def gradebook_csv(results: Sequence[SubmissionResult]) -> str:
    functions = _functions(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", *functions, "total", "max_score", "status"])
    for r in results:
        scores = {p.function: p.score for p in r.parts}
        writer.writerow(
            [
                _cell(r.submission),
                *(_num(scores[f]) if f in scores else "" for f in functions),
                _num(r.score),
                _num(r.max_score),
                r.status,
            ]
        )
    return buffer.getvalue()


def score_bins(scores: Sequence[float], max_score: float) -> tuple[list[str], list[int]]:
    """Bar labels and counts for a histogram of total scores in [0, max_score]."""
    if max_score <= MAX_POINT_BINS and float(max_score).is_integer():
        top = int(max_score)
        counts = [0] * (top + 1)
        for s in scores:
            counts[min(max(math.floor(s + 1e-9), 0), top)] += 1
        return [str(i) for i in range(top + 1)], counts
    n = 20
    width = max_score / n if max_score > 0 else 1.0
    counts = [0] * n
    for s in scores:
        counts[min(max(int(s / width), 0), n - 1)] += 1
    return [f"{i * width:.3g}" for i in range(n)], counts


def _mistake(diagnosis: Mapping[str, Any]) -> str:
    """What the summary counts: the code, and for a declared misconception which one
    (``misconception:logdet_sign``), so the class sees which known mistakes it shares."""
    code = str(diagnosis["code"])
    name = diagnosis.get("params", {}).get("name") if code == "misconception" else None
    return f"{code}:{name}" if name else code


def _part_summaries(graded: Sequence[SubmissionResult]) -> list[PartSummary]:
    summaries = []
    for function in _functions(graded):
        parts = [p for r in graded for p in r.parts if p.function == function]
        diagnoses: Counter[str] = Counter()
        examples: dict[str, str] = {}
        for p in parts:
            codes = {_mistake(d): str(d.get("message", "")) for d in p.diagnoses}
            diagnoses.update(codes.keys())  # once per submission, however many cases
            for code, message in codes.items():
                examples.setdefault(code, message)
        summaries.append(
            PartSummary(
                problem=parts[0].problem,
                function=function,
                max_score=parts[0].max_score,
                graded=len(parts),
                passed=sum(p.passed for p in parts),
                mean_score=statistics.fmean(p.score for p in parts),
                statuses=tuple(Counter(p.status for p in parts).most_common()),
                diagnoses=tuple((c, n, examples[c]) for c, n in diagnoses.most_common()),
            )
        )
    return summaries


def class_summary(results: Sequence[SubmissionResult]) -> dict[str, Any]:
    """The content of summary.json (and of summary.md)."""
    graded = [r for r in results if r.status == "graded"]
    scores = [r.score for r in graded]
    max_score = max((r.max_score for r in results), default=0.0)
    labels, counts = score_bins(scores, max_score)
    return {
        "assignment": results[0].assignment if results else "",
        "submissions": len(results),
        "graded": len(graded),
        "not_graded": [r.submission for r in results if r.status != "graded"],
        "max_score": max_score,
        "full_marks": sum(1 for r in graded if r.score >= r.max_score),
        "mean": statistics.fmean(scores) if scores else None,
        "median": statistics.median(scores) if scores else None,
        "min": min(scores, default=None),
        "max": max(scores, default=None),
        "histogram": {"labels": labels, "counts": counts},
        "parts": [
            {
                "problem": s.problem,
                "function": s.function,
                "max_score": s.max_score,
                "graded": s.graded,
                "passed": s.passed,
                "pass_rate": s.pass_rate,
                "mean_score": s.mean_score,
                "statuses": dict(s.statuses),
                "diagnoses": [
                    {"code": c, "submissions": n, "example": m} for c, n, m in s.diagnoses
                ],
            }
            for s in _part_summaries(graded)
        ],
    }


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.3g}"


def render_summary(summary: dict[str, Any]) -> str:
    lines = [
        f"# {summary['assignment']}: class summary",
        "",
        f"{summary['graded']} of {summary['submissions']} submissions graded; "
        f"{summary['full_marks']} with full marks. Total out of {summary['max_score']:g}: "
        f"mean {_fmt(summary['mean'])}, median {_fmt(summary['median'])}, "
        f"min {_fmt(summary['min'])}, max {_fmt(summary['max'])}.",
    ]
    if summary["not_graded"]:
        names = ", ".join(summary["not_graded"])
        lines += ["", f"**Not graded** (see their reports): {table_cell(names)}."]
    lines += [
        "",
        "![score histogram](histogram.png)",
        "",
        "| Part | Points | Pass rate | Mean | Statuses | Most common mistakes |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for p in summary["parts"]:
        statuses = ", ".join(f"{s} {n}" for s, n in p["statuses"].items())
        mistakes = "; ".join(
            f"`{d['code']}` ×{d['submissions']}" for d in p["diagnoses"][:TOP_MISTAKES]
        )
        lines.append(
            f"| {table_cell(p['problem'])}: `{table_cell(p['function'])}` | {p['max_score']:g} "
            f"| {p['passed']}/{p['graded']} ({p['pass_rate']:.0%}) | {p['mean_score']:.3g} "
            f"| {table_cell(statuses)} | {table_cell(mistakes) or '–'} |"
        )
    examples = [(p["function"], d) for p in summary["parts"] for d in p["diagnoses"]]
    if examples:
        lines += ["", "## Diagnosed mistakes, with an example message", ""]
        for function, d in examples:
            example = " ".join(d["example"].split())
            lines.append(f"- `{function}` `{d['code']}` ({d['submissions']}): {example}")
    return "\n".join(lines) + "\n"


def _write(path: Path, data: bytes) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def write_gradebook(results: Sequence[SubmissionResult], out: Path) -> list[Path]:
    """gradebook.csv, summary.json, summary.md and histogram.png in ``out``."""
    summary = class_summary(results)
    bins = summary["histogram"]
    png = bar_chart_png(
        bins["counts"],
        bins["labels"],
        title=f"SCORES (N={summary['graded']})",
        x_caption=f"SCORE (MAX {summary['max_score']:g})",
    )
    text = json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return [
        _write(out / "gradebook.csv", gradebook_csv(results).encode("utf-8")),
        _write(out / "summary.json", text.encode("utf-8")),
        _write(out / "summary.md", render_summary(summary).encode("utf-8")),
        _write(out / "histogram.png", png),
    ]
