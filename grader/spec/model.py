"""What an assignment declares: the frozen dataclasses a spec is read into, and defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import Any

SPEC_FILE = "assignment.yaml"
CREDIT_RULES = ("all_or_nothing", "fraction_of_cases")
DISTRIBUTIONS = ("normal", "uniform", "integers")

# Defaults chosen from measurements (shared/notes/gradient-checking-and-latex.md): a correct
# gradient lands within ~1e-8 of the reference, the nearest wrong one ~1e-4 away.
DEFAULT_RTOL = 1e-6
DEFAULT_ATOL = 1e-9
DEFAULT_TIME_LIMIT = 10.0
DEFAULT_CASES = 3


@dataclass(frozen=True, slots=True)
class Tolerance:
    """A result matches when ||got - expected||_F <= atol + rtol * ||expected||_F."""

    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL


@dataclass(frozen=True, slots=True)
class DimSpec:
    name: str
    min: int
    max: int
    distinct_from: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class InputSpec:
    """How one input is drawn. ``shape`` entries are dimension names or ints; () is a scalar."""

    name: str
    shape: tuple[str | int, ...] = ()
    distribution: str = "normal"
    low: float | str = 0.0  # a number, or a dimension name (integers: labels below C)
    high: float | str = 1.0
    scale: float = 1.0


@dataclass(frozen=True, slots=True)
class ArrayOutput:
    """An array (or a scalar: shape ()). Inside a tuple or dict output, a leaf may declare what
    it is, like a part does: the value of a graph node, or a gradient."""

    shape: tuple[str | int, ...]
    value_of: str | None = None
    gradient: GradientSpec | None = None


@dataclass(frozen=True, slots=True)
class TupleOutput:
    items: tuple[OutputSpec, ...]


@dataclass(frozen=True, slots=True)
class DictOutput:
    items: tuple[tuple[str, OutputSpec], ...]


OutputSpec = ArrayOutput | TupleOutput | DictOutput


@dataclass(frozen=True, slots=True)
class GradientSpec:
    """The part is d(of)/d(wrt); with ``through``, only along the edges into those nodes."""

    of: str
    wrt: str
    through: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TermSpec:
    """One term of a part's correct answer (the answer is the sum of its terms), computed from
    exactly one of: another ``part`` of the problem, a ``reference`` function, an
    ``expression`` over inputs, dimensions, graph nodes and the problem's parts."""

    name: str
    label: str  # completes "... is missing", e.g. "the path through a = Wx"
    part: str | None = None
    reference: str | None = None
    expression: str | None = None
    compiled: CodeType | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class MisconceptionSpec:
    """A known wrong answer: the message a student who gives it reads, and the fraction of
    the part's points it earns. Computed from a ``reference`` function or an ``expression``."""

    name: str
    message: str
    credit: float = 0.0
    reference: str | None = None
    expression: str | None = None
    compiled: CodeType | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class PartSpec:
    function: str
    points: float
    output: OutputSpec
    args: tuple[str, ...]
    tolerance: Tolerance
    time_limit: float
    credit: str = "all_or_nothing"
    value_of: str | None = None
    gradient: GradientSpec | None = None
    # Declared call chain (grader.calls); empty: call function(*args) from the problem's module.
    call: tuple[Mapping[str, Any], ...] = ()
    # Diagnosis (grader.diagnosis, grader.scoring): the answer as a sum of terms, known wrong
    # answers, and the parts this one builds on ("fix grad_K first").
    terms: tuple[TermSpec, ...] = ()
    misconceptions: tuple[MisconceptionSpec, ...] = ()
    uses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProblemSpec:
    name: str
    title: str
    module: str
    dims: tuple[DimSpec, ...]
    inputs: tuple[InputSpec, ...]
    graph: tuple[tuple[str, str], ...]
    parts: tuple[PartSpec, ...]
    cases: int
    hidden_cases: int = 0
    # Modules replaced by inert stand-ins in the sandbox when not installed (plotting imports
    # that ride along in real submissions: matplotlib, matplotlib.pyplot).
    stub_modules: tuple[str, ...] = ()
    # Names a LaTeX answer may use (grader.answers); None: every input, dimension and node.
    symbols: tuple[str, ...] | None = None
    compiled: tuple[tuple[str, CodeType], ...] = field(default=(), compare=False, repr=False)
    # Conditions every case must meet (expressions over inputs, dimensions and graph nodes); a
    # case that fails one is drawn again (grader.cases). E.g. keep a ReLU's inputs away from its
    # kink, where finite differences would straddle it: abs(z1) > 0.01 (every entry).
    assume: tuple[str, ...] = ()
    assume_compiled: tuple[CodeType, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class AssignmentSpec:
    name: str
    title: str
    root: Path
    seed: int
    problems: tuple[ProblemSpec, ...]
    reference: Path
    # Packages the assignment needs besides numpy (checked before grading starts).
    requires: tuple[str, ...] = ()

    @property
    def max_score(self) -> float:
        return sum(p.points for problem in self.problems for p in problem.parts)

    def part(self, function: str) -> tuple[ProblemSpec, PartSpec]:
        for problem in self.problems:
            for part in problem.parts:
                if part.function == function:
                    return problem, part
        raise KeyError(function)


def declared_leaves(part: PartSpec) -> list[tuple[str, ArrayOutput]]:
    """Every array of a part's output with its leaf path (as the harness names it: ``[1]['W1']``)
    and what it is declared to be; a part's own ``value_of``/``gradient`` describe its single
    array output."""
    if isinstance(part.output, ArrayOutput):
        leaf = part.output
        if part.value_of is not None or part.gradient is not None:
            leaf = ArrayOutput(leaf.shape, value_of=part.value_of, gradient=part.gradient)
        return [("", leaf)]
    out: list[tuple[str, ArrayOutput]] = []

    def walk(spec: OutputSpec, path: str) -> None:
        if isinstance(spec, ArrayOutput):
            out.append((path, spec))
        elif isinstance(spec, TupleOutput):
            for k, item in enumerate(spec.items):
                walk(item, f"{path}[{k}]")
        else:
            for key, item in spec.items:
                walk(item, f"{path}[{key!r}]")

    walk(part.output, "")
    return out


def output_structure(output: OutputSpec) -> dict[str, Any]:
    """The output spec as the JSON the harness walks (it needs no shapes: the grader checks)."""
    if isinstance(output, ArrayOutput):
        return {"k": "array"}
    if isinstance(output, TupleOutput):
        return {"k": "tuple", "items": [output_structure(o) for o in output.items]}
    assert isinstance(output, DictOutput)
    return {
        "k": "dict",
        "keys": [k for k, _ in output.items],
        "items": [output_structure(o) for _, o in output.items],
    }
