"""The sandbox runner: a fresh interpreter that forks one child per submission.

Started by ``grader.runner`` as ``python -m grader.zygote``. It holds numpy, the harness and
the cases' *inputs*, and nothing secret: the reference solutions and expected outputs stay in
the grader, so a child (a fork of this process) has nothing to find in its memory.

Protocol: the grader writes a setup frame, the input arrays and the job list on stdin, then
closes it. The runner answers on a private copy of stdout with frames tagged by job: the
children's validated results, ``killed`` when a part ended its child (timeout, crash, exit),
and ``done`` per job. A part that kills its child costs only that part: a fresh child carries
on with the next one. No child is ever reused across submissions.
"""

from __future__ import annotations

import contextlib
import gc
import os
import selectors
import signal
import stat
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import harness, isolation
from grader.cleanup import remove_tree
from grader.wire import (
    TRUSTED_DTYPES,
    FrameReader,
    WireError,
    decode_array,
    encode_frame,
    read_frame,
    split_result,
)

# What one child may send: enough for every part's outputs, never enough to exhaust the grader.
MAX_FRAME_PAYLOAD = 8 * harness.MAX_ELEMENTS
MAX_CHILD_OUTPUT = 256 << 20
# Time a child gets to fork, copy the submission and confine itself before its first part,
# and between parts.
STARTUP_GRACE = 10.0
TAIL_BYTES = 2000


@dataclass
class _Child:
    job: int
    pid: int
    fd: int
    workdir: Path
    start: int
    reader: FrameReader
    deadline: float
    part: int | None = None
    done_parts: set[int] = field(default_factory=set)
    killed: str | None = None
    eof: bool = False
    status: int | None = None
    fatal: str | None = None
    greeted: bool = False  # its first frame has arrived (see on_control)
    pidfd: int | None = None  # readable when the process exits: wakes the loop at once


@dataclass
class _Job:
    id: int
    source: Path
    layers: list[str] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""


