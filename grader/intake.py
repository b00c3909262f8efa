"""What a student handed in, made ready to grade.

A submission is a folder, a single ``.py`` file, a notebook (``.ipynb``) or a ``.zip`` of a
folder; any folder may also hold ``answers.yaml`` (LaTeX answers, ``grader.answers``). Staging
turns each into a folder the sandbox runs: a zip is extracted safely (``grader.archive``), each
top-level notebook becomes a module beside it (``grader.notebook``). Nothing here runs student
code. A submission that cannot be staged (a corrupt zip, or a notebook submitted on its own that is
not one) gets an ``error``: the grader writes a failed report with that one line and goes on
with the rest of the class. A corrupt notebook inside a folder or zip is skipped with a warning:
the code beside it is still graded.

After the sandboxed run, ``complete`` reads back the notebooks' failing-cell warnings and puts
the LaTeX answers in place of the parts that have no code; ``label_answered`` then marks the
parts graded from answers.yaml in the student's feedback.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.answers import AnswerGrader, AnswerSheet, apply_answers, find_answers, read_answers
from grader.archive import ArchiveError, extract_zip
from grader.child_setup import copy_submission
from grader.notebook import NotebookError, convert_notebook, warnings_from_stderr
from grader.results import PartResult, SubmissionResult
from grader.runner import SubmissionRun
from grader.spec import AssignmentSpec

__all__ = ["SUBMISSION_SUFFIXES", "Intake", "label_answered", "mark_answered", "stage"]

SUBMISSION_SUFFIXES = (".py", ".ipynb", ".zip")


@dataclass(frozen=True, slots=True)
class Intake:
    """One submission, staged."""

    path: Path  # what the sandbox runs: the original file or folder, or a staged copy
    answers: AnswerSheet | None = None
    warnings: tuple[str, ...] = ()
    notebooks: bool = False  # read failing-cell warnings back from the child's stderr
    error: str | None = None  # cannot be graded at all: the report says this line

    def complete(
        self, run: SubmissionRun, answers: AnswerGrader | None
    ) -> tuple[SubmissionRun, frozenset[str], tuple[str, ...]]:
        """The run with answers.yaml applied, the parts it answered, and the report's
        warnings."""
        warnings = list(self.warnings)
        if self.notebooks:
            warnings += warnings_from_stderr(run.stderr)
        answered: frozenset[str] = frozenset()
        if self.answers is not None and answers is not None:
            run, answered, more = apply_answers(run, self.answers, answers)
            warnings += more
        return run, answered, tuple(warnings)


def _gather(sources: Sequence[Path], folder: Path) -> None:
    """Several files (``grader check part1.py part2.py``) become one submission folder."""
    folder.mkdir(parents=True)
    for source in sources:
        if source.is_dir():
            copy_submission(source, folder)
        else:
            shutil.copyfile(source, folder / source.name)


def _stage(sources: Sequence[Path], scratch: Path, spec: AssignmentSpec) -> Intake:
    first = sources[0]
    if len(sources) == 1 and first.is_file() and first.suffix == ".py":
        return Intake(path=first)  # as before: the sandbox copies the file itself
    staged = True
    if len(sources) == 1 and first.is_dir():
        folder, staged = first, False
    elif len(sources) == 1 and first.suffix == ".zip":
        folder = extract_zip(first, scratch / "zip")
    else:
        folder = scratch / "files"
        _gather(sources, folder)
    notes: list[str] = []
    # Never through a link: the grader would read, and hand the student, a file of its choosing.
    notebooks = sorted(p for p in folder.glob("*.ipynb") if p.is_file() and not p.is_symlink())
    if notebooks and not staged:  # never write into the student's own folder
        copy = scratch / "folder"
        copy.mkdir(parents=True)
        copy_submission(folder, copy)
        folder = copy
    converted = 0
    for nb in notebooks:
        try:
            module = convert_notebook(nb)
        except NotebookError as exc:
            if nb.name == first.name and len(sources) == 1 and first.is_file():
                raise  # the notebook is the submission: nothing else to grade
            notes.append(f"{exc}; the notebook was skipped")  # a stray file beside the code
            continue
        target, base, k = folder / module.filename, module.filename[:-3], 1
        while target.exists():  # hw.ipynb and hw_ipynb.py both there, or "a b" and "a_b"
            k += 1
            target = folder / f"{base}_{k}.py"
        target.write_text(module.source, encoding="utf-8")
        notes += module.notes
        converted += 1
    if converted:
        notes += _drop_untouched_stubs(folder, spec)
    answers_file = find_answers(folder)
    sheet = read_answers(answers_file, spec) if answers_file is not None else None
    return Intake(path=folder, answers=sheet, warnings=tuple(notes), notebooks=bool(notebooks))


def _drop_untouched_stubs(folder: Path, spec: AssignmentSpec) -> list[str]:
    """A student who works in the notebook and zips the whole handout folder also sends the
    stub files, untouched; the sandbox would find their functions first (and grade
    NotImplementedError). Such a stub, byte for byte the handed-out one, is left out."""
    notes = []
    for module in dict.fromkeys(p.module for p in spec.problems):
        mine, stub = folder / f"{module}.py", spec.root / f"{module}.py"
        if mine.is_file() and stub.is_file() and mine.read_bytes() == stub.read_bytes():
            mine.unlink()
            notes.append(f"{mine.name} is the untouched stub: your notebook is graded instead")
    return notes


def stage(sources: Sequence[str | Path], scratch: str | Path, spec: AssignmentSpec) -> Intake:
    """Stage one submission (one path, or several files for ``grader check``) using the empty
    folder ``scratch`` for anything it has to write. Never raises for what a student sent."""
    paths = [Path(s) for s in sources]
    try:
        return _stage(paths, Path(scratch), spec)
    except (ArchiveError, NotebookError) as exc:
        return Intake(path=paths[0], error=str(exc))
    except OSError as exc:
        return Intake(path=paths[0], error=f"cannot read the submission: {exc}")


def mark_answered(part: PartResult, formula: str | None) -> PartResult:
    """Say in a part's feedback that it was graded from answers.yaml, and from which formula."""
    head, _, rest = part.feedback.partition("\n")
    head = head.replace(f"{part.function}:", f"{part.function} (answers.yaml):", 1)
    if formula is not None and part.status != "invalid_answer":
        shown = " ".join(formula.split())
        shown = shown if len(shown) <= 120 else shown[:117] + "..."
        rest = f"  your answer: {shown}" + (f"\n{rest}" if rest else "")
    return dataclasses.replace(part, feedback=f"{head}\n{rest}" if rest else head)


def label_answered(
    result: SubmissionResult, answered: frozenset[str], sheet: AnswerSheet | None
) -> SubmissionResult:
    """``mark_answered`` on every part graded from answers.yaml."""
    if not answered or sheet is None:
        return result
    parts = tuple(
        mark_answered(p, sheet.answers.get(p.function)) if p.function in answered else p
        for p in result.parts
    )
    return dataclasses.replace(result, parts=parts)
