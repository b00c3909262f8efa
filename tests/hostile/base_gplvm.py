"""Correct Q2 (GP-LVM) with every part written independently (see base_autoencoder.py)."""

import numpy as np


def _kernel(X, alpha, beta):
    return alpha * X @ X.T + np.eye(X.shape[0]) / beta


def log_likelihood(X, Y, alpha, beta):
    K = _kernel(X, alpha, beta)
    _, logdet = np.linalg.slogdet(K)
    return float(-0.5 * Y.shape[1] * logdet - 0.5 * np.trace(np.linalg.solve(K, Y @ Y.T)))


def grad_K(X, Y, alpha, beta):
    K_inv = np.linalg.inv(_kernel(X, alpha, beta))
    return 0.5 * (K_inv @ Y @ Y.T @ K_inv - Y.shape[1] * K_inv)


def grad_X_logdet(X, Y, alpha, beta):
    return -Y.shape[1] * alpha * np.linalg.solve(_kernel(X, alpha, beta), X)


def grad_X_trace(X, Y, alpha, beta):
    A = np.linalg.solve(_kernel(X, alpha, beta), Y)
    return alpha * A @ (A.T @ X)


def grad_X(X, Y, alpha, beta):
    K = _kernel(X, alpha, beta)
    A = np.linalg.solve(K, Y)
    return -Y.shape[1] * alpha * np.linalg.solve(K, X) + alpha * A @ (A.T @ X)


def grad_alpha(X, Y, alpha, beta):
    K_inv = np.linalg.inv(_kernel(X, alpha, beta))
    G = 0.5 * (K_inv @ Y @ Y.T @ K_inv - Y.shape[1] * K_inv)
    return float(np.trace(G @ X @ X.T))


def grad_beta(X, Y, alpha, beta):
    K_inv = np.linalg.inv(_kernel(X, alpha, beta))
    G = 0.5 * (K_inv @ Y @ Y.T @ K_inv - Y.shape[1] * K_inv)
    return -float(np.trace(G)) / beta**2
