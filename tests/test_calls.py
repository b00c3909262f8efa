"""grader.calls: declared call chains run the same way for the reference and the student."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from grader.calls import CallChainError, run_call, step_names


class Net:
    def __init__(self, d: int, h: int, std: float = 1e-4) -> None:
        self.params = {"W": np.zeros((h, d)), "untouched": 1}
        self.d, self.h, self.std = d, h, std

    def apply(self, x: np.ndarray, scale: float = 1.0) -> np.ndarray:
        return scale * (x @ self.params["W"].T)


def forward(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    return x @ w, (x, w)


def backward(dout: np.ndarray, cache: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    _, w = cache
    return dout @ w.T


def mutate(x: np.ndarray) -> np.ndarray:
    x *= 100
    return x


LOOKUP = {"Net": Net, "forward": forward, "backward": backward, "mutate": mutate}.__getitem__


def test_constructor_set_params_then_method() -> None:
    rng = np.random.default_rng(0)
    W, x = rng.normal(size=(3, 4)), rng.normal(size=(2, 4))
    steps = [
        {"new": "Net", "args": ["D", "H"], "kwargs": {"std": 0.5}, "returns": "net"},
        {"set": "net.params", "value": {"W": "W"}},
        {"method": "net.apply", "args": ["x"], "kwargs": {"scale": 2}},
    ]
    out = run_call(steps, LOOKUP, {"D": 4, "H": 3, "W": W, "x": x})
    np.testing.assert_allclose(out, 2 * x @ W.T)


def test_set_fills_the_existing_dict_and_keeps_other_keys() -> None:
    seen = {}

    def probe(net: Net) -> int:
        seen.update(net.params)
        return 0

    steps = [
        {"new": "Net", "args": [2, 2], "returns": "net"},
        {"set": "net.params", "value": {"W": "W"}},
        {"function": "probe", "args": ["net"]},
    ]
    run_call(steps, {"Net": Net, "probe": probe}.__getitem__, {"W": np.eye(2)})
    assert seen["untouched"] == 1 and np.array_equal(seen["W"], np.eye(2))


def test_forward_cache_flows_to_backward() -> None:
    x, w, dout = np.ones((2, 3)), np.arange(12.0).reshape(3, 4), np.ones((2, 4))
    steps = [
        {"function": "forward", "args": ["x", "w"], "returns": ["out", "cache"]},
        {"function": "backward", "args": ["dout", "cache"]},
    ]
    np.testing.assert_allclose(run_call(steps, LOOKUP, {"x": x, "w": w, "dout": dout}), dout @ w.T)


def test_inputs_are_copied_for_every_use() -> None:
    x = np.ones(3)
    steps = [
        {"function": "mutate", "args": ["x"], "returns": "y"},
        {"function": "mutate", "args": ["x"]},
    ]
    assert np.array_equal(run_call(steps, LOOKUP, {"x": x}), 100 * np.ones(3))
    assert np.array_equal(x, np.ones(3))


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        pytest.param(
            [{"function": "forward", "args": ["x", "w"], "returns": ["a", "b", "c"]}],
            "expected 3 values (a, b, c), got 2 values",
            id="unpack-count",
        ),
        pytest.param(
            [
                {"new": "Net", "args": [2, 2], "returns": "net"},
                {"method": "net.missing", "args": []},
            ],
            "Net has no method missing",
            id="no-method",
        ),
    ],
)
def test_contract_breaks_are_call_chain_errors(steps: list[dict], message: str) -> None:
    with pytest.raises(CallChainError, match=re.escape(message)):
        run_call(steps, LOOKUP, {"x": np.ones((2, 2)), "w": np.ones((2, 2))})


def test_step_names_lists_what_a_step_reads() -> None:
    assert step_names({"method": "net.loss", "args": ["X", 3], "kwargs": {"y": "y", "r": 0.1}}) == [
        "X",
        "y",
        "net",
    ]
    assert step_names({"set": "net.params", "value": {"W1": "W1"}}) == ["W1", "net"]


SPEC = """\
name: calls
problems:
  - name: net
    module: model
    dims: {D: {min: 2, max: 4}, H: {min: 2, max: 4}}
    inputs:
      X: {shape: [3, D]}
      W: {shape: [H, D]}
    parts:
      - function: apply
        points: 1
        call: STEPS
        output: {shape: [3, H]}
