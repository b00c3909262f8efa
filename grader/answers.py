"""Answers written as math: ``answers.yaml`` maps part names to LaTeX, graded like functions.

A submission folder may hold ``answers.yaml``::

    grad_W: 'Wx(W^TWx - x)^T + W(W^TWx - x)x^T'
    grad_X: '\\alpha\\left(K^{-1}YY^TK^{-1} - DK^{-1}\\right)X'

Each answer is parsed by ``grader.latex`` over the symbols the spec declares for its problem,
then evaluated on every case *in the trusted grader*: no student code runs, only our parser and
our tree walk, so the usual scoring and diagnosis apply to the resulting ``PartRun``.

Policies (a student can run into each, so each is stated here):
- Symbols: the problem's inputs (``W``, ``x``; ``X``, ``Y``, ``\\alpha``, ``\\beta``) with their
  declared shapes, its dimensions as scalars (``D``), and the graph's named quantities
  (``a``, ``b``, ``c``; ``K``) with the shapes they have when the graph is evaluated. A part may
  use only quantities computed *before* its own node (``loss: L`` is not an answer). A problem's
  ``symbols:`` key narrows the list. Names that are not a letter or a Greek letter name
  (``logdet_term``) cannot be written and are left out.
- Code wins: an answer is graded only when the part's function is missing or still raises
  NotImplementedError; otherwise the report says the answer was not used.
- The formula is the last ``\\boxed{...}`` if there is one, else what follows the last ``=``
  (so ``\\frac{\\partial L}{\\partial W} = ...`` works); ``$``, ``\\[ \\]`` and a final ``.`` go.
- An answer that cannot be read is the part's failure (status ``invalid_answer``) with the
  parser's one-line message; a wrong shape or wrong values are reported like a function's.
- Guard rails, since the text is untrusted and sympy folds numbers eagerly: at most
  ``MAX_ANSWER_CHARS`` characters, and integer exponents whose product is at most
  ``MAX_EXPONENT_PRODUCT`` (``((2^9)^9)^9...`` would otherwise build a gigantic integer).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from grader import yamlread
from grader.cases import Case, build_cases
from grader.graph import evaluate_graph
from grader.runner import CallError, PartRun, SubmissionRun
from grader.spec import ArrayOutput, AssignmentSpec, DimSpec, PartSpec, ProblemSpec

__all__ = [
    "ANSWER_FILES",
    "AnswerGrader",
    "AnswerSheet",
    "apply_answers",
    "find_answers",
    "read_answers",
]

ANSWER_FILES = ("answers.yaml", "answers.yml")
MAX_FILE_BYTES = 256 << 10
MAX_ANSWER_CHARS = 2000
MAX_EXPONENT_PRODUCT = 10_000
_EXPONENT = re.compile(r"\^\s*\{?\s*-?\s*(\d)")
_BOXED = re.compile(r"\\boxed\s*\{")


@dataclass(frozen=True, slots=True)
class AnswerSheet:
    """What a submission's answers.yaml says: part -> LaTeX, and what was wrong with the file."""

    answers: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    error: str | None = None  # the file could not be read at all


# --------------------------------------------------------------------------- reading the file


def find_answers(folder: Path) -> Path | None:
    """The folder's answers.yaml, never through a symbolic link (the grader reads it, and its
    text can show up in the student's report)."""
    for name in ANSWER_FILES:
        path = folder / name
        if path.is_file() and not path.is_symlink():
            return path
    return None


