"""One sandboxed child as the runner sees it: what it may send, and what its end means.

A child (``grader.harness``) runs its parts in order from ``start``. Its first frame, sent
before any student code runs, says which sandbox layers are up ("layers") or why the sandbox
could not start ("fatal"); then comes one "result" frame per part. A part begins when the
previous part's result (or the "layers" frame) arrives: its clock starts then. Anything else
(a result for another part, a second control frame, bytes that do not form frames) makes the
child corrupt; the runner kills it and blames the part it was running. Nothing here believes
the child beyond the numbers of the part it is running.

A leaf of the runner: stdlib and ``grader.wire``.
"""

from __future__ import annotations

import os
import signal
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.wire import FrameReader, WireError, split_result

__all__ = ["STARTUP_GRACE", "Child", "read_tail"]

# Time a child gets to fork, copy the submission and confine itself before its first part,
# and to exit after its last.
STARTUP_GRACE = 10.0


@dataclass
class Child:
    job: int
    pid: int
    fd: int  # the read end of its result pipe (non-blocking)
    workdir: Path
    start: int  # the first part it runs
    reader: FrameReader
    deadline: float
    part: int | None = None  # running (from its "layers" frame on), None before and after
    done_parts: set[int] = field(default_factory=set)
    layers: list[str] | None = None  # from its "layers" frame
    fatal: str | None = None  # from its "fatal" frame
    greeted: bool = False  # its first frame has arrived
    killed: str | None = None  # timeout | stalled | corrupt | quota | aborted: the runner killed it
    note: str = ""  # what the runner found, for the report (quota: what was over budget)
    eof: bool = False
    status: int | None = None  # from waitpid
    pidfd: int | None = None  # readable when the process exits: wakes the runner at once
    exited: bool = False  # its pidfd said so
    watched: bool = False  # its pipe is in the runner's selector (no pidfd, or it writes a lot)

    def begin(self, part: int, time_limits: Sequence[float]) -> None:
        """``part`` starts running now, or (past the last) the child has only to exit."""
        if part < len(time_limits):
            self.part = part
            self.deadline = time.monotonic() + time_limits[part]
        else:
            self.part = None
            self.deadline = time.monotonic() + STARTUP_GRACE

    def receive(
        self, data: bytes, time_limits: Sequence[float], n_cases: Sequence[int]
    ) -> tuple[list[tuple[dict[str, Any], bytes]], bool]:
        """Take bytes read from the pipe. Returns the results they complete, validated and
        ready to forward to the grader, and False when the bytes went on corrupt or hostile
        (the results before that point stand)."""
        results = []
        try:
            for header, payload in self.reader.feed(data):
                if not self._control(header, time_limits):
                    results.append(self._result(header, payload, time_limits, n_cases))
        except (WireError, ValueError, TypeError, KeyError, RecursionError):
            return results, False
        return results, True

    def _control(self, header: dict[str, Any], time_limits: Sequence[float]) -> bool:
        kind = header.get("t")
        first, self.greeted = not self.greeted, True
        # Student code can write to the result pipe too (tests/hostile/forge_frames.py). Only
        # the harness's first frame, sent before any student code runs, may be a control
        # frame: a later "layers" would forge the report's isolation field, a later "fatal"
        # the messages of the parts after it.
        if kind in ("layers", "fatal") and not first:
            raise WireError(f"a {kind!r} record after the first")
        if kind == "layers":
            layers = header.get("layers")
            if isinstance(layers, list):
                self.layers = [str(x)[:40] for x in layers[:10]]
            self.begin(self.start, time_limits)  # the sandbox is up: the first part starts
            return True
        if kind == "fatal":
            self.fatal = str(header.get("message", "the sandbox could not start"))[:500]
            return True
        return False

    def _result(
        self,
        header: dict[str, Any],
        payload: bytes,
        time_limits: Sequence[float],
        n_cases: Sequence[int],
    ) -> tuple[dict[str, Any], bytes]:
        kind = header.get("t")
        part = header.get("part")
        if kind != "result":
            raise WireError(f"unexpected record {kind!r}")
        if not isinstance(part, int) or part != self.part:
            raise WireError(f"a result for part {part!r} while part {self.part!r} runs")
        split_result(header, payload, n_cases[part])  # validates every length, dtype and shape
        self.done_parts.add(part)
        self.begin(part + 1, time_limits)
        forward = {
            "t": "result",
            "job": self.job,
            "part": part,
            "failure": header.get("failure"),
            "cases": header["cases"],
        }
        return forward, payload

    def blamed_part(self, n_parts: int) -> int | None:
        """The part its end is blamed on: the one running, else (it died before its first
        part or between parts) the next not done; None when every part is done."""
        if self.part is not None:
            return self.part
        return next((p for p in range(self.start, n_parts) if p not in self.done_parts), None)

    def outcome(self) -> tuple[str, str]:
        """How the blamed part ended (timeout, crashed, exited) and a sentence saying why."""
        killed, status = self.killed, self.status
        if killed == "timeout":
            return "timeout", "it ran past its time limit and was stopped"
        if killed == "stalled":
            return "timeout", "the process stopped responding between parts"
        if killed == "corrupt":
            return "crashed", "it wrote output the grader cannot read (too large or corrupt)"
        if killed == "quota":
            return "crashed", f"it left {self.note} in its working folder, over the limit"
        if status is None:
            return "crashed", "the process ended unexpectedly"
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            if sig in (signal.SIGXCPU, signal.SIGKILL):
                return "timeout", f"it used up its CPU time ({signal.Signals(sig).name})"
            name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
            return "crashed", f"the process was killed by {name}"
        code = os.WEXITSTATUS(status)
        return (
            "exited",
            f"the process exited with status {code} (sys.exit or os._exit in your code?)",
        )


def read_tail(path: Path, size: int) -> str:
    """The last ``size`` bytes of a file the child wrote, read without trusting it: the child
    may have put a symlink, a FIFO or a directory there instead (O_NOFOLLOW, O_NONBLOCK,
    regular files only)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return ""
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return ""
        os.lseek(fd, max(0, info.st_size - size), os.SEEK_SET)
        return os.read(fd, size).decode("utf-8", "replace")
    except OSError:
        return ""
    finally:
        os.close(fd)
