"""What grading measured: frozen results that report writers read and never modify.

Statuses, from a part's point of view (a student reads these; reports carry them as data):
passed, wrong_value, wrong_shape, not_finite, wrong_type, error (their code raised),
not_implemented (the stub is untouched), missing (no such function), import_error,
invalid_answer (a LaTeX answer in answers.yaml cannot be read), timeout, crashed, exited, memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["STATUSES", "CaseResult", "PartResult", "SubmissionResult"]

STATUSES = (
    "passed",
    "wrong_value",
    "wrong_shape",
    "not_finite",
    "wrong_type",
    "error",
    "not_implemented",
    "missing",
    "import_error",
    "invalid_answer",
    "timeout",
    "crashed",
    "exited",
    "memory",
)


@dataclass(frozen=True, slots=True)
class CaseResult:
    index: int
    hidden: bool
    status: str
    dims: Mapping[str, int]
    message: str = ""
    rel_error: float | None = None
    max_abs_error: float | None = None


@dataclass(frozen=True, slots=True)
class PartResult:
    problem: str
    function: str
    score: float
    max_score: float
    status: str
    feedback: str
    cases: tuple[CaseResult, ...] = ()
    diagnoses: tuple[Mapping[str, Any], ...] = ()  # {"code": ..., "message": ..., "params": {...}}
    traceback: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    submission: str
    source: str
    assignment: str
    seed: int
    score: float
    max_score: float
    parts: tuple[PartResult, ...]
    status: str = "graded"  # graded | error
    error: str | None = None
    isolation: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    stdout: str = ""
