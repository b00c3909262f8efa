"""Correct Q1 (autoencoder) with every part written independently: no part calls another, so a
hostile tail that replaces one part (tests/hostile/*.py is appended to this file) cannot drag
the others down with it."""

import numpy as np


def loss(W, x):
    c = W.T @ (W @ x) - x
    return float(0.5 * np.sum(c * c))


def grad_c(W, x):
    return W.T @ (W @ x) - x


def grad_b(W, x):
    return W.T @ (W @ x) - x


def grad_a(W, x):
    return W @ (W.T @ (W @ x) - x)


def grad_W_via_b(W, x):
    return (W @ x) @ (W.T @ (W @ x) - x).T


def grad_W_via_a(W, x):
    return (W @ (W.T @ (W @ x) - x)) @ x.T


def grad_W(W, x):
    c = W.T @ (W @ x) - x
    return (W @ x) @ c.T + (W @ c) @ x.T
