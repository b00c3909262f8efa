"""The sandbox runner: a fresh interpreter that forks one child per submission.

Started by ``grader.runner`` as ``python -m grader.zygote``. It holds numpy, the harness and
the cases' *inputs*, and nothing secret: the reference solutions and expected outputs stay in
the grader, so a child (a fork of this process) has nothing to find in its memory.

Protocol: the grader writes a setup frame, the input arrays and the job list on stdin, then
closes it. The runner answers on a private copy of stdout with frames tagged by job: the
children's validated results, ``killed`` when a part ended its child (timeout, crash, exit),
and ``done`` per job; a job's frames go out together, in one write, when the job is done. A
part that kills its child costs only that part: a fresh child carries on with the next one. No
child is ever reused across submissions.

A child runs its parts in order, so a part begins when the previous one's result is sent (the
first when the child reports its sandbox layers): no "begin" frames. The runner does not wake
for every frame either: it sleeps until a child exits (a pidfd) or a deadline or the next
``POLL_INTERVAL``, then reads what the children wrote. A part's clock therefore starts up to
``POLL_INTERVAL`` late, which its time limit (seconds) absorbs.
"""

from __future__ import annotations

import contextlib
import fcntl
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
# How often the runner reads the pipes of running children (see the module docstring).
POLL_INTERVAL = 0.05
# A child's pipe holds this much, so it rarely waits for the runner to read (fits in
# /proc/sys/fs/pipe-max-size, 1 MiB by default; the kernel's 64 KiB when refused).
PIPE_SIZE = 1 << 20
# A job's frames are held until it is done, or until they pass this size.
OUTBOX_BYTES = 4 << 20


@dataclass
class _Child:
    job: int
    pid: int
    fd: int
    workdir: Path
    start: int
    reader: FrameReader
    deadline: float
    part: int | None = None  # running (from its "layers" frame on), None before and after
    done_parts: set[int] = field(default_factory=set)
    killed: str | None = None
    eof: bool = False
    status: int | None = None
    fatal: str | None = None
    greeted: bool = False  # its first frame has arrived (see on_control)
    pidfd: int | None = None  # readable when the process exits: wakes the loop at once
    exited: bool = False  # its pidfd said so
    watched: bool = False  # its pipe is in the selector (no pidfd, or it writes a lot)


