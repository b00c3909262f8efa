"""``grader validate``: is this assignment ready to hand out?

Checks, in order: the spec parses; every stub defines every part's function with the declared
arguments and raises NotImplementedError; the graph evaluates on random cases; each reference
output has the declared shape, each ``value_of`` part equals its graph node, and each reference
gradient agrees with finite differences of its declared loss on many seeds; finally the
reference, graded as a submission through the sandbox, scores 100%.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from grader.cases import Case, build_cases, resolve_shape
from grader.checks import matches
from grader.errors import GraderError, UsageError
from grader.graph import evaluate_graph, scalar_loss
from grader.numdiff import FD_RTOL, gradient, relative_error
from grader.reference import (
    compute_declared,
    compute_expected,
    load_reference_modules,
    reference_module_names,
)
from grader.spec import (
    ArrayOutput,
    AssignmentSpec,
    PartSpec,
    ProblemSpec,
    declared_leaves,
    load_spec,
)

__all__ = ["ValidationReport", "validate"]


@dataclass
class ValidationReport:
    assignment: str
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append((name, ok, detail))

    @property
    def ok(self) -> bool:
        return all(ok for _, ok, _ in self.checks)

    def text(self) -> str:
        lines = [f"validate {self.assignment}"]
        for name, ok, detail in self.checks:
            lines.append(
                f"  {'ok  ' if ok else 'FAIL'}  {name}" + (f": {detail}" if detail else "")
            )
        failed = sum(not ok for _, ok, _ in self.checks)
        lines.append("all checks passed" if not failed else f"{failed} check(s) failed")
        return "\n".join(lines)


def _check_stubs(spec: AssignmentSpec, report: ValidationReport) -> None:
    for problem in spec.problems:
        path = spec.root / f"{problem.module}.py"
        if not path.is_file():
            report.add(f"stub {path.name}", False, f"missing: students need {path}")
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError as exc:
            report.add(f"stub {path.name}", False, f"syntax error line {exc.lineno}: {exc.msg}")
            continue
        problems: list[str] = []
        for part in problem.parts:
            found = _chain_stub_problems(tree, part) if part.call else _stub_problems(tree, part)
            problems += [p for p in found if p not in problems]  # chains repeat their steps
        report.add(f"stub {path.name}", not problems, "; ".join(problems))


def _defs(body: list[ast.stmt]) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in body if isinstance(n, ast.FunctionDef)}


def _raises_not_implemented(node: ast.FunctionDef, label: str) -> list[str]:
    raises = any(
        isinstance(n, ast.Raise) and "NotImplementedError" in ast.unparse(n) for n in ast.walk(node)
    )
    if raises:
        return []
    return [f"{label} does not raise NotImplementedError (does the stub give the answer away?)"]


def _stub_problems(tree: ast.Module, part: PartSpec) -> list[str]:
    """A part called as function(*args): the stub defines it with exactly those parameters."""
    node = _defs(tree.body).get(part.function)
    if node is None:
        return [f"{part.function} is not defined"]
    out = []
    args = tuple(a.arg for a in node.args.posonlyargs + node.args.args)
    if args != part.args:
        out.append(f"{part.function}{args} but the spec calls it with {part.args}")
    return out + _raises_not_implemented(node, part.function)


def _chain_stub_problems(tree: ast.Module, part: PartSpec) -> list[str]:
    """A part with a call chain: every function, class and method it calls is defined and
    accepts the call; functions and methods raise NotImplementedError (a constructor may be
    given, as homework often gives __init__)."""
    functions = _defs(tree.body)
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    objects: dict[str, ast.ClassDef] = {}  # name bound by a new step -> its class
    out: list[str] = []
    for step in part.call:
        if "function" in step:
            name = step["function"]
            node = functions.get(name)
            if node is None:
                out.append(f"{name} is not defined")
                continue
            out += _accepts(node, step, name, method=False)
            out += _raises_not_implemented(node, name)
        elif "new" in step:
            name = step["new"]
            cls = classes.get(name)
            if cls is None:
                out.append(f"class {name} is not defined")
                continue
            if isinstance(step.get("returns"), str):
                objects[step["returns"]] = cls
            init = _defs(cls.body).get("__init__")
            if init is not None:
                out += _accepts(init, step, name, method=True)
        elif "method" in step:
            owner, _, name = step["method"].partition(".")
            cls = objects.get(owner)
            if cls is None:
                continue  # an object some function returned: its class is not known here
            node = _defs(cls.body).get(name)
            label = f"{cls.name}.{name}"
            if node is None:
                out.append(f"{label} is not defined")
                continue
            out += _accepts(node, step, label, method=True)
            out += _raises_not_implemented(node, label)
    return out


def _accepts(
    node: ast.FunctionDef, step: Mapping[str, Any], label: str, *, method: bool
) -> list[str]:
    """Whether a def accepts the step's positional args and keyword args."""
    a = node.args
    params = [p.arg for p in a.posonlyargs + a.args][1 if method else 0 :]
    positional = len(step.get("args", []))
    keywords = list(step.get("kwargs", {}))
    required = params[: len(params) - len(a.defaults)] if a.defaults else params
    kwonly = {p.arg: d for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)}
    wrong = (
        (positional > len(params) and a.vararg is None)
        or any(
            k not in params[positional:] and k not in kwonly and a.kwarg is None for k in keywords
        )
        or any(p not in keywords for p in required[positional:])
        or any(d is None and k not in keywords for k, d in kwonly.items())
    )
    if not wrong:
        return []
    call = [str(x) for x in step.get("args", [])] + [
        f"{k}={v}" for k, v in step.get("kwargs", {}).items()
    ]
    return [f"{label}({', '.join(params)}) but the spec calls it with ({', '.join(call)})"]


