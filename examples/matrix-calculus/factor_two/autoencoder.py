import numpy as np


def loss(W, x):
    r = W.T @ (W @ x) - x
    return (r.T @ r).item() / 2


def grad_c(W, x):
    return W.T @ W @ x - x


def grad_b(W, x):
    return grad_c(W, x)


def grad_a(W, x):
    return np.einsum("ij,jk->ik", W, grad_b(W, x))


def grad_W_via_b(W, x):
    return np.outer(W @ x, grad_c(W, x))


def grad_W_via_a(W, x):
    return np.outer(grad_a(W, x), x)


def grad_W(W, x):
    # "the two paths are the same, so double one": a factor 2 on the whole gradient
    r = W.T @ W @ x - x
    return 2 * W @ (x @ r.T + r @ x.T)