@dataclass
class _Job:
    id: int
    source: Path
    layers: list[str] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    outbox: list[bytes] = field(default_factory=list)
    outbox_bytes: int = 0


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
        self.out_fd = out_fd
        # The grader made this folder and removes it, even if this process is killed.
        self.root = Path(setup["root"])
        # Children inherit the environment: from scratch (the grader started this process
        # with it, plus PYTHONPATH, read by now). Nor do they write bytecode caches.
        os.environ.clear()
        os.environ.update(isolation.minimal_env())
        sys.dont_write_bytecode = True
        # Done once here, not in every child: the seccomp program compiled (~2 ms), the
        # Landlock rules opened, the cleaned sys.path computed.
        self.confinement = isolation.Confinement.prepare(
            str(self.root), limits=self.limits, capabilities=self.capabilities
        )
        harness.warm_up()
        self.pending: deque[tuple[int, int]] = deque((j, 0) for j in self.jobs)
        self.active: dict[int, _Child] = {}
        self.selector = selectors.DefaultSelector()

    def send(self, job: _Job, header: dict[str, Any], payload: bytes = b"") -> None:
        """Queue a frame of ``job``'s; ``complete`` sends them all in one write (one wake-up of
        the grader per submission instead of one per part)."""
        frame = encode_frame(header, payload)
        job.outbox.append(frame)
        job.outbox_bytes += len(frame)
        if job.outbox_bytes > OUTBOX_BYTES:
            self.flush(job)

    def flush(self, job: _Job) -> None:
        data = memoryview(b"".join(job.outbox))
        job.outbox.clear()
        job.outbox_bytes = 0
        while data:
            data = data[os.write(self.out_fd, data) :]

    # ------------------------------------------------------------------ children

    def spawn(self, job_id: int, start: int) -> None:
        job = self.jobs[job_id]
        workdir = Path(tempfile.mkdtemp(prefix=f"s{job_id}-", dir=self.root))
        read_fd, write_fd = os.pipe()
        with contextlib.suppress(OSError):  # EPERM past the user's pipe quota: 64 KiB then
            fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
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
                confinement=self.confinement,
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
        if hasattr(os, "pidfd_open"):
            try:
                child.pidfd = os.pidfd_open(pid)
            except OSError:  # kernels before 5.3: the loop polls instead
                child.pidfd = None
            else:
                self.selector.register(child.pidfd, selectors.EVENT_READ, (child, "exit"))
        if child.pidfd is None:
            self.watch(child)

    def watch(self, child: _Child) -> None:
        """Wake the loop whenever ``child`` writes (no pidfd, or its pipe is filling up)."""
        if not child.watched and not child.eof:
            child.watched = True
            self.selector.register(child.fd, selectors.EVENT_READ, (child, "pipe"))

    def kill(self, child: _Child, reason: str) -> None:
        if child.killed is None:
            child.killed = reason
        # The child leads its own process group (setsid); kill the group and the child.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child.pid, signal.SIGKILL)

    def begin(self, child: _Child, part: int) -> None:
        """``part`` starts running now (its time limit counts from here), or the last is done."""
        if part < len(self.parts):
            child.part = part
            child.deadline = time.monotonic() + float(self.parts[part]["time_limit"])
        else:
            child.part = None
            child.deadline = time.monotonic() + STARTUP_GRACE  # time to exit

    def on_frame(self, child: _Child, header: dict[str, Any], payload: bytes) -> None:
        kind = header.get("t")
        part = header.get("part")
        if kind != "result":
            raise WireError(f"unexpected record {kind!r}")
        if not isinstance(part, int) or part != child.part:
            raise WireError(f"a result for part {part!r} while part {child.part!r} runs")
        n_cases = len(self.cases[self.parts[part]["problem"]])
        split_result(header, payload, n_cases)  # validates every length, dtype and shape
        child.done_parts.add(part)
        self.begin(child, part + 1)
        self.send(
            self.jobs[child.job],
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
            self.begin(child, child.start)  # the sandbox is up: the first part starts
            return True
        if kind == "fatal":
            child.fatal = str(header.get("message", "the sandbox could not start"))[:500]
            return True
        return False

    def on_readable(self, child: _Child) -> None:
        """Read what ``child`` has written so far (the pipe is non-blocking)."""
        received = 0
        while not child.eof:
            try:
                data = os.read(child.fd, 1 << 16)
            except BlockingIOError:
                break
            if not data:
                self.close_pipe(child)
            elif not self.feed(child, data):
                self.kill(child, "corrupt")
                break
            else:
                received += len(data)
                if received >= PIPE_SIZE:
                    break  # a flood: let the other children have their turn
        if received >= 1 << 16:
            self.watch(child)  # it writes a lot: read as it writes rather than once per poll

    def close_pipe(self, child: _Child) -> None:
        child.eof = True
        if child.watched:
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
            if child.status is None and (child.exited or child.pidfd is None):
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
            self.send(job, {"t": "fatal", "job": child.job, "message": child.fatal})
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
            job,
            {
                "t": "killed",
                "job": child.job,
                "part": unfinished,
                "reason": reason,
                "detail": detail,
            },
        )
        if unfinished + 1 < len(self.parts):
            self.pending.appendleft((child.job, unfinished + 1))
        else:
            self.complete(job)

    def complete(self, job: _Job) -> None:
        self.send(
            job,
            {
                "t": "done",
                "job": job.id,
                "layers": job.layers,
                "stdout": job.stdout[-TAIL_BYTES:],
                "stderr": job.stderr[-TAIL_BYTES:],
            },
        )
        self.flush(job)

    # ------------------------------------------------------------------ main loop

    def run(self) -> None:
        # Children are forks of this process. Freezing moves everything allocated so far out of
        # the collector's reach, so a collection in a child does not touch (and copy) every
        # inherited page: fewer copy-on-write faults per child.
        gc.collect()
        gc.freeze()
        next_poll = time.monotonic() + POLL_INTERVAL
        try:
            while self.pending or self.active:
                while self.pending and len(self.active) < self.parallel:
                    self.spawn(*self.pending.popleft())
                now = time.monotonic()
                if now >= next_poll:
                    for child in self.active.values():
                        self.on_readable(child)
                    next_poll = now + POLL_INTERVAL
                for child in self.active.values():
                    if child.status is None and now >= child.deadline:
                        self.on_readable(child)  # its result may be waiting in the pipe
                        if now >= child.deadline:
                            self.kill(child, "timeout" if child.part is not None else "stalled")
                wake = min((c.deadline for c in self.active.values()), default=next_poll)
                wake = min(wake, next_poll)
                if any(c.pidfd is None for c in self.active.values()):
                    wake = min(wake, now + 0.005)  # nothing wakes the loop when these exit
                timeout = max(0.0, wake - now)
                for key, _ in self.selector.select(timeout=timeout):
                    child, what = key.data
                    if what == "pipe":
                        self.on_readable(child)
                    else:
                        child.exited = True
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
