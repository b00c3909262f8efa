"""Start the sandbox runner process: stdlib only, so the CLI can do it first thing.

The runner (``python -m grader.zygote``) spends ~0.2 s starting its interpreter and importing
numpy; started before the grader imports numpy and reads the spec, that time overlaps the
grader's own instead of adding to it (one submission end to end: ~0.5 s -> ~0.3 s).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import grader
from grader import isolation
from grader.cleanup import remove_tree

__all__ = ["RunnerProcess", "start_runner"]


def _zygote_env() -> dict[str, str]:
    env = isolation.minimal_env()
    # The runner imports this very package; point it at the copy the grader runs from.
    env["PYTHONPATH"] = str(Path(grader.__file__).resolve().parent.parent)
    if not sys.dont_write_bytecode:
        # The runner may cache its own modules' bytecode like any program (it turns that off
        # before it forks: nothing is ever written into a submission's copy).
        del env["PYTHONDONTWRITEBYTECODE"]
    return env


# Workdirs in memory when there is room: a child creates and removes a handful of files, and
# on a disk filesystem that churn slows every file created after it (measured on a journal-less
# ext4: 0.3-0.7 ms per file, the grader's reports included). grader.quota bounds what a child
# may leave there.
RAM_FOLDER = "/dev/shm"
RAM_FOLDER_MIN_FREE = 2 << 30


def _workdirs_base() -> str | None:
    """/dev/shm when it is a tmpfs with room to spare, else None (the system's temp folder).
    An explicit TMPDIR wins."""
    if os.environ.get("TMPDIR"):
        return None
    try:
        with open("/proc/self/mounts", encoding="utf-8") as mounts:
            tmpfs = any(
                line.split()[1:3] == [RAM_FOLDER, "tmpfs"] for line in mounts if line.strip()
            )
        st = os.statvfs(RAM_FOLDER)
    except (OSError, IndexError):
        return None
    room = st.f_bavail * st.f_frsize
    if not tmpfs or room < RAM_FOLDER_MIN_FREE or not os.access(RAM_FOLDER, os.W_OK | os.X_OK):
        return None
    return RAM_FOLDER


class RunnerProcess:
    """The sandbox runner process, started and waiting for its setup on stdin."""

    def __init__(self) -> None:
        self._root = tempfile.TemporaryDirectory(
            prefix="grader-run-", dir=_workdirs_base(), ignore_cleanup_errors=True
        )
        self.root = self._root.name
        cwd = os.path.join(self.root, "runner")
        os.mkdir(cwd)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grader.zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=cwd,
            env=_zygote_env(),
        )
        self.closed = False

    def close(self, *, kill: bool = True) -> None:
        if self.closed:
            return
        self.closed = True
        proc = self.proc
        if kill and proc.poll() is None:
            proc.kill()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None and not stream.closed:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        # Before TemporaryDirectory's own rmtree, which a deep tree left by a killed runner
        # would make raise RecursionError (see grader.cleanup).
        remove_tree(self.root)
        self._root.cleanup()


def start_runner() -> RunnerProcess:
    return RunnerProcess()
