"""``grader gradescope``: build the autograder zip an instructor uploads to Gradescope, and the
code that zip runs for every submission (``python -m grader.gradescope``).

The zip (Gradescope unpacks it into ``/autograder/source/``)::

    setup.sh                         run once when Gradescope builds the image
    run_autograder                   run for every submission, from /autograder
    grader-<version>-py3-none-any.whl  this grader, exactly the version that built the zip
    assignment/                      the assignment folder (assignment.yaml, stubs, handout)
    reference/                       the reference solutions (never shown to students)

``run_autograder`` grades ``/autograder/submission/`` and always leaves
``/autograder/results/results.json``: the Python side writes it for every failure it can catch
(a spec that does not load, an upload without the expected files, a crash of the grader), the
shell side writes a last-resort file when Python cannot even start.

The wheel is written here rather than by ``pip wheel``: the package is pure Python, ``pip
wheel`` needs the source tree and (with build isolation) network access for setuptools, and this
works the same from a source checkout and from an installed grader. ``--wheel`` takes a wheel
built some other way. The zip is reproducible: same inputs, same bytes.

``GRADER_AUTOGRADER_ROOT`` (default ``/autograder``) and ``GRADER_PYTHON`` let tests run the
real scripts against a fake root.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.metadata
import os
import sys
import tempfile
import time
import traceback
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from grader import __version__
from grader.errors import GraderError, UsageError
from grader.spec import AssignmentSpec, load_spec

__all__ = ["build_autograder", "build_wheel", "locate_submission", "main", "run_autograder"]

DEFAULT_ROOT = "/autograder"
_EPOCH = (1980, 1, 1, 0, 0, 0)  # zip timestamps: fixed, so the same inputs give the same zip
_SKIP = ("__pycache__", "__MACOSX")

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu).
set -euxo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${GRADER_AUTOGRADER_ROOT:-/autograder}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# libseccomp2: the sandbox's seccomp layer loads it (through pyseccomp).
apt-get install -y --no-install-recommends python3 python3-pip python3-venv libseccomp2
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install --upgrade pip
# The grader from the wheel in this zip; its dependencies and pyseccomp from PyPI.
"$ROOT/venv/bin/pip" install "$SOURCE"/grader-*.whl pyseccomp
# A grader that cannot start should fail the image build, not every submission.
"$ROOT/venv/bin/python" -c "import grader.gradescope"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission. It always leaves results/results.json: the grader
# writes it whatever happens to the submission; if Python cannot even start, this script does.
ROOT="${GRADER_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${GRADER_PYTHON:-$ROOT/venv/bin/python}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
"$PYTHON" -m grader.gradescope --root "$ROOT"
code=$?
if [ ! -s "$RESULTS" ]; then
  echo "run_autograder: the grader exited with $code and wrote no results; writing a failure"
  cat > "$RESULTS" <<'EOF'
{"score": 0, "execution_time": 0, "output": "not graded: the grader could not start",
 "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden",
 "tests": [{"name": "Autograder failed", "number": "0", "score": 0, "status": "failed",
  "visibility": "visible", "output_format": "text",
  "output": "Not graded: the grader could not start. This is not a verdict on your answers."}]}
EOF
fi
exit 0
"""


# --------------------------------------------------------------------------- building the zip


def _files(folder: Path) -> Iterator[tuple[Path, str]]:
    """Regular files under ``folder`` with their relative posix paths; no hidden files, caches
    or symlinks (a link could pull a file from outside the folder into the zip)."""
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(p.startswith(".") or p in _SKIP for p in rel.parts) or path.suffix == ".pyc":
            continue
        if path.is_file() and not path.is_symlink():
            yield path, rel.as_posix()


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    archive.writestr(info, data)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def build_wheel(dest: Path) -> Path:
    """A py3-none-any wheel of the running grader, written into ``dest``."""
    try:
        dist = importlib.metadata.distribution("grader")
    except importlib.metadata.PackageNotFoundError:
        raise GraderError(
            "cannot find the installed grader's metadata to build a wheel; "
            "pass one with --wheel (pip wheel --no-deps .)"
        ) from None
    package = Path(__file__).resolve().parent
    info = f"grader-{__version__}.dist-info"
    files = {f"grader/{rel}": path.read_bytes() for path, rel in _files(package)}
    # Written from the installed metadata, whatever its form (a checkout may expose an egg-info
    # with PKG-INFO and no METADATA); extras are left out, setup.sh needs none.
    requires = [r for r in dist.requires or () if "extra ==" not in r]
    metadata = [
        "Metadata-Version: 2.1",
        "Name: grader",
        f"Version: {__version__}",
        f"Summary: {dist.metadata['Summary'] or ''}",
        f"Requires-Python: {dist.metadata['Requires-Python'] or '>=3.10'}",
        *(f"Requires-Dist: {r}" for r in requires),
    ]
    files[f"{info}/METADATA"] = ("\n".join(metadata) + "\n").encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: grader.gradescope\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n"
    )
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\ngrader = grader.cli:main\n"
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / f"grader-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            _add(wheel, name, data)
    return path


