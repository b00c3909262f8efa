"""Tests for ``grader gradescope`` (grader.gradescope): the zip is built through the CLI,
unpacked into a fake ``/autograder`` (``GRADER_AUTOGRADER_ROOT``), and its ``run_autograder``
run against submissions laid out the way Gradescope lays them out. The apt/pip part of
``setup.sh`` is not run; the wheel in the zip is installed with ``pip --target`` instead, so the
grader that grades is the one the zip carries.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.gradescope import locate_submission, run_autograder
from grader.reports.gradescope import FAILED_TEST_NAME
from grader.spec import load_spec

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = REPO / "assignments" / "matrix-calculus"
EXAMPLES = REPO / "examples" / "matrix-calculus"


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import run_cli

    path = tmp_path_factory.mktemp("zip") / "autograder.zip"
    run = run_cli("gradescope", ASSIGNMENT, "--out", path)
    assert run.code == 0, run.err
    assert str(path) in run.out
    return path


@pytest.fixture(scope="module")
def installed(autograder_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zip's wheel, installed (without dependencies) where only the test looks."""
    site = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(autograder_zip) as z:
        (wheel,) = [n for n in z.namelist() if n.endswith(".whl")]
        z.extract(wheel, site.parent)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile"]
    subprocess.run([*pip, "--target", str(site), str(site.parent / wheel)], check=True)
    return site


def _root(autograder_zip: Path, tmp_path: Path, submission: Path | None) -> Path:
    """A fake /autograder: source/ unpacked from the zip, submission/ as uploaded."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(autograder_zip) as z:
        z.extractall(root / "source")
    if submission is not None:
        shutil.copytree(submission, root / "submission")
    return root


def _run_script(root: Path, python: str, site: Path | None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GRADER_AUTOGRADER_ROOT": str(root),
        "GRADER_PYTHON": python,
        "PYTHONPATH": str(site) if site else "",
    }
    return subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _results(root: Path) -> dict:
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the zip


def test_zip_layout(autograder_zip: Path) -> None:
    with zipfile.ZipFile(autograder_zip) as z:
        names = set(z.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
        setup = z.read("setup.sh").decode()
    assert {"setup.sh", "run_autograder", "assignment/assignment.yaml"} <= names
    assert {"reference/autoencoder.py", "reference/gplvm.py"} <= names
    assert any(n.startswith("grader-") and n.endswith("-py3-none-any.whl") for n in names)
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert "apt-get install -y" in setup and "libseccomp2" in setup and "python3-venv" in setup
    assert "grader-*.whl" in setup


def test_zip_is_reproducible(autograder_zip: Path, tmp_path: Path, cli) -> None:
    again = tmp_path / "again.zip"
    assert cli("gradescope", ASSIGNMENT, "--out", again).code == 0
    assert again.read_bytes() == autograder_zip.read_bytes()


def test_zip_needs_a_valid_assignment(tmp_path: Path, cli) -> None:
    run = cli("gradescope", tmp_path, "--out", tmp_path / "x.zip")
    assert run.code == 2 and "assignment.yaml" in run.err
    assert not (tmp_path / "x.zip").exists()


# --------------------------------------------------------------------------- run_autograder


def test_run_autograder_grades_with_the_bundled_grader(
    autograder_zip: Path, installed: Path, tmp_path: Path
) -> None:
    root = _root(autograder_zip, tmp_path, EXAMPLES / "correct")
    proc = _run_script(root, sys.executable, installed)
    assert proc.returncode == 0, proc.stderr
    assert f"({installed / 'grader'})" in proc.stdout  # the wheel's grader, not the checkout's
    data = _results(root)
    assert data["score"] == 20
    assert len(data["tests"]) == 14
    assert all(t["status"] == "passed" for t in data["tests"])
    assert data["execution_time"] > 0


def test_run_autograder_writes_results_when_python_cannot_start(
    autograder_zip: Path, tmp_path: Path
) -> None:
    root = _root(autograder_zip, tmp_path, EXAMPLES / "correct")
    (root / "results").mkdir()
    (root / "results" / "results.json").write_text("stale", encoding="utf-8")
    proc = _run_script(root, str(tmp_path / "no-python"), None)
    assert proc.returncode == 0
    data = _results(root)
    assert data["score"] == 0 and data["tests"][0]["name"] == FAILED_TEST_NAME


def _nested(tmp: Path) -> Path:
    """A GitHub upload: the files one folder down, next to a README."""
    shutil.copytree(EXAMPLES / "correct", tmp / "up" / "hw" / "matrix-calculus")
    (tmp / "up" / "README.md").write_text("my homework\n", encoding="utf-8")
    return tmp / "up"


def _notebook(tmp: Path) -> Path:
    (tmp / "up").mkdir()
    (tmp / "up" / "homework.ipynb").write_text("{ not json", encoding="utf-8")
    return tmp / "up"


def _empty(tmp: Path) -> Path:
    (tmp / "up").mkdir()
    return tmp / "up"


@pytest.mark.parametrize(
    ("make", "score", "tests"),
    [
        pytest.param(_nested, 20, 14, id="files-in-a-subfolder"),
        pytest.param(_notebook, 0, 14, id="notebook-that-is-not-json"),
        pytest.param(_empty, 0, 14, id="empty-upload"),
    ],
)
def test_run_autograder_on_odd_uploads(
    autograder_zip: Path, tmp_path: Path, make, score: int, tests: int
) -> None:
    root = _root(autograder_zip, tmp_path, make(tmp_path))
    data = run_autograder(root)
    assert data == _results(root)
    assert data["score"] == score and len(data["tests"]) == tests
    if score == 0:
        assert "not found" in data["tests"][0]["output"]


@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param(lambda root: None, id="no-submission-folder"),
        pytest.param(
            lambda root: (root / "source" / "assignment" / "assignment.yaml").write_text(
                "problems: [", encoding="utf-8"
            ),
            id="broken-spec",
        ),
    ],
)
def test_run_autograder_failure_still_writes_results(
    autograder_zip: Path, tmp_path: Path, breakage
) -> None:
    root = _root(autograder_zip, tmp_path, None)
    breakage(root)
    data = run_autograder(root)
    assert data == _results(root)
    assert data["score"] == 0
    (test,) = data["tests"]
    assert test["name"] == FAILED_TEST_NAME and test["visibility"] == "visible"
    assert "could not be graded" in test["output"]


def test_locate_submission_single_file(tmp_path: Path) -> None:
    spec = load_spec(ASSIGNMENT)
    (tmp_path / "all_in_one.py").write_text("", encoding="utf-8")
    assert locate_submission(tmp_path, spec) == tmp_path / "all_in_one.py"
    (tmp_path / "autoencoder.py").write_text("", encoding="utf-8")
    assert locate_submission(tmp_path, spec) == tmp_path
