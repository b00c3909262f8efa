"""A student's own helper module, imported by both homework files."""

import numpy as np


def kernel(X, alpha, beta):
    return alpha * X @ X.T + np.eye(X.shape[0]) / beta


def cholesky_inverse(K):
    L = np.linalg.cholesky(K)
    L_inv = np.linalg.solve(L, np.eye(K.shape[0]))
    return L_inv.T @ L_inv
