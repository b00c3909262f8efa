"""Tests for grader.grading, end to end: ``grader grade`` run through ``grader.cli.main``
in-process, asserting what an instructor checks: exit codes, the summary and error lines, and
the JSON/YAML reports.

Speed: every grade call starts a sandbox runner (~0.2 s), so the examples and the hand-written
submissions below are graded in ONE call (the session fixture ``batch``) and each test reads
its reports. Timeouts use a copy of the assignment with a short time_limit (``fast_assignment``).
"""

from __future__ import annotations

import importlib
import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import grader
from grader.reports.native import to_dict
from tests.conftest import (
    EXAMPLES,
    FAST_TIME_LIMIT,
    TINY_REFERENCE,
    TINY_STUB,
    CliRun,
    copy_submission,
    run_cli,
    write_files,
)

AUTOENCODER_PARTS = (
    "loss",
    "grad_c",
    "grad_b",
    "grad_a",
    "grad_W_via_b",
    "grad_W_via_a",
    "grad_W",
)
GPLVM_PARTS = (
    "log_likelihood",
    "grad_K",
    "grad_X_logdet",
    "grad_X_trace",
    "grad_X",
    "grad_alpha",
    "grad_beta",
)
ALL_PARTS = AUTOENCODER_PARTS + GPLVM_PARTS
POINTS = dict(
    zip(ALL_PARTS, (1, 1, 1, 1, 2, 2, 2, 1, 2, 2, 2, 1, 1, 1), strict=True)
)  # the shipped spec's points, 20 in all

# --------------------------------------------------------------------------- written submissions

# Q1 with every function written independently: no part calls another, so a part that exits,
# or mutates its arguments, cannot drag the others down with it.
AUTOENCODER = {
    "loss": "c = W.T @ (W @ x) - x\nreturn float(0.5 * np.sum(c * c))",
    "grad_c": "return W.T @ (W @ x) - x",
    "grad_b": "return W.T @ (W @ x) - x",
    "grad_a": "return W @ (W.T @ (W @ x) - x)",
    "grad_W_via_b": "return (W @ x) @ (W.T @ (W @ x) - x).T",
    "grad_W_via_a": "return (W @ (W.T @ (W @ x) - x)) @ x.T",
    "grad_W": "c = W.T @ (W @ x) - x\nreturn (W @ x) @ c.T + (W @ c) @ x.T",
}


def autoencoder_source(header: str = "", **bodies: str) -> str:
    """autoencoder.py from AUTOENCODER with some function bodies replaced."""
    functions = {**AUTOENCODER, **bodies}
    text = "import numpy as np\n" + header
    for name, body in functions.items():
        text += f"\n\ndef {name}(W, x):\n{textwrap.indent(body, '    ')}\n"
    return text


def gplvm_with(tail: str) -> dict[str, str]:
    """The correct example's Q2 files, with code appended to gplvm.py (later defs win)."""
    return {
        "gplvm.py": (EXAMPLES / "correct" / "gplvm.py").read_text() + textwrap.dedent(tail),
        "linalg_helpers.py": (EXAMPLES / "correct" / "linalg_helpers.py").read_text(),
    }


CORRECT_GPLVM = gplvm_with("")

SYNTAX_ERROR_GPLVM = """\
import numpy as np


def log_likelihood(X, Y, alpha, beta:
    return 0.0
"""

