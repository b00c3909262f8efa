"""Hostile: grad_W never returns (a busy loop).

Guarantee: grad_W times out (wall clock); every other part keeps its credit.
"""


def grad_W(W, x):
    while True:
        pass
