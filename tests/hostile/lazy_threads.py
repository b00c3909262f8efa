"""Not hostile: a correct submission that leans on what the sandbox must keep working: lazily
imported numpy submodules (fft, polynomial, random, linalg), stdlib modules imported late,
threads and a thread pool.

Guarantee: full marks inside the full sandbox.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

_honest = globals().copy()


def grad_X(X, Y, alpha, beta):
    import numpy.fft
    import numpy.polynomial

    one = numpy.polynomial.Polynomial([0.0, 1.0])(1.0)
    round_trip = numpy.fft.ifft(numpy.fft.fft(X, axis=0), axis=0).real
    with ThreadPoolExecutor(max_workers=2) as pool:
        logdet = pool.submit(_honest["grad_X_logdet"], round_trip, Y, alpha, beta)
        trace = pool.submit(_honest["grad_X_trace"], X, Y, alpha, beta)
        return one * (logdet.result() + trace.result())


def grad_K(X, Y, alpha, beta):
    result = {}
    worker = threading.Thread(target=lambda: result.update(G=_honest["grad_K"](X, Y, alpha, beta)))
    worker.start()
    worker.join()
    return result["G"]


def grad_alpha(X, Y, alpha, beta):
    import fractions
    import statistics

    import numpy.random

    order = numpy.random.default_rng(0).permutation(X.shape[0])
    shuffled = _honest["grad_alpha"](X[order], Y[order], alpha, beta)  # invariant to row order
    return shuffled * float(fractions.Fraction(1, 1)) * statistics.mean([1.0, 1.0])


def log_likelihood(X, Y, alpha, beta):
    K = alpha * X @ X.T + np.eye(X.shape[0]) / beta
    eigenvalues = np.linalg.eigh(K)[0]
    return float(
        -0.5 * Y.shape[1] * np.sum(np.log(eigenvalues))
        - 0.5 * np.trace(np.linalg.solve(K, Y @ Y.T))
    )
