"""One file with every function: some work, some crash, one never returns."""
import numpy as np


def loss(W, x):
    c = W.T @ W @ x - x
    return 0.5 * float(np.sum(c**2))


def grad_c(W, x):
    return W.T @ W @ x - x


def grad_b(W, x):
    return grad_c(W, x)


def grad_a(W, x):
    return W.T @ grad_b(W, x)  # ValueError: shapes do not align


def grad_W_via_b(W, x):
    return (W @ x) @ grad_c(W, x).T


def grad_W_via_a(W, x):
    return grad_a(W, x) @ x.T


def grad_W(W, x):
    while True:  # "still thinking"
        pass


def log_likelihood(X, Y, alpha, beta):
    K = alpha * X @ X.T + np.eye(len(X)) / beta
    return -Y.shape[1] / 2 * np.log(np.linalg.det(K)) - 0.5 * np.trace(np.linalg.inv(K) @ Y @ Y.T)


def grad_K(X, Y, alpha, beta):
    K = alpha * X @ X.T + np.eye(len(X)) / beta
    K_inv = np.linalg.inv(K)
    return 0.5 * (K_inv @ Y.T @ Y @ K_inv - Y.shape[1] * K_inv)  # Y^T Y for Y Y^T


def grad_X(X, Y, alpha, beta):
    return None
