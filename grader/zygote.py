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
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import child_setup, harness, isolation, quota
from grader.child import STARTUP_GRACE, Child, read_tail
from grader.cleanup import remove_tree
from grader.wire import (
    TRUSTED_DTYPES,
    FrameReader,
    decode_array,
    encode_frame,
    read_frame,
)

# What one child may send: enough for every part's outputs, never enough to exhaust the grader.
MAX_FRAME_PAYLOAD = 8 * harness.MAX_ELEMENTS
MAX_CHILD_OUTPUT = 256 << 20
TAIL_BYTES = 2000
# How often the runner reads the pipes of running children (see the module docstring).
POLL_INTERVAL = 0.05
# A child's pipe holds this much, so it rarely waits for the runner to read (fits in
# /proc/sys/fs/pipe-max-size, 1 MiB by default; the kernel's 64 KiB when refused).
PIPE_SIZE = 1 << 20
# A job's frames are held until it is done, or until they pass this size.
OUTBOX_BYTES = 4 << 20


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
    def __init__(
        self,
        setup: dict[str, Any],
        cases: list[list[dict[str, Any]]],
        out_fd: int,
        seccomp_program: bytes | None = None,
    ):
        self.parts: list[dict[str, Any]] = setup["parts"]
        self.cases = cases
        self.time_limits = [float(part["time_limit"]) for part in self.parts]
        self.n_cases = [len(cases[part["problem"]]) for part in self.parts]
        self.jobs = {j["id"]: _Job(j["id"], Path(j["source"])) for j in setup["jobs"]}
        self.parallel = max(1, int(setup["parallel"]))
        capabilities = isolation.Capabilities(
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
            str(self.root),
            limits=isolation.Limits(**setup["limits"]),
            capabilities=capabilities,
            seccomp_program=seccomp_program,
        )
        child_setup.warm_up()
        self.quota = quota.Watch.start(str(self.root))
        self.pending: deque[tuple[int, int]] = deque((j, 0) for j in self.jobs)
        self.active: dict[int, Child] = {}
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
        # One name per child (a job restarts at a later part after a kill): the root is the
        # grader's own 0700 folder, and Landlock keeps children out of it. Without Landlock a
        # child could have put something there first: a random name then.
        workdir = self.root / f"s{job_id}.{start}"
        try:
            workdir.mkdir(mode=0o700)
        except OSError:
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
        child = Child(
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

    def watch(self, child: Child) -> None:
        """Wake the loop whenever ``child`` writes (no pidfd, or its pipe is filling up)."""
        if not child.watched and not child.eof:
            child.watched = True
            self.selector.register(child.fd, selectors.EVENT_READ, (child, "pipe"))

    def kill(self, child: Child, reason: str) -> None:
        if child.killed is None:
            child.killed = reason
        # The child leads its own process group (setsid); kill the group and the child.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child.pid, signal.SIGKILL)

    def on_readable(self, child: Child) -> None:
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

    def close_pipe(self, child: Child) -> None:
        child.eof = True
        if child.watched:
            self.selector.unregister(child.fd)
        os.close(child.fd)

    def feed(self, child: Child, data: bytes) -> bool:
        """Forward the results in ``data``; False when the bytes are corrupt or hostile."""
        results, ok = child.receive(data, self.time_limits, self.n_cases)
        job = self.jobs[child.job]
        if child.layers is not None:
            job.layers = child.layers
        for header, payload in results:
            self.send(job, header, payload)
        return ok

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

    def drain(self, child: Child) -> None:
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

    def finish(self, child: Child) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)  # anything the child left in its group
        job = self.jobs[child.job]
        job.stdout += read_tail(child.workdir / ".stdout", TAIL_BYTES)
        job.stderr += read_tail(child.workdir / ".stderr", TAIL_BYTES)
        remove_tree(child.workdir)  # not shutil.rmtree: see grader.cleanup
        if child.fatal is not None:
            self.send(job, {"t": "fatal", "job": child.job, "message": child.fatal})
            self.complete(job)
            return
        unfinished = child.blamed_part(len(self.parts))
        if unfinished is None:
            self.complete(job)
            return
        reason, detail = child.outcome()
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

    def enforce_quota(self) -> None:
        """Kill the running children whose folders are over budget (see ``grader.quota``)."""
        if not self.quota.grown():
            return
        for child in self.active.values():
            if child.status is None and child.killed is None:
                why = quota.over_budget(str(child.workdir))
                if why is not None:
                    child.note = why
                    self.kill(child, "quota")
        self.quota.rebase()

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
                    self.enforce_quota()
                    next_poll = now + POLL_INTERVAL
                for child in self.active.values():
                    if child.status is None and now >= child.deadline:
                        self.on_readable(child)  # its result may be waiting in the pipe
                        if now >= child.deadline:
                            self.kill(child, "timeout" if child.part is not None else "stalled")
                wake = min([next_poll, *(c.deadline for c in self.active.values())])
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


def main() -> None:
    # Keep the protocol on a private descriptor: a stray print() here must not corrupt it.
    out_fd = os.dup(1)
    os.dup2(2, 1)
    # Room for several submissions' results: the runner should not wait for the grader to
    # read before it can start the next child.
    with contextlib.suppress(OSError):
        fcntl.fcntl(out_fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    # While the grader reads the spec and computes the reference: compile the seccomp filter
    # (pyseccomp's import runs ldconfig; ~20 ms) so that it is not on the way to the first child.
    try:
        program: bytes | None = isolation.compile_seccomp()
    except Exception:  # best effort: Confinement.prepare compiles (and reports) it again
        program = None
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
    Runner(setup, cases, out_fd, seccomp_program=program).run()


if __name__ == "__main__":
    main()
