"""The assignment spec: ``assignment.yaml`` read into frozen dataclasses, validated up front.

Every error names the file, the key path, the bad value and what is allowed, e.g.
``assignments/hw1/assignment.yaml: problems[1].parts[2].points: expected a number >= 0, got -1``.
The YAML keys match the dataclass fields one to one; the format is documented in the README.

``model`` holds the dataclasses; ``load`` reads the top level, ``problems`` and ``parts`` the
levels below, ``reader`` the typed access with key-path errors that they share.
"""

from __future__ import annotations

from grader.spec.load import load_spec
from grader.spec.model import (
    CREDIT_RULES,
    DEFAULT_ATOL,
    DEFAULT_CASES,
    DEFAULT_RTOL,
    DEFAULT_TIME_LIMIT,
    DISTRIBUTIONS,
    SPEC_FILE,
    ArrayOutput,
    AssignmentSpec,
    DictOutput,
    DimSpec,
    GradientSpec,
    InputSpec,
    MisconceptionSpec,
    OutputSpec,
    PartSpec,
    ProblemSpec,
    TermSpec,
    Tolerance,
    TupleOutput,
    declared_leaves,
    output_structure,
)
from grader.spec.problems import LATEX_GREEK

__all__ = [
    "CREDIT_RULES",
    "DEFAULT_ATOL",
    "DEFAULT_CASES",
    "DEFAULT_RTOL",
    "DEFAULT_TIME_LIMIT",
    "DISTRIBUTIONS",
    "LATEX_GREEK",
    "SPEC_FILE",
    "ArrayOutput",
    "AssignmentSpec",
    "DictOutput",
    "DimSpec",
    "GradientSpec",
    "InputSpec",
    "MisconceptionSpec",
    "OutputSpec",
    "PartSpec",
    "ProblemSpec",
    "TermSpec",
    "Tolerance",
    "TupleOutput",
    "declared_leaves",
    "load_spec",
    "output_structure",
]
