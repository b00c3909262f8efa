"""The instructor's reference solutions, run in the trusted grader to get expected outputs.

Computed once per assignment and seed, then shared by every submission in a batch: the
expected output of every part, and the values of what a part declares for its diagnosis (the
terms its answer is the sum of, the known wrong answers). Declared values come from another
part's expected output, a function of the reference modules (or of ``misconceptions.py`` next
to them), or an expression over the case's inputs, dimensions, graph nodes and parts.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from grader.calls import run_call
from grader.cases import Case
from grader.errors import GraderError
from grader.graph import evaluate_expression, evaluate_graph
from grader.harness import flatten_output
from grader.spec import (
    ArrayOutput,
    AssignmentSpec,
    MisconceptionSpec,
    PartSpec,
    ProblemSpec,
    TermSpec,
    output_structure,
)

__all__ = [
    "MISCONCEPTIONS_MODULE",
    "Declared",
    "Expected",
    "compute_declared",
    "compute_expected",
    "load_reference_modules",
    "reference_module_names",
]

# expected[part_index][case_index] -> {leaf path: array}; part_index over all problems' parts.
Expected = list[list[dict[str, np.ndarray]]]

# Functions named by `reference:` in terms and misconceptions are looked up in the problem's
# reference module, then in this optional module of the reference folder: known wrong answers
# need not sit in the solution files.
MISCONCEPTIONS_MODULE = "misconceptions"


@dataclass(frozen=True, slots=True)
class Declared:
    """One part's declared terms and misconceptions, evaluated on every case."""

    terms: Mapping[str, list[np.ndarray]]  # term name -> value per case
    misconceptions: Mapping[str, list[dict[str, np.ndarray]]]  # name -> leaves per case


def load_reference_modules(directory: Path, names: Sequence[str]) -> dict[str, ModuleType]:
    """Import modules from ``directory`` without leaving them (or their path) behind."""
    if not directory.is_dir():
        raise GraderError(
            f"{directory}: reference solutions not found; set 'reference:' in "
            "assignment.yaml or pass --reference DIR"
        )
    saved = {
        name: sys.modules.pop(name)
        for name in list(sys.modules)
        if name in names or any(name.startswith(n + ".") for n in names)
    }
    sys.path.insert(0, str(directory))
    importlib.invalidate_caches()
    modules: dict[str, ModuleType] = {}
    try:
        for name in names:
            if not (directory / f"{name}.py").is_file():
                raise GraderError(f"{directory}: no {name}.py among the reference solutions")
            try:
                modules[name] = importlib.import_module(name)
            except Exception as exc:
                raise GraderError(
                    f"{directory / (name + '.py')}: the reference does not import: "
                    f"{type(exc).__name__}: {exc}"
                ) from None
    finally:
        sys.path.remove(str(directory))
        for name in list(sys.modules):
            if name in names or any(name.startswith(n + ".") for n in names):
                del sys.modules[name]
        sys.modules.update(saved)
    return modules


def _call(fn: Any, args: Sequence[Any]) -> Any:
    return fn(*[np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args])


def compute_expected(
    spec: AssignmentSpec,
    cases: Sequence[Sequence[Case]],
    modules: Mapping[str, ModuleType] | None = None,
) -> Expected:
    if modules is None:
        modules = load_reference_modules(spec.reference, [p.module for p in spec.problems])
    expected: Expected = []
    for problem, problem_cases in zip(spec.problems, cases, strict=True):
        module = modules[problem.module]
        for part in problem.parts:
            where = f"{spec.reference / (problem.module + '.py')}: {part.function}"
            names = [
                s.get("function") or s["new"] for s in part.call if "function" in s or "new" in s
            ] or [part.function]
            for name in names:
                if not callable(getattr(module, name, None)):
                    what = "" if name == part.function else f"{name} (in its call chain) "
                    raise GraderError(f"{where}: {what}not defined in the reference solution")
            fn = getattr(module, part.function, None)
            per_case = []
            for case in problem_cases:
                try:
                    if part.call:
                        value = run_call(
                            part.call,
                            functools.partial(getattr, module),
                            {**case.dims, **case.inputs},
                        )
                    else:
                        value = _call(fn, [case.inputs[a] for a in part.args])
                    leaves = flatten_output(value, output_structure(part.output), "")
                except Exception as exc:
                    raise GraderError(
                        f"{where}: the reference failed on case {case.index} "
                        f"{dict(case.dims)}: {type(exc).__name__}: {exc}"
                    ) from None
                per_case.append(dict(leaves))
            expected.append(per_case)
    return expected