# name -> files; every one is graded in the session batch next to the examples.
HANDWRITTEN: dict[str, dict[str, str]] = {
    "mutates_inputs": {
        "autoencoder.py": autoencoder_source(
            grad_c="out = W.T @ (W @ x) - x\nW *= 2\nx[:] = 0\nreturn out"
        ),
        **gplvm_with(
            """
            _log_likelihood = log_likelihood


            def log_likelihood(X, Y, alpha, beta):
                value = _log_likelihood(X, Y, alpha, beta)
                X *= 3
                Y[:] = 0
                return value
            """
        ),
    },
    "syntax_error": {"autoencoder.py": autoencoder_source(), "gplvm.py": SYNTAX_ERROR_GPLVM},
    "sys_exit": {
        "autoencoder.py": autoencoder_source(grad_b="import sys\nsys.exit(0)"),
        **CORRECT_GPLVM,
    },
    "os_exit": {
        "autoencoder.py": autoencoder_source(grad_c="import os\nos._exit(3)"),
        **CORRECT_GPLVM,
    },
    "exit_on_import": {
        "autoencoder.py": autoencoder_source(header="import os\n\nos._exit(0)\n"),
        **CORRECT_GPLVM,
    },
    "types_ok": {
        "autoencoder.py": autoencoder_source(
            loss="c = W.T @ (W @ x) - x\nreturn np.float32(0.5 * np.sum(c * c))",
            grad_c="return (W.T @ (W @ x) - x).tolist()",
            grad_b="return [[float(v)] for v in (W.T @ (W @ x) - x).ravel()]",
        ),
        **gplvm_with(
            """
            _grad_alpha, _grad_beta = grad_alpha, grad_beta


            def grad_alpha(X, Y, alpha, beta):
                return float(_grad_alpha(X, Y, alpha, beta))


            def grad_beta(X, Y, alpha, beta):
                return np.array([[_grad_beta(X, Y, alpha, beta)]])
            """
        ),
    },
    "types_bad": {
        "autoencoder.py": autoencoder_source(
            grad_c='return "W.T @ W @ x - x"',
            grad_b="return (W.T @ (W @ x) - x).ravel()",
            grad_a="return np.full((W.shape[0], 1), np.nan)",
            grad_W_via_b="(W @ x) @ (W.T @ (W @ x) - x).T  # no return",
            grad_W="return np.zeros(W.shape, dtype=complex)",
        ),
        **CORRECT_GPLVM,
    },
}


def single_file(folder: Path) -> str:
    """A folder submission as one .py file (its helper module inlined)."""
    helpers = (folder / "linalg_helpers.py").read_text()
    q1 = (folder / "autoencoder.py").read_text()
    q2 = (
        (folder / "gplvm.py")
        .read_text()
        .replace("from linalg_helpers import cholesky_inverse, kernel\n", "")
    )
    return "\n\n".join([helpers, q1, q2])


# --------------------------------------------------------------------------- the batch


@dataclass(frozen=True)
class Graded:
    run: CliRun
    out: Path

    def report(self, name: str) -> dict[str, Any]:
        return json.loads((self.out / f"{name}.json").read_text(encoding="utf-8"))

    def statuses(self, name: str) -> dict[str, str]:
        return {p["function"]: p["status"] for p in self.report(name)["parts"]}

    def part(self, name: str, function: str) -> dict[str, Any]:
        return next(p for p in self.report(name)["parts"] if p["function"] == function)


EXAMPLE_SUBMISSIONS = [
    EXAMPLES / name
    for name in ("correct", "stub", "transposed", "missing_path", "sign_slip", "crash.py")
]


@pytest.fixture(scope="session")
def batch(tmp_path_factory: pytest.TempPathFactory, fast_assignment: Path) -> Graded:
    """Examples + hand-written submissions, graded once through the CLI."""
    root = tmp_path_factory.mktemp("submissions")
    subs = list(EXAMPLE_SUBMISSIONS)
    for name, files in HANDWRITTEN.items():
        subs.append(write_files(root / name, files))
    onefile = root / "one_file.py"
    onefile.write_text(single_file(EXAMPLES / "sign_slip"), encoding="utf-8")
    subs.append(onefile)
    # Two folders called alice, from two sections: both reports must survive.
    subs.append(copy_submission(EXAMPLES / "correct", root / "section1" / "alice"))
    subs.append(copy_submission(EXAMPLES / "stub", root / "section2" / "alice"))
    out = root / "reports"
    run = run_cli("grade", fast_assignment, *subs, "--out", out)
    return Graded(run=run, out=out)


def all_passed_except(**failing: str) -> dict[str, str]:
    return {f: failing.get(f, "passed") for f in ALL_PARTS}


def score_without(*failing: str) -> float:
    return 20.0 - sum(POINTS[f] for f in failing)


# Points a wrong part earns for a declared misconception (assignment.yaml): the seed's +D/2
# sign slip earns half of grad_X_logdet and half of grad_X, which sums it.
CREDITED = {name: {"grad_X_logdet": 1.0, "grad_X": 0.5} for name in ("sign_slip", "one_file")}