def _check_reference(spec: AssignmentSpec, report: ValidationReport, seeds: int) -> None:
    modules = load_reference_modules(spec.reference, [p.module for p in spec.problems])
    worst: dict[str, float] = {}
    failures: dict[str, str] = {}
    for seed in range(spec.seed, spec.seed + seeds):
        cases = tuple(build_cases(p, seed) for p in spec.problems)
        expected = compute_expected(spec, cases, modules)
        index = 0
        for problem, problem_cases in zip(spec.problems, cases, strict=True):
            for part in problem.parts:
                for case in problem_cases:
                    got = expected[index][case.index]
                    for path, leaf in declared_leaves(part):
                        label = f"{part.function}{path}"
                        if label in failures:
                            continue
                        shape = resolve_shape(leaf.shape, case.dims)
                        actual = got[path].shape
                        if actual != shape and not (shape == () and np.prod(actual) == 1):
                            failures[label] = (
                                f"reference returns shape {actual}, spec says {shape} "
                                f"(seed {seed}, {dict(case.dims)})"
                            )
                            continue
                        _check_leaf(
                            problem,
                            leaf,
                            label,
                            case,
                            got[path],
                            seed,
                            worst,
                            failures,
                            part.tolerance.rtol,
                        )
                index += 1
    for problem in spec.problems:
        for part in problem.parts:
            for path, leaf in declared_leaves(part):
                if leaf.gradient is None and leaf.value_of is None:
                    continue
                label = f"{part.function}{path}"
                kind = "finite differences" if leaf.gradient else f"graph node {leaf.value_of}"
                name = f"reference {label} vs {kind}"
                if label in failures:
                    report.add(name, False, failures[label])
                else:
                    report.add(
                        name,
                        True,
                        f"worst relative error {worst.get(label, 0):.1e} over {seeds} seeds",
                    )


def _check_leaf(
    problem: ProblemSpec,
    leaf: ArrayOutput,
    label: str,
    case: Case,
    value: np.ndarray,
    seed: int,
    worst: dict[str, float],
    failures: dict[str, str],
    rtol: float,
) -> None:
    """One declared array of the reference against the graph: its node's value, or finite
    differences of its declared loss."""
    if leaf.gradient is None and leaf.value_of is None:
        return
    values = {**case.dims, **case.inputs}
    try:
        if leaf.value_of is not None:
            target = evaluate_graph(problem.compiled, values, until=leaf.value_of)[leaf.value_of]
            limit = rtol
        else:
            g = leaf.gradient
            assert g is not None
            f, at = scalar_loss(problem.compiled, values, of=g.of, wrt=g.wrt, through=g.through)
            target = gradient(f, at)
            limit = FD_RTOL
    except Exception as exc:
        failures[label] = f"the graph fails on seed {seed}: {type(exc).__name__}: {exc}"
        return
    target = np.asarray(target, dtype=float)
    if value.size == target.size:
        value = np.asarray(value, dtype=float).reshape(target.shape)
    if value.shape != target.shape:
        failures[label] = f"reference shape {value.shape}, graph gives {target.shape}"
        return
    err = relative_error(value, target)
    worst[label] = max(worst.get(label, 0.0), err)
    if err > limit:
        failures[label] = (
            f"relative error {err:.2e} > {limit:g} on seed {seed} "
            f"{dict(case.dims)}: the reference or the graph is wrong"
        )


