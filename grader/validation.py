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

from grader.cases import Case, build_cases, resolve_shape
from grader.errors import GraderError, UsageError
from grader.graph import evaluate_graph, scalar_loss
from grader.numdiff import FD_RTOL, gradient, relative_error
from grader.reference import compute_expected, load_reference_modules
from grader.spec import ArrayOutput, AssignmentSpec, ProblemSpec, declared_leaves, load_spec

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
