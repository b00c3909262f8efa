"""A Markdown report per submission, for a pull-request comment or a CI job summary.

GitHub renders ``$...$`` as math, so a part named by the handout's convention
``grad_<variable>[_via_<node> | _<term>]`` is shown with its gradient, ``grad_W`` as
$\\nabla_{W} L$; other names are shown as code only. Layout: a title with the submission and
the score, a table of parts (part, score, status), then the feedback of every part that did not
pass, each in a fenced block (the feedback is the same text the other reports carry, so hidden
cases stay hidden: it never holds their inputs or expected values).
"""

from __future__ import annotations

import re
from pathlib import Path

from grader.results import PartResult, SubmissionResult

__all__ = ["math_label", "render_markdown", "table_cell", "write_markdown"]

_GREEK = frozenset(
    [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "epsilon",
        "zeta",
        "eta",
        "theta",
        "iota",
        "kappa",
        "lambda",
        "mu",
        "nu",
        "xi",
        "pi",
        "rho",
        "sigma",
        "tau",
        "upsilon",
        "phi",
        "chi",
        "psi",
        "omega",
        "Gamma",
        "Delta",
        "Theta",
        "Lambda",
        "Xi",
        "Pi",
        "Sigma",
        "Phi",
        "Psi",
        "Omega",
    ]
)
_GRAD = re.compile(
    r"grad_(?P<wrt>[A-Za-z]+[0-9]*)(?:_via_(?P<via>[A-Za-z]+[0-9]*)|_(?P<term>\w+))?"
)


def _symbol(name: str) -> str | None:
    if name in _GREEK:
        return "\\" + name
    if re.fullmatch(r"[A-Za-z][0-9]*", name):
        return name
    return None


def math_label(function: str) -> str:
    """``grad_W`` -> ``$\\nabla_{W} L$``; ``""`` when the name does not follow the convention."""
    m = _GRAD.fullmatch(function)
    if not m or (wrt := _symbol(m["wrt"])) is None:
        return ""
    if m["via"]:
        via = _symbol(m["via"])
        return f"$\\nabla_{{{wrt}}} L$ through ${via}$" if via else ""
    if m["term"]:
        return f"$\\nabla_{{{wrt}}}$ of the {m['term'].replace('_', ' ')} term"
    return f"$\\nabla_{{{wrt}}} L$"


def table_cell(text: str) -> str:
    """One line, pipes escaped: a cell can never break the table."""
    return " ".join(text.split()).replace("|", "\\|")


def _fence(body: str) -> str:
    # A fence longer than any backtick run in the body: student text cannot close it early.
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body.rstrip()}\n{fence}"


_ICONS = {"passed": "✅", "error": "💥", "timeout": "⏱️", "missing": "❔", "not_implemented": "✏️"}


def _status(part: PartResult) -> str:
    return f"{_ICONS.get(part.status, '❌')} {part.status.replace('_', ' ')}"


def _part_name(part: PartResult) -> str:
    label = math_label(part.function)
    return f"`{part.function}`" + (f" ({label})" if label else "")


def render_markdown(result: SubmissionResult, *, heading: str = "##") -> str:
    passed = sum(p.passed for p in result.parts)
    lines = [
        f"{heading} {table_cell(result.assignment)}: {table_cell(result.submission)} — "
        f"{result.score:g}/{result.max_score:g}",
        "",
    ]
    if result.status == "error":
        lines += [
            f"**Not graded:** {table_cell(result.error or 'grading failed')}. "
            "This is not a verdict on your answers.",
            "",
        ]
    else:
        lines += [f"{passed} of {len(result.parts)} parts passed (seed {result.seed}).", ""]
    lines += ["| Part | Score | Status |", "| --- | ---: | --- |"]
    for p in result.parts:
        lines.append(
            f"| {table_cell(p.problem)}: {table_cell(_part_name(p))} "
            f"| {p.score:g}/{p.max_score:g} | {table_cell(_status(p))} |"
        )
    failing = [p for p in result.parts if not p.passed]
    if failing and result.status != "error":
        lines += ["", f"{heading}# What to fix", ""]
        for p in failing:
            lines += [
                f"**{table_cell(p.problem)}: {_part_name(p)}** — {p.status.replace('_', ' ')}"
            ]
            body = p.feedback + (f"\n\n{p.traceback.rstrip()}" if p.traceback else "")
            lines += ["", _fence(body), ""]
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(result: SubmissionResult, out: Path) -> Path:
    """``<submission>.md``."""
    path = out / f"{result.submission}.md"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render_markdown(result), encoding="utf-8")
    tmp.replace(path)
    return path