"""


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param(
            "[{new: Net, args: [D, H], returns: net}, {method: net.apply, args: [Z]}]",
            "unknown name 'Z'",
            id="unknown-name",
        ),
        pytest.param(
            "[{new: Net, args: [D, H], returns: net}, {set: net.params, value: {W: W}}]",
            "cannot be a set",
            id="set-last",
        ),
        pytest.param("[{new: Net, method: net.apply}]", "expected exactly one of", id="two-kinds"),
        pytest.param("[{method: apply}]", "expected OBJECT.NAME", id="method-without-object"),
        pytest.param("[]", "expected at least one step", id="empty"),
    ],
)
def test_spec_rejects_bad_chains(tmp_path: Path, steps: str, expected: str) -> None:
    from grader.errors import SpecError
    from grader.spec import load_spec

    (tmp_path / "assignment.yaml").write_text(SPEC.replace("STEPS", steps))
    with pytest.raises(SpecError, match=expected) as info:
        load_spec(tmp_path)
    assert "problems[0].parts[0].call" in str(info.value)


def test_spec_accepts_a_chain_using_bound_names(tmp_path: Path) -> None:
    from grader.spec import load_spec

    steps = (
        "[{new: Net, args: [D, H], returns: net}, {set: net.params, value: {W: W}},"
        " {method: net.apply, args: [X]}]"
    )
    (tmp_path / "assignment.yaml").write_text(SPEC.replace("STEPS", steps))
    part = load_spec(tmp_path).problems[0].parts[0]
    assert [next(iter(s)) for s in part.call] == ["new", "set", "method"]


def loss_and_grads(x: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    return float(x.sum()), {"W": 2 * x, "b": x[0]}


def test_returns_unpacks_tuples_and_dicts_and_result_picks_the_output() -> None:
    """loss, grads = f(x); grads['b']: a part can be one value out of what a call returns."""
    x = np.arange(6.0).reshape(2, 3)
    call = {"function": "loss_and_grads", "args": ["x"], "returns": ["loss", {"b": "db"}]}
    lookup = {"loss_and_grads": loss_and_grads}.__getitem__
    np.testing.assert_array_equal(run_call([call, {"result": "db"}], lookup, {"x": x}), x[0])
    loss, db = run_call([call, {"result": ["loss", "db"]}], lookup, {"x": x})
    assert loss == 15.0 and np.array_equal(db, x[0])


@pytest.mark.parametrize(
    ("returns", "message"),
    [
        pytest.param(
            ["loss", {"b1": "db1"}],
            "loss_and_grads(...)[1]: the dict has no key 'b1' (its keys: 'W', 'b')",
            id="key-missing",
        ),
        pytest.param(
            [{"W": "dW"}, "grads"],
            "loss_and_grads(...)[0]: expected a dict with keys 'W', got float",
            id="dict-expected",
        ),
        pytest.param(
            ["loss", ["dW", "db"]],
            "loss_and_grads(...)[1]: expected 2 values (dW, db), got a dict with keys 'W', 'b'",
            id="tuple-expected",
        ),
    ],
)
def test_a_result_of_the_wrong_form_says_where_in_the_student_terms(
    returns: list, message: str
) -> None:
    steps = [{"function": "loss_and_grads", "args": ["x"], "returns": returns}]
    with pytest.raises(CallChainError) as info:
        run_call(steps, {"loss_and_grads": loss_and_grads}.__getitem__, {"x": np.ones((2, 2))})
    assert str(info.value) == message
