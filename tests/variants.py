"""Answers a class writes: correct ones written differently, and the usual wrong ones.

Each variant maps a part's function name to a callable taking the part's arguments. The
property tests run them on the grader's own random cases over many seeds: correct variants
must always earn full marks, wrong ones never.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Variant = dict[str, Callable[..., object]]

# --------------------------------------------------------------------------- Q1 helpers


def _r(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    return W.T @ W @ x - x


def _via_b(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    return (W @ x) @ _r(W, x).T


def _via_a(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    return W @ _r(W, x) @ x.T


def _grad_W_loops(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    m, n = W.shape
    a = W @ x
    r = _r(W, x)
    Wr = W @ r
    out = np.zeros((m, n))
    for i in range(m):
        for j in range(n):
            out[i, j] = a[i, 0] * r[j, 0] + Wr[i, 0] * x[j, 0]
    return out


def _grad_W_expanded(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    xx = x @ x.T
    return W @ W.T @ W @ xx + W @ xx @ W.T @ W - 2 * W @ xx


AUTOENCODER_CORRECT: dict[str, Variant] = {
    "einsum": {
        "loss": lambda W, x: 0.5 * float(np.einsum("ik,ik->", _r(W, x), _r(W, x))),
        "grad_c": lambda W, x: np.einsum("ji,jk,kl->il", W, W, x) - x,
        "grad_b": lambda W, x: _r(W, x),
        "grad_a": lambda W, x: np.einsum("ij,jk->ik", W, _r(W, x)),
        "grad_W_via_b": lambda W, x: np.einsum("ik,jk->ij", W @ x, _r(W, x)),
        "grad_W_via_a": lambda W, x: np.einsum("ik,jk->ij", W @ _r(W, x), x),
        "grad_W": lambda W, x: (
            np.einsum("ik,jk->ij", W @ x, _r(W, x)) + np.einsum("ik,jk->ij", W @ _r(W, x), x)
        ),
    },
    "loops_and_expanded": {
        "loss": lambda W, x: float(np.linalg.norm(_r(W, x)) ** 2 / 2),
        "grad_c": lambda W, x: (W.T @ (W @ x) - x).tolist(),  # a list of lists is fine
        "grad_b": lambda W, x: _r(W, x).astype(np.float32).astype(np.float64),
        "grad_a": lambda W, x: W @ W.T @ W @ x - W @ x,
        "grad_W_via_b": lambda W, x: np.outer(W @ x, _r(W, x)),
        "grad_W_via_a": lambda W, x: np.outer(W @ _r(W, x), x),
        "grad_W": _grad_W_expanded,
    },
    "factored": {
        "loss": lambda W, x: 0.5 * (_r(W, x).T @ _r(W, x)),  # a 1x1 array
        "grad_W": lambda W, x: W @ (x @ _r(W, x).T + _r(W, x) @ x.T),
        "grad_W_via_a": lambda W, x: (W @ _r(W, x)) * x.T,  # broadcasting outer product
    },
    "loops": {"grad_W": _grad_W_loops},
}

AUTOENCODER_WRONG: dict[str, Variant] = {
    "transposed": {
        "grad_W": lambda W, x: _via_b(W, x).T + _via_a(W, x).T,
        "grad_W_via_b": lambda W, x: _r(W, x) @ (W @ x).T,
    },
    "only_path_b": {"grad_W": _via_b},
    "only_path_a": {"grad_W": _via_a},
    "sign": {
        "grad_W": lambda W, x: -(_via_b(W, x) + _via_a(W, x)),
        "grad_c": lambda W, x: -_r(W, x),
    },
    "times_2": {
        "grad_W": lambda W, x: 2 * (_via_b(W, x) + _via_a(W, x)),
        "grad_a": lambda W, x: 2 * W @ _r(W, x),
    },
    "half": {
        "grad_W": lambda W, x: 0.5 * (_via_b(W, x) + _via_a(W, x)),
        "loss": lambda W, x: float(np.sum(_r(W, x) ** 2)),
    },
    "double_path_a": {"grad_W": lambda W, x: _via_b(W, x) + 2 * _via_a(W, x)},
    "grad_a_forward": {"grad_a": lambda W, x: W @ x},
    "flattened": {"grad_c": lambda W, x: _r(W, x).ravel(), "grad_b": lambda W, x: _r(W, x).T},
    "via_swapped": {"grad_W_via_b": _via_a, "grad_W_via_a": _via_b},
    "zero": {"grad_c": lambda W, x: np.zeros_like(x), "grad_W": lambda W, x: np.zeros_like(W)},
    "paths_subtracted": {"grad_W": lambda W, x: _via_b(W, x) - _via_a(W, x)},
    "grad_b_from_wrong_grad_c": {  # a wrong grad_c, carried into grad_b
        "grad_c": lambda W, x: 3 * _r(W, x),
        "grad_b": lambda W, x: 3 * _r(W, x),
    },
}

# --------------------------------------------------------------------------- Q2 helpers


def _K(X: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    return alpha * X @ X.T + np.eye(X.shape[0]) / beta


def _G(X: np.ndarray, Y: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    Ki = np.linalg.inv(_K(X, alpha, beta))
    return 0.5 * (Ki @ Y @ Y.T @ Ki - Y.shape[1] * Ki)


def _logdet_term(X, Y, alpha, beta):
    return -Y.shape[1] * alpha * np.linalg.solve(_K(X, alpha, beta), X)


def _trace_term(X, Y, alpha, beta):
    Ki = np.linalg.inv(_K(X, alpha, beta))
    return alpha * Ki @ Y @ Y.T @ Ki @ X


def _grad_X(X, Y, alpha, beta):
    return 2 * alpha * _G(X, Y, alpha, beta) @ X


def _chol_inv(K: np.ndarray) -> np.ndarray:
    L = np.linalg.cholesky(K)
    Li = np.linalg.solve(L, np.eye(K.shape[0]))
    return Li.T @ Li


def _grad_alpha_loops(X, Y, alpha, beta):
    G = _G(X, Y, alpha, beta)
    N = X.shape[0]
    total = 0.0
    for i in range(N):
        for j in range(N):
            total += G[i, j] * float(X[i] @ X[j])
    return total


GPLVM_CORRECT: dict[str, Variant] = {
    "cholesky": {
        "log_likelihood": lambda X, Y, a, b: float(
            -Y.shape[1] * np.sum(np.log(np.diag(np.linalg.cholesky(_K(X, a, b)))))
            - 0.5 * np.sum(Y * np.linalg.solve(_K(X, a, b), Y))
        ),
        "grad_K": lambda X, Y, a, b: (
            0.5
            * (
                _chol_inv(_K(X, a, b)) @ Y @ Y.T @ _chol_inv(_K(X, a, b))
                - Y.shape[1] * _chol_inv(_K(X, a, b))
            )
        ),
        "grad_X_logdet": lambda X, Y, a, b: -Y.shape[1] * a * _chol_inv(_K(X, a, b)) @ X,
        "grad_X_trace": lambda X, Y, a, b: (
            a * np.linalg.solve(_K(X, a, b), Y) @ (np.linalg.solve(_K(X, a, b), Y).T @ X)
        ),
        "grad_X": lambda X, Y, a, b: _logdet_term(X, Y, a, b) + _trace_term(X, Y, a, b),
        "grad_alpha": _grad_alpha_loops,
        "grad_beta": lambda X, Y, a, b: float(-np.trace(_G(X, Y, a, b)) * b**-2),
    },
    "einsum_and_solve": {
        "log_likelihood": lambda X, Y, a, b: (
            -Y.shape[1] / 2 * np.log(np.linalg.det(_K(X, a, b)))
            - 0.5 * np.trace(np.linalg.inv(_K(X, a, b)) @ Y @ Y.T)
        ),
        "grad_K": lambda X, Y, a, b: (
            np.linalg.solve(_K(X, a, b), np.linalg.solve(_K(X, a, b), Y @ Y.T).T).T / 2
            - Y.shape[1] / 2 * np.linalg.inv(_K(X, a, b))
        ),
        "grad_X": lambda X, Y, a, b: np.einsum("ij,jk->ik", 2 * a * _G(X, Y, a, b), X),
        "grad_alpha": lambda X, Y, a, b: np.einsum("ij,ik,jk->", _G(X, Y, a, b), X, X),
        "grad_beta": lambda X, Y, a, b: np.array([-np.trace(_G(X, Y, a, b)) / b / b]),
    },
}

GPLVM_WRONG: dict[str, Variant] = {
    "K_for_K_inverse": {
        "grad_X": lambda X, Y, a, b: (
            a * (_K(X, a, b) @ Y @ Y.T @ _K(X, a, b) - Y.shape[1] * _K(X, a, b)) @ X
        ),
        "grad_K": lambda X, Y, a, b: (
            0.5 * (_K(X, a, b) @ Y @ Y.T @ _K(X, a, b) - Y.shape[1] * _K(X, a, b))
        ),
    },
    "missing_alpha": {
        "grad_X": lambda X, Y, a, b: _grad_X(X, Y, a, b) / a,
        "grad_X_trace": lambda X, Y, a, b: _trace_term(X, Y, a, b) / a,
    },
    "sign": {
        "grad_X": lambda X, Y, a, b: -_grad_X(X, Y, a, b),
        "grad_beta": lambda X, Y, a, b: float(np.trace(_G(X, Y, a, b)) * b**-2),
    },
    "times_2": {
        "grad_X": lambda X, Y, a, b: 2 * _grad_X(X, Y, a, b),
        "grad_K": lambda X, Y, a, b: 2 * _G(X, Y, a, b),
    },
    "missing_symmetry_factor": {"grad_X": lambda X, Y, a, b: a * _G(X, Y, a, b) @ X},
    "seed_sign_slip": {  # +D/2 for -D/2, as in the seed answer
        "grad_X_logdet": lambda X, Y, a, b: -_logdet_term(X, Y, a, b),
        "grad_X": lambda X, Y, a, b: -_logdet_term(X, Y, a, b) + _trace_term(X, Y, a, b),
    },
    "only_trace_term": {"grad_X": _trace_term},
    "only_logdet_term": {"grad_X": _logdet_term},
    "D_dropped": {"grad_X_logdet": lambda X, Y, a, b: _logdet_term(X, Y, a, b) / Y.shape[1]},
    "one_inverse_dropped": {
        "grad_X_trace": lambda X, Y, a, b: a * np.linalg.inv(_K(X, a, b)) @ Y @ Y.T @ X
    },
    "grad_alpha_without_XXt": {"grad_alpha": lambda X, Y, a, b: float(np.trace(_G(X, Y, a, b)))},
    "beta_for_inverse_square": {
        "grad_beta": lambda X, Y, a, b: float(-np.trace(_G(X, Y, a, b)) / b)
    },
    "loglik_plus_logdet": {
        "log_likelihood": lambda X, Y, a, b: float(
            Y.shape[1] / 2 * np.linalg.slogdet(_K(X, a, b))[1]
            - 0.5 * np.trace(np.linalg.solve(_K(X, a, b), Y @ Y.T))
        )
    },
    "loglik_with_constant": {
        "log_likelihood": lambda X, Y, a, b: float(
            -Y.shape[1] / 2 * np.linalg.slogdet(_K(X, a, b))[1]
            - 0.5 * np.trace(np.linalg.solve(_K(X, a, b), Y @ Y.T))
            - X.shape[0] * Y.shape[1] / 2 * np.log(2 * np.pi)
        )
    },
    "symmetric_convention": {  # the Matrix Cookbook's gradient for a symmetric K
        "grad_K": lambda X, Y, a, b: 2 * _G(X, Y, a, b) - np.diag(np.diag(_G(X, Y, a, b)))
    },
    "grad_K_trace_term_only": {
        "grad_K": lambda X, Y, a, b: (
            0.5 * np.linalg.inv(_K(X, a, b)) @ Y @ Y.T @ np.linalg.inv(_K(X, a, b))
        )
    },
    "trace_sign": {"grad_X_trace": lambda X, Y, a, b: -_trace_term(X, Y, a, b)},
    "logdet_missing_symmetry_factor": {
        "grad_X_logdet": lambda X, Y, a, b: _logdet_term(X, Y, a, b) / 2
    },
    "trace_transposed": {"grad_X_trace": lambda X, Y, a, b: _trace_term(X, Y, a, b).T},
    "wrt_inverse_beta": {"grad_beta": lambda X, Y, a, b: float(np.trace(_G(X, Y, a, b)))},
    "grad_X_from_doubled_grad_K": {  # a wrong grad_K, carried into grad_X
        "grad_K": lambda X, Y, a, b: 2 * _G(X, Y, a, b),
        "grad_X": lambda X, Y, a, b: 2 * _grad_X(X, Y, a, b),
    },
}

CORRECT = {"autoencoder": AUTOENCODER_CORRECT, "gplvm": GPLVM_CORRECT}
WRONG = {"autoencoder": AUTOENCODER_WRONG, "gplvm": GPLVM_WRONG}