EXPECTED: dict[str, dict[str, str]] = {
    "correct": all_passed_except(),
    "stub": dict.fromkeys(ALL_PARTS, "not_implemented"),
    "transposed": all_passed_except(
        grad_W_via_b="wrong_shape", grad_X_trace="wrong_shape", grad_X="error"
    ),
    "missing_path": all_passed_except(grad_W="wrong_value", grad_X="wrong_value"),
    "sign_slip": all_passed_except(grad_X_logdet="wrong_value", grad_X="wrong_value"),
    "crash": all_passed_except(
        grad_a="error",
        grad_W_via_a="error",
        grad_W="timeout",
        grad_K="error",
        grad_X_logdet="missing",
        grad_X_trace="missing",
        grad_X="wrong_type",
        grad_alpha="missing",
        grad_beta="missing",
    ),
    "one_file": all_passed_except(grad_X_logdet="wrong_value", grad_X="wrong_value"),
    "mutates_inputs": all_passed_except(),
    "syntax_error": all_passed_except(**dict.fromkeys(GPLVM_PARTS, "import_error")),
    "sys_exit": all_passed_except(grad_b="error"),
    "os_exit": all_passed_except(grad_c="exited"),
    "exit_on_import": all_passed_except(**dict.fromkeys(AUTOENCODER_PARTS, "exited")),
    "types_ok": all_passed_except(),
    "types_bad": all_passed_except(
        grad_c="wrong_type",
        grad_b="wrong_shape",
        grad_a="not_finite",
        grad_W_via_b="wrong_type",
        grad_W="wrong_type",
    ),
    "alice": all_passed_except(),
    "alice-2": dict.fromkeys(ALL_PARTS, "not_implemented"),
}


def test_grade_exits_0_with_a_summary_table(batch: Graded) -> None:
    assert batch.run.code == 0, batch.run.err
    assert "Traceback" not in batch.run.out + batch.run.err
    lines = batch.run.out.splitlines()
    assert lines[0].split() == ["submission", "score", "parts", "passed", "not", "passed"]
    rows = {line.split()[0]: line.split()[1:3] for line in lines[2 : 2 + len(EXPECTED)]}
    assert rows["correct"] == ["20/20", "14/14"]
    assert rows["stub"] == ["0/20", "0/14"]
    assert rows["transposed"] == ["15/20", "11/14"]
    assert set(rows) == set(EXPECTED)
    assert lines[-1] == f"reports: {batch.out}/ (json, yaml)"


@pytest.mark.parametrize("name", list(EXPECTED))
def test_score_and_part_statuses(batch: Graded, name: str) -> None:
    report = batch.report(name)
    expected = EXPECTED[name]
    assert batch.statuses(name) == expected
    failing = [f for f, status in expected.items() if status != "passed"]
    credited = CREDITED.get(name, {})
    assert report["score"] == score_without(*failing) + sum(credited.values())
    assert report["max_score"] == 20
    for part in report["parts"]:
        passed = part["status"] == "passed"
        earned = POINTS[part["function"]] if passed else credited.get(part["function"], 0)
        assert part["score"] == earned, part["function"]
        assert part["feedback"].startswith(f"{part['function']}: "), part["feedback"]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_json_and_yaml_reports_hold_the_same_data(batch: Graded, name: str) -> None:
    as_json = json.loads((batch.out / f"{name}.json").read_text(encoding="utf-8"))
    as_yaml = yaml.safe_load((batch.out / f"{name}.yaml").read_text(encoding="utf-8"))
    assert as_json == as_yaml


def test_one_pair_of_reports_per_submission_and_nothing_else(batch: Graded) -> None:
    files = sorted(p.name for p in batch.out.iterdir())
    assert files == sorted(f"{n}.{ext}" for n in EXPECTED for ext in ("json", "yaml"))


def test_report_fields(batch: Graded) -> None:
    report = batch.report("transposed")
    assert report["submission"] == "transposed"
    assert report["assignment"] == "matrix-calculus"
    assert report["source"] == str(EXAMPLES / "transposed")
    assert report["seed"] == 2026
    assert report["status"] == "graded" and report["error"] is None
    assert [p["function"] for p in report["parts"]] == list(ALL_PARTS)
    assert report["score"] == sum(p["score"] for p in report["parts"])
    for part in report["parts"]:
        assert part["max_score"] == POINTS[part["function"]]
        assert part["problem"] == (
            "autoencoder" if part["function"] in AUTOENCODER_PARTS else "gplvm"
        )
        assert [c["index"] for c in part["cases"]] == [0, 1, 2, 3, 4]
        assert [c["hidden"] for c in part["cases"]] == [False, False, False, True, True]


