"""Latency: one submission end to end, against the cost of `python -c "import numpy"`.

    .venv/bin/python benchmarks/single.py               # 20 runs of each, interleaved
    .venv/bin/python benchmarks/single.py --runs 40 --submission examples/matrix-calculus/sign_slip

Issue 3's target: `grader grade assignments/matrix-calculus <one submission>` from CLI start
to report written (the process exits after writing it) within 3x the median time of
`python -c "import numpy"`, full sandbox on. The two commands alternate, so load from other
processes on a shared machine hits both alike; one untimed warm-up run of each comes first.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import (
    ASSIGNMENT,
    EXAMPLES,
    REPO,
    describe,
    grader_command,
    load_now,
    measured_env,
    median,
)

TARGET_RATIO = 3.0


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + sys, the process and all its descendants)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=measured_env())
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each (default 20)")
    parser.add_argument(
        "--submission",
        type=Path,
        default=EXAMPLES / "correct",
        help="the submission to grade (default: examples/matrix-calculus/correct)",
    )
    args = parser.parse_args(argv)
    print(describe())
    numpy_cmd = [sys.executable, "-c", "import numpy"]
    print(f"benchmark: {args.runs} interleaved runs of\n  {' '.join(numpy_cmd)}")
    with tempfile.TemporaryDirectory(prefix="grader-single-") as tmp:
        out = Path(tmp) / "out"
        grade_cmd = [*grader_command(), "grade", str(ASSIGNMENT), str(args.submission)]
        grade_cmd += ["--out", str(out), "--quiet"]
        print(f"  {' '.join(grade_cmd)}\n")
        timed(numpy_cmd), timed(grade_cmd)  # warm-up: page cache, .pyc files
        report = json.loads((out / f"{args.submission.stem}.json").read_text())
        numpy_runs, grade_runs = [], []
        for _ in range(args.runs):
            numpy_runs.append(timed(numpy_cmd))
            grade_runs.append(timed(grade_cmd))
    base, grade = median([w for w, _ in numpy_runs]), median([w for w, _ in grade_runs])
    ratio = grade / base
    print(f"{'':>24} {'median':>8} {'min':>8} {'max':>8} {'cpu':>8}   (seconds)")
    rows = (("python -c 'import numpy'", numpy_runs), ("grader grade (1)", grade_runs))
    for name, runs in rows:
        wall = [w for w, _ in runs]
        cpu = median([c for _, c in runs])
        print(f"{name:>24} {median(wall):8.3f} {min(wall):8.3f} {max(wall):8.3f} {cpu:8.3f}")
    cpu_ratio = median([c for _, c in grade_runs]) / median([c for _, c in numpy_runs])
    print(
        f"\nratio {ratio:.2f}x [target <= {TARGET_RATIO:g}x: "
        f"{'met' if ratio <= TARGET_RATIO else 'NOT met'}]; CPU-time ratio {cpu_ratio:.2f}x; "
        f"report: {report['score']:g}/{report['max_score']:g}, layers {report['isolation']}; "
        f"load average at end: {load_now()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
