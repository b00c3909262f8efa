"""Exceptions that carry their exit code, so the CLI never prints a grader traceback.

Exit codes (the contract with instructors' scripts and CI):
0 graded, whatever the scores; 1 could not grade; 2 usage or spec error.
"""

from __future__ import annotations

__all__ = ["GraderError", "SpecError", "UsageError"]


class GraderError(Exception):
    """Grading could not run. The message is one line: what, where, what to do."""

    exit_code = 1


class UsageError(GraderError):
    """The command line or the Python call was wrong."""

    exit_code = 2


class SpecError(GraderError):
    """An assignment spec is invalid.

    The message names the file, the key path, the bad value and what is allowed:
    ``assignments/hw1/assignment.yaml: problems[1].parts[2].points:
    expected a number >= 0, got -1``.
    """

    exit_code = 2

    def __init__(self, file: str, where: str, problem: str) -> None:
        self.file = file
        self.where = where
        self.problem = problem
        location = f"{file}: {where}" if where else file
        super().__init__(f"{location}: {problem}")
