"""End-to-end tests of ``grader ci`` (grader.ci): a course repository made with git in tmp_path,
students' pull-request branches, and the environment and event file GitHub Actions provides
(``GITHUB_EVENT_PATH``, ``GITHUB_BASE_REF``/``GITHUB_HEAD_REF``, ``GITHUB_STEP_SUMMARY``,
``GITHUB_OUTPUT``); ``grader ci`` runs in-process through ``grader.cli.main``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "matrix-calculus"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def _branch(repo: Path, name: str, change: Callable[[Path], None]) -> None:
    git(repo, "checkout", "-q", "-b", name, "main")
    change(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", name)
    git(repo, "checkout", "-q", "main")


def _submit(student: str, example: str, assignment: str = "matrix-calculus"):
    def change(repo: Path) -> None:
        shutil.copytree(EXAMPLES / example, repo / "submissions" / student / assignment)

    return change


def _tamper(repo: Path) -> None:
    """Alice's pull request also 'fixes' the spec: no points to lose, any answer within 1e9."""
    path = repo / "assignments" / "matrix-calculus" / "assignment.yaml"
    text = re.sub(r"points: \d+", "points: 0", path.read_text(encoding="utf-8"))
    path.write_text(text.replace("rtol: 1.0e-6", "rtol: 1.0e9"), encoding="utf-8")


def _symlink(repo: Path) -> None:
    """Carol links the reference solution in instead of writing her own."""
    folder = repo / "submissions" / "carol" / "matrix-calculus"
    folder.mkdir(parents=True)
    shutil.copy(EXAMPLES / "correct" / "autoencoder.py", folder)
    (folder / "gplvm.py").symlink_to("../../../solutions/matrix-calculus/gplvm.py")


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course repository: main with the assignment and solutions, one branch per scenario."""
    repo = tmp_path_factory.mktemp("course")
    git(repo, "init", "-q", "-b", "main")
    shutil.copytree(REPO / "assignments" / "matrix-calculus", repo / "assignments/matrix-calculus")
    shutil.copytree(REPO / "solutions" / "matrix-calculus", repo / "solutions/matrix-calculus")
    (repo / "README.md").write_text("course\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "course")
    _branch(repo, "alice", lambda r: (_submit("alice", "correct")(r), _tamper(r)))
    _branch(repo, "bob", _submit("bob", "transposed"))
    _branch(repo, "carol", _symlink)
    _branch(repo, "dave", _submit("dave", "correct", assignment="hw9"))
    _branch(repo, "docs", lambda r: (r / "README.md").write_text("typo\n", encoding="utf-8"))
    return repo


@pytest.fixture
def actions(course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Set up what GitHub Actions provides for a pull request from ``branch`` into main; the
    working tree is the pull request's (tampered spec included), as after actions/checkout."""

    def setup(branch: str) -> dict[str, Path]:
        git(course, "checkout", "-q", branch)
        event = {
            "action": "synchronize",
            "number": 7,
            "pull_request": {
                "number": 7,
                "base": {"ref": "main", "sha": git(course, "rev-parse", "main")},
                "head": {"ref": branch, "sha": git(course, "rev-parse", branch)},
            },
        }
        files = {
            "event": tmp_path / "event.json",
            "summary": tmp_path / "step_summary.md",
            "output": tmp_path / "github_output",
            "out": tmp_path / "grader-reports",
        }
        files["event"].write_text(json.dumps(event), encoding="utf-8")
        for name, value in {
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(files["event"]),
            "GITHUB_BASE_REF": "main",
            "GITHUB_HEAD_REF": branch,
            "GITHUB_STEP_SUMMARY": str(files["summary"]),
            "GITHUB_OUTPUT": str(files["output"]),
        }.items():
            monkeypatch.setenv(name, value)
        return files

    yield setup
    git(course, "checkout", "-q", "main")


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines())


