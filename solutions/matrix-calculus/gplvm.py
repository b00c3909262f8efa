"""Reference solution, Q2: the GP-LVM log-likelihood L(X) = −D/2 log|K| − ½ tr(K⁻¹YYᵀ),
K = αXXᵀ + β⁻¹I."""

from __future__ import annotations

import numpy as np


def _kernel(X: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    return alpha * X @ X.T + np.eye(X.shape[0]) / beta


def log_likelihood(X: np.ndarray, Y: np.ndarray, alpha: float, beta: float) -> float:
    K = _kernel(X, alpha, beta)
    _, logdet = np.linalg.slogdet(K)
    D = Y.shape[1]
    return float(-0.5 * D * logdet - 0.5 * np.trace(np.linalg.solve(K, Y @ Y.T)))


def grad_K(X: np.ndarray, Y: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    K_inv = np.linalg.inv(_kernel(X, alpha, beta))
    D = Y.shape[1]
    return 0.5 * (K_inv @ Y @ Y.T @ K_inv - D * K_inv)


def grad_X_logdet(X: np.ndarray, Y: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    K = _kernel(X, alpha, beta)
    return -Y.shape[1] * alpha * np.linalg.solve(K, X)


def grad_X_trace(X: np.ndarray, Y: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    K_inv = np.linalg.inv(_kernel(X, alpha, beta))
    return alpha * K_inv @ Y @ Y.T @ K_inv @ X


def grad_X(X: np.ndarray, Y: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    # K = αXXᵀ + β⁻¹I uses X twice; K is symmetric, so the two contributions are equal: 2α G X.
    return 2 * alpha * grad_K(X, Y, alpha, beta) @ X


def grad_alpha(X: np.ndarray, Y: np.ndarray, alpha: float, beta: float) -> float:
    return float(np.sum(grad_K(X, Y, alpha, beta) * (X @ X.T)))


def grad_beta(X: np.ndarray, Y: np.ndarray, alpha: float, beta: float) -> float:
    return float(-np.trace(grad_K(X, Y, alpha, beta)) / beta**2)


# The two terms of grad_K, one per term of L (assignment.yaml declares grad_K as their sum, so a
# wrong grad_K is told which term is missing, flipped or scaled).
def grad_K_logdet(X: np.ndarray, Y: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    return -0.5 * Y.shape[1] * np.linalg.inv(_kernel(X, alpha, beta))  # of -D/2 log|K|


def grad_K_trace(X: np.ndarray, Y: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    K_inv = np.linalg.inv(_kernel(X, alpha, beta))
    return 0.5 * K_inv @ Y @ Y.T @ K_inv  # of -½ tr(K⁻¹YYᵀ)
