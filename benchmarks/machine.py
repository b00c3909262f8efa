"""What the benchmark figures were measured on: printed above every run.

Imported by the scripts next to it (run them as ``python benchmarks/NAME.py``).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = REPO / "assignments" / "matrix-calculus"
EXAMPLES = REPO / "examples" / "matrix-calculus"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe() -> str:
    """One paragraph: cores, CPU, load, kernel, Python, numpy and the sandbox layers."""
    import numpy

    from grader.isolation import probe

    caps = probe()
    layers = [f"landlock ABI {caps.landlock_abi}" if caps.landlock_abi else "no landlock"]
    layers.append("seccomp" if caps.seccomp else "no seccomp")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return "\n".join(
        [
            f"machine: {os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), "
            f"{cpu_model()}, kernel {platform.release()}",
            f"load average at start (1, 5, 15 min): {load}",
            f"python {platform.python_version()} ({sys.executable}), numpy {numpy.__version__}",
            f"sandbox: {', '.join(layers)}, running as uid {os.geteuid()}"
            + ("" if not caps.reasons else f" (MISSING: {'; '.join(caps.reasons)})"),
        ]
    )


def load_now() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def measured_env() -> dict[str, str]:
    """The environment of the measured commands: this one without PYTHONDONTWRITEBYTECODE,
    which some machines set (this sandbox does). With it, every run would compile the
    grader's modules again, while numpy's come compiled by pip: a normal installation has
    its .pyc files (pip writes them; the warm-up run writes an editable install's)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def grader_command() -> list[str]:
    """The installed `grader` entry point next to this interpreter, else `python -m`."""
    script = Path(sys.executable).with_name("grader")
    return [str(script)] if script.exists() else [sys.executable, "-m", "grader.cli"]
