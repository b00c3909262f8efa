"""Reading one part: its output, call chain, gradient, terms and misconceptions."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from types import CodeType
from typing import Any

from grader.calls import STEP_KINDS, step_names
from grader.spec.model import (
    CREDIT_RULES,
    ArrayOutput,
    DictOutput,
    GradientSpec,
    MisconceptionSpec,
    OutputSpec,
    PartSpec,
    TermSpec,
    TupleOutput,
)
from grader.spec.reader import (
    _check_name,
    _expression,
    _free_names,
    _join,
    _Reader,
    _shape,
    _tolerance,
    _unique,
)


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
        value_of, gradient = _declared(r, m, where, input_names, node_names)
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
    value_of, gradient = _declared(r, m, where, input_names, node_names)
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
    source, code = _expression(r, m[kind], w)
    return kind, source, code


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
                _check_name(
                    r,
                    at,
                    used,
                    source,
                    [*known, *arrays],
                    "an expression may use "
                    "inputs, dimensions, graph nodes, the problem's array parts and the "
                    "functions in the README",
                )


def _declared(
    r: _Reader,
    m: Mapping[str, Any],
    where: str,
    input_names: Sequence[str],
    node_names: Sequence[str],
) -> tuple[str | None, GradientSpec | None]:
    """What a part or an output leaf declares it is: a graph node's value, or a gradient."""
    value_of = m.get("value_of")
    if value_of is not None and value_of not in node_names:
        raise r.fail(
            _join(where, "value_of"),
            f"{value_of!r} is not a graph node (nodes: {', '.join(node_names) or 'none'})",
        )
    gradient = None
    if "gradient" in m:
        gradient = _gradient(r, m["gradient"], _join(where, "gradient"), input_names, node_names)
    return value_of, gradient


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
