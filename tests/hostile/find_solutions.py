"""Hostile: find the reference solutions and import them: through the grader package's own
path (sys.modules["grader"]), `import solutions` on sys.path, a walk of the disk, and a
symlink placed in the submission.

Guarantee (Landlock; symlinks are never copied): nothing is found, so those parts fail; the
other parts pass. A part returns the reference's answer only if it found the reference.
"""

import importlib
import importlib.util
import os
import sys
import time

_honest = globals().copy()


def _repo():
    return os.path.dirname(os.path.dirname(sys.modules["grader"].__file__))


def _load(path):
    spec = importlib.util.spec_from_file_location("stolen_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _walk_for_reference():
    deadline = time.monotonic() + 0.5
    for start in (_repo(), "/", "/work", "/root", "/home", "/srv", "/opt"):
        for root, dirs, files in os.walk(start):
            if root.count(os.sep) - start.count(os.sep) >= 4 or time.monotonic() > deadline:
                dirs[:] = []
            if root.endswith("solutions/matrix-calculus") and "gplvm.py" in files:
                return os.path.join(root, "gplvm.py")
    raise FileNotFoundError("no reference solutions found on disk")


def grad_X(X, Y, alpha, beta):
    sys.path.insert(0, _repo())
    try:
        importlib.import_module("solutions")
    finally:
        del sys.path[0]
    return _load(os.path.join(_repo(), "solutions", "matrix-calculus", "gplvm.py")).grad_X(
        X, Y, alpha, beta
    )


def grad_K(X, Y, alpha, beta):
    return _load(_walk_for_reference()).grad_K(X, Y, alpha, beta)


def grad_beta(X, Y, alpha, beta):
    # tests/test_sandbox.py puts ref_gplvm.py -> solutions/.../gplvm.py in this submission.
    return importlib.import_module("ref_gplvm").grad_beta(X, Y, alpha, beta)


def grad_alpha(X, Y, alpha, beta):
    # The grader's reference module is not loaded in the sandbox; importing it reads the repo.
    importlib.import_module("grader.reference")
    return _honest["grad_alpha"](X, Y, alpha, beta)