def test_hidden_cases_show_the_verdict_only(batch: Graded) -> None:
    part = batch.part("transposed", "grad_W_via_b")
    public, hidden = part["cases"][:3], part["cases"][3:]
    assert all(c.keys() == {"index", "hidden", "status"} for c in hidden)
    assert all(c["status"] == "wrong_shape" for c in hidden)
    assert all({"dims", "message", "rel_error"} <= c.keys() for c in public)
    m, n = public[0]["dims"]["m"], public[0]["dims"]["n"]
    assert f"shape ({n}, {m}), expected ({m}, {n})" in part["feedback"]
    assert "hidden case(s) 3, 4: failed" in part["feedback"]


def test_feedback_says_what_is_wrong(batch: Graded) -> None:
    sign = batch.part("sign_slip", "grad_X_logdet")["feedback"]
    assert sign.startswith("grad_X_logdet: wrong values on 5 of 5 cases")
    assert "relative error" in sign and "tolerance 1e-06" in sign
    stub = batch.part("stub", "grad_W")["feedback"]
    assert stub.startswith("grad_W: not implemented yet")
    assert batch.part("correct", "grad_W")["feedback"] == "grad_W: correct on all 5 cases"


def test_crash_shows_the_students_traceback_only(batch: Graded) -> None:
    part = batch.part("crash", "grad_a")
    trace = part["traceback"]
    assert trace.startswith("Traceback (most recent call last):")
    assert 'File "crash.py", line 19, in grad_a' in trace
    assert "ValueError" in trace and "ValueError" in part["feedback"]
    for internal in ("grader", "harness", "zygote", "site-packages", "/tmp", "importlib"):
        assert internal not in trace, internal


def test_crash_infinite_loop_times_out_and_the_rest_still_runs(batch: Graded) -> None:
    part = batch.part("crash", "grad_W")
    assert part["status"] == "timeout"
    assert f"limit {FAST_TIME_LIMIT} s" in part["feedback"]
    assert batch.statuses("crash")["log_likelihood"] == "passed"  # the part after the timeout


def test_crash_missing_functions_name_the_expected_file(batch: Graded) -> None:
    feedback = batch.part("crash", "grad_alpha")["feedback"]
    assert "expected a function grad_alpha in gplvm.py" in feedback
    assert "crash.py" in feedback
    assert "returned None" in batch.part("crash", "grad_X")["feedback"]


def test_single_file_grades_like_the_folder(batch: Graded) -> None:
    folder, single = batch.report("sign_slip"), batch.report("one_file")
    assert single["score"] == folder["score"] == 18.5
    assert [(p["function"], p["status"], p["score"]) for p in single["parts"]] == [
        (p["function"], p["status"], p["score"]) for p in folder["parts"]
    ]


def test_mutating_inputs_does_not_corrupt_other_parts(batch: Graded) -> None:
    assert batch.report("mutates_inputs")["score"] == 20


def test_syntax_error_names_file_and_line_and_spares_the_other_file(batch: Graded) -> None:
    feedback = batch.part("syntax_error", "grad_K")["feedback"]
    assert feedback.startswith("grad_K: your file does not import")
    assert "could not import gplvm.py: SyntaxError" in feedback
    assert "(gplvm.py, line 4)" in feedback
    assert batch.report("syntax_error")["score"] == 10


def test_syntax_error_traceback_uses_the_students_file_name(batch: Graded) -> None:
    trace = batch.part("syntax_error", "grad_K")["traceback"]
    assert 'File "gplvm.py", line 4' in trace
    assert "grader-run-" not in (batch.out / "syntax_error.json").read_text(encoding="utf-8")


def test_sys_exit_in_a_function_fails_only_that_part(batch: Graded) -> None:
    part = batch.part("sys_exit", "grad_b")
    assert "SystemExit" in part["feedback"]
    assert 'File "autoencoder.py"' in part["traceback"]


