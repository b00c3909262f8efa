import numpy as np

from linalg_helpers import cholesky_inverse, kernel


def log_likelihood(X, Y, alpha, beta):
    K = kernel(X, alpha, beta)
    L = np.linalg.cholesky(K)
    logdet = 2 * np.sum(np.log(np.diag(L)))
    D = Y.shape[1]
    return -D / 2 * logdet - 0.5 * np.sum(Y * np.linalg.solve(K, Y))


def grad_K(X, Y, alpha, beta):
    K_inv = cholesky_inverse(kernel(X, alpha, beta))
    A = K_inv @ Y
    return 0.5 * (A @ A.T - Y.shape[1] * K_inv)


def grad_X_logdet(X, Y, alpha, beta):
    K_inv = cholesky_inverse(kernel(X, alpha, beta))
    return Y.shape[1] * alpha * K_inv @ X


def grad_X_trace(X, Y, alpha, beta):
    A = np.linalg.solve(kernel(X, alpha, beta), Y)
    return alpha * A @ (A.T @ X)


def grad_X(X, Y, alpha, beta):
    return grad_X_logdet(X, Y, alpha, beta) + grad_X_trace(X, Y, alpha, beta)


def grad_alpha(X, Y, alpha, beta):
    G = grad_K(X, Y, alpha, beta)
    return float(np.trace(G @ X @ X.T))


def grad_beta(X, Y, alpha, beta):
    G = grad_K(X, Y, alpha, beta)
    return float(np.trace(G)) * -(beta**-2)