def read_answers(path: Path, spec: AssignmentSpec) -> AnswerSheet:
    """Read answers.yaml; never raises for what a student wrote (it becomes the sheet's error or
    warnings)."""
    name = path.name
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return AnswerSheet(error=f"{name} is larger than {MAX_FILE_BYTES >> 10} KiB")
        data = yamlread.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        return AnswerSheet(error=f"{name} is not valid YAML{where}: {problem}")
    except (OSError, UnicodeDecodeError) as exc:
        return AnswerSheet(error=f"cannot read {name}: {exc}")
    if data is None:
        return AnswerSheet(warnings=(f"{name} is empty",))
    if not isinstance(data, Mapping):
        return AnswerSheet(
            error=f"{name} must map function names to LaTeX strings (grad_W: 'W x^T'), "
            f"got a {type(data).__name__}"
        )
    parts = [p.function for problem in spec.problems for p in problem.parts]
    answers: dict[str, str] = {}
    warnings: list[str] = []
    for key, value in data.items():
        if str(key) not in parts:
            close = [p for p in parts if p.lower() == str(key).lower()]
            close = close or difflib.get_close_matches(str(key), parts, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            warnings.append(f"{name}: {key!r} is not a part of this assignment{hint}")
        elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
            warnings.append(f"{name}: {key}: expected a LaTeX string, got {type(value).__name__}")
        else:
            answers[str(key)] = str(value)
    return AnswerSheet(answers=answers, warnings=tuple(warnings))


def clean_formula(text: str) -> str:
    """The formula to grade: the last \\boxed{...}, else what follows the last '='; math
    delimiters and a final full stop removed. ValueError with a student-readable reason."""
    bad = [c for c in text if ord(c) < 32 and c not in "\n\r"]
    if bad:
        raise ValueError(
            f"the answer contains the control character {bad[0]!r}: in YAML, a formula with "
            "backslashes goes in single quotes ('\\alpha K^{-1}'), not double quotes"
        )
    boxes = list(_BOXED.finditer(text))
    if boxes:
        start = boxes[-1].end()
        depth = 1
        for end in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                text = text[start:end]
                break
        else:
            raise ValueError("\\boxed{ is never closed")
    text = text.rsplit("=", 1)[-1].strip().rstrip(" .,;")
    for left, right in (("$$", "$$"), ("$", "$"), ("\\[", "\\]"), ("\\(", "\\)")):
        if text.startswith(left) and text.endswith(right) and len(text) >= len(left + right):
            text = text[len(left) : len(text) - len(right)].strip()
    text = text.rstrip(" .,;")
    if len(text) > MAX_ANSWER_CHARS:
        raise ValueError(f"the answer is longer than {MAX_ANSWER_CHARS} characters")
    product = math.prod(max(1, int(d)) for d in _EXPONENT.findall(text))
    if product > MAX_EXPONENT_PRODUCT:
        raise ValueError("the answer's integer powers are too large to evaluate")
    return text


# --------------------------------------------------------------------------- symbols and values


def _target(part: PartSpec) -> str | None:
    return part.value_of or (part.gradient.of if part.gradient else None)


def _distinct_sizes(problem: ProblemSpec) -> dict[str, int]:
    """One size per dimension, all different and > 1 and not a literal in any shape, so that a
    node's shape (3, 1) can only mean (m, 1). Inside the declared range where possible."""
    literals = {s for i in problem.inputs for s in i.shape if isinstance(s, int)}
    used: set[int] = set(literals) | {1}
    sizes = {}
    for dim in sorted(problem.dims, key=lambda d: d.max - d.min):
        size = max(dim.min, 2)
        while size in used:
            size += 1
        sizes[dim.name] = size
        used.add(size)
    return sizes


def _node_shapes(problem: ProblemSpec) -> dict[str, tuple[str | int, ...]]:
    """Graph node -> shape in dimension names, read off one evaluation with distinct sizes.
    Nodes that are not scalars or 2-D arrays are left out (they cannot be written as symbols)."""
    sizes = _distinct_sizes(problem)
    fixed = dataclasses.replace(
        problem,
        dims=tuple(DimSpec(d.name, sizes[d.name], sizes[d.name]) for d in problem.dims),
        cases=1,
        hidden_cases=0,
    )
    by_size = {v: k for k, v in sizes.items()}
    case = build_cases(fixed, 0)[0]
    try:
        with np.errstate(all="ignore"):
            env = evaluate_graph(problem.compiled, {**case.dims, **case.inputs})
    except Exception:
        return {}
    shapes: dict[str, tuple[str | int, ...]] = {}
    for name, _ in problem.graph:
        shape = np.shape(env[name])
        if len(shape) in (0, 2):
            shapes[name] = tuple(by_size.get(s, s) for s in shape)
    return shapes


class AnswerGrader:
    """Parses and evaluates answers for one assignment and one set of cases. Made once per
    batch: symbol tables, graph values and parses of identical answers are cached."""

    def __init__(self, problems: Sequence[ProblemSpec], cases: Sequence[Sequence[Case]]) -> None:
        from grader import latex  # sympy: paid only when some submission has answers

        self._latex = latex
        self.problems = tuple(problems)
        self.cases = tuple(tuple(c) for c in cases)
        self._tables: dict[int, dict[str, Any]] = {}
        self._values: dict[int, list[dict[str, Any]]] = {}
        self._parsed: dict[tuple[int, str, str], Any] = {}

    def _writable(self, name: str) -> bool:
        """Whether the parser accepts ``name`` as a symbol (a letter or a Greek letter name)."""
        latex = self._latex
        try:
            latex.parse_latex(
                name if len(name) == 1 else f"\\{name}", {name: latex.SymbolSpec(name)}
            )
        except (latex.LatexError, ValueError):
            return False
        return True

    def table(self, p: int) -> dict[str, Any]:
        """Every symbol problem ``p`` declares: name -> SymbolSpec, in graph order for nodes."""
        if p not in self._tables:
            problem, spec = self.problems[p], self._latex.SymbolSpec
            table: dict[str, Any] = {}
            for item in problem.inputs:
                if len(item.shape) in (0, 2):
                    table[item.name] = spec(item.name, item.shape)
            for dim in problem.dims:
                table[dim.name] = spec(dim.name, ())
            for node, shape in _node_shapes(problem).items():
                table[node] = spec(node, shape)
            allowed = problem.symbols
            self._tables[p] = {
                k: v
                for k, v in table.items()
                if (allowed is None or k in allowed) and self._writable(k)
            }
        return self._tables[p]

    def symbols_for(self, p: int, part: PartSpec) -> dict[str, Any]:
        """The symbols a part's answer may use: no node from the part's own node onwards."""
        problem, table = self.problems[p], self.table(p)
        nodes = [name for name, _ in problem.graph]
        target = _target(part)
        late = set(nodes[nodes.index(target) :]) if target in nodes else set()
        return {k: v for k, v in table.items() if k not in late}

    def values(self, p: int) -> list[dict[str, Any]]:
        """Per case: inputs, dimensions and every graph node, for numeric evaluation."""
        if p not in self._values:
            problem, out = self.problems[p], []
            for case in self.cases[p]:
                given = {**case.dims, **case.inputs}
                try:
                    with np.errstate(all="ignore"):
                        out.append(evaluate_graph(problem.compiled, given))
                except Exception:  # a spec problem (grader validate says so): answers that
                    out.append(given)  # use a node then fail on this case, others still work
            self._values[p] = out
        return self._values[p]

    def warm(self, sheet: AnswerSheet) -> AnswerGrader:
        """Parse a sheet's answers and evaluate the graphs ahead of time (``grader check`` does
        it while the sandbox runs)."""
        for p, problem in enumerate(self.problems):
            for part in problem.parts:
                if part.function in sheet.answers:
                    self.run(p, part, sheet.answers[part.function])
        return self

    def run(self, p: int, part: PartSpec, text: str) -> PartRun:
        """The answer as if a function had returned its values on every case."""
        n = len(self.cases[p])
        latex = self._latex
        if not isinstance(part.output, ArrayOutput):
            return _failed(n, "answers.yaml can answer only a part that returns one array")
        symbols = self.symbols_for(p, part)
        key = (p, part.function, text)
        if key not in self._parsed:
            try:
                self._parsed[key] = latex.parse_latex(clean_formula(text), symbols)
            except (latex.LatexError, ValueError) as exc:
                self._parsed[key] = str(exc)
            except RecursionError:
                self._parsed[key] = "the answer is nested too deeply to read"
        parsed = self._parsed[key]
        if isinstance(parsed, str):
            return _failed(n, f"{parsed}\n  your answer: {_short(text)}")
        values: list[Mapping[str, np.ndarray] | None] = []
        errors: list[CallError | None] = []
        for env in self.values(p):
            try:
                with np.errstate(all="ignore"):
                    got = latex.evaluate(parsed, env)
                if np.iscomplexobj(got):
                    raise TypeError("the answer evaluates to complex numbers")
                values.append({"": np.asarray(got, dtype=np.float64)})
                errors.append(None)
            except Exception as exc:  # singular matrix and the like: that case fails
                values.append(None)
                errors.append(
                    CallError("exception", f"evaluating your answer: {type(exc).__name__}: {exc}")
                )
        return PartRun(values=tuple(values), errors=tuple(errors))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "..."


def _failed(n: int, message: str) -> PartRun:
    return PartRun(
        values=(None,) * n, errors=(None,) * n, failure=CallError("invalid_answer", message)
    )


def _unanswered(run: PartRun) -> bool:
    """No code for this part: the function is missing, or every call raised NotImplementedError."""
    if run.failure is not None:
        return run.failure.kind == "missing"
    return bool(run.errors) and all(
        e is not None and e.kind == "not_implemented" for e in run.errors
    )


def apply_answers(
    run: SubmissionRun, sheet: AnswerSheet, grader: AnswerGrader
) -> tuple[SubmissionRun, frozenset[str], tuple[str, ...]]:
    """Put the answers in place of the parts that have no code.

    Returns the new run, the functions graded from answers.yaml, and warnings for the report.
    """
    warnings = list(sheet.warnings)
    parts = list(run.parts)
    answered: set[str] = set()
    index = 0
    for p, problem in enumerate(grader.problems):
        for part in problem.parts:
            current = parts[index]
            if sheet.error is not None and _unanswered(current):
                parts[index] = _failed(len(grader.cases[p]), sheet.error)
                answered.add(part.function)
            elif part.function in sheet.answers:
                if _unanswered(current):
                    parts[index] = grader.run(p, part, sheet.answers[part.function])
                    answered.add(part.function)
                else:
                    warnings.append(
                        f"answers.yaml: {part.function} is graded from your code; the LaTeX "
                        "answer is used only for a function that is missing or not implemented"
                    )
            index += 1
    if sheet.error is not None:
        warnings.append(sheet.error)
    return dataclasses.replace(run, parts=tuple(parts)), frozenset(answered), tuple(warnings)
