"""Question 1: the layers of a fully connected network, forward and backward.

Every forward function returns a tuple ``(out, cache)``: ``out`` is the layer's output and
``cache`` is whatever the backward pass will need (you choose what to store). Every backward
function takes ``dout``, the gradient of the loss with respect to the layer's output (same
shape as ``out``), and that ``cache``, and returns the gradient with respect to each input,
each of the same shape as that input.

Shapes: N examples in a batch, D input features, M output features, C classes.

Conventions:
- Inputs are float64 NumPy arrays; labels ``y`` are int64. Do not modify inputs in place.
- Inputs are random and of varying sizes: do not rely on N, D, M or C being equal.
- Only NumPy and the Python standard library are available.

You may add helper functions. Do not rename the functions below or change their signatures.
"""

import numpy as np  # noqa: F401 (you will need it)


def affine_forward(x, w, b):
    """Forward pass of an affine (fully connected) layer: out = x w + b.

    Inputs:
    - x: input data, shape (N, D)
    - w: weights, shape (D, M)
    - b: biases, shape (M,)

    Returns a tuple (out, cache):
    - out: output, shape (N, M)
    - cache: whatever affine_backward needs, e.g. (x, w, b)
    """
    raise NotImplementedError("affine_forward: not implemented yet")


def affine_backward(dout, cache):
    """Backward pass of an affine layer.

    Inputs:
    - dout: upstream gradient dL/d(out), shape (N, M)
    - cache: what affine_forward returned as its cache

    Returns a tuple (dx, dw, db):
    - dx: gradient with respect to x, shape (N, D)
    - dw: gradient with respect to w, shape (D, M)
    - db: gradient with respect to b, shape (M,)
    """
    raise NotImplementedError("affine_backward: not implemented yet")


def relu_forward(x):
    """Forward pass of a rectified linear unit: out = max(x, 0), elementwise.

    Input:
    - x: input of any shape

    Returns a tuple (out, cache):
    - out: output, same shape as x
    - cache: whatever relu_backward needs, e.g. x
    """
    raise NotImplementedError("relu_forward: not implemented yet")


def relu_backward(dout, cache):
    """Backward pass of a ReLU.

    Inputs:
    - dout: upstream gradient, any shape
    - cache: what relu_forward returned as its cache

    Returns:
    - dx: gradient with respect to x, same shape as dout
    """
    raise NotImplementedError("relu_backward: not implemented yet")


def softmax_loss(x, y):
    """Softmax cross-entropy loss, averaged over the batch, and its gradient.

    Inputs:
    - x: scores, shape (N, C); x[i, j] is the score of class j for example i
    - y: labels, shape (N,), integers with 0 <= y[i] < C

    Returns a tuple (loss, dx):
    - loss: a Python float, (1/N) sum_i -log(exp(x[i, y[i]]) / sum_j exp(x[i, j]))
    - dx: gradient of the loss with respect to x, shape (N, C)
    """
    raise NotImplementedError("softmax_loss: not implemented yet")