def test_os_exit_in_a_function_fails_only_that_part(batch: Graded) -> None:
    part = batch.part("os_exit", "grad_c")
    assert part["status"] == "exited"
    assert "status 3" in part["feedback"]
    assert all(s == "passed" for f, s in batch.statuses("os_exit").items() if f != "grad_c")


def test_os_exit_at_import_fails_only_that_modules_parts(batch: Graded) -> None:
    report = batch.report("exit_on_import")
    assert report["score"] == 10
    assert report["status"] == "graded"


def test_return_values_numpy_can_read_are_accepted(batch: Graded) -> None:
    """Lists of lists, np.float32, a Python float or a (1, 1) array for a scalar part."""
    assert batch.report("types_ok")["score"] == 20


def test_wrong_return_types_are_explained(batch: Graded) -> None:
    assert "returned a str" in batch.part("types_bad", "grad_c")["feedback"]
    assert "returned None" in batch.part("types_bad", "grad_W_via_b")["feedback"]
    assert "complex" in batch.part("types_bad", "grad_W")["feedback"]
    shape = batch.part("types_bad", "grad_b")["feedback"]
    n = batch.part("types_bad", "grad_b")["cases"][0]["dims"]["n"]
    assert f"shape ({n},), expected ({n}, 1)" in shape
    assert "nan or inf" in batch.part("types_bad", "grad_a")["feedback"]


def test_same_folder_names_get_distinct_reports(batch: Graded) -> None:
    first, second = batch.report("alice"), batch.report("alice-2")
    assert (first["score"], second["score"]) == (20, 0)
    assert first["source"].endswith("section1/alice")
    assert second["source"].endswith("section2/alice")


def test_python_api_matches_the_cli(batch: Graded, fast_assignment: Path) -> None:
    results = grader.grade(fast_assignment, EXAMPLE_SUBMISSIONS)
    assert [r.submission for r in results] == [
        "correct",
        "stub",
        "transposed",
        "missing_path",
        "sign_slip",
        "crash",
    ]
    for result in results:
        from_api = json.loads(json.dumps(to_dict(result)))
        assert from_api == batch.report(result.submission), result.submission


def test_package_level_functions_survive_their_submodules_being_imported() -> None:
    """``grader.grade(...)`` and ``grader.validate(...)`` are the documented Python API."""
    importlib.import_module("grader.grading")
    importlib.import_module("grader.validation")
    assert callable(grader.grade)
    assert callable(grader.validate)


# --------------------------------------------------------------------------- seeds


def _dims(out: Path, name: str) -> list[dict[str, int]]:
    report = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
    return [c["dims"] for p in report["parts"] for c in p["cases"] if not c["hidden"]]


def test_seed_reproduces_reports_byte_for_byte(
    batch: Graded, fast_assignment: Path, tmp_path: Path
) -> None:
    subs = [EXAMPLES / "correct", EXAMPLES / "stub", EXAMPLES / "transposed"]
    first = run_cli("grade", fast_assignment, *subs, "--seed", "7", "--out", tmp_path / "a")
    second = run_cli("grade", fast_assignment, *subs, "--seed", "7", "--out", tmp_path / "b")
    assert first.code == second.code == 0  # 0 although stub scores 0
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert len(files) == 6
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    report = json.loads((tmp_path / "a" / "stub.json").read_text(encoding="utf-8"))
    assert (report["seed"], report["score"]) == (7, 0)
    # Another seed draws other cases.
    assert _dims(tmp_path / "a", "correct") != _dims(batch.out, "correct")


