"""The assignment spec: ``assignment.yaml`` read into frozen dataclasses, validated up front.

Every error names the file, the key path, the bad value and what is allowed, e.g.
``assignments/hw1/assignment.yaml: problems[1].parts[2].points: expected a number >= 0, got -1``.
The YAML keys match the dataclass fields one to one; the format is documented in the README.
"""

from __future__ import annotations

import ast
import difflib
import keyword
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import Any

import yaml

from grader.calls import STEP_KINDS, step_names
from grader.errors import SpecError
from grader.graph import FUNCTIONS, compile_expression

__all__ = [
    "ArrayOutput",
    "AssignmentSpec",
    "DictOutput",
    "DimSpec",
    "GradientSpec",
    "InputSpec",
    "MisconceptionSpec",
    "OutputSpec",
    "PartSpec",
    "ProblemSpec",
    "TermSpec",
    "Tolerance",
    "TupleOutput",
    "load_spec",
]

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


# --------------------------------------------------------------------------- reading helpers


class _Reader:
    """Typed access to YAML values that raises SpecError with the key path."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, where: str, problem: str) -> SpecError:
        return SpecError(self.file, where, problem)

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, f"expected a mapping, got {_show(value)}")
        return value

    def keys(self, value: Mapping[str, Any], where: str, allowed: Sequence[str]) -> None:
        for key in value:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
                raise self.fail(
                    _join(where, str(key)),
                    f"unknown key{suggestion} (allowed: {', '.join(allowed)})",
                )

    def required(self, value: Mapping[str, Any], key: str, where: str) -> Any:
        if key not in value:
            raise self.fail(_join(where, key), "missing required key")
        return value[key]

    def name(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.isidentifier() or keyword.iskeyword(value):
            raise self.fail(
                where, f"expected an identifier (letters, digits, _), got {_show(value)}"
            )
        return value

    def slug(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value):
            raise self.fail(
                where, f"expected a name of letters, digits, '-', '_' or '.', got {_show(value)}"
            )
        return value

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"expected a non-empty string, got {_show(value)}")
        return value

    def integer(self, value: Any, where: str, *, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f"expected an integer, got {_show(value)}")
        if minimum is not None and value < minimum:
            raise self.fail(where, f"expected an integer >= {minimum}, got {value}")
        return value

    def number(
        self, value: Any, where: str, *, minimum: float | None = None, strict: bool = False
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(where, f"expected a number, got {_show(value)}")
        if not math.isfinite(value):
            raise self.fail(where, f"expected a finite number, got {value}")
        if minimum is not None and (value <= minimum if strict else value < minimum):
            op = ">" if strict else ">="
            raise self.fail(where, f"expected a number {op} {minimum:g}, got {value}")
        return float(value)

    def choice(self, value: Any, where: str, allowed: Sequence[str]) -> str:
        if value not in allowed:
            raise self.fail(where, f"expected one of {', '.join(allowed)}, got {_show(value)}")
        return str(value)

    def sequence(self, value: Any, where: str) -> Sequence[Any]:
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list, got {_show(value)}")
        return value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _join(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


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
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
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


def _modules(r: _Reader, raw: Any, where: str) -> tuple[str, ...]:
    names = []
    for k, value in enumerate(r.sequence(raw, where)):
        text = r.text(value, f"{where}[{k}]")
        if not all(part.isidentifier() for part in text.split(".")):
            raise r.fail(f"{where}[{k}]", f"expected a module name like scipy.linalg, got {text!r}")
        names.append(text)
    return tuple(names)


def _unique(r: _Reader, named: list[tuple[str, str]], what: str) -> None:
    seen: dict[str, str] = {}
    for where, value in named:
        if value in seen:
            raise r.fail(where, f"duplicate {what} {value!r} (first at {seen[value]})")
        seen[value] = where


def _tolerance(r: _Reader, raw: Any, where: str, default: Tolerance) -> Tolerance:
    if raw is None:
        return default
    m = r.mapping(raw, where)
    r.keys(m, where, ("rtol", "atol"))
    return Tolerance(
        rtol=r.number(m.get("rtol", default.rtol), _join(where, "rtol"), minimum=0),
        atol=r.number(m.get("atol", default.atol), _join(where, "atol"), minimum=0),
    )


def _problem(r: _Reader, raw: Any, where: str, defaults: Mapping[str, Any]) -> ProblemSpec:
    m = r.mapping(raw, where)
    r.keys(
        m,
        where,
        (
            "name",
            "title",
            "module",
            "dims",
            "inputs",
            "graph",
            "args",
            "parts",
            "cases",
            "hidden_cases",
            "tolerance",
            "time_limit",
            "symbols",
            "stub_modules",
            "assume",
        ),
    )
    name = r.name(r.required(m, "name", where), _join(where, "name"))
    module = r.name(m.get("module", name), _join(where, "module"))
    dims = _dims(r, m.get("dims", {}), _join(where, "dims"))
    dim_names = [d.name for d in dims]
    inputs = _inputs(r, m.get("inputs", {}), _join(where, "inputs"), dim_names)
    input_names = [i.name for i in inputs]
    _unique(
        r,
        [(_join(where, "dims"), n) for n in dim_names]
        + [(_join(where, "inputs"), n) for n in input_names],
        "name",
    )
    graph, compiled = _graph(
        r, m.get("graph", {}), _join(where, "graph"), known=dim_names + input_names
    )
    node_names = [n for n, _ in graph]
    assume, assume_compiled = _assume(
        r, m.get("assume", []), _join(where, "assume"), [*dim_names, *input_names, *node_names]
    )
    symbols = None
    if "symbols" in m:
        symbols = _symbols(
            r, m["symbols"], _join(where, "symbols"), dim_names, input_names, node_names
        )
    args_default = tuple(
        r.name(a, _join(where, f"args[{k}]"))
        for k, a in enumerate(r.sequence(m.get("args", input_names), _join(where, "args")))
    )
    for k, a in enumerate(args_default):
        if a not in input_names:
            raise r.fail(
                _join(where, f"args[{k}]"),
                f"{a!r} is not an input (inputs: {', '.join(input_names)})",
            )
    pdefaults = {
        **defaults,
        "tolerance": _tolerance(
            r, m.get("tolerance"), _join(where, "tolerance"), defaults["tolerance"]
        ),
        "time_limit": r.number(
            m.get("time_limit", defaults["time_limit"]),
            _join(where, "time_limit"),
            minimum=0,
            strict=True,
        ),
    }
    parts_raw = r.sequence(r.required(m, "parts", where), _join(where, "parts"))
    if not parts_raw:
        raise r.fail(_join(where, "parts"), "expected at least one part")
    parts = tuple(
        _part(
            r,
            item,
            _join(where, f"parts[{j}]"),
            pdefaults,
            args_default,
            dim_names,
            input_names,
            node_names,
        )
        for j, item in enumerate(parts_raw)
    )
    _check_links(r, where, parts, [*dim_names, *input_names, *node_names])
    return ProblemSpec(
        name=name,
        title=r.text(m.get("title", name), _join(where, "title")),
        module=module,
        dims=dims,
        inputs=inputs,
        graph=graph,
        parts=parts,
        cases=r.integer(m.get("cases", defaults["cases"]), _join(where, "cases"), minimum=1),
        hidden_cases=r.integer(
            m.get("hidden_cases", defaults["hidden_cases"]), _join(where, "hidden_cases"), minimum=0
        ),
        symbols=symbols,
        stub_modules=_modules(r, m.get("stub_modules", []), _join(where, "stub_modules")),
        compiled=compiled,
        assume=assume,
        assume_compiled=assume_compiled,
    )


# What grader.latex reads as one symbol besides a single letter (written \alpha, \Sigma, ...).
LATEX_GREEK = frozenset(
    """alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu
    xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta
    Lambda Xi Pi Sigma Upsilon Phi Psi Omega""".split()  # noqa: SIM905
)


def _symbols(
    r: _Reader,
    raw: Any,
    where: str,
    dim_names: Sequence[str],
    input_names: Sequence[str],
    node_names: Sequence[str],
) -> tuple[str, ...]:
    known = [*input_names, *dim_names, *node_names]
    out: list[str] = []
    for k, name in enumerate(r.sequence(raw, where)):
        w = f"{where}[{k}]"
        if name not in known:
            hint = difflib.get_close_matches(str(name), known, n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
            raise r.fail(
                w,
                f"{_show(name)} is not an input, dimension or graph node{suggestion} "
                f"(known: {', '.join(known)})",
            )
        if not ((len(name) == 1 and name.isascii() and name.isalpha()) or name in LATEX_GREEK):
            raise r.fail(
                w,
                f"{name!r} cannot be written in a LaTeX answer: expected a single letter or a "
                "Greek letter name such as alpha",
            )
        out.append(name)
    return tuple(out)


def _dims(r: _Reader, raw: Any, where: str) -> tuple[DimSpec, ...]:
    m = r.mapping(raw, where)
    out: list[DimSpec] = []
    for key, value in m.items():
        w = _join(where, str(key))
        name = r.name(key, w)
        if isinstance(value, int) and not isinstance(value, bool):
            value = {"min": value, "max": value}
        d = r.mapping(value, w)
        r.keys(d, w, ("min", "max", "distinct_from"))
        lo = r.integer(r.required(d, "min", w), _join(w, "min"), minimum=1)
        hi = r.integer(r.required(d, "max", w), _join(w, "max"), minimum=lo)
        distinct_raw = d.get("distinct_from", [])
        if isinstance(distinct_raw, str):
            distinct_raw = [distinct_raw]
        distinct = tuple(
            r.name(x, _join(w, "distinct_from"))
            for x in r.sequence(distinct_raw, _join(w, "distinct_from"))
        )
        for other in distinct:
            if other not in m:
                raise r.fail(
                    _join(w, "distinct_from"),
                    f"{other!r} is not a dimension (dims: {', '.join(map(str, m))})",
                )
        out.append(DimSpec(name=name, min=lo, max=hi, distinct_from=distinct))
    return tuple(out)


def _shape(r: _Reader, raw: Any, where: str, dim_names: Sequence[str]) -> tuple[str | int, ...]:
    out: list[str | int] = []
    for k, entry in enumerate(r.sequence(raw, where)):
        w = f"{where}[{k}]"
        if isinstance(entry, int) and not isinstance(entry, bool):
            out.append(r.integer(entry, w, minimum=1))
        elif isinstance(entry, str) and entry in dim_names:
            out.append(entry)
        else:
            raise r.fail(
                w,
                f"expected a dimension name ({', '.join(dim_names) or 'none declared'})"
                f" or a positive integer, got {_show(entry)}",
            )
    return tuple(out)


def _inputs(r: _Reader, raw: Any, where: str, dim_names: Sequence[str]) -> tuple[InputSpec, ...]:
    m = r.mapping(raw, where)
    out: list[InputSpec] = []
    for key, value in m.items():
        w = _join(where, str(key))
        name = r.name(key, w)
        d = r.mapping(value if value is not None else {}, w)
        r.keys(d, w, ("shape", "distribution", "low", "high", "scale"))
        dist = r.choice(d.get("distribution", "normal"), _join(w, "distribution"), DISTRIBUTIONS)
        low = _bound(r, d.get("low", 0.0), _join(w, "low"), dim_names, dist)
        high = _bound(r, d.get("high", 1.0), _join(w, "high"), dim_names, dist)
        if dist != "normal" and isinstance(low, float) and isinstance(high, float) and high <= low:
            raise r.fail(_join(w, "high"), f"expected a number > low ({low:g}), got {high:g}")
        out.append(
            InputSpec(
                name=name,
                shape=_shape(r, d.get("shape", []), _join(w, "shape"), dim_names),
                distribution=dist,
                low=low,
                high=high,
                scale=r.number(d.get("scale", 1.0), _join(w, "scale"), minimum=0, strict=True),
            )
        )
    return tuple(out)


def _bound(r: _Reader, raw: Any, where: str, dim_names: Sequence[str], dist: str) -> float | str:
    """A distribution bound: a number, or for integers a dimension (labels 0 <= y < C)."""
    if isinstance(raw, str) and dist == "integers":
        if raw not in dim_names:
            raise r.fail(
                where, f"expected a number or a dimension ({', '.join(dim_names)}), got {raw!r}"
            )
        return raw
    return r.number(raw, where)


def _graph(
    r: _Reader, raw: Any, where: str, known: Sequence[str]
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, CodeType], ...]]:
    m = r.mapping(raw, where)
    names = list(known)
    graph: list[tuple[str, str]] = []
    compiled: list[tuple[str, CodeType]] = []
    for key, value in m.items():
        w = _join(where, str(key))
        name = r.name(key, w)
        if name in names:
            raise r.fail(w, f"{name!r} is already an input, dimension or node")
        source = r.text(value if not isinstance(value, (int, float)) else str(value), w)
        try:
            code = compile_expression(source, f"{r.file}:{w}")
        except SyntaxError as exc:
            raise r.fail(w, f"invalid expression {source!r}: {exc.msg}") from None
        for used in _free_names(source):
            if used not in names and used not in FUNCTIONS:
                hint = difflib.get_close_matches(used, [*names, *FUNCTIONS], n=1)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
                raise r.fail(
                    w,
                    f"unknown name {used!r} in {source!r}{suggestion} (nodes may use "
                    "inputs, dimensions, earlier nodes and the functions in the README)",
                )
        graph.append((name, source))
        compiled.append((name, code))
        names.append(name)
    return tuple(graph), tuple(compiled)


def _assume(
    r: _Reader, raw: Any, where: str, known: Sequence[str]
) -> tuple[tuple[str, ...], tuple[CodeType, ...]]:
    """Conditions on a case: expressions over inputs, dimensions and graph nodes."""
    sources: list[str] = []
    compiled: list[CodeType] = []
    for k, value in enumerate(r.sequence(raw, where)):
        w = f"{where}[{k}]"
        source = r.text(value, w)
        try:
            compiled.append(compile_expression(source, f"{r.file}:{w}"))
        except SyntaxError as exc:
            raise r.fail(w, f"invalid expression {source!r}: {exc.msg}") from None
        for used in _free_names(source):
            if used not in known and used not in FUNCTIONS:
                hint = difflib.get_close_matches(used, [*known, *FUNCTIONS], n=1)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
                raise r.fail(
                    w,
                    f"unknown name {used!r} in {source!r}{suggestion} (a condition may use "
                    "inputs, dimensions, graph nodes and the functions in the README)",
                )
        sources.append(source)
    return tuple(sources), tuple(compiled)


def _free_names(source: str) -> list[str]:
    """Names an expression reads (not attributes such as the T of W.T)."""
    tree = ast.parse(source, mode="eval")
    return [n.id for n in ast.walk(tree) if isinstance(n, ast.Name)]


def _output(
    r: _Reader,
    raw: Any,
    where: str,
    dim_names: Sequence[str],
    input_names: Sequence[str] = (),
    node_names: Sequence[str] = (),
) -> OutputSpec:
    m = r.mapping(raw, where)
    kinds = [k for k in ("shape", "tuple", "dict") if k in m]
    if len(kinds) != 1:
        raise r.fail(
            where,
            "expected exactly one of shape: [...], tuple: [...], dict: {...}, "
            f"got keys {sorted(map(str, m))}",
        )
    kind = kinds[0]
    value = m[kind]
    w = _join(where, kind)
    if kind == "shape":
        r.keys(m, where, ("shape", "value_of", "gradient"))
        value_of = m.get("value_of")
        if value_of is not None and value_of not in node_names:
            raise r.fail(
                _join(where, "value_of"),
                f"{value_of!r} is not a graph node (nodes: {', '.join(node_names) or 'none'})",
            )
        gradient = None
        if "gradient" in m:
            gradient = _gradient(
                r, m["gradient"], _join(where, "gradient"), input_names, node_names
            )
        return ArrayOutput(_shape(r, value, w, dim_names), value_of=value_of, gradient=gradient)
    r.keys(m, where, (kind,))
    if kind == "tuple":
        return TupleOutput(
            tuple(
                _output(r, v, f"{w}[{k}]", dim_names, input_names, node_names)
                for k, v in enumerate(r.sequence(value, w))
            )
        )
    d = r.mapping(value, w)
    return DictOutput(
        tuple(
            (
                r.text(str(k), _join(w, str(k))),
                _output(r, v, _join(w, str(k)), dim_names, input_names, node_names),
            )
            for k, v in d.items()
        )
    )


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


def _part(
    r: _Reader,
    raw: Any,
    where: str,
    defaults: Mapping[str, Any],
    args_default: tuple[str, ...],
    dim_names: Sequence[str],
    input_names: Sequence[str],
    node_names: Sequence[str],
) -> PartSpec:
    m = r.mapping(raw, where)
    r.keys(
        m,
        where,
        (
            "function",
            "points",
            "output",
            "args",
            "tolerance",
            "time_limit",
            "credit",
            "value_of",
            "gradient",
            "call",
            "terms",
            "misconceptions",
            "uses",
        ),
    )
    function = r.name(r.required(m, "function", where), _join(where, "function"))
    call: tuple[Mapping[str, Any], ...] = ()
    if "call" in m:
        if "args" in m:
            raise r.fail(_join(where, "args"), "give either args or call, not both")
        call = _call(r, m["call"], _join(where, "call"), [*dim_names, *input_names])
    args = args_default
    if "args" in m:
        args = tuple(
            r.name(a, _join(where, f"args[{k}]"))
            for k, a in enumerate(r.sequence(m["args"], _join(where, "args")))
        )
        for k, a in enumerate(args):
            if a not in input_names:
                raise r.fail(
                    _join(where, f"args[{k}]"),
                    f"{a!r} is not an input (inputs: {', '.join(input_names)})",
                )
    value_of = m.get("value_of")
    if value_of is not None and value_of not in node_names:
        raise r.fail(
            _join(where, "value_of"),
            f"{value_of!r} is not a graph node (nodes: {', '.join(node_names) or 'none'})",
        )
    gradient = None
    if "gradient" in m:
        gradient = _gradient(r, m["gradient"], _join(where, "gradient"), input_names, node_names)
    return PartSpec(
        function=function,
        points=r.number(r.required(m, "points", where), _join(where, "points"), minimum=0),
        output=_output(
            r,
            r.required(m, "output", where),
            _join(where, "output"),
            dim_names,
            input_names,
            node_names,
        ),
        args=args,
        tolerance=_tolerance(
            r, m.get("tolerance"), _join(where, "tolerance"), defaults["tolerance"]
        ),
        time_limit=r.number(
            m.get("time_limit", defaults["time_limit"]),
            _join(where, "time_limit"),
            minimum=0,
            strict=True,
        ),
        credit=r.choice(m.get("credit", "all_or_nothing"), _join(where, "credit"), CREDIT_RULES),
        value_of=value_of,
        gradient=gradient,
        call=call,
        terms=_terms(r, m.get("terms", []), _join(where, "terms")),
        misconceptions=_misconceptions(
            r, m.get("misconceptions", []), _join(where, "misconceptions")
        ),
        uses=tuple(
            r.name(u, _join(where, f"uses[{k}]"))
            for k, u in enumerate(r.sequence(m.get("uses", []), _join(where, "uses")))
        ),
    )


def _call(r: _Reader, raw: Any, where: str, known: Sequence[str]) -> tuple[Mapping[str, Any], ...]:
    """A call chain (grader.calls): steps that bind names for the next ones."""
    steps_raw = r.sequence(raw, where)
    if not steps_raw:
        raise r.fail(where, "expected at least one step")
    names = list(known)
    steps: list[Mapping[str, Any]] = []
    for k, raw_step in enumerate(steps_raw):
        w = f"{where}[{k}]"
        step = dict(r.mapping(raw_step, w))
        kinds = [kind for kind in STEP_KINDS if kind in step]
        if len(kinds) != 1:
            raise r.fail(
                w,
                f"expected exactly one of {', '.join(STEP_KINDS)}, "
                f"got keys {sorted(map(str, step))}",
            )
        kind = kinds[0]
        if kind == "result":
            # The part's output is a value an earlier step bound (or a tuple of them): a
            # forward function's out without its opaque cache.
            r.keys(step, w, ("result",))
            if k != len(steps_raw) - 1:
                raise r.fail(_join(w, "result"), "a result step can only be the last step")
            raw_names, where_names = step["result"], _join(w, "result")
            if isinstance(raw_names, str):
                r.name(raw_names, where_names)
            elif not r.sequence(raw_names, where_names):
                raise r.fail(where_names, "expected a name or a non-empty list of names")
            else:
                for j, name in enumerate(raw_names):
                    r.name(name, f"{where_names}[{j}]")
        else:
            r.keys(
                step, w, (kind, "args", "kwargs", "returns") if kind != "set" else ("set", "value")
            )
        target = "" if kind == "result" else r.text(step[kind], _join(w, kind))
        if kind in ("method", "set"):
            owner, dot, attribute = target.partition(".")
            if not dot or not owner.isidentifier() or not attribute.isidentifier():
                raise r.fail(_join(w, kind), f"expected OBJECT.NAME, got {target!r}")
        elif kind != "result" and not target.isidentifier():
            raise r.fail(_join(w, kind), f"expected a name, got {target!r}")
        if kind == "set" and "value" not in step:
            raise r.fail(_join(w, "value"), "missing required key")
        r.sequence(step.get("args", []), _join(w, "args"))
        r.mapping(step.get("kwargs", {}), _join(w, "kwargs"))
        for used in step_names(step):
            if used not in names:
                hint = difflib.get_close_matches(used, names, n=1)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
                raise r.fail(
                    w,
                    f"unknown name {used!r}{suggestion} (steps may use inputs, "
                    "dimensions and names bound by earlier steps' returns:)",
                )
        if step.get("returns") is not None:
            names += _returns(r, step["returns"], _join(w, "returns"))
        steps.append(step)
    if "set" in steps[-1]:
        raise r.fail(
            f"{where}[{len(steps) - 1}]",
            "the last step gives the part's output: it cannot be a set",
        )
    return tuple(steps)


def _returns(r: _Reader, raw: Any, where: str) -> list[str]:
    """A returns pattern (grader.calls): a name, a list of patterns (tuple unpacking) or a
    mapping {key: pattern} (dict lookup); the names it binds."""
    if isinstance(raw, str):
        return [r.name(raw, where)]
    if isinstance(raw, Mapping):
        items = [(_join(where, str(k)), v) for k, v in raw.items()]
    else:
        items = [(f"{where}[{k}]", v) for k, v in enumerate(r.sequence(raw, where))]
    if not items:
        raise r.fail(where, "expected a name, a list or a mapping of names, got an empty one")
    return [name for w, item in items for name in _returns(r, item, w)]


def _source(
    r: _Reader, m: Mapping[str, Any], where: str, kinds: Sequence[str]
) -> tuple[str, str, CodeType | None]:
    """Which of `kinds` (part, reference, expression) computes a term or misconception."""
    given = [k for k in kinds if k in m]
    if len(given) != 1:
        raise r.fail(where, f"expected exactly one of {', '.join(kinds)}, got {given or 'none'}")
    kind = given[0]
    w = _join(where, kind)
    if kind != "expression":
        return kind, r.name(m[kind], w), None
    raw = m[kind]
    source = r.text(raw if not isinstance(raw, (int, float)) else str(raw), w)
    try:
        return kind, source, compile_expression(source, f"{r.file}:{w}")
    except SyntaxError as exc:
        raise r.fail(w, f"invalid expression {source!r}: {exc.msg}") from None


def _terms(r: _Reader, raw: Any, where: str) -> tuple[TermSpec, ...]:
    items = r.sequence(raw, where)
    if len(items) == 1:
        raise r.fail(where, "expected at least two terms (the answer is their sum)")
    out = []
    for k, item in enumerate(items):
        w = f"{where}[{k}]"
        m = r.mapping(item, w)
        r.keys(m, w, ("name", "label", "part", "reference", "expression"))
        kind, value, code = _source(r, m, w, ("part", "reference", "expression"))
        if "name" in m or kind == "expression":
            name = r.name(r.required(m, "name", w), _join(w, "name"))
        else:
            name = value
        out.append(
            TermSpec(
                name=name,
                label=r.text(r.required(m, "label", w), _join(w, "label")),
                compiled=code,
                **{kind: value},
            )
        )
    _unique(r, [(f"{where}[{k}].name", t.name) for k, t in enumerate(out)], "term name")
    return tuple(out)


def _misconceptions(r: _Reader, raw: Any, where: str) -> tuple[MisconceptionSpec, ...]:
    out = []
    for k, item in enumerate(r.sequence(raw, where)):
        w = f"{where}[{k}]"
        m = r.mapping(item, w)
        r.keys(m, w, ("name", "message", "credit", "reference", "expression"))
        kind, value, code = _source(r, m, w, ("reference", "expression"))
        credit = r.number(m.get("credit", 0.0), _join(w, "credit"), minimum=0)
        if not credit <= 1:  # a fraction of the part's points: never more than a right answer
            raise r.fail(_join(w, "credit"), f"expected a fraction from 0 to 1, got {credit}")
        out.append(
            MisconceptionSpec(
                name=r.slug(r.required(m, "name", w), _join(w, "name")),
                message=r.text(r.required(m, "message", w), _join(w, "message")),
                credit=credit,
                compiled=code,
                **{kind: value},
            )
        )
    _unique(r, [(f"{where}[{k}].name", c.name) for k, c in enumerate(out)], "misconception")
    return tuple(out)


def _check_links(r: _Reader, where: str, parts: Sequence[PartSpec], known: Sequence[str]) -> None:
    """Terms, misconceptions and uses name parts of the same problem; expressions name inputs,
    dimensions, graph nodes, functions, and parts whose output is one array."""
    by_name = {p.function: p for p in parts}
    arrays = [p.function for p in parts if isinstance(p.output, ArrayOutput)]
    for j, part in enumerate(parts):
        w = _join(where, f"parts[{j}]")

        def other(name: str, at: str, part: PartSpec = part) -> PartSpec:
            if name == part.function or name not in by_name:
                others = [p for p in by_name if p != part.function]
                raise r.fail(
                    at, f"{name!r} is not another part of this problem ({', '.join(others)})"
                )
            return by_name[name]

        if part.terms and not isinstance(part.output, ArrayOutput):
            raise r.fail(_join(w, "terms"), "terms apply only to a part whose output is a shape")
        for k, term in enumerate(part.terms):
            if term.part is not None:
                at = _join(w, f"terms[{k}].part")
                if other(term.part, at).output != part.output:
                    raise r.fail(at, f"{term.part!r} has another output than {part.function}")
        for k, name in enumerate(part.uses):
            other(name, _join(w, f"uses[{k}]"))
        expressions = [
            (_join(w, f"{kind}[{k}].expression"), item.expression)
            for kind, items in (("terms", part.terms), ("misconceptions", part.misconceptions))
            for k, item in enumerate(items)
            if item.expression is not None
        ]
        for at, source in expressions:
            if not isinstance(part.output, ArrayOutput):
                raise r.fail(at, "an expression applies only to a part whose output is a shape")
            for used in _free_names(source):
                if used in known and used in by_name:
                    raise r.fail(at, f"{used!r} is both a part and an input, dimension or node")
                if used not in known and used not in FUNCTIONS and used not in arrays:
                    hint = difflib.get_close_matches(used, [*known, *arrays, *FUNCTIONS], n=1)
                    suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
                    raise r.fail(
                        at,
                        f"unknown name {used!r} in {source!r}{suggestion} (an expression may "
                        "use inputs, dimensions, graph nodes, the problem's array parts and "
                        "the functions in the README)",
                    )


def _gradient(
    r: _Reader, raw: Any, where: str, input_names: Sequence[str], node_names: Sequence[str]
) -> GradientSpec:
    m = r.mapping(raw, where)
    r.keys(m, where, ("of", "wrt", "through"))
    of = r.required(m, "of", where)
    if of not in node_names:
        raise r.fail(
            _join(where, "of"),
            f"{of!r} is not a graph node (nodes: {', '.join(node_names) or 'none'})",
        )
    wrt = r.required(m, "wrt", where)
    if wrt not in input_names and wrt not in node_names:
        raise r.fail(_join(where, "wrt"), f"{wrt!r} is neither an input nor a graph node")
    if wrt in node_names and node_names.index(wrt) >= node_names.index(of):
        raise r.fail(_join(where, "wrt"), f"{wrt!r} must come before {of!r} in the graph")
    through_raw = m.get("through", [])
    if isinstance(through_raw, str):
        through_raw = [through_raw]
    through = tuple(r.sequence(through_raw, _join(where, "through")))
    for k, node in enumerate(through):
        if node not in node_names:
            raise r.fail(_join(where, f"through[{k}]"), f"{node!r} is not a graph node")
    if through and wrt not in input_names:
        raise r.fail(_join(where, "through"), "through: applies only when wrt is an input")
    return GradientSpec(of=str(of), wrt=str(wrt), through=tuple(map(str, through)))
