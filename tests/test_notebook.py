"""Tests for grader.notebook: student notebooks in, the assignment's notebook out.

Grading notebooks end to end (one ``grader grade`` call, the fixture ``graded``) checks what an
instructor sees: twins of .py submissions score the same, a failing cell is a warning, a corrupt
file is a failed report and the batch still exits 0.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.notebook import (
    WARNING_MARKER,
    NotebookError,
    convert_notebook,
    module_name,
    strip_ipython,
    warnings_from_stderr,
)
from tests.conftest import ASSIGNMENT, EXAMPLES, CliRun, run_cli


def write_notebook(path: Path, *cells: Any, minor: int = 5, language: str = "python") -> Path:
    nb = new_notebook(
        cells=list(cells),
        metadata={"kernelspec": {"name": "k", "display_name": "k", "language": language}},
    )
    nb.nbformat_minor = minor
    for k, cell in enumerate(nb.cells):
        if minor < 5:
            cell.pop("id", None)
        else:
            cell["id"] = f"c{k}"
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def import_module(folder: Path, filename: str) -> Any:
    """Import a generated module the way the harness does (trusted test input only)."""
    name = filename[:-3]
    spec = importlib.util.spec_from_file_location(name, folder / filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


# --------------------------------------------------------------------------- IPython syntax


@pytest.mark.parametrize(
    ("cell", "python"),
    [
        ("%matplotlib inline\nimport numpy as np", "pass\nimport numpy as np"),
        ("!pip install numpy", "pass"),
        ("!!ls", "pass"),
        ("files = !ls\nx = 1", "files = None\nx = 1"),
        ("t = %timeit -o f()", "t = None"),
        ("np.dot?\n??np", "pass\npass"),
        ("if True:\n    %time f()\n", "if True:\n    pass\n"),
        ("%pip install \\\n    numpy\nx = 1", "pass\n\nx = 1"),
        ("%%time\nx = 1\ny = 2", "\nx = 1\ny = 2"),
        ("s = '''\n!not a shell line\n'''", "s = '''\n!not a shell line\n'''"),
        ("y = (a\n     % b)", "y = (a\n     % b)"),
        ("x = 10 % 3", "x = 10 % 3"),
    ],
    ids=[
        "line-magic",
        "shell",
        "double-shell",
        "shell-assign",
        "magic-assign",
        "help",
        "indented",
        "continued",
        "python-cell-magic",
        "inside-string",
        "inside-brackets",
        "modulo",
    ],
)
def test_strip_ipython(cell: str, python: str) -> None:
    assert strip_ipython(cell) == python
    compile(python, "cell", "exec")  # what comes out is Python


@pytest.mark.parametrize("magic", ["%%bash", "%%html", "%%writefile helpers.py", "%%javascript"])
def test_non_python_cell_magics_are_skipped(magic: str) -> None:
    assert strip_ipython(f"{magic}\necho hi") is None


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("hw1.ipynb", "hw1_ipynb"),
        ("numpy.ipynb", "numpy_ipynb"),
        ("HW 1 (final).ipynb", "HW_1__final__ipynb"),
        ("1.ipynb", "nb_1_ipynb"),
    ],
)
def test_module_names_are_importable_and_shadow_nothing(name: str, module: str) -> None:
    assert module_name(name) == module
    assert module.isidentifier()


# --------------------------------------------------------------------------- conversion


def test_converted_notebook_defines_the_functions_and_reports_the_failing_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    converted = convert_notebook(EXAMPLES / "correct_notebook.ipynb")
    assert converted.filename == "correct_notebook_ipynb.py"
    (tmp_path / converted.filename).write_text(converted.source, encoding="utf-8")
    module = import_module(tmp_path, converted.filename)
    assert callable(module.grad_W) and callable(module.grad_beta) and callable(module.kernel)
    stderr = capsys.readouterr().err
    assert warnings_from_stderr(stderr) == (
        "correct_notebook.ipynb cell 15, line 2 failed (NameError: name 'check_gradient' is not "
        "defined); it was skipped, the cells after it still ran",
    )
    assert "__grader_run_cells" not in vars(module)


def test_cells_share_one_namespace_and_a_syntax_error_costs_one_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = write_notebook(
        tmp_path / "hw.ipynb",
        new_markdown_cell("# hw"),
        new_code_cell("from __future__ import annotations\nscale = 2"),
        new_code_cell("def broken(:\n    pass"),
        new_code_cell("import sys\nsys.exit(3)"),
        new_code_cell("def double(v):\n    return scale * v"),
    )
    converted = convert_notebook(nb)
    (tmp_path / converted.filename).write_text(converted.source, encoding="utf-8")
    module = import_module(tmp_path, converted.filename)
    assert module.double(4) == 8
    lines = warnings_from_stderr(capsys.readouterr().err)
    assert [line.split(" failed")[0] for line in lines] == [
        "hw.ipynb cell 3, line 1",
        "hw.ipynb cell 4, line 2",
    ]
    assert "SyntaxError" in lines[0] and "SystemExit: 3" in lines[1]


@pytest.mark.parametrize("minor", [0, 1, 2, 3, 4, 5])
def test_every_nbformat_4_minor_reads(tmp_path: Path, minor: int) -> None:
    nb = write_notebook(
        tmp_path / "hw.ipynb",
        new_code_cell("x = 1"),
        new_code_cell("def f():\n    return x"),
        minor=minor,
    )
    converted = convert_notebook(nb)
    assert converted.cells == 2
    (tmp_path / converted.filename).write_text(converted.source, encoding="utf-8")
    assert import_module(tmp_path, converted.filename).f() == 1


def test_cell_magic_cells_are_noted(tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "hw.ipynb", new_code_cell("%%bash\nls"), new_code_cell("x = 1"))
    assert convert_notebook(nb).notes == ("hw.ipynb cell 1: %%bash cell skipped (not Python)",)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"cells": [', r"hw\.ipynb: not a Jupyter notebook: invalid JSON at line 1, column 12"),
        (b"\xff\xfe\x00", r"hw\.ipynb: not a Jupyter notebook \(not UTF-8 text\)"),
        ('{"hello": 1}', r"hw\.ipynb: not a Jupyter notebook \("),
        ("[1, 2]", r"hw\.ipynb: not a Jupyter notebook"),
    ],
    ids=["truncated", "binary", "other-json", "json-list"],
)
def test_corrupt_notebooks_get_one_clear_line(tmp_path: Path, content: Any, message: str) -> None:
    path = tmp_path / "hw.ipynb"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(NotebookError, match=message) as info:
        convert_notebook(path)
    assert "\n" not in str(info.value)


def test_a_notebook_in_another_language_is_refused(tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "hw.ipynb", new_code_cell("x <- 1"), language="R")
    with pytest.raises(NotebookError, match="kernel is R, not Python"):
        convert_notebook(nb)


# --------------------------------------------------------------------------- grader notebook


def test_the_shipped_notebook_is_up_to_date(tmp_path: Path) -> None:
    """The instructor edits the stubs and the handout; `grader notebook` regenerates this."""
    run = run_cli("notebook", ASSIGNMENT, "--out", tmp_path / "nb.ipynb")
    assert run.code == 0, run.err
    shipped = ASSIGNMENT / "matrix-calculus.ipynb"
    assert (tmp_path / "nb.ipynb").read_text(encoding="utf-8") == shipped.read_text(
        encoding="utf-8"
    ), "run: grader notebook assignments/matrix-calculus"


def test_the_notebook_holds_the_handout_and_one_function_per_cell() -> None:
    nb = nbformat.read(ASSIGNMENT / "matrix-calculus.ipynb", as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "markdown"
    assert nb.cells[0].source.startswith("# Homework")
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    defs = [c for c in code if c.startswith("def ")]
    assert len(defs) == 14
    assert all(c.count("\ndef ") == 0 for c in defs)


# --------------------------------------------------------------------------- grading notebooks


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, Any]]:
    root = tmp_path_factory.mktemp("notebooks")
    subs = root / "subs"
    subs.mkdir()
    (subs / "corrupt.ipynb").write_text('{"cells": [{"cell_type": "code"', encoding="utf-8")
    write_notebook(
        subs / "traced.ipynb",
        new_code_cell("import numpy as np"),
        new_code_cell("def grad_c(W, x):\n    n = x.shape[0]\n    return np.ones((n, 2)) @ W"),
    )
    # Worked in the notebook, zipped the whole handout folder: the stubs ride along untouched.
    with zipfile.ZipFile(subs / "whole_folder.zip", "w") as zf:
        for f in ("autoencoder.py", "gplvm.py", "README.md", "assignment.yaml"):
            zf.write(ASSIGNMENT / f, f"matrix-calculus/{f}")
        zf.write(EXAMPLES / "correct_notebook.ipynb", "matrix-calculus/matrix-calculus.ipynb")
    out = root / "reports"
    run = run_cli(
        "grade",
        ASSIGNMENT,
        EXAMPLES / "correct",
        EXAMPLES / "correct_notebook.ipynb",
        subs / "corrupt.ipynb",
        subs / "traced.ipynb",
        ASSIGNMENT / "matrix-calculus.ipynb",
        subs / "whole_folder.zip",
        "--out",
        out,
        "--quiet",
    )

    def report(name: str) -> dict[str, Any]:
        return json.loads((out / f"{name}.json").read_text(encoding="utf-8"))

    report.run = run  # type: ignore[attr-defined]
    return report


def test_batch_with_a_corrupt_notebook_exits_0(graded: Any) -> None:
    run: CliRun = graded.run
    assert run.code == 0, run.err


def test_notebook_twin_grades_like_the_folder(graded: Callable[[str], dict[str, Any]]) -> None:
    folder, notebook = graded("correct"), graded("correct_notebook")
    assert notebook["score"] == folder["score"] == folder["max_score"]
    assert [p["status"] for p in notebook["parts"]] == [p["status"] for p in folder["parts"]]
    assert any("correct_notebook.ipynb cell 15" in w for w in notebook["warnings"])


def test_corrupt_notebook_gets_a_failed_report(graded: Callable[[str], dict[str, Any]]) -> None:
    report = graded("corrupt")
    assert report["status"] == "error" and report["score"] == 0
    assert report["error"].startswith("corrupt.ipynb: not a Jupyter notebook: invalid JSON")


def test_traceback_names_the_notebook_cell(graded: Callable[[str], dict[str, Any]]) -> None:
    part = next(p for p in graded("traced")["parts"] if p["function"] == "grad_c")
    assert part["status"] == "error"
    assert 'File "traced.ipynb cell 2", line 3, in grad_c' in part["traceback"]
    assert "return np.ones((n, 2)) @ W" in part["traceback"]
    assert "/tmp" not in part["traceback"]


def test_the_handed_out_notebook_is_all_not_implemented(
    graded: Callable[[str], dict[str, Any]],
) -> None:
    report = graded("matrix-calculus")
    assert {p["status"] for p in report["parts"]} == {"not_implemented"}
    assert WARNING_MARKER not in json.dumps(report)


def test_linked_notebooks_and_answers_are_never_read(tmp_path: Path) -> None:
    """A folder from a pull request can hold symlinks: the grader must not follow them into
    its own files (their text would come back in the student's report)."""
    from grader.intake import stage
    from grader.spec import load_spec

    secret = tmp_path / "secret.ipynb"
    shutil.copy(EXAMPLES / "correct_notebook.ipynb", secret)
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "hw.ipynb").symlink_to(secret)
    (folder / "answers.yaml").symlink_to(secret)
    intake = stage([folder], tmp_path / "scratch", load_spec(ASSIGNMENT))
    assert intake.error is None and not intake.notebooks and intake.answers is None
    assert intake.path == folder


def test_validate_reports_a_stale_notebook(tmp_path: Path) -> None:
    root = shutil.copytree(ASSIGNMENT, tmp_path / "matrix-calculus")
    stub = root / "autoencoder.py"
    stub.write_text(stub.read_text(encoding="utf-8") + "\n\ndef extra():\n    pass\n", "utf-8")
    run = run_cli("validate", root, "--seeds", "1")
    assert "FAIL  notebook matrix-calculus.ipynb: out of date with the stubs or the handout" in (
        run.out
    )


def test_untouched_stubs_beside_a_notebook_are_left_out(graded: Callable[[str], Any]) -> None:
    report = graded("whole_folder")
    assert report["score"] == report["max_score"]
    assert (
        "autoencoder.py is the untouched stub: your notebook is graded instead"
        in (report["warnings"])
    )
