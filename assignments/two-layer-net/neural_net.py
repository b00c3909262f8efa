"""Question 2: a two-layer fully connected network with a softmax loss.

The network has an input dimension D, a hidden layer of H units and C classes:

    input (D) -> fully connected (H) -> ReLU -> fully connected (C) -> softmax

W1 has shape (H, D) and W2 has shape (C, H), so for a batch X of shape (N, D) the forward
pass is

    h1     = max(0, X W1ᵀ + b1)      shape (N, H)
    scores = h1 W2ᵀ + b2             shape (N, C)

(Other versions of this course store W1 as (D, H) and write X W1 instead: here it is (H, D),
and dW1 must be (H, D) too.)

The loss is the mean softmax cross-entropy plus L2 regularization of the weights:

    loss = (1/N) sum_i -log softmax(scores[i])[y[i]] + 0.5 * reg * (‖W1‖² + ‖W2‖²)

where ‖W‖² is the sum of the squares of W's entries. The biases are not regularized.

Only NumPy and the Python standard library are available to the grader.
"""

import numpy as np


class TwoLayerNet:
    """A two-layer fully connected neural network for classification into C classes."""

    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        """Initialize the model: small random weights, zero biases, stored in self.params.

        self.params['W1']: first layer weights, shape (H, D)
        self.params['b1']: first layer biases, shape (H,)
        self.params['W2']: second layer weights, shape (C, H)
        self.params['b2']: second layer biases, shape (C,)

        Inputs:
        - input_size: the dimension D of the input data
        - hidden_size: the number H of neurons in the hidden layer
        - output_size: the number C of classes
        """
        self.params = {}
        self.params["W1"] = std * np.random.randn(hidden_size, input_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = std * np.random.randn(output_size, hidden_size)
        self.params["b2"] = np.zeros(output_size)

    def loss(self, X, y=None, reg=0.0):
        """Compute the loss and gradients for a two-layer fully connected network.

        Inputs:
        - X: input data, shape (N, D); X[i] is one example
        - y: labels, shape (N,), integers with 0 <= y[i] < C; may be None
        - reg: regularization strength

        Returns:
        If y is None, the scores: an array of shape (N, C) where scores[i, c] is the score
        of class c for input X[i].

        Otherwise a tuple (loss, grads):
        - loss: the loss (data loss plus regularization) for this batch, a float
        - grads: a dict mapping each parameter name ('W1', 'b1', 'W2', 'b2') to the gradient
          of the loss with respect to it, of the same shape as self.params[name]
        """
        raise NotImplementedError("TwoLayerNet.loss: not implemented yet")

    def train(
        self,
        X,
        y,
        X_val,
        y_val,
        learning_rate=1e-3,
        learning_rate_decay=0.95,
        reg=1e-5,
        num_iters=100,
        batch_size=200,
        verbose=False,
    ):
        """Train this network with stochastic gradient descent (not autograded: you run it
        in the notebook). Returns a dict with 'loss_history', 'train_acc_history' and
        'val_acc_history'."""
        raise NotImplementedError("TwoLayerNet.train: not implemented yet")

    def predict(self, X):
        """Predict a label for each row of X, shape (N, D): an array of shape (N,) of integers
        in [0, C) (not autograded)."""
        raise NotImplementedError("TwoLayerNet.predict: not implemented yet")
