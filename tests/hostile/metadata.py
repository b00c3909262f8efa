"""Hostile: change files outside the workdir without writing to them: chmod (say, make a
shell setuid), utime, extended attributes, fchmod through a read-only fd, truncate(path), and
open(O_RDONLY | O_TRUNC), which truncates a file that is only readable. Landlock covers none
of the metadata calls, and truncation only from ABI 3 (Linux 6.2).

Guarantee (seccomp): every call is refused, the file outside is untouched; those parts fail,
the others pass. A part returns the right answer only if its call got through; the fchmod and
O_TRUNC probes aim at files where success would change nothing (same mode; its own file).
"""

import json
import os

import numpy as np

_honest = globals().copy()


def _victim():
    with open("hostile_config.json", encoding="utf-8") as handle:
        return json.load(handle)["victim"]


def grad_W(W, x):
    os.chmod(_victim(), 0o4777)
    return _honest["grad_W"](W, x)


def grad_W_via_a(W, x):
    os.utime(_victim(), (0, 0))
    return _honest["grad_W_via_a"](W, x)


def grad_W_via_b(W, x):
    os.setxattr(_victim(), "user.hostile", b"1")
    return _honest["grad_W_via_b"](W, x)


def grad_a(W, x):
    fd = os.open(np.__file__, os.O_RDONLY)
    try:
        os.fchmod(fd, os.fstat(fd).st_mode & 0o7777)
    finally:
        os.close(fd)
    return _honest["grad_a"](W, x)


def grad_b(W, x):
    os.truncate(_victim(), 0)
    return _honest["grad_b"](W, x)


def grad_c(W, x):
    with open("mine.txt", "w", encoding="utf-8") as handle:
        handle.write("mine")
    os.close(os.open("mine.txt", os.O_RDONLY | os.O_TRUNC))
    return _honest["grad_c"](W, x)
