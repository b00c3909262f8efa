"""Hostile: grow a directory chain deeper than Python's recursion limit inside the workdir
(allowed: it is the student's own space), a few dozen levels per call so that no part runs
long (Landlock's checks get slower with depth). Python < 3.12's shutil.rmtree recurses once
per level, so cleaning this workdir up raised RecursionError in the sandbox runner and stopped
the whole batch.

Guarantee: the runner removes it; every part passes, and the batch goes on.
"""

import os

_honest = globals().copy()
_deepest = []  # an fd on the deepest directory so far
LEVELS_PER_CALL = 40  # 7 parts x 5 cases x 40 = 1,400 levels, over the limit of 1,000


def _grow():
    if not _deepest:
        os.mkdir("deep")
        _deepest.append(os.open("deep", os.O_RDONLY))
    for _ in range(LEVELS_PER_CALL):
        os.mkdir("d", dir_fd=_deepest[0])
        deeper = os.open("d", os.O_RDONLY, dir_fd=_deepest[0])
        os.close(_deepest[0])
        _deepest[0] = deeper


def loss(W, x):
    _grow()
    return _honest["loss"](W, x)


def grad_c(W, x):
    _grow()
    return _honest["grad_c"](W, x)


def grad_b(W, x):
    _grow()
    return _honest["grad_b"](W, x)


def grad_a(W, x):
    _grow()
    return _honest["grad_a"](W, x)


def grad_W_via_b(W, x):
    _grow()
    return _honest["grad_W_via_b"](W, x)


def grad_W_via_a(W, x):
    _grow()
    return _honest["grad_W_via_a"](W, x)


def grad_W(W, x):
    _grow()
    return _honest["grad_W"](W, x)