def test_full_marks_with_the_base_spec(course: Path, actions, cli) -> None:
    files = actions("alice")
    run = cli("ci", "--repo", course, "--out", files["out"])
    assert run.code == 0, run.err
    assert "submissions/alice/matrix-calculus: 20/20 passed" in run.out
    # Graded with main's spec: the pull request's zero points and 1e9 tolerance were ignored.
    report = json.loads((files["out"] / "matrix-calculus" / "alice.json").read_text("utf-8"))
    assert (report["score"], report["max_score"]) == (20, 20)
    assert report["submission"] == "alice"
    assert report["source"].startswith("submissions/alice/matrix-calculus @ ")
    assert _outputs(files["output"]) == {
        "score": "20",
        "max_score": "20",
        "passed": "true",
        "submissions": "1",
    }
    summary = files["summary"].read_text(encoding="utf-8")
    assert "| Part | Score | Status |" in summary
    assert "### matrix-calculus: alice — 20/20" in summary
    assert "`assignments/matrix-calculus/assignment.yaml`" in summary  # flagged, not used
    assert (files["out"] / "comment.md").read_text(encoding="utf-8") == summary
    assert (files["out"] / "matrix-calculus" / "alice.md").is_file()


def test_below_the_pass_mark_fails_the_check(course: Path, actions, cli) -> None:
    files = actions("bob")
    run = cli("ci", "--repo", course, "--out", files["out"])
    assert run.code == 1
    assert "submissions/bob/matrix-calculus: 15/20 BELOW THE PASS MARK" in run.out
    assert _outputs(files["output"])["passed"] == "false"
    assert _outputs(files["output"])["score"] == "15"
    comment = (files["out"] / "comment.md").read_text(encoding="utf-8")
    assert "❌ below the pass mark" in comment and "grad_W_via_b" in comment


def test_pass_mark_is_configurable(course: Path, actions, cli) -> None:
    files = actions("bob")
    assert cli("ci", "--repo", course, "--out", files["out"], "--pass-mark", "0.75").code == 0
    assert cli("ci", "--repo", course, "--out", files["out"], "--pass-mark", "0.8").code == 1
    run = cli("ci", "--repo", course, "--out", files["out"], "--pass-mark", "75")
    assert run.code == 2 and "--pass-mark" in run.err


def test_symlinks_in_a_submission_are_not_followed(course: Path, actions, cli) -> None:
    files = actions("carol")
    run = cli("ci", "--repo", course, "--out", files["out"])
    assert run.code == 1
    report = json.loads((files["out"] / "matrix-calculus" / "carol.json").read_text("utf-8"))
    gplvm = [p for p in report["parts"] if p["problem"] == "gplvm"]
    assert report["score"] == 10 and all(p["status"] == "missing" for p in gplvm)


def test_unknown_assignment(course: Path, actions, cli) -> None:
    files = actions("dave")
    run = cli("ci", "--repo", course, "--out", files["out"])
    assert run.code == 1
    assert "no assignment 'hw9' on the base branch" in run.out
    assert "matrix-calculus" in files["summary"].read_text(encoding="utf-8")


def test_no_submission_changed(course: Path, actions, cli) -> None:
    files = actions("docs")
    run = cli("ci", "--repo", course, "--out", files["out"])
    assert run.code == 0
    assert "No submission changed" in files["summary"].read_text(encoding="utf-8")
    assert _outputs(files["output"])["submissions"] == "0"


def test_refs_from_the_command_line(course: Path, tmp_path: Path, cli, monkeypatch) -> None:
    for name in ("GITHUB_EVENT_PATH", "GITHUB_BASE_REF", "GITHUB_HEAD_REF", "GITHUB_OUTPUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    out = tmp_path / "out"
    run = cli("ci", "--repo", course, "--base", "main", "--head", "bob", "--out", out)
    assert run.code == 1 and "15/20" in run.out
    run = cli("ci", "--repo", course, "--out", out)
    assert run.code == 2 and "no base to compare with" in run.err
    run = cli("ci", "--repo", course, "--base", "nope", "--out", out)
    assert run.code == 2 and "fetch-depth: 0" in run.err


def test_workflow_calls_grader_ci() -> None:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "grade.yml").read_text("utf-8"))
    trigger = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "pull_request" in trigger
    assert workflow["permissions"]["pull-requests"] == "write"
    steps = workflow["jobs"]["grade"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "grader ci" in runs and "--pass-mark" in runs and "gh pr comment" in runs
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in steps)
