"""Question 1: reverse-mode differentiation of a tied linear autoencoder.

Inputs: W of shape (m, n) and a column vector x of shape (n, 1). The computational graph is

    a = W x          shape (m, 1)   encode
    b = Wᵀ a         shape (n, 1)   decode with the same (tied) weights
    c = b - x        shape (n, 1)   reconstruction error
    L = ½ ‖c‖²       scalar         loss (squared Euclidean norm of c)

W reaches L along two paths: through a = W x and through b = Wᵀ a.

Conventions:
- Gradients use the denominator layout: the gradient of the scalar L with respect to a quantity
  has the same shape as that quantity (dL/dW is (m, n), dL/da is (m, 1), never a row vector).
- Inputs are float64 NumPy arrays. x is 2-D with shape (n, 1), not a 1-D array. Return 2-D arrays
  of exactly the shapes stated in each docstring.
- Inputs are random and of varying sizes: do not rely on W being square, on m < n, or on any
  matrix being symmetric. Do not modify the input arrays in place.
- Only NumPy and the Python standard library are available.

You may add helper functions to this file, and you may import between the two homework files
(for example `from autoencoder import my_helper` in gplvm.py). Do not rename the functions below
or change their signatures.
"""

from __future__ import annotations

import numpy as np


def loss(W: np.ndarray, x: np.ndarray) -> float:
    """Return the loss L = ½ ‖c‖², where c = Wᵀ W x - x, as a Python float.

    W has shape (m, n) and x has shape (n, 1).
    """
    raise NotImplementedError("loss: not implemented yet")


def grad_c(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Return dL/dc, the gradient of L with respect to the reconstruction error c = b - x.

    W has shape (m, n) and x has shape (n, 1). Shape (n, 1).
    """
    raise NotImplementedError("grad_c: not implemented yet")


def grad_b(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Return dL/db, the gradient of L with respect to the reconstruction b = Wᵀ a.

    W has shape (m, n) and x has shape (n, 1). Shape (n, 1).
    """
    raise NotImplementedError("grad_b: not implemented yet")


def grad_a(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Return dL/da, the gradient of L with respect to the code a = W x.

    Treat a as an intermediate node of the graph: L depends on a only through b = Wᵀ a, with the
    W in that node held fixed. W has shape (m, n) and x has shape (n, 1). Shape (m, 1).
    """
    raise NotImplementedError("grad_a: not implemented yet")


def grad_W_via_b(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Return the contribution to dL/dW from the path through b = Wᵀ a.

    This is the gradient of L with respect to the W that appears in b = Wᵀ a, holding a fixed
    (as if a were an independent input). W has shape (m, n) and x has shape (n, 1).
    Shape (m, n).
    """
    raise NotImplementedError("grad_W_via_b: not implemented yet")


def grad_W_via_a(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Return the contribution to dL/dW from the path through a = W x.

    This is the gradient of L with respect to the W that appears in a = W x, holding the W that
    appears in b = Wᵀ a fixed. W has shape (m, n) and x has shape (n, 1). Shape (m, n).
    """
    raise NotImplementedError("grad_W_via_a: not implemented yet")


def grad_W(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Return dL/dW, the total gradient of L with respect to W, counting every path from W to L.

    W has shape (m, n) and x has shape (n, 1). Shape (m, n).
    """
    raise NotImplementedError("grad_W: not implemented yet")
