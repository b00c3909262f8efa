"""Reference solution, Q1: the tied linear autoencoder L(W) = ½‖WᵀWx − x‖²."""

from __future__ import annotations

import numpy as np


def _forward(W: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = W @ x
    b = W.T @ a
    return a, b, b - x


def loss(W: np.ndarray, x: np.ndarray) -> float:
    c = _forward(W, x)[2]
    return float(0.5 * np.sum(c * c))


def grad_c(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    return _forward(W, x)[2]


def grad_b(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    return grad_c(W, x)  # c = b - x, so dc/db is the identity


def grad_a(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    return W @ grad_b(W, x)  # b = Wᵀa


def grad_W_via_b(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    a, _, c = _forward(W, x)
    return a @ c.T  # b = Wᵀa: dL/dWᵀ = c aᵀ, so dL/dW = a cᵀ


def grad_W_via_a(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    return grad_a(W, x) @ x.T  # a = Wx


def grad_W(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    return grad_W_via_b(W, x) + grad_W_via_a(W, x)