def build_autograder(
    assignment: str | Path,
    out: str | Path | None = None,
    *,
    reference: str | Path | None = None,
    wheel: str | Path | None = None,
) -> Path:
    """Write the Gradescope autograder zip for ``assignment``; returns its path."""
    spec = load_spec(assignment, reference=reference)
    if not spec.reference.is_dir():
        raise UsageError(f"{spec.reference}: no reference solutions folder (see --reference)")
    zip_path = Path(out) if out is not None else Path(f"{spec.name}-autograder.zip")
    if wheel is not None and not Path(wheel).is_file():
        raise UsageError(f"{wheel}: no such wheel")
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = zip_path.with_name(f".{zip_path.name}.tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        _add(archive, "setup.sh", SETUP_SH.encode(), executable=True)
        _add(archive, "run_autograder", RUN_AUTOGRADER.encode(), executable=True)
        if wheel is None:
            with tempfile.TemporaryDirectory() as scratch:
                built = build_wheel(Path(scratch))
                _add(archive, built.name, built.read_bytes())
        else:
            _add(archive, Path(wheel).name, Path(wheel).read_bytes())
        for prefix, folder in (("assignment", spec.root), ("reference", spec.reference)):
            for path, rel in _files(folder):
                _add(archive, f"{prefix}/{rel}", path.read_bytes())
    tmp.replace(zip_path)
    return zip_path


# --------------------------------------------------------------------------- running in the zip


def locate_submission(folder: Path, spec: AssignmentSpec) -> Path:
    """What to grade in an upload: the folder itself, or (an upload from GitHub, or a zip of a
    folder) the shallowest subfolder holding the most of the assignment's modules, or a single
    ``.py`` file that holds every function."""
    if not folder.is_dir():
        raise GraderError(f"no submission folder at {folder}")
    modules = {f"{problem.module}.py" for problem in spec.problems}
    best, best_key = folder, (0, 0)
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIP)
        here = Path(dirpath)
        key = (len(modules & set(filenames)), -len(here.relative_to(folder).parts))
        if key[0] and (best_key[0] == 0 or key > best_key):
            best, best_key = here, key
    if best_key[0] == 0:
        scripts = sorted(folder.glob("*.py"))
        if len(scripts) == 1:
            return scripts[0]
    return best


def run_autograder(root: Path) -> dict[str, Any]:
    """Grade ``root/submission`` and write ``root/results/results.json``; returns its content."""
    from grader.grading import grade
    from grader.reports.gradescope import failure_results, to_gradescope, write_results_file

    start = time.monotonic()
    max_score: float | None = None
    print(f"grader {__version__} ({Path(__file__).resolve().parent})", flush=True)
    try:
        source = root / "source"
        spec = load_spec(source / "assignment", reference=source / "reference")
        max_score = spec.max_score
        target = locate_submission(root / "submission", spec)
        print(f"grading {target} against {spec.name}", flush=True)
        (result,) = grade(spec, [target])
        for warning in result.warnings:
            print(f"warning: {warning}")
        print(f"score {result.score:g}/{result.max_score:g} ({result.status})")
        payload = to_gradescope(result, execution_time=time.monotonic() - start)
    except GraderError as exc:
        traceback.print_exc(file=sys.stdout)
        payload = failure_results(
            str(exc), max_score=max_score, execution_time=time.monotonic() - start
        )
    except Exception:  # any failure at all must still produce results.json
        traceback.print_exc(file=sys.stdout)
        payload = failure_results(
            "the grader failed with an internal error; your instructor can see the log",
            max_score=max_score,
            execution_time=time.monotonic() - start,
        )
    write_results_file(payload, root / "results" / "results.json")
    return payload


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grader.gradescope",
        description="Grade /autograder/submission (what run_autograder calls on Gradescope).",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(os.environ.get("GRADER_AUTOGRADER_ROOT", DEFAULT_ROOT)),
        help="the Gradescope root (default: $GRADER_AUTOGRADER_ROOT or /autograder)",
    )
    args = parser.parse_args(argv)
    payload = run_autograder(args.root)
    print(f"results: {args.root / 'results' / 'results.json'} (score {payload['score']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
