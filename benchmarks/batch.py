"""Throughput and memory: grade N submissions with the CLI, as an instructor would.

    .venv/bin/python benchmarks/batch.py                    # 1,000 submissions, 3 runs
    .venv/bin/python benchmarks/batch.py --n 200 --runs 5 --jobs 1 --jobs 2

Issue 3's targets (2-core machine, matrix-calculus, full sandbox): 1,000 submissions in under
10 s (>= 100 submissions/s) and the grader's peak memory under 300 MB.

Each run is `grader grade assignments/matrix-calculus <N folders and files> --out <fresh dir>
--quiet` in a subprocess, timed from start to exit (all reports written). Memory, per process:
- grader: the CLI process's own peak RSS (getrusage(RUSAGE_SELF) inside it, at exit);
- runner: the sandbox runner's (grader.zygote) VmHWM, sampled from /proc every 20 ms (a
  high-water mark, so the last sample is its peak to within the sampling gap);
- largest descendant: the CLI's RUSAGE_CHILDREN peak: the runner or one student process,
  whichever was biggest.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from machine import ASSIGNMENT, EXAMPLES, REPO, describe, load_now, measured_env, median

# A class: mostly right, the classic mistakes, a few untouched stubs. crash.py is left out on
# purpose: its grad_W never returns, so every copy would wait out the 5 s time limit; a
# crash-free copy of it (the loop replaced by a raise) stands in for "code that raises".
MIX = {
    "correct": 40,
    "transposed": 12,
    "missing_path": 12,
    "sign_slip": 12,
    "stub": 8,
    "single_file": 8,  # the correct answers as one .py file
    "raises": 8,  # crash.py without its infinite loop
}
TARGET_RATE = 100.0
TARGET_GRADER_MIB = 300.0

WRAPPER = """
import json, resource, sys
from grader.cli import main
code = main(sys.argv[2:])
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as handle:
    json.dump({"code": code, "self_kib": me.ru_maxrss, "children_kib": kids.ru_maxrss,
               "self_cpu": me.ru_utime + me.ru_stime,
               "children_cpu": kids.ru_utime + kids.ru_stime}, handle)
sys.exit(code)
"""


@dataclass(frozen=True)
class Run:
    jobs: str
    seconds: float
    rate: float
    grader_mib: float
    runner_mib: float
    descendant_mib: float
    grader_cpu: float
    children_cpu: float
    load: str


def _single_file() -> str:
    folder = EXAMPLES / "correct"
    helpers = (folder / "linalg_helpers.py").read_text()
    q1 = (folder / "autoencoder.py").read_text()
    q2 = (
        (folder / "gplvm.py")
        .read_text()
        .replace("from linalg_helpers import cholesky_inverse, kernel\n", "")
    )
    return "\n\n".join([helpers, q1, q2])


def _raises() -> str:
    source = (EXAMPLES / "crash.py").read_text()
    loop = '    while True:  # "still thinking"\n        pass\n'
    if loop not in source:
        raise SystemExit(
            "benchmarks/batch.py: examples/matrix-calculus/crash.py changed; update _raises()"
        )
    return source.replace(loop, '    raise RuntimeError("gave up")\n')


def build(root: Path, n: int, seed: int = 0) -> tuple[list[Path], collections.Counter[str]]:
    """n submissions under root, kinds drawn from MIX with a fixed seed."""
    rng = random.Random(seed)
    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=n)
    single, raises = _single_file(), _raises()
    paths = []
    for i, kind in enumerate(kinds):
        name = f"s{i:04d}"
        if kind == "single_file":
            path = root / f"{name}.py"
            path.write_text(single)
        elif kind == "raises":
            path = root / f"{name}.py"
            path.write_text(raises)
        else:
            path = root / name
            shutil.copytree(EXAMPLES / kind, path, ignore=shutil.ignore_patterns("__pycache__"))
        paths.append(path)
    return paths, collections.Counter(kinds)


def _children(pid: int) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(proc.name))
    return found


def _watch_runner(cli_pid: int, stop: threading.Event, peak: list[int]) -> None:
    """Sample the sandbox runner's VmHWM (kB) into peak[0] until stop is set."""
    runner = None
    while not stop.is_set():
        try:
            if runner is None:
                for pid in _children(cli_pid):
                    if b"grader.zygote" in Path(f"/proc/{pid}/cmdline").read_bytes():
                        runner = pid
            if runner is not None:
                for line in Path(f"/proc/{runner}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak[0] = max(peak[0], int(line.split()[1]))
        except (OSError, ValueError):
            pass
        stop.wait(0.02)


def grade_once(subs: list[Path], out: Path, jobs: str, work: Path) -> Run:
    usage = work / "rusage.json"
    command = [sys.executable, "-c", WRAPPER, str(usage), "grade", str(ASSIGNMENT)]
    command += [str(s) for s in subs] + ["--out", str(out), "--quiet"]
    if jobs != "auto":
        command += ["--jobs", jobs]
    load = load_now()
    peak = [0]
    stop = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=REPO, stderr=subprocess.PIPE, text=True, env=measured_env()
    )
    watcher = threading.Thread(target=_watch_runner, args=(proc.pid, stop, peak), daemon=True)
    watcher.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"grader exited {proc.returncode}:\n{err[-3000:]}")
    rusage = json.loads(usage.read_text())
    return Run(
        jobs=jobs,
        seconds=seconds,
        rate=len(subs) / seconds,
        grader_mib=rusage["self_kib"] / 1024,
        runner_mib=peak[0] / 1024,
        descendant_mib=rusage["children_kib"] / 1024,
        grader_cpu=rusage["self_cpu"],
        children_cpu=rusage["children_cpu"],
        load=load,
    )


