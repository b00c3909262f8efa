"""Typed reading of YAML values with errors that name the file, key path, value and what is
allowed; shared by the problem- and part-level readers."""

from __future__ import annotations

import ast
import difflib
import keyword
import math
import re
from collections.abc import Mapping, Sequence
from types import CodeType
from typing import Any

from grader.errors import SpecError
from grader.graph import FUNCTIONS, compile_expression
from grader.spec.model import Tolerance

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


def _expression(r: _Reader, raw: Any, where: str) -> tuple[str, CodeType]:
    """A numpy expression of the spec (graph node, condition, term, misconception), compiled."""
    source = r.text(raw if not isinstance(raw, (int, float)) else str(raw), where)
    try:
        return source, compile_expression(source, f"{r.file}:{where}")
    except SyntaxError as exc:
        raise r.fail(where, f"invalid expression {source!r}: {exc.msg}") from None


def _check_name(
    r: _Reader, where: str, used: str, source: str, allowed: Sequence[str], may_use: str
) -> None:
    """``used`` (read by ``source``) must be one of ``allowed`` or a graph function."""
    if used not in allowed and used not in FUNCTIONS:
        hint = difflib.get_close_matches(used, [*allowed, *FUNCTIONS], n=1)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        raise r.fail(where, f"unknown name {used!r} in {source!r}{suggestion} ({may_use})")


def _free_names(source: str) -> list[str]:
    """Names an expression reads (not attributes such as the T of W.T)."""
    tree = ast.parse(source, mode="eval")
    return [n.id for n in ast.walk(tree) if isinstance(n, ast.Name)]
