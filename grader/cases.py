"""Random cases: dimensions and inputs drawn from the spec, deterministically from the seed.

Pure, importing only the spec dataclasses and the graph evaluator (a leaf). Every problem
draws from its own stream (seed, problem name), so adding a problem does not change another
problem's cases. A problem's ``assume:`` conditions are met by drawing a case again (dimensions
and inputs) until they hold, like hypothesis's ``assume``; without conditions a case is drawn
exactly once.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.graph import evaluate_expression, evaluate_graph
from grader.spec import DimSpec, InputSpec, ProblemSpec

__all__ = ["Case", "CaseError", "build_cases", "resolve_shape"]

# Rejection sampling of dimension constraints gives up after this many draws: a spec whose
# constraints cannot be met (m in 2..2, n in 2..2, n != m) is an instructor error, said clearly.
# The same bound holds for redrawing a case until its assume: conditions hold.
MAX_DRAWS = 1000


class CaseError(ValueError):
    """The spec's constraints cannot be met; ``key`` is the problem's key at fault."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True, slots=True)
class Case:
    index: int
    hidden: bool
    dims: Mapping[str, int]
    inputs: Mapping[str, Any]  # name -> float64 ndarray, or float for a scalar


def _rng(seed: int, problem: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(problem.encode())])


def resolve_shape(shape: tuple[str | int, ...], dims: Mapping[str, int]) -> tuple[int, ...]:
    return tuple(dims[s] if isinstance(s, str) else s for s in shape)


def _draw_dims(
    rng: np.random.Generator, specs: tuple[DimSpec, ...], problem: str
) -> dict[str, int]:
    for _ in range(MAX_DRAWS):
        dims = {d.name: int(rng.integers(d.min, d.max + 1)) for d in specs}
        if all(dims[d.name] != dims[o] for d in specs for o in d.distinct_from):
            return dims
    raise CaseError(
        f"problem {problem}: no dimensions satisfy the distinct_from constraints "
        f"in {MAX_DRAWS} draws; widen the ranges",
        "dims",
    )


def _draw_input(rng: np.random.Generator, spec: InputSpec, dims: Mapping[str, int]) -> Any:
    shape = resolve_shape(spec.shape, dims)
    if spec.distribution == "normal":
        value = rng.normal(0.0, spec.scale, size=shape)
    elif spec.distribution == "uniform":
        value = rng.uniform(float(spec.low), float(spec.high), size=shape)
    else:
        low = dims[spec.low] if isinstance(spec.low, str) else int(spec.low)
        high = dims[spec.high] if isinstance(spec.high, str) else int(spec.high)
        value = rng.integers(low, high, size=shape)
        return value.astype(np.int64) if shape else int(value)
    return np.ascontiguousarray(value, dtype=np.float64) if shape else float(value)


def _failed_assumption(problem: ProblemSpec, values: Mapping[str, Any]) -> int | None:
    """The index of the first assume: condition these values fail, or None."""
    with np.errstate(all="ignore"):
        env = evaluate_graph(problem.compiled, values)
        for k, code in enumerate(problem.assume_compiled):
            if not bool(np.all(evaluate_expression(code, env))):
                return k
    return None


def build_cases(problem: ProblemSpec, seed: int) -> tuple[Case, ...]:
    """The problem's public cases, then its hidden ones."""
    rng = _rng(seed, problem.name)
    cases = []
    for index in range(problem.cases + problem.hidden_cases):
        for _ in range(MAX_DRAWS):
            dims = _draw_dims(rng, problem.dims, problem.name)
            inputs = {spec.name: _draw_input(rng, spec, dims) for spec in problem.inputs}
            if not problem.assume:
                break
            failed = _failed_assumption(problem, {**dims, **inputs})
            if failed is None:
                break
        else:
            raise CaseError(
                f"problem {problem.name}: no case met assume[{failed}] "
                f"({problem.assume[failed]}) in {MAX_DRAWS} draws; loosen it",
                "assume",
            )
        cases.append(Case(index=index, hidden=index >= problem.cases, dims=dims, inputs=inputs))
    return tuple(cases)
