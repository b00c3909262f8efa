"""Hostile: tamper with the sandbox runner (the parent) without signals: its rlimits, its
priority, its CPU affinity. Each call re-applies the current value, so it would be harmless if
it got through.

Guarantee (seccomp): every call is refused; those parts fail, the others pass.
"""

import os
import resource

_honest = globals().copy()


def grad_a(W, x):
    parent = os.getppid()
    resource.prlimit(parent, resource.RLIMIT_CORE, resource.getrlimit(resource.RLIMIT_CORE))
    return _honest["grad_a"](W, x)


def grad_b(W, x):
    parent = os.getppid()
    os.setpriority(os.PRIO_PROCESS, parent, os.getpriority(os.PRIO_PROCESS, parent))
    return _honest["grad_b"](W, x)


def grad_c(W, x):
    parent = os.getppid()
    os.sched_setaffinity(parent, os.sched_getaffinity(parent))
    return _honest["grad_c"](W, x)
