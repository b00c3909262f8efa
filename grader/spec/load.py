"""``load_spec``: read and validate ``ASSIGNMENT_DIR/assignment.yaml``."""

from __future__ import annotations

from pathlib import Path

import yaml

from grader import yamlread
from grader.errors import SpecError
from grader.spec.model import (
    DEFAULT_CASES,
    DEFAULT_TIME_LIMIT,
    SPEC_FILE,
    AssignmentSpec,
    Tolerance,
)
from grader.spec.problems import _problem
from grader.spec.reader import _modules, _Reader, _tolerance, _unique

# --------------------------------------------------------------------------- loading


def load_spec(assignment_dir: str | Path, *, reference: str | Path | None = None) -> AssignmentSpec:
    """Read and validate ``ASSIGNMENT_DIR/assignment.yaml``."""
    root = Path(assignment_dir)
    path = root / SPEC_FILE
    file = str(path)
    if not root.is_dir():
        raise SpecError(str(root), "", "not a directory; pass the folder holding assignment.yaml")
    if not path.is_file():
        raise SpecError(file, "", "no such file; an assignment folder needs an assignment.yaml")
    try:
        data = yamlread.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(file, where, f"invalid YAML: {problem}; fix the syntax") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(file, "", f"cannot read: {exc}") from None
    r = _Reader(file)
    top = r.mapping(data, "")
    r.keys(
        top,
        "",
        (
            "name",
            "title",
            "seed",
            "cases",
            "hidden_cases",
            "tolerance",
            "time_limit",
            "reference",
            "requires",
            "problems",
        ),
    )
    name = r.slug(r.required(top, "name", ""), "name")
    defaults = {
        "cases": r.integer(top.get("cases", DEFAULT_CASES), "cases", minimum=1),
        "hidden_cases": r.integer(top.get("hidden_cases", 0), "hidden_cases", minimum=0),
        "tolerance": _tolerance(r, top.get("tolerance"), "tolerance", Tolerance()),
        "time_limit": r.number(
            top.get("time_limit", DEFAULT_TIME_LIMIT), "time_limit", minimum=0, strict=True
        ),
    }
    problems_raw = r.sequence(r.required(top, "problems", ""), "problems")
    if not problems_raw:
        raise r.fail("problems", "expected at least one problem")
    problems = tuple(
        _problem(r, item, f"problems[{i}]", defaults) for i, item in enumerate(problems_raw)
    )
    _unique(r, [(f"problems[{i}].name", p.name) for i, p in enumerate(problems)], "problem")
    _unique(
        r,
        [
            (f"problems[{i}].parts[{j}].function", part.function)
            for i, p in enumerate(problems)
            for j, part in enumerate(p.parts)
        ],
        "part function",
    )
    if reference is None:
        ref_raw = top.get("reference", f"../../solutions/{name}")
        reference_path = (root / r.text(ref_raw, "reference")).resolve()
    else:
        reference_path = Path(reference).resolve()
    return AssignmentSpec(
        name=name,
        title=r.text(top.get("title", name), "title"),
        root=root.resolve(),
        seed=r.integer(top.get("seed", 0), "seed", minimum=0),
        problems=problems,
        reference=reference_path,
        requires=_modules(r, top.get("requires", []), "requires"),
    )
