"""Reading one problem: dimensions, inputs, graph, assumptions, symbols and its parts."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from types import CodeType
from typing import Any

from grader.spec.model import DISTRIBUTIONS, DimSpec, InputSpec, ProblemSpec
from grader.spec.parts import _check_links, _part
from grader.spec.reader import (
    _check_name,
    _expression,
    _free_names,
    _join,
    _modules,
    _Reader,
    _shape,
    _show,
    _tolerance,
    _unique,
)

# What grader.latex reads as one symbol besides a single letter (written \alpha, \Sigma, ...).
LATEX_GREEK = frozenset(
    """alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu
    xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta
    Lambda Xi Pi Sigma Upsilon Phi Psi Omega""".split()  # noqa: SIM905
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
        source, code = _expression(r, value, w)
        for used in _free_names(source):
            _check_name(
                r,
                w,
                used,
                source,
                names,
                "nodes may use inputs, dimensions, earlier nodes and the functions in the README",
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
        source, code = _expression(r, r.text(value, w), w)
        compiled.append(code)
        for used in _free_names(source):
            _check_name(
                r,
                w,
                used,
                source,
                known,
                "a condition may use inputs, dimensions, "
                "graph nodes and the functions in the README",
            )
        sources.append(source)
    return tuple(sources), tuple(compiled)
