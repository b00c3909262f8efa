"""grader: an autograder for homework on gradients (matrix calculus, backpropagation).

    >>> import grader
    >>> results = grader.grade("assignments/hw1", ["submissions/alice"], out="reports")

does what ``grader grade assignments/hw1 submissions/alice --out reports`` does.
"""

from __future__ import annotations

import os

# Before numpy loads anywhere in this process or its children: one BLAS thread each. Every
# OpenBLAS thread costs ~40 MiB of address space, which a sandbox memory limit counts.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

__version__ = "0.1.0"

__all__ = ["__version__", "grade", "validate"]


def grade(*args, **kwargs):  # type: ignore[no-untyped-def]
    """See grader.grading.grade (imported lazily so that ``import grader`` stays cheap)."""
    from grader.grading import grade as _grade

    return _grade(*args, **kwargs)


def validate(*args, **kwargs):  # type: ignore[no-untyped-def]
    """See grader.validation.validate."""
    from grader.validation import validate as _validate

    return _validate(*args, **kwargs)
