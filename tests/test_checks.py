"""Tests for grader.checks: shape, then finiteness, then values by the Frobenius relative rule
||got - expected||_F <= atol + rtol ||expected||_F."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import SHOWN_ENTRIES, compare, matches

RTOL, ATOL = 1e-6, 1e-9  # the grader's defaults (grader/spec.py)


def _gradient(seed: int = 0, shape: tuple[int, ...] = (4, 3)) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape)


def _with_relative_noise(expected: np.ndarray, size: float, seed: int = 1) -> np.ndarray:
    """expected plus noise whose Frobenius norm is ``size`` times that of expected."""
    noise = np.random.default_rng(seed).normal(size=expected.shape)
    return expected + noise * (size * np.linalg.norm(expected) / np.linalg.norm(noise))


@pytest.mark.parametrize(
    ("got", "expected", "status"),
    [
        pytest.param(
            np.arange(5.0).reshape(5, 1), np.arange(5.0).reshape(5, 1), "passed", id="equal"
        ),
        pytest.param(np.arange(5.0), np.arange(5.0).reshape(5, 1), "wrong_shape", id="vector-1d"),
        pytest.param(np.ones((1, 5)), np.ones((5, 1)), "wrong_shape", id="row-for-column"),
        pytest.param(np.ones((3, 2)), np.ones((2, 3)), "wrong_shape", id="transposed"),
        pytest.param(np.array([[1.0], [np.nan]]), np.ones((2, 1)), "not_finite", id="nan"),
        pytest.param(np.array([[np.inf], [1.0]]), np.ones((2, 1)), "not_finite", id="inf"),
        pytest.param(-np.ones((2, 2)), np.ones((2, 2)), "wrong_value", id="sign"),
        pytest.param(np.zeros((2, 2)), np.ones((2, 2)), "wrong_value", id="zeros"),
        pytest.param(np.ones((2, 2)), np.zeros((2, 2)), "wrong_value", id="expected-zero"),
        pytest.param(np.zeros((2, 2)), np.zeros((2, 2)), "passed", id="both-zero"),
    ],
)
def test_status(got: np.ndarray, expected: np.ndarray, status: str) -> None:
    result = compare(got, expected, rtol=RTOL, atol=ATOL)
    assert result.status == status
    assert result.passed is (status == "passed")
    assert matches(got, expected, rtol=RTOL, atol=ATOL) is (status == "passed")


def test_wrong_shape_says_got_and_expected() -> None:
    result = compare(np.zeros(5), np.zeros((5, 1)), rtol=RTOL, atol=ATOL)
    assert (result.got_shape, result.expected_shape) == ((5,), (5, 1))


def test_shape_is_checked_before_finiteness() -> None:
    assert compare(np.full(3, np.nan), np.ones((3, 1)), rtol=RTOL, atol=ATOL).status == (
        "wrong_shape"
    )


def test_not_finite_counts_the_bad_entries() -> None:
    got = np.array([[np.nan, 1.0], [np.inf, -np.inf]])
    result = compare(got, np.ones((2, 2)), rtol=RTOL, atol=ATOL)
    assert (result.status, result.mismatched, result.total) == ("not_finite", 3, 4)


@pytest.mark.parametrize(
    "got",
    [
        pytest.param(np.array(2.5), id="0d"),
        pytest.param(np.array([2.5]), id="1"),
        pytest.param(np.array([[2.5]]), id="1x1"),
        pytest.param(np.array([[[2.5]]]), id="1x1x1"),
    ],
)
def test_scalar_expected_accepts_any_size_1_array(got: np.ndarray) -> None:
    assert compare(got, np.array(2.5), rtol=RTOL, atol=ATOL).status == "passed"
    assert compare(got, np.array(-2.5), rtol=RTOL, atol=ATOL).status == "wrong_value"


def test_scalar_expected_rejects_more_than_one_number() -> None:
    result = compare(np.array([2.5, 2.5]), np.array(2.5), rtol=RTOL, atol=ATOL)
    assert (result.status, result.got_shape, result.expected_shape) == ("wrong_shape", (2,), ())


def test_size_1_is_not_a_wildcard_for_array_parts() -> None:
    assert compare(np.array(2.5), np.array([[2.5]]), rtol=RTOL, atol=ATOL).status == "wrong_shape"


@pytest.mark.parametrize("seed", range(5))
def test_correct_gradient_with_1e_10_relative_noise_passes(seed: int) -> None:
    expected = _gradient(seed)
    got = _with_relative_noise(expected, 1e-10, seed)
    result = compare(got, expected, rtol=RTOL, atol=ATOL)
    assert result.status == "passed"
    assert result.rel_error == pytest.approx(1e-10, rel=1e-3)
    assert result.worst == () and result.mismatched == 0


@pytest.mark.parametrize("seed", range(5))
def test_gradient_off_by_1e_4_relative_fails(seed: int) -> None:
    expected = _gradient(seed)
    got = _with_relative_noise(expected, 1e-4, seed)
    result = compare(got, expected, rtol=RTOL, atol=ATOL)
    assert result.status == "wrong_value"
    assert result.rel_error == pytest.approx(1e-4, rel=1e-3)


def test_rule_is_on_the_whole_array_not_per_entry() -> None:
    """A tiny entry off by 100% of itself is noise next to the big ones: the answer passes."""
    expected = np.array([[1e3, 1e-12], [-2e3, 5.0]])
    got = expected.copy()
    got[0, 1] = 2e-12
    assert compare(got, expected, rtol=RTOL, atol=ATOL).status == "passed"


def test_rtol_and_atol_are_both_used() -> None:
    expected = np.array([3.0, 4.0])  # norm 5
    got = expected + np.array([0.0, 0.6])  # error 0.6
    assert compare(got, expected, rtol=0.1, atol=0.0).status == "wrong_value"
    assert compare(got, expected, rtol=0.1, atol=0.1).status == "passed"
    assert compare(got, expected, rtol=0.12, atol=0.0).status == "passed"


def test_wrong_value_reports_errors_and_the_worst_entries() -> None:
    expected = np.arange(1.0, 13.0).reshape(4, 3)
    got = expected.copy()
    got[0, 0] += 1.0
    got[2, 1] += 5.0
    got[3, 2] += 3.0
    got[1, 1] += 2.0
    result = compare(got, expected, rtol=RTOL, atol=ATOL)
    assert result.status == "wrong_value"
    assert result.max_abs_error == pytest.approx(5.0)
    assert result.rel_error == pytest.approx(
        np.linalg.norm([1.0, 5.0, 3.0, 2.0]) / np.linalg.norm(expected)
    )
    assert (result.mismatched, result.total) == (4, 12)
    assert len(result.worst) == SHOWN_ENTRIES
    assert [index for index, _, _ in result.worst] == [(2, 1), (3, 2), (1, 1)]
    assert result.worst[0] == ((2, 1), 13.0, 8.0)


def test_compare_accepts_expected_as_a_python_float() -> None:
    assert compare(np.array(0.5), 0.5, rtol=RTOL, atol=ATOL).status == "passed"  # type: ignore[arg-type]


def test_matches_agrees_with_compare_on_scalars() -> None:
    got, expected = np.array([[2.5]]), np.array(2.5)
    assert compare(got, expected, rtol=RTOL, atol=ATOL).passed
    assert matches(got, expected, rtol=RTOL, atol=ATOL)
