"""Shared fixtures: the repository's assignment, tiny assignments written into tmp_path, and an
in-process CLI runner.

Where a new test goes: tests/README.md.
"""

from __future__ import annotations

import copy
import io
import shutil
import textwrap
from collections.abc import Callable, Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from grader.cli import main

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = REPO / "assignments" / "matrix-calculus"
SOLUTIONS = REPO / "solutions" / "matrix-calculus"
EXAMPLES = REPO / "examples" / "matrix-calculus"

# The shipped spec gives each part 5 s; a test that provokes a timeout waits for the whole
# limit, so the fast copy of the assignment gives 1 s (the correct parts take milliseconds).
FAST_TIME_LIMIT = 2  # seconds: short for timeout tests, long enough on a loaded 2-core machine


# --------------------------------------------------------------------------- the CLI, in-process


@dataclass(frozen=True, slots=True)
class CliRun:
    """What a user of ``grader ...`` sees: the exit code, stdout and stderr."""

    code: int
    out: str
    err: str


def run_cli(*args: str | Path) -> CliRun:
    """``grader ARGS`` in this process (click-style): exit code and captured output."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in args])
    return CliRun(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli() -> Callable[..., CliRun]:
    return run_cli


# --------------------------------------------------------------------------- the real assignment


@pytest.fixture(scope="session")
def assignment_dir() -> Path:
    """assignments/matrix-calculus, as shipped."""
    return ASSIGNMENT


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES


@pytest.fixture(scope="session")
def fast_assignment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped assignment with a short time_limit, graded with the real solutions."""
    root = tmp_path_factory.mktemp("assignments") / "matrix-calculus"
    shutil.copytree(ASSIGNMENT, root)
    spec = yaml.safe_load((ASSIGNMENT / "assignment.yaml").read_text(encoding="utf-8"))
    spec["time_limit"] = FAST_TIME_LIMIT
    spec["reference"] = str(SOLUTIONS)
    write_spec(root, spec)
    return root


# --------------------------------------------------------------------------- tiny assignments

# One problem, three parts: small enough to read in a failure message, big enough to have a
# value part, a vector gradient and a matrix gradient with m != n.
TINY_SPEC: dict[str, Any] = {
    "name": "tiny",
    "seed": 1,
    "cases": 2,
    "hidden_cases": 1,
    "time_limit": 2,
    "problems": [
        {
            "name": "lin",
            "dims": {
                "m": {"min": 2, "max": 4},
                "n": {"min": 2, "max": 5, "distinct_from": ["m"]},
            },
            "inputs": {"A": {"shape": ["m", "n"]}, "x": {"shape": ["n", 1]}},
            "graph": {"y": "A @ x", "L": "0.5 * sum(y**2)"},
            "parts": [
                {"function": "loss", "points": 1, "output": {"shape": []}, "value_of": "L"},
                {
                    "function": "grad_x",
                    "points": 2,
                    "output": {"shape": ["n", 1]},
                    "gradient": {"of": "L", "wrt": "x"},
                },
                {
                    "function": "grad_A",
                    "points": 2,
                    "output": {"shape": ["m", "n"]},
                    "gradient": {"of": "L", "wrt": "A", "through": ["y"]},
                },
            ],
        }
    ],
}

TINY_REFERENCE = '''\
"""Reference for the tiny assignment: L = ½‖Ax‖²."""
import numpy as np


def loss(A, x):
    y = A @ x
    return float(0.5 * np.sum(y**2))


def grad_x(A, x):
    return A.T @ (A @ x)


def grad_A(A, x):
    return (A @ x) @ x.T
'''

TINY_STUB = '''\
"""Stub handed to students."""


def loss(A, x):
    raise NotImplementedError("loss")


def grad_x(A, x):
    raise NotImplementedError("grad_x")


def grad_A(A, x):
    raise NotImplementedError("grad_A")
'''


def write_spec(root: Path, spec: dict[str, Any]) -> Path:
    """Write a spec dict as assignment.yaml, keeping key order (graph nodes are ordered)."""
    path = root / "assignment.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def tiny_spec() -> dict[str, Any]:
    """A fresh, editable copy of the tiny spec."""
    return copy.deepcopy(TINY_SPEC)


@pytest.fixture
def tmp_assignment(tmp_path: Path) -> Callable[..., Path]:
    """Factory: write a tiny assignment into tmp_path and return its folder.

    ``edit`` changes the spec dict before it is written; ``text`` replaces the YAML outright
    (for syntax errors); ``stub``/``reference`` replace lin.py in the assignment folder and in
    the solutions folder (``reference: ../../solutions/NAME``).
    """
    made: set[str] = set()

    def make(
        edit: Callable[[dict[str, Any]], object] | None = None,
        *,
        text: str | None = None,
        stub: str = TINY_STUB,
        reference: str = TINY_REFERENCE,
        name: str = "tiny",
    ) -> Path:
        assert name not in made, f"tmp_assignment: {name!r} made twice in one test"
        made.add(name)
        root = tmp_path / "assignments" / name
        solutions = tmp_path / "solutions" / name
        root.mkdir(parents=True)
        solutions.mkdir(parents=True)
        if text is not None:
            (root / "assignment.yaml").write_text(text, encoding="utf-8")
        else:
            spec = tiny_spec()
            spec["name"] = name
            spec["reference"] = f"../../solutions/{name}"
            if edit is not None:
                edit(spec)
            write_spec(root, spec)
        (root / "lin.py").write_text(stub, encoding="utf-8")
        (solutions / "lin.py").write_text(reference, encoding="utf-8")
        return root

    return make


# --------------------------------------------------------------------------- submissions


def write_files(folder: Path, files: dict[str, str]) -> Path:
    """Write {file name: source} into folder (created); returns folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        (folder / name).write_text(textwrap.dedent(source), encoding="utf-8")
    return folder


def copy_submission(source: Path, target: Path, *, skip: Sequence[str] = ()) -> Path:
    """Copy an example submission folder, leaving out the named files."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", *skip))
    return target