def reference_module_names(spec: AssignmentSpec) -> list[str]:
    """The reference modules grading imports: one per problem, and misconceptions.py if any."""
    names = list(dict.fromkeys(p.module for p in spec.problems))
    if (spec.reference / f"{MISCONCEPTIONS_MODULE}.py").is_file():
        names.append(MISCONCEPTIONS_MODULE)
    return names


def _declared_function(
    modules: Mapping[str, ModuleType], problem: ProblemSpec, name: str, where: str
) -> Any:
    for module in (modules.get(problem.module), modules.get(MISCONCEPTIONS_MODULE)):
        fn = getattr(module, name, None) if module is not None else None
        if callable(fn):
            return fn
    raise GraderError(
        f"{where}: {name} is defined neither in {problem.module}.py nor in "
        f"{MISCONCEPTIONS_MODULE}.py of the reference solutions"
    )


def compute_declared(
    spec: AssignmentSpec,
    cases: Sequence[Sequence[Case]],
    expected: Expected,
    modules: Mapping[str, ModuleType],
) -> list[Declared]:
    """Every part's declared terms and misconceptions, on every case (index as ``expected``)."""
    out: list[Declared] = []
    index = 0
    file = spec.root / "assignment.yaml"
    for p_index, (problem, problem_cases) in enumerate(zip(spec.problems, cases, strict=True)):
        first = index
        index += len(problem.parts)
        # The scope of an expression, per case: inputs, dimensions and graph nodes, over the
        # reference values of the problem's array parts. Built only if an expression needs it.
        scopes: list[dict[str, Any]] = []
        if any(
            d.expression is not None for p in problem.parts for d in (*p.terms, *p.misconceptions)
        ):
            parts = {
                p.function: first + j
                for j, p in enumerate(problem.parts)
                if isinstance(p.output, ArrayOutput)
            }
            for case in problem_cases:
                values = {name: expected[k][case.index][""] for name, k in parts.items()}
                where = f"{file}: problems[{p_index}].graph"
                try:
                    graph = evaluate_graph(problem.compiled, {**case.dims, **case.inputs})
                except Exception as exc:
                    raise GraderError(
                        f"{where}: fails on case {case.index}: {type(exc).__name__}: {exc}"
                    ) from None
                scopes.append({**values, **graph})
        functions = [p.function for p in problem.parts]
        for j, part in enumerate(problem.parts):
            where = f"{file}: problems[{p_index}].parts[{j}]"
            terms = {}
            for k, term in enumerate(part.terms):
                if term.part is not None:
                    at = first + functions.index(term.part)
                    terms[term.name] = [expected[at][c.index][""] for c in problem_cases]
                else:
                    at_where = f"{where}.terms[{k}] ({term.name})"
                    leaves = _evaluate(
                        term, at_where, problem, part, problem_cases, scopes, modules
                    )
                    terms[term.name] = [v[""] for v in leaves]
            misconceptions = {
                m.name: _evaluate(
                    m,
                    f"{where}.misconceptions[{k}] ({m.name})",
                    problem,
                    part,
                    problem_cases,
                    scopes,
                    modules,
                )
                for k, m in enumerate(part.misconceptions)
            }
            out.append(Declared(terms=terms, misconceptions=misconceptions))
    return out


def _evaluate(
    item: TermSpec | MisconceptionSpec,
    where: str,
    problem: ProblemSpec,
    part: PartSpec,
    cases: Sequence[Case],
    scopes: Sequence[Mapping[str, Any]],
    modules: Mapping[str, ModuleType],
) -> list[dict[str, np.ndarray]]:
    """A term or misconception (a reference function or an expression) on every case, as
    leaves like the part's expected output."""
    fn = None
    if item.reference is not None:
        fn = _declared_function(modules, problem, item.reference, where)
    structure = output_structure(part.output)
    per_case = []
    for case in cases:
        try:
            if fn is not None:
                value = _call(fn, [case.inputs[a] for a in part.args])
            else:
                value = evaluate_expression(item.compiled, scopes[case.index])
            per_case.append(dict(flatten_output(value, structure, "")))
        except Exception as exc:
            raise GraderError(
                f"{where}: failed on case {case.index} {dict(case.dims)}: "
                f"{type(exc).__name__}: {exc}"
            ) from None
    return per_case
