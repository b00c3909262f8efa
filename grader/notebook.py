"""Jupyter notebooks, both ways: a student's ``.ipynb`` into a module the sandbox runs, and an
assignment's handout and stubs into the student notebook (``grader notebook``).

Reading happens in the trusted grader and runs nothing: nbformat parses the JSON (any 4.x
minor, upgraded in memory), the code cells are kept in order, and IPython syntax is removed line
by line (``%matplotlib inline``, ``!pip install``, ``x = !ls``, ``np.dot?``; a ``%%bash`` or other
non-Python cell is skipped whole). What comes out is the source of a module ``<stem>_ipynb.py``
that, imported inside the sandbox child like any student ``.py`` file, runs each cell in one
shared namespace (as a kernel would) inside its own try/except: a failing cell costs that cell
only, the cells after it still run, and the functions that got defined are graded.

Each failing cell writes one line to the child's stderr starting with ``WARNING_MARKER``;
``warnings_from_stderr`` reads them back for the report. Tracebacks name the cell
(``File "hw.ipynb cell 7", line 3``) and show its source, trimmed like any student traceback.
The cells run at import, so within the time limit of the first part that needs the module.
"""

from __future__ import annotations

import ast
import io
import itertools
import json
import re
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from grader.spec import AssignmentSpec, load_spec

__all__ = [
    "WARNING_MARKER",
    "NotebookError",
    "NotebookModule",
    "build_notebook",
    "convert_notebook",
    "notebook_text",
    "warnings_from_stderr",
    "write_notebook",
]

# A record separator starts the line, so ordinary output never looks like a warning.
WARNING_MARKER = "\x1egrader-notebook: "
# Notebooks carry their outputs (plots as base64): generous, but bounded before parsing.
MAX_NOTEBOOK_BYTES = 32 << 20
MAX_WARNINGS = 20
# Cell magics whose body is Python: run the body once, without the magic.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "noop"})
_HELP = re.compile(r"^(\?\??[\w.]+|[\w.]+\?\??)\s*$")
_MAGIC_ASSIGN = re.compile(r"^(?P<target>[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*[!%]")


class NotebookError(ValueError):
    """The file is not a readable Python notebook. One line: what, and what to do."""


@dataclass(frozen=True, slots=True)
class NotebookModule:
    """A notebook turned into a module: its file name, its source, and conversion notes."""

    filename: str  # e.g. "hw1_ipynb.py"
    source: str
    cells: int  # code cells kept
    notes: tuple[str, ...] = ()  # e.g. "hw1.ipynb cell 4: %%bash cell skipped (not Python)"


# --------------------------------------------------------------------------- reading


def _read(path: Path) -> Any:
    import nbformat  # imported here: a batch without notebooks never pays for it

    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            raise NotebookError(
                f"{path.name}: the notebook is {size >> 20} MiB, more than the "
                f"{MAX_NOTEBOOK_BYTES >> 20} MiB allowed; clear its outputs and resubmit"
            )
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise NotebookError(f"{path.name}: not a Jupyter notebook (not UTF-8 text)") from None
    except OSError as exc:
        raise NotebookError(f"{path.name}: cannot read: {exc.strerror or exc}") from None
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(
            f"{path.name}: not a Jupyter notebook: invalid JSON at line {exc.lineno}, column "
            f"{exc.colno} ({exc.msg}); the file may be truncated or corrupt"
        ) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # missing cell ids and the like: not our business
            nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises a zoo of types for malformed files
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise NotebookError(f"{path.name}: not a Jupyter notebook ({detail})") from None
    if not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{path.name}: not a Jupyter notebook (it has no list of cells)")
    language = str(nb.get("metadata", {}).get("kernelspec", {}).get("language", "python"))
    if language.lower() != "python":
        raise NotebookError(f"{path.name}: the notebook's kernel is {language}, not Python")
    return nb


