"""The instructor's reference solutions, run in the trusted grader to get expected outputs.

Computed once per assignment and seed, then shared by every submission in a batch.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from grader.calls import run_call
from grader.cases import Case
from grader.errors import GraderError
from grader.harness import flatten_output
from grader.runner import output_structure
from grader.spec import AssignmentSpec

__all__ = ["Expected", "compute_expected", "load_reference_modules"]

# expected[part_index][case_index] -> {leaf path: array}; part_index over all problems' parts.
Expected = list[list[dict[str, np.ndarray]]]


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
                    raise GraderError(f"{where}: {name} is not defined in the reference solution")
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
