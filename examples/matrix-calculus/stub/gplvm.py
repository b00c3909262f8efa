"""Question 2: reverse-mode differentiation of the GP-LVM log-likelihood.

Inputs: latent positions X of shape (N, q), observed data Y of shape (N, D), and two positive
scalars alpha (α, kernel variance) and beta (β, noise precision). The computational graph is

    K = α X Xᵀ + β⁻¹ I_N                shape (N, N), symmetric positive definite
    L = -D/2 log|K| - ½ tr(K⁻¹ Y Yᵀ)    scalar, the log-likelihood without its constant term

where |K| is the determinant of K, tr is the trace, I_N is the N x N identity and D is the number
of columns of Y. X enters K twice, once in each factor of X Xᵀ.

Conventions:
- Gradients use the denominator layout: the gradient of the scalar L with respect to a quantity
  has the same shape as that quantity (dL/dX is (N, q), dL/dK is (N, N)).
- X and Y are float64 NumPy arrays; alpha and beta are positive floats. Return 2-D arrays of
  exactly the shapes stated in each docstring, and Python floats where a float is stated.
- Inputs are random and of varying sizes: do not rely on X or Y being square, on q < N, or on
  any input matrix being symmetric. Do not modify the input arrays in place.
- Only NumPy and the Python standard library are available.

You may add helper functions to this file, and you may import between the two homework files
(for example `from autoencoder import my_helper`). Do not rename the functions below or change
their signatures.
"""

from __future__ import annotations

import numpy as np


def log_likelihood(X: np.ndarray, Y: np.ndarray, alpha: float, beta: float) -> float:
    """Return L = -D/2 log|K| - ½ tr(K⁻¹ Y Yᵀ), with K = α X Xᵀ + β⁻¹ I_N, as a Python float.

    X has shape (N, q) and Y has shape (N, D). Do not add the constant -N D/2 log(2π).
    """
    raise NotImplementedError("log_likelihood: not implemented yet")


def grad_K(X: np.ndarray, Y: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """Return dL/dK, the gradient of L with respect to K = α X Xᵀ + β⁻¹ I_N.

    Treat K as an unconstrained matrix: its N² entries are independent variables, with no
    correction for the symmetry of K. X has shape (N, q) and Y has shape (N, D). Shape (N, N).
    """
    raise NotImplementedError("grad_K: not implemented yet")


def grad_X_logdet(X: np.ndarray, Y: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """Return the gradient with respect to X of the log-determinant term -D/2 log|K| only.

    K = α X Xᵀ + β⁻¹ I_N depends on X; the trace term is left out. X has shape (N, q) and Y has
    shape (N, D). Shape (N, q).
    """
    raise NotImplementedError("grad_X_logdet: not implemented yet")


def grad_X_trace(X: np.ndarray, Y: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """Return the gradient with respect to X of the trace term -½ tr(K⁻¹ Y Yᵀ) only.

    K = α X Xᵀ + β⁻¹ I_N depends on X; Y is constant; the log-determinant term is left out.
    X has shape (N, q) and Y has shape (N, D). Shape (N, q).
    """
    raise NotImplementedError("grad_X_trace: not implemented yet")


def grad_X(X: np.ndarray, Y: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """Return dL/dX, the gradient of the whole log-likelihood L with respect to X.

    X has shape (N, q) and Y has shape (N, D). Shape (N, q).
    """
    raise NotImplementedError("grad_X: not implemented yet")


def grad_alpha(X: np.ndarray, Y: np.ndarray, alpha: float, beta: float) -> float:
    """Return dL/dα, the derivative of L with respect to the scalar α, as a Python float.

    X, Y and β are held fixed. X has shape (N, q) and Y has shape (N, D).
    """
    raise NotImplementedError("grad_alpha: not implemented yet")


def grad_beta(X: np.ndarray, Y: np.ndarray, alpha: float, beta: float) -> float:
    """Return dL/dβ, the derivative of L with respect to the scalar β, as a Python float.

    β is the noise precision, entering K through β⁻¹ I_N. X, Y and α are held fixed. X has shape
    (N, q) and Y has shape (N, D).
    """
    raise NotImplementedError("grad_beta: not implemented yet")