def _statement_rows(source: str) -> set[int] | None:
    """Rows (1-based) where a statement starts: not inside a string, brackets or a ``\\``
    continuation. None when the source cannot be tokenized (then every row counts)."""
    rows: set[int] = set()
    depth, fresh = 0, True
    skip = (tokenize.INDENT, tokenize.DEDENT, tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if fresh and tok.type not in skip:
                rows.add(tok.start[0])
                fresh = False
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth = max(0, depth - 1)
            elif tok.type == tokenize.NEWLINE or (tok.type == tokenize.NL and depth == 0):
                fresh = True
    except (tokenize.TokenError, SyntaxError):
        return None
    return rows


def strip_ipython(source: str) -> str | None:
    """The cell as plain Python (line numbers kept), or None for a non-Python cell magic."""
    lines = source.split("\n")
    head = lines[0].strip()
    if head.startswith("%%"):
        magic = (head[2:].split() or [""])[0]
        if magic not in PYTHON_CELL_MAGICS:
            return None
        lines[0] = ""
    rows = _statement_rows("\n".join(lines))
    out: list[str] = []
    continued = False
    for row, line in enumerate(lines, start=1):
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if continued:  # a magic continued onto this line with a trailing backslash
            out.append("")
            continued = line.rstrip().endswith("\\")
            continue
        if rows is not None and row not in rows:
            out.append(line)
            continue
        if stripped.startswith(("%", "!")) or _HELP.match(stripped):
            out.append(indent + "pass")
            continued = line.rstrip().endswith("\\")
        elif match := _MAGIC_ASSIGN.match(stripped):
            out.append(f"{indent}{match.group('target')} = None")
            continued = line.rstrip().endswith("\\")
        else:
            out.append(line)
    return "\n".join(out)


_RUNNER = """\
# Generated by grader from {notebook!r}: its code cells, run in order in one namespace.
# A failing cell is reported and skipped; the cells after it still run.


def __grader_run_cells(namespace, cells):
    import linecache, os, sys, traceback

    folder = os.path.dirname(os.path.abspath(__file__))
    failures = []
    for number, source in cells:
        filename = os.path.join(folder, {notebook!r} + " cell " + str(number))
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            exec(compile(source, filename, "exec"), namespace)
        except BaseException as exc:  # SystemExit too: in a notebook it ends one cell
            line = exc.lineno if isinstance(exc, SyntaxError) else None
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
            line = line or (frames[-1].lineno if frames else None)
            where = f", line {{line}}" if line else ""
            text = f"{{type(exc).__name__}}: {{exc}}" if str(exc) else type(exc).__name__
            failures.append(
                {notebook!r} + f" cell {{number}}{{where}} failed ({{text[:200]}}); "
                + "it was skipped, the cells after it still ran"
            )
    # Last, so that what the cells printed cannot push these lines out of the stderr tail.
    for failure in failures[:{limit}]:
        sys.stderr.write({marker!r} + failure + "\\n")
    sys.stderr.flush()


__grader_run_cells(globals(), (
{cells}))
globals().pop("__grader_run_cells", None)
"""


def module_name(notebook: str) -> str:
    """``hw 1 (final).ipynb`` -> ``hw_1__final__ipynb``: an importable name that cannot shadow a
    library module (``numpy.ipynb`` must not become ``numpy.py``)."""
    stem = re.sub(r"\W", "_", Path(notebook).stem, flags=re.ASCII)
    return f"{stem if stem[:1].isalpha() else 'nb_' + stem}_ipynb"


def convert_notebook(path: str | Path) -> NotebookModule:
    """Read a notebook and return the module that runs its code cells; NotebookError if the
    file is not a Python notebook."""
    path = Path(path)
    nb = _read(path)
    cells: list[str] = []
    notes: list[str] = []
    for number, cell in enumerate(nb["cells"], start=1):
        if cell.get("cell_type") != "code":
            continue
        raw = cell.get("source", "")
        source = "".join(raw) if isinstance(raw, list) else str(raw)
        python = strip_ipython(source)
        if python is None:
            magic = source.strip().split(None, 1)[0]
            notes.append(f"{path.name} cell {number}: {magic} cell skipped (not Python)")
            continue
        if python.strip():
            cells.append(f"    ({number}, {python!r}),\n")
    if not cells:
        notes.append(f"{path.name}: the notebook has no code cells")
    source = _RUNNER.format(
        notebook=path.name, cells="".join(cells), marker=WARNING_MARKER, limit=MAX_WARNINGS
    )
    return NotebookModule(f"{module_name(path.name)}.py", source, len(cells), tuple(notes))


def warnings_from_stderr(stderr: str) -> tuple[str, ...]:
    """The failing-cell lines a notebook module wrote, once each (a restarted child imports the
    module again), in order."""
    seen: dict[str, None] = {}
    for line in stderr.split("\n"):  # not splitlines(): it splits at the marker's \x1e too
        if line.startswith(WARNING_MARKER):
            seen.setdefault(line[len(WARNING_MARKER) :].strip()[:400], None)
    return tuple(seen)[:MAX_WARNINGS]


# --------------------------------------------------------------------------- writing


def _split_module(source: str) -> list[str]:
    """A stub module as cells: its header (docstring, imports), then one cell per top-level
    function or class, with the comments and statements just above it."""
    tree = ast.parse(source)
    lines = source.splitlines()
    starts = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            while first > 0 and lines[first - 1].lstrip().startswith("#"):
                first -= 1
            starts.append(first)
    bounds = [0, *[s for s in starts if s > 0], len(lines)]
    chunks = ["\n".join(lines[a:b]).strip("\n") for a, b in itertools.pairwise(bounds)]
    return [c for c in chunks if c.strip()]


def build_notebook(spec: AssignmentSpec) -> Any:
    """The student notebook of an assignment: the handout, then each stub module's code, one
    function per cell. Cell ids are fixed, so an unchanged assignment gives the same bytes."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    handout = spec.root / "README.md"
    cells = [
        new_markdown_cell(
            handout.read_text(encoding="utf-8").strip() if handout.is_file() else f"# {spec.title}"
        ),
        new_markdown_cell(
            "## Your code\n\nFill in the functions below without renaming them or changing "
            "their arguments; you may add cells. The grader runs the code cells in order (it "
            "skips IPython lines such as `%matplotlib` and `!pip`, and reports a cell that "
            "fails) and grades the functions they define."
        ),
    ]
    for problem in spec.problems:
        stub = spec.root / f"{problem.module}.py"
        try:
            chunks = _split_module(stub.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError) as exc:
            raise GraderError(
                f"{stub}: cannot read the stub ({exc}); see grader validate"
            ) from None
        cells.append(new_markdown_cell(f"## {problem.title}\n\nFrom `{problem.module}.py`."))
        cells += [new_code_cell(chunk) for chunk in chunks]
    for index, cell in enumerate(cells):
        cell["id"] = f"{cell['cell_type'][:4]}-{index:03d}"
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(nb)
    return nb


def notebook_text(spec: AssignmentSpec) -> str:
    """The student notebook as the bytes ``grader notebook`` writes."""
    import nbformat

    return nbformat.writes(build_notebook(spec)) + "\n"


def write_notebook(assignment_dir: str | Path, out: str | Path | None = None) -> Path:
    """``grader notebook``: write ``ASSIGNMENT_DIR/<name>.ipynb`` (or ``out``); return its path."""
    spec = load_spec(assignment_dir)
    target = Path(out) if out is not None else spec.root / f"{spec.name}.ipynb"
    target.write_text(notebook_text(spec), encoding="utf-8")
    return target