class Runner:
    def __init__(self, setup: dict[str, Any], cases: list[list[dict[str, Any]]], out_fd: int):
        self.parts: list[dict[str, Any]] = setup["parts"]
        self.cases = cases
        self.jobs = {j["id"]: _Job(j["id"], Path(j["source"])) for j in setup["jobs"]}
        self.parallel = max(1, int(setup["parallel"]))
        self.limits = isolation.Limits(**setup["limits"])
        self.capabilities = isolation.Capabilities(
            landlock_abi=setup["capabilities"]["landlock_abi"],
            seccomp=setup["capabilities"]["seccomp"],
            reasons=tuple(setup["capabilities"]["reasons"]),
        )
        self.env = isolation.minimal_env()
        # Compiled once here, not in every child: ~2 ms saved per submission.
        self.seccomp_program = isolation.compile_seccomp() if self.capabilities.seccomp else None
        # Likewise the Landlock path list and the cleaned sys.path: children inherit them.
        isolation.warm_up()
        harness.warm_up()
        self.out_fd = out_fd
        # The grader made this folder and removes it, even if this process is killed.
        self.root = Path(setup["root"])
        self.pending: deque[tuple[int, int]] = deque((j, 0) for j in self.jobs)
        self.active: dict[int, _Child] = {}
        self.selector = selectors.DefaultSelector()

    def send(self, header: dict[str, Any], payload: bytes = b"") -> None:
        data = memoryview(encode_frame(header, payload))
        while data:
            data = data[os.write(self.out_fd, data) :]

    # ------------------------------------------------------------------ children

    def spawn(self, job_id: int, start: int) -> None:
        job = self.jobs[job_id]
        workdir = Path(tempfile.mkdtemp(prefix=f"s{job_id}-", dir=self.root))
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read_fd)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            harness.child_main(
                result_fd=write_fd,
                workdir=workdir,
                source=job.source,
                parts=self.parts,
                cases=self.cases,
                start=start,
                limits=self.limits,
                capabilities=self.capabilities,
                env=self.env,
                seccomp_program=self.seccomp_program,
            )
        os.close(write_fd)
        os.set_blocking(read_fd, False)
        child = _Child(
            job=job_id,
            pid=pid,
            fd=read_fd,
            workdir=workdir,
            start=start,
            reader=FrameReader(max_payload=MAX_FRAME_PAYLOAD, max_total=MAX_CHILD_OUTPUT),
            deadline=time.monotonic() + STARTUP_GRACE,
        )
        self.active[pid] = child
        self.selector.register(read_fd, selectors.EVENT_READ, (child, "pipe"))
        if hasattr(os, "pidfd_open"):
            try:
                child.pidfd = os.pidfd_open(pid)
            except OSError:  # kernels before 5.3: the loop polls instead
                child.pidfd = None
            else:
                self.selector.register(child.pidfd, selectors.EVENT_READ, (child, "exit"))

    def kill(self, child: _Child, reason: str) -> None:
        if child.killed is None:
            child.killed = reason
        # The child leads its own process group (setsid); kill the group and the child.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child.pid, signal.SIGKILL)

    def on_frame(self, child: _Child, header: dict[str, Any], payload: bytes) -> None:
        kind = header.get("t")
        part = header.get("part")
        if kind not in ("begin", "result"):
            raise WireError(f"unexpected record {kind!r}")
        if not isinstance(part, int) or not child.start <= part < len(self.parts):
            raise WireError(f"bad part index {part!r}")
        now = time.monotonic()
        if kind == "begin":
            if child.part is not None or part in child.done_parts:
                raise WireError("a part began twice or inside another")
            child.part = part
            child.deadline = now + float(self.parts[part]["time_limit"])
            return
        if part != child.part:
            raise WireError("result outside its part")
        n_cases = len(self.cases[self.parts[part]["problem"]])
        split_result(header, payload, n_cases)  # validates every length, dtype and shape
        child.done_parts.add(part)
        child.part = None
        child.deadline = now + STARTUP_GRACE
        self.send(
            {
                "t": "result",
                "job": child.job,
                "part": part,
                "failure": header.get("failure"),
                "cases": header["cases"],
            },
            payload,
        )

    def on_control(self, child: _Child, header: dict[str, Any]) -> bool:
        kind = header.get("t")
        first, child.greeted = not child.greeted, True
        # Student code can write to the result pipe too (tests/hostile/forge_frames.py). Only
        # the harness's first frame, sent before any student code runs, may be a control
        # frame: a later "layers" would forge the report's isolation field, a later "fatal"
        # the messages of the parts after it.
        if kind in ("layers", "fatal") and not first:
            raise WireError(f"a {kind!r} record after the first")
        if kind == "layers":
            layers = header.get("layers")
            if isinstance(layers, list):
                self.jobs[child.job].layers = [str(x)[:40] for x in layers[:10]]
            return True
        if kind == "fatal":
            child.fatal = str(header.get("message", "the sandbox could not start"))[:500]
            return True
        return False

    def on_readable(self, child: _Child) -> None:
        try:
            data = os.read(child.fd, 1 << 16)
        except BlockingIOError:
            return
        if not data:
            self.close_pipe(child)
        elif not self.feed(child, data):
            self.kill(child, "corrupt")

    def close_pipe(self, child: _Child) -> None:
        child.eof = True
        self.selector.unregister(child.fd)
        os.close(child.fd)

    def feed(self, child: _Child, data: bytes) -> bool:
        """Handle the frames in ``data``; False when the bytes are corrupt or hostile."""
        try:
            for header, payload in child.reader.feed(data):
                if not self.on_control(child, header):
                    self.on_frame(child, header, payload)
        except (WireError, ValueError, TypeError, KeyError, RecursionError):
            return False
        return True

    def reap(self) -> None:
        for pid, child in list(self.active.items()):
            if child.status is None:
                try:
                    done, status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done, status = pid, 0
                if done:
                    child.status = status
                    if child.pidfd is not None:
                        self.selector.unregister(child.pidfd)
                        os.close(child.pidfd)
                        child.pidfd = None
            if child.status is not None and not child.eof:
                # The process is gone; whatever is left in the pipe is complete.
                self.drain(child)
            if child.status is not None and child.eof:
                del self.active[pid]
                self.finish(child)

    def drain(self, child: _Child) -> None:
        while not child.eof:
            try:
                data = os.read(child.fd, 1 << 16)
            except BlockingIOError:
                # A grandchild may still hold the pipe open; the child itself is gone.
                self.close_pipe(child)
                return
            if not data:
                self.close_pipe(child)
            elif not self.feed(child, data):
                child.killed = child.killed or "corrupt"

    def finish(self, child: _Child) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)  # anything the child left in its group
        job = self.jobs[child.job]
        job.stdout += _tail(child.workdir / ".stdout")
        job.stderr += _tail(child.workdir / ".stderr")
        remove_tree(child.workdir)  # not shutil.rmtree: see grader.cleanup
        if child.fatal is not None:
            self.send({"t": "fatal", "job": child.job, "message": child.fatal})
            self.complete(job)
            return
        unfinished = child.part
        if unfinished is None:
            # The child died between parts (or before its first): blame the next part not done.
            todo = range(child.start, len(self.parts))
            unfinished = next((p for p in todo if p not in child.done_parts), None)
        if unfinished is None:
            self.complete(job)
            return
        reason, detail = _classify(child.killed, child.status)
        self.send(
            {
                "t": "killed",
                "job": child.job,
                "part": unfinished,
                "reason": reason,
                "detail": detail,
            }
        )
        if unfinished + 1 < len(self.parts):
            self.pending.appendleft((child.job, unfinished + 1))
        else:
            self.complete(job)

    def complete(self, job: _Job) -> None:
        self.send(
            {
                "t": "done",
                "job": job.id,
                "layers": job.layers,
                "stdout": job.stdout[-TAIL_BYTES:],
                "stderr": job.stderr[-TAIL_BYTES:],
            }
        )

    # ------------------------------------------------------------------ main loop

    def run(self) -> None:
        # Children are forks of this process. Freezing moves everything allocated so far out of
        # the collector's reach, so a collection in a child does not touch (and copy) every
        # inherited page: fewer copy-on-write faults per child.
        gc.collect()
        gc.freeze()
        try:
            while self.pending or self.active:
                while self.pending and len(self.active) < self.parallel:
                    self.spawn(*self.pending.popleft())
                now = time.monotonic()
                for child in self.active.values():
                    if child.status is None and now >= child.deadline:
                        self.kill(child, "timeout" if child.part is not None else "stalled")
                timeout = max(
                    0.0, min((c.deadline for c in self.active.values()), default=now) - now
                )
                # Without pidfds nothing wakes the loop when a child exits: poll more often.
                poll = 0.5 if hasattr(os, "pidfd_open") else 0.005
                for key, _ in self.selector.select(timeout=min(timeout, poll)):
                    child, what = key.data
                    if what == "pipe":
                        self.on_readable(child)
                self.reap()
        finally:
            for child in self.active.values():
                self.kill(child, "aborted")


