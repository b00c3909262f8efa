"""Reference solution: a two-layer fully connected network with a softmax loss.

Architecture: input (D) -> affine -> ReLU -> affine -> softmax over C classes. W1 is (H, D)
and W2 is (C, H), so the forward pass is ``relu(X W1ᵀ + b1) W2ᵀ + b2``.
"""

from __future__ import annotations

import numpy as np


class TwoLayerNet:
    def __init__(self, input_size: int, hidden_size: int, output_size: int, std: float = 1e-4):
        self.params = {
            "W1": std * np.random.randn(hidden_size, input_size),
            "b1": np.zeros(hidden_size),
            "W2": std * np.random.randn(output_size, hidden_size),
            "b2": np.zeros(output_size),
        }

    def loss(self, X: np.ndarray, y: np.ndarray | None = None, reg: float = 0.0):
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        n = X.shape[0]
        z = X @ W1.T + b1
        h = np.maximum(z, 0)
        scores = h @ W2.T + b2
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_probs[np.arange(n), y].mean() + 0.5 * reg * (np.sum(W1**2) + np.sum(W2**2))
        dscores = np.exp(log_probs)
        dscores[np.arange(n), y] -= 1
        dscores /= n
        dh = dscores @ W2
        dz = dh * (z > 0)
        grads = {
            "W1": dz.T @ X + reg * W1,
            "b1": dz.sum(axis=0),
            "W2": dscores.T @ h + reg * W2,
            "b2": dscores.sum(axis=0),
        }
        return float(loss), grads
