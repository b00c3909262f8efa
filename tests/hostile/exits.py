"""Hostile: leave the process from inside parts: sys.exit, os._exit, KeyboardInterrupt,
os.abort (SIGABRT), a segfault.

Guarantee: only those parts lose their credit, each with a clear status; a new child grades
the rest.
"""

import ctypes
import os
import sys


def grad_c(W, x):
    os._exit(3)


def grad_b(W, x):
    sys.exit(0)


def grad_a(W, x):
    raise KeyboardInterrupt


def grad_W_via_b(W, x):
    os.abort()


def grad_W(W, x):
    return ctypes.c_long.from_address(8).value  # reads unmapped memory: SIGSEGV