def test_negative_seed_is_a_usage_error(
    tmp_assignment: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_assignment()
    run = run_cli("grade", root, root / "lin.py", "--seed", "-1", "--out", tmp_path / "out")
    assert run.code == 2
    assert "--seed" in run.err


# --------------------------------------------------------------------------- usage errors


def test_all_zero_scores_still_exit_0(tmp_assignment: Callable[..., Path], tmp_path: Path) -> None:
    root = tmp_assignment()
    run = run_cli("grade", root, root / "lin.py", "--out", tmp_path / "out")
    assert run.code == 0
    report = json.loads((tmp_path / "out" / "lin.json").read_text(encoding="utf-8"))
    assert report["score"] == 0
    assert {p["status"] for p in report["parts"]} == {"not_implemented"}


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        pytest.param(
            lambda root, tmp: [root, tmp / "nope"],
            "nope: no such file or folder",
            id="missing-submission",
        ),
        pytest.param(
            lambda root, tmp: [root, write_files(tmp, {"answers.txt": "42"}) / "answers.txt"],
            "a submission is a folder, a .py file, a notebook (.ipynb) or a .zip (got a .txt)",
            id="txt-submission",
        ),
        pytest.param(
            lambda root, tmp: [root, root / "lin.py", "--format", "json,xml"],
            "unknown report format(s) xml",
            id="unknown-format",
        ),
        pytest.param(
            lambda root, tmp: [root, root / "lin.py", "--jobs", "0"],
            "--jobs must be at least 1, got 0",
            id="zero-jobs",
        ),
        pytest.param(
            lambda root, tmp: [root],
            "the following arguments are required: submissions",
            id="no-submissions",
        ),
        pytest.param(
            lambda root, tmp: [tmp / "nowhere", root / "lin.py"],
            "nowhere: not a directory",
            id="missing-assignment",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    tmp_assignment: Callable[..., Path],
    tmp_path: Path,
    make_args: Callable[[Path, Path], list[Any]],
    message: str,
) -> None:
    root = tmp_assignment()
    out = tmp_path / "out"
    run = run_cli("grade", *make_args(root, tmp_path), "--out", out)
    assert run.code == 2
    assert run.err.startswith("grader: error: ")
    assert message in run.err
    assert run.err.count("\n") == 1
    assert "Traceback" not in run.err
    assert not out.exists()


def test_report_names_never_collide(tmp_assignment: Callable[..., Path], tmp_path: Path) -> None:
    root = tmp_assignment()
    subs = [
        write_files(tmp_path / section / name, {"lin.py": TINY_REFERENCE})
        for section, name in (("a", "alice"), ("b", "alice"), ("c", "alice-2"))
    ]
    run = run_cli("grade", root, *subs, "--out", tmp_path / "out", "--format", "json")
    assert run.code == 0
    sources = {
        json.loads(p.read_text(encoding="utf-8"))["source"]
        for p in (tmp_path / "out").glob("*.json")
    }
    assert sources == {str(s) for s in subs}


HOSTILE = '''\
import json
import os
import struct


def loss(A, x):
    """Forge this part's result frame, with a dtype that is a list, on every descriptor."""
    leaf = {"leaves": [["", ["<f8"], [1]]]}
    head = json.dumps({"t": "result", "part": 0, "failure": None, "cases": [leaf] * 3}).encode()
    for fd in range(3, 64):
        try:
            os.write(fd, struct.pack("<II", len(head), 24) + head + bytes(24))
        except OSError:
            pass
    return 0.0
'''


def test_a_forged_frame_fails_only_its_own_submission(
    tmp_assignment: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_assignment()
    hostile = write_files(tmp_path / "hostile", {"lin.py": HOSTILE})
    honest = write_files(tmp_path / "honest", {"lin.py": TINY_REFERENCE})
    run = run_cli("grade", root, hostile, honest, "--out", tmp_path / "out", "--jobs", "1")
    assert run.code == 0, run.err
    honest_report = json.loads((tmp_path / "out" / "honest.json").read_text(encoding="utf-8"))
    assert honest_report["score"] == 5
    hostile_report = json.loads((tmp_path / "out" / "hostile.json").read_text(encoding="utf-8"))
    assert hostile_report["parts"][0]["status"] != "passed"


def test_tiny_stub_and_reference_grade_as_expected(
    tmp_assignment: Callable[..., Path], tmp_path: Path
) -> None:
    """The tiny assignment the other tests build on: reference 5/5, stub 0/5."""
    root = tmp_assignment()
    ref = write_files(tmp_path / "ref", {"lin.py": TINY_REFERENCE})
    stub = write_files(tmp_path / "stub", {"lin.py": TINY_STUB})
    run = run_cli("grade", root, ref, stub, "--out", tmp_path / "out", "--quiet")
    assert run.code == 0 and run.out == ""
    scores = {
        p.stem: json.loads(p.read_text(encoding="utf-8"))["score"]
        for p in (tmp_path / "out").glob("*.json")
    }
    assert scores == {"ref": 5, "stub": 0}