def _tail(path: Path) -> str:
    """The end of a file the child wrote, read without trusting it: the child may have put a
    symlink, a FIFO or a directory there instead (O_NOFOLLOW, O_NONBLOCK, regular files only)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return ""
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return ""
        os.lseek(fd, max(0, info.st_size - TAIL_BYTES), os.SEEK_SET)
        return os.read(fd, TAIL_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""
    finally:
        os.close(fd)


def _classify(killed: str | None, status: int | None) -> tuple[str, str]:
    if killed == "timeout":
        return "timeout", "it ran past its time limit and was stopped"
    if killed == "stalled":
        return "timeout", "the process stopped responding between parts"
    if killed == "corrupt":
        return "crashed", "it wrote output the grader cannot read (too large or corrupt)"
    if status is None:
        return "crashed", "the process ended unexpectedly"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig in (signal.SIGXCPU, signal.SIGKILL):
            return "timeout", f"it used up its CPU time ({signal.Signals(sig).name})"
        name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
        return "crashed", f"the process was killed by {name}"
    code = os.WEXITSTATUS(status)
    return "exited", f"the process exited with status {code} (sys.exit or os._exit in your code?)"


def main() -> None:
    # Keep the protocol on a private descriptor: a stray print() here must not corrupt it.
    out_fd = os.dup(1)
    os.dup2(2, 1)
    stdin = sys.stdin.buffer
    first = read_frame(stdin, max_payload=0)
    if first is None:
        return  # the grader was started, then stopped before grading (a spec error, say)
    if first[0].get("t") != "setup":
        raise SystemExit("grader.zygote: expected a setup frame on stdin")
    setup = first[0]
    cases: list[list[dict[str, Any]]] = [[{} for _ in range(n)] for n in setup["cases"]]
    while True:
        frame = read_frame(stdin, max_payload=1 << 30)
        if frame is None:
            break
        header, payload = frame
        slot = cases[header["problem"]][header["case"]]
        if "value" in header:
            slot[header["name"]] = header["value"]
        else:
            slot[header["name"]] = decode_array(header, payload, dtypes=TRUSTED_DTYPES)
    Runner(setup, cases, out_fd).run()


if __name__ == "__main__":
    main()
