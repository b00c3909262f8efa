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


class RunnerProcess:
    """The sandbox runner process, started and waiting for its setup on stdin."""

    def __init__(self) -> None:
        self._root = tempfile.TemporaryDirectory(prefix="grader-run-", ignore_cleanup_errors=True)
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
