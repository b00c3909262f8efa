"""Hostile: fill the working folder, where the sandbox lets a child write: 15 MiB files (under
RLIMIT_FSIZE) until 960 MiB, and 50,000 empty files.

Guarantee (grader.quota): the runner kills the child once its folder passes the budget (256 MiB
or 20,000 entries); those parts fail saying so, the memory or disk is given back, the other
parts pass. A part returns the right answer only if it filled the folder unstopped.
"""

import os

_honest = globals().copy()
_BLOCK = b"\0" * (15 << 20)


def grad_W(W, x):
    for k in range(64):
        with open(f"fill-{k}.bin", "wb") as f:
            f.write(_BLOCK)
    return _honest["grad_W"](W, x)


def grad_W_via_a(W, x):
    os.mkdir("many")
    for k in range(50_000):
        os.close(os.open(f"many/{k}", os.O_WRONLY | os.O_CREAT, 0o600))
    return _honest["grad_W_via_a"](W, x)
