"""Named quantities of a problem's computational graph, written as numpy expressions.

An assignment declares its graph in YAML (``a: W @ x``, ``L: 0.5 * sum(c**2)``). The grader
evaluates it in the trusted process to get losses for finite differences, so that a gradient
can be checked without the instructor's reference code (``grader validate``, ``grader check``).

Evaluation can *override* a node (its value is fixed, downstream nodes are recomputed: the
gradient with respect to an intermediate quantity) and can *route* a perturbed input to some
nodes only (the gradient along one path of the graph, e.g. W through b = Wᵀa only).

This module is a leaf: it imports numpy only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from types import CodeType
from typing import Any

import numpy as np

__all__ = [
    "FUNCTIONS",
    "compile_expression",
    "evaluate_expression",
    "evaluate_graph",
    "scalar_loss",
]


def _logdet(a: np.ndarray) -> float:
    sign, value = np.linalg.slogdet(a)
    if sign <= 0:
        raise FloatingPointError("logdet of a matrix whose determinant is not positive")
    return float(value)


def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def _logsumexp(z: np.ndarray, axis: int = -1) -> np.ndarray:
    top = np.max(z, axis=axis, keepdims=True)
    return np.squeeze(top, axis=axis) + np.log(np.sum(np.exp(z - top), axis=axis))


# The names an expression may use besides inputs, dimensions and earlier nodes. Deliberately
# small: a spec should read like the handout's math, not like arbitrary Python.
FUNCTIONS: Mapping[str, Any] = {
    "np": np,
    "sum": np.sum,
    "mean": np.mean,
    "trace": np.trace,
    "det": np.linalg.det,
    "logdet": _logdet,
    "inv": np.linalg.inv,
    "solve": np.linalg.solve,
    "eye": np.eye,
    "zeros": np.zeros,
    "ones": np.ones,
    "diag": np.diag,
    "outer": np.outer,
    "log": np.log,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "where": np.where,
    "arange": np.arange,
    "softmax": _softmax,
    "logsumexp": _logsumexp,
    "norm": np.linalg.norm,
    "pi": math.pi,
    "float": float,
    "int": int,
    "len": len,
}


def compile_expression(source: str, label: str) -> CodeType:
    """Compile one expression; raise SyntaxError (the caller names the spec key)."""
    return compile(source, label, "eval")


def evaluate_expression(code: CodeType, scope: Mapping[str, Any]) -> Any:
    """One compiled expression, with only the names in ``scope`` and ``FUNCTIONS``."""
    return eval(code, {"__builtins__": {}, **FUNCTIONS}, scope)


def evaluate_graph(
    nodes: Sequence[tuple[str, CodeType]],
    values: Mapping[str, Any],
    *,
    until: str | None = None,
    override: Mapping[str, Any] | None = None,
    routed: Mapping[str, Any] | None = None,
    route_to: Sequence[str] = (),
) -> dict[str, Any]:
    """Evaluate the nodes in order and return every value (inputs, dimensions and nodes).

    ``override`` fixes a node's value instead of computing it. ``routed`` holds perturbed
    inputs that only the nodes in ``route_to`` see; every other node sees ``values``.
    Evaluation stops after ``until``.
    """
    override = override or {}
    env: dict[str, Any] = dict(values)
    env.update({k: v for k, v in override.items() if k in values})
    for name, code in nodes:
        if name in override:
            env[name] = override[name]
        else:
            scope = {**env, **routed} if routed and name in route_to else env
            env[name] = evaluate_expression(code, scope)
        if name == until:
            break
    return env


def scalar_loss(
    nodes: Sequence[tuple[str, CodeType]],
    values: Mapping[str, Any],
    *,
    of: str,
    wrt: str,
    through: Sequence[str] = (),
) -> tuple[Callable[[Any], float], Any]:
    """The function v -> value of node ``of`` as ``wrt`` varies, and the point to differentiate at.

    ``wrt`` an intermediate node: it is overridden and what follows it is recomputed.
    ``wrt`` an input with ``through``: only those nodes see the varied input (one path).
    """
    node_names = [name for name, _ in nodes]

    def read(env: Mapping[str, Any]) -> float:
        return float(np.asarray(env[of], dtype=float).reshape(()))

    if wrt in node_names:
        at = evaluate_graph(nodes, values, until=wrt)[wrt]
        return (lambda v: read(evaluate_graph(nodes, values, until=of, override={wrt: v}))), at
    if through:
        return (
            lambda v: read(
                evaluate_graph(nodes, values, until=of, routed={wrt: v}, route_to=through)
            )
        ), values[wrt]
    return (lambda v: read(evaluate_graph(nodes, {**values, wrt: v}, until=of))), values[wrt]