def check(out: Path, subs: list[Path], kinds: collections.Counter[str]) -> str:
    """Every submission has a report, graded in the full sandbox; scores per kind."""
    scores: dict[float, int] = collections.Counter()
    layers = set()
    for sub in subs:
        report = json.loads((out / f"{sub.stem}.json").read_text())
        if report["status"] != "graded":
            raise SystemExit(f"{sub.name}: not graded: {report['error']}")
        scores[report["score"]] += 1
        layers.add(tuple(report["isolation"]))
    mix = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
    spread = ", ".join(f"{s:g}/20 x{c}" for s, c in sorted(scores.items()))
    return f"mix: {mix}\nscores: {spread}\nlayers in the reports: {sorted(layers)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="submissions (default 1000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per configuration (default 3)")
    parser.add_argument(
        "--jobs",
        action="append",
        help="a --jobs value to pass to the grader; repeat for several (default: its own)",
    )
    parser.add_argument("--json", type=Path, help="also write every run to this JSON file")
    args = parser.parse_args(argv)
    configs = args.jobs or ["auto"]
    print(describe())
    print(f"benchmark: {args.n} submissions, {args.runs} run(s) per --jobs in {configs}\n")
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
        work = Path(tmp)
        (work / "subs").mkdir()
        subs, kinds = build(work / "subs", args.n)
        header = (
            f"{'jobs':>5} {'wall s':>7} {'subs/s':>7} {'grader MiB':>10} {'runner MiB':>10} "
            f"{'max desc MiB':>12} {'grader cpu':>10} {'child cpu':>9}  load (1,5,15)"
        )
        print(header)
        for index in range(args.runs):
            for jobs in configs:
                out = work / f"out-{jobs}-{index}"
                run = grade_once(subs, out, jobs, work)
                if index == 0:
                    summary = check(out, subs, kinds)
                # Reports are kept until the end: deleting 2,000 files here would slow the
                # next run's file creation on a journal-less ext4, which scans recently
                # deleted inodes (this machine's root filesystem: see README.md).
                runs.append(run)
                print(
                    f"{run.jobs:>5} {run.seconds:7.2f} {run.rate:7.1f} {run.grader_mib:10.1f} "
                    f"{run.runner_mib:10.1f} {run.descendant_mib:12.1f} {run.grader_cpu:10.2f} "
                    f"{run.children_cpu:9.2f}  {run.load}"
                )
    print(f"\n{summary}\n")
    print(f"medians over {args.runs} run(s); load average at end: {load_now()}")
    for jobs in configs:
        mine = [r for r in runs if r.jobs == jobs]
        rate = median([r.rate for r in mine])
        grader_mib = median([r.grader_mib for r in mine])
        print(
            f"  --jobs {jobs}: {median([r.seconds for r in mine]):.2f} s for {args.n}, "
            f"{rate:.1f} submissions/s "
            f"[target >= {TARGET_RATE:g}: {'met' if rate >= TARGET_RATE else 'NOT met'}]; "
            f"grader peak RSS {grader_mib:.1f} MiB "
            f"[target < {TARGET_GRADER_MIB:g} MB: "
            f"{'met' if grader_mib * 1.048576 < TARGET_GRADER_MIB else 'NOT met'}]; "
            f"runner {median([r.runner_mib for r in mine]):.1f} MiB; "
            f"largest descendant {median([r.descendant_mib for r in mine]):.1f} MiB"
        )
        # CPU seconds barely depend on other load: they bound the rate an idle machine gives.
        cpu = median([r.grader_cpu + r.children_cpu for r in mine])
        floor = cpu / len(os.sched_getaffinity(0))
        print(
            f"    CPU {1000 * cpu / args.n:.1f} ms per submission (grader "
            f"{1000 * median([r.grader_cpu for r in mine]) / args.n:.1f} ms); on an idle "
            f"{len(os.sched_getaffinity(0))}-core machine at best {floor:.2f} s "
            f"= {args.n / floor:.0f} submissions/s"
        )
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