def _check_grades_full(spec: AssignmentSpec, report: ValidationReport) -> None:
    from grader.grading import grade

    results = grade(spec, [spec.reference])
    result = results[0]
    failing = [f"{p.function} ({p.status})" for p in result.parts if not p.passed]
    report.add(
        "reference scores 100% in the sandbox",
        not failing and result.score == result.max_score,
        f"{result.score:g}/{result.max_score:g}"
        + (f"; failing: {', '.join(failing)}" if failing else ""),
    )


def _check_notebook(spec: AssignmentSpec, report: ValidationReport) -> None:
    """The student notebook, when shipped, is what ``grader notebook`` writes today: the stubs
    and the handout stay the one source of truth."""
    path = spec.root / f"{spec.name}.ipynb"
    stubs_ok = all(ok for name, ok, _ in report.checks if name.startswith("stub "))
    if not path.is_file() or not stubs_ok:  # fix the stubs first, then regenerate
        return
    from grader.notebook import notebook_text

    current = path.read_text(encoding="utf-8") == notebook_text(spec)
    report.add(
        f"notebook {path.name}",
        current,
        "matches the stubs and the handout"
        if current
        else f"out of date with the stubs or the handout: run grader notebook {spec.root}",
    )


def validate(
    assignment: str | Path, *, reference: str | Path | None = None, seeds: int = 20
) -> ValidationReport:
    if seeds < 1:
        raise UsageError(f"--seeds: expected at least 1, got {seeds}")
    spec = load_spec(assignment, reference=reference)
    report = ValidationReport(assignment=str(assignment))
    report.add(
        "spec",
        True,
        f"{len(spec.problems)} problems, "
        f"{sum(len(p.parts) for p in spec.problems)} parts, "
        f"{spec.max_score:g} points",
    )
    for problem in spec.problems:
        few = problem.cases + problem.hidden_cases < 2
        report.add(
            f"{problem.name}: cases",
            not few,
            f"{problem.cases} public + {problem.hidden_cases} hidden"
            + ("; use at least 2 independent cases" if few else ""),
        )
    _check_stubs(spec, report)
    _check_notebook(spec, report)
    try:
        _check_reference(spec, report, seeds)
    except GraderError as exc:
        report.add("reference", False, str(exc))
        return report
    except ValueError as exc:  # the case generator: unsatisfiable dimension constraints
        report.add("cases", False, str(exc))
        return report
    _check_declared(spec, report, seeds)
    _check_grades_full(spec, report)
    return report


def _check_declared(spec: AssignmentSpec, report: ValidationReport, seeds: int) -> None:
    """A part's declared terms add up to its reference answer, and each declared misconception
    differs from it: one that did not could never be told from a right answer."""
    declaring = [
        p for problem in spec.problems for p in problem.parts if p.terms or p.misconceptions
    ]
    if not declaring:
        return
    failures: dict[str, str] = {}
    try:
        modules = load_reference_modules(spec.reference, reference_module_names(spec))
        for seed in range(spec.seed, spec.seed + seeds):
            cases = tuple(build_cases(p, seed) for p in spec.problems)
            expected = compute_expected(spec, cases, modules)
            declared = compute_declared(spec, cases, expected, modules)
            parts = [
                (part, c)
                for problem, c in zip(spec.problems, cases, strict=True)
                for part in problem.parts
            ]
            for (part, problem_cases), exp, values in zip(parts, expected, declared, strict=True):
                tol = {"rtol": part.tolerance.rtol, "atol": part.tolerance.atol}
                for case in problem_cases if part.terms and part.function not in failures else ():
                    total = sum(values.terms[t.name][case.index] for t in part.terms)
                    if not matches(np.asarray(total), exp[case.index][""], **tol):
                        failures[part.function] = (
                            f"its terms do not add up to the reference on seed {seed} "
                            f"{dict(case.dims)}"
                        )
                        break
                for m in part.misconceptions:
                    same = all(
                        matches(leaf, exp[c.index][path], **tol)
                        for c, leaves in zip(
                            problem_cases, values.misconceptions[m.name], strict=True
                        )
                        for path, leaf in leaves.items()
                    )
                    if same and part.function not in failures:
                        failures[part.function] = (
                            f"misconception {m.name} equals the reference on every case of seed "
                            f"{seed}: it would never be told from a right answer"
                        )
    except GraderError as exc:
        report.add("declared terms and misconceptions", False, str(exc))
        return
    for part in declaring:
        what = ", ".join(
            f"{len(items)} {kind if len(items) > 1 else kind[:-1]}"
            for kind, items in (("terms", part.terms), ("misconceptions", part.misconceptions))
            if items
        )
        report.add(
            f"{part.function}: declared {what}",
            part.function not in failures,
            failures.get(part.function, f"consistent with the reference over {seeds} seeds"),
        )
