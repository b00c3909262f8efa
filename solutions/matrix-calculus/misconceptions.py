"""Known wrong answers of the class, for the misconceptions that an expression in
assignment.yaml would not read well. Each takes the part's arguments and returns what a student
with that misconception returns; the grader names the mistake when an answer matches one.
"""

from __future__ import annotations

import numpy as np


def _kernel(X: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    return alpha * X @ X.T + np.eye(X.shape[0]) / beta


def grad_K_symmetric_convention(X, Y, alpha, beta):
    """The Matrix Cookbook's gradient for a symmetric K, 2G - diag(G), where the handout asks
    for K's N² entries as independent variables (G)."""
    K_inv = np.linalg.inv(_kernel(X, alpha, beta))
    G = 0.5 * (K_inv @ Y @ Y.T @ K_inv - Y.shape[1] * K_inv)
    return 2 * G - np.diag(np.diag(G))


def grad_X_K_for_K_inverse(X, Y, alpha, beta):
    """α(KYYᵀK − DK)X: K where K⁻¹ belongs, in both terms."""
    K = _kernel(X, alpha, beta)
    return alpha * (K @ Y @ Y.T @ K - Y.shape[1] * K) @ X
