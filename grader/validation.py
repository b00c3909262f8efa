"""``grader validate``: is this assignment ready to hand out?

Checks, in order: the spec parses; every stub defines every part's function with the declared
arguments and raises NotImplementedError; the graph evaluates on random cases; each reference
output has the declared shape, each ``value_of`` part equals its graph node, and each reference
gradient agrees with finite differences of its declared loss on many seeds; finally the
reference, graded as a submission through the sandbox, scores 100%.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.cases import build_cases, resolve_shape
from grader.errors import GraderError, UsageError
from grader.graph import evaluate_graph, scalar_loss
from grader.numdiff import FD_RTOL, gradient, relative_error
from grader.reference import compute_expected, load_reference_modules
from grader.spec import ArrayOutput, AssignmentSpec, load_spec

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
        defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        problems = []
        for part in problem.parts:
            node = defs.get(part.function)
            if node is None:
                problems.append(f"{part.function} is not defined")
                continue
            args = tuple(a.arg for a in node.args.posonlyargs + node.args.args)
            if args != part.args:
                problems.append(f"{part.function}{args} but the spec calls it with {part.args}")
            raises = any(
                isinstance(n, ast.Raise) and "NotImplementedError" in ast.unparse(n)
                for n in ast.walk(node)
            )
            if not raises:
                problems.append(
                    f"{part.function} does not raise NotImplementedError "
                    "(does the stub give the answer away?)"
                )
        report.add(f"stub {path.name}", not problems, "; ".join(problems))


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
                    if isinstance(part.output, ArrayOutput) and part.function not in failures:
                        shape = resolve_shape(part.output.shape, case.dims)
                        actual = next(iter(got.values())).shape
                        if actual != shape and not (shape == () and np.prod(actual) == 1):
                            failures[part.function] = (
                                f"reference returns shape {actual}, spec says {shape} "
                                f"(seed {seed}, {dict(case.dims)})"
                            )
                    _check_against_graph(problem, part, case, got, seed, worst, failures)
                index += 1
    for problem in spec.problems:
        for part in problem.parts:
            if part.gradient is None and part.value_of is None:
                continue
            kind = "finite differences" if part.gradient else f"graph node {part.value_of}"
            name = f"reference {part.function} vs {kind}"
            if part.function in failures:
                report.add(name, False, failures[part.function])
            else:
                report.add(
                    name,
                    True,
                    f"worst relative error {worst.get(part.function, 0):.1e} over {seeds} seeds",
                )


def _check_against_graph(problem, part, case, got, seed, worst, failures) -> None:
    if part.function in failures or (part.gradient is None and part.value_of is None):
        return
    values = {**case.dims, **case.inputs}
    value = next(iter(got.values()))
    try:
        if part.value_of is not None:
            target = evaluate_graph(problem.compiled, values, until=part.value_of)[part.value_of]
            limit = part.tolerance.rtol
        else:
            g = part.gradient
            f, at = scalar_loss(problem.compiled, values, of=g.of, wrt=g.wrt, through=g.through)
            target = gradient(f, at)
            limit = FD_RTOL
    except Exception as exc:
        failures[part.function] = f"the graph fails on seed {seed}: {type(exc).__name__}: {exc}"
        return
    target = np.asarray(target, dtype=float)
    value = (
        np.asarray(value, dtype=float).reshape(target.shape) if value.size == target.size else value
    )
    if value.shape != target.shape:
        failures[part.function] = f"reference shape {value.shape}, graph gives {target.shape}"
        return
    err = relative_error(value, target)
    worst[part.function] = max(worst.get(part.function, 0.0), err)
    if err > limit:
        failures[part.function] = (
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
    try:
        _check_reference(spec, report, seeds)
    except GraderError as exc:
        report.add("reference", False, str(exc))
        return report
    except ValueError as exc:  # the case generator: unsatisfiable dimension constraints
        report.add("cases", False, str(exc))
        return report
    _check_grades_full(spec, report)
    return report
