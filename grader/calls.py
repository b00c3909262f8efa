"""Run a part's declared call chain: the same code calls the reference (in the grader) and the
student's code (in the sandbox), so both are called exactly alike.

A chain is a list of steps, each a plain dict (it travels to the sandbox as JSON):

- ``{"function": "forward", "args": [...], "kwargs": {...}, "returns": ["out", "cache"]}``
  (``returns`` unpacks like Python: a name, a list for a tuple, a mapping {key: name} for a
  dict, nested: ``["loss", {"W": "dW", "b": "db"}]``)
- ``{"new": "Model", "args": [...], "kwargs": {...}, "returns": "model"}``
- ``{"method": "model.loss", "args": [...], "kwargs": {...}}``
- ``{"set": "model.params", "value": {"W": "W", ...}}`` (or ``"value": "name"``)
- ``{"result": "out"}`` (or ``["dx", "dw"]``, a tuple): the part's output is a value an earlier
  step returned, e.g. ``out`` of a forward function's ``(out, cache)`` with the opaque cache
  left out. Only as the last step.

An argument is a name (an input, a dimension or a value an earlier step returned) or a number.
The last step's result is the part's output. Array inputs are copied for every use, so student
code that mutates its arguments cannot change what another call sees.

A leaf: stdlib and numpy only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any

import numpy as np

__all__ = ["CallChainError", "run_call", "step_names"]

STEP_KINDS = ("function", "new", "method", "set", "result")


class CallChainError(ValueError):
    """The student's code broke the chain's contract (e.g. returned 2 values where 3 are
    unpacked, or has no such attribute); a wrong answer, not a grader error."""


def step_names(step: Mapping[str, Any]) -> list[str]:
    """The names a step reads (for validating a spec)."""
    names = [a for a in step.get("args", []) if isinstance(a, str)]
    names += [v for v in step.get("kwargs", {}).values() if isinstance(v, str)]
    value = step.get("value")
    if isinstance(value, str):
        names.append(value)
    elif isinstance(value, Mapping):
        names += [v for v in value.values() if isinstance(v, str)]
    for key in ("method", "set"):
        if key in step:
            names.append(str(step[key]).split(".", 1)[0])
    result = step.get("result")
    names += [result] if isinstance(result, str) else list(result or [])
    return names


def _value(ref: Any, env: Mapping[str, Any]) -> Any:
    if not isinstance(ref, str):
        return ref  # a literal number
    value = env[ref]
    return np.array(value, copy=True) if isinstance(value, np.ndarray) else value


def _describe(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return f"{len(value)} values"
    if isinstance(value, Mapping):
        return f"a dict with keys {', '.join(map(repr, value)) or '(none)'}"
    return type(value).__name__


def _bind(returns: Any, result: Any, env: MutableMapping[str, Any], what: str) -> None:
    """Bind ``result`` to the ``returns`` pattern as Python unpacking would; a result of the
    wrong form is the student's mistake (CallChainError), said in the course's terms."""
    if returns is None:
        return
    if isinstance(returns, str):
        env[returns] = result
        return
    if isinstance(returns, Mapping):
        if not isinstance(result, Mapping):
            raise CallChainError(
                f"{what}: expected a dict with keys {', '.join(map(repr, returns))}, "
                f"got {_describe(result)}"
            )
        for key, pattern in returns.items():
            if key not in result:
                has = ", ".join(map(repr, result)) or "none"
                raise CallChainError(f"{what}: the dict has no key {key!r} (its keys: {has})")
            _bind(pattern, result[key], env, f"{what}[{key!r}]")
        return
    if not isinstance(result, (tuple, list)) or len(result) != len(returns):
        names = ", ".join(n if isinstance(n, str) else "..." for n in returns)
        raise CallChainError(
            f"{what}: expected {len(returns)} values ({names}), got {_describe(result)}"
        )
    for k, (pattern, item) in enumerate(zip(returns, result, strict=True)):
        _bind(pattern, item, env, f"{what}[{k}]")


def _attribute(env: Mapping[str, Any], dotted: str) -> tuple[Any, str]:
    owner, _, attribute = dotted.partition(".")
    return env[owner], attribute


def run_call(
    steps: Sequence[Mapping[str, Any]],
    lookup: Callable[[str], Any],
    values: Mapping[str, Any],
) -> Any:
    """Run the steps; ``lookup(name)`` finds a function or class in the code under test."""
    env: dict[str, Any] = dict(values)
    result: Any = None
    for step in steps:
        if "result" in step:
            names = step["result"]
            result = env[names] if isinstance(names, str) else tuple(env[n] for n in names)
            continue
        args = [_value(a, env) for a in step.get("args", [])]
        kwargs = {k: _value(v, env) for k, v in step.get("kwargs", {}).items()}
        if "function" in step:
            result = lookup(step["function"])(*args, **kwargs)
        elif "new" in step:
            result = lookup(step["new"])(*args, **kwargs)
        elif "method" in step:
            owner, name = _attribute(env, step["method"])
            method = getattr(owner, name, None)
            if not callable(method):
                raise CallChainError(f"{type(owner).__name__} has no method {name}")
            result = method(*args, **kwargs)
        else:
            owner, name = _attribute(env, step["set"])
            value = step["value"]
            if isinstance(value, Mapping):
                # Fill the existing dict (model.params[k] = v), as course notebooks do; create
                # it when the constructor did not.
                target = getattr(owner, name, None)
                if not isinstance(target, MutableMapping):
                    target = {}
                    setattr(owner, name, target)
                for key, ref in value.items():
                    target[key] = _value(ref, env)
            else:
                setattr(owner, name, _value(value, env))
            continue
        what = step.get("function") or step.get("new") or step.get("method")
        _bind(step.get("returns"), result, env, f"{what}(...)")
    return result
