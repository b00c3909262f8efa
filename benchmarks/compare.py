"""A/B: two checkouts of the grader, run in alternation on one class; paired ratios.

    git worktree add /tmp/old 0a1afcb
    .venv/bin/python benchmarks/compare.py /tmp/old               # old vs this checkout
    .venv/bin/python benchmarks/compare.py /tmp/old --n 500 --rounds 10

On a machine whose speed drifts (a VM: see README.md), figures taken at different times do not
compare; runs taken in alternation do. Each round runs both checkouts once, in alternating
order, on the same class (built as `batch.py` builds it), each into a fresh reports folder
kept until the end. The ratios are new/old, per round; their median is the figure to quote.
Both checkouts run with this interpreter and its installed dependencies, each with its own
`grader` package first on `sys.path`.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from batch import build
from machine import REPO, describe, measured_env

CLI = "import sys; from grader.cli import main; sys.argv[0] = 'grader'; sys.exit(main())"


def run(checkout: Path, subs: list[Path], out: Path) -> tuple[float, float]:
    """Wall seconds, and CPU milliseconds per submission (the CLI and all its descendants)."""
    env = measured_env()
    env["PYTHONPATH"] = str(checkout)
    assignment = checkout / "assignments" / "matrix-calculus"
    command = [sys.executable, "-c", CLI, "grade", str(assignment), *map(str, subs)]
    command += ["--out", str(out), "--quiet"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{checkout}: grader exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, 1000 * cpu / len(subs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path, help="the checkout to compare against")
    parser.add_argument("new", type=Path, nargs="?", default=REPO, help="default: this one")
    parser.add_argument("--n", type=int, default=500, help="submissions (default 500)")
    parser.add_argument("--rounds", type=int, default=10, help="pairs of runs (default 10)")
    args = parser.parse_args(argv)
    old, new = args.old.resolve(), args.new.resolve()
    for checkout in (old, new):
        if not (checkout / "grader" / "cli.py").is_file():
            raise SystemExit(f"{checkout}: not a grader checkout (no grader/cli.py)")
    print(describe())
    print(f"benchmark: {args.rounds} rounds of {args.n} submissions\n  old {old}\n  new {new}\n")
    pairs: list[tuple[tuple[float, float], tuple[float, float]]] = []
    with tempfile.TemporaryDirectory(prefix="grader-compare-") as tmp:
        work = Path(tmp)
        (work / "subs").mkdir()
        subs, _ = build(work / "subs", args.n)
        for checkout in (old, new):  # warm-up: page cache and .pyc files
            run(checkout, subs[:20], work / f"warm-{checkout.name}")
        for index in range(args.rounds):
            order = [("old", old), ("new", new)]
            if index % 2:
                order.reverse()
            got = {name: run(path, subs, work / f"{name}-{index}") for name, path in order}
            pairs.append((got["old"], got["new"]))
            print(
                f"round {index + 1:2d}: old {got['old'][0]:6.2f} s {got['old'][1]:5.1f} ms/sub"
                f"   new {got['new'][0]:6.2f} s {got['new'][1]:5.1f} ms/sub",
                flush=True,
            )
    wall = statistics.median(n[0] / o[0] for o, n in pairs)
    cpu = statistics.median(n[1] / o[1] for o, n in pairs)
    print(f"\nnew/old, median of {len(pairs)} pairs: wall {wall:.3f}, CPU {cpu:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
