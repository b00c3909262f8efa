"""The grader's side of sandboxed execution: run submissions, get back plain arrays.

``run_batch`` starts the sandbox runner (``grader.zygote``, a fresh interpreter holding no
reference code), hands it the cases' inputs and the submissions, and yields one
``SubmissionRun`` per submission as soon as its child processes are done, so checking and
report writing overlap with running the next submissions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from grader import isolation
from grader.cases import Case
from grader.errors import GraderError
from grader.launch import RunnerProcess, start_runner
from grader.spec import PartSpec, ProblemSpec, output_structure
from grader.wire import WireError, encode_array, encode_frame, read_frame, split_result

__all__ = [
    "CallError",
    "PartRun",
    "RunnerProcess",
    "SubmissionRun",
    "run_batch",
    "start_runner",
]

MAX_RESULT_PAYLOAD = 64 << 20


@dataclass(frozen=True, slots=True)
class CallError:
    """Why a call produced no value: exception, not_implemented, memory, type, import, missing,
    timeout, crashed, exited."""

    kind: str
    message: str
    traceback: str = ""


@dataclass(frozen=True, slots=True)
class PartRun:
    """What one part's function returned on each case (leaf path -> array), or why not."""

    values: tuple[Mapping[str, np.ndarray] | None, ...]
    errors: tuple[CallError | None, ...]
    failure: CallError | None = None  # the part as a whole failed (import, missing, killed)


@dataclass(frozen=True, slots=True)
class SubmissionRun:
    parts: tuple[PartRun, ...]
    layers: tuple[str, ...] = ()
    stdout: str = ""
    stderr: str = ""
    fatal: str | None = None


@dataclass
class _Collect:
    n_cases: list[int]
    values: list[list[dict[str, np.ndarray]]] = field(default_factory=list)
    errors: list[list[CallError | None]] = field(default_factory=list)
    failures: list[CallError | None] = field(default_factory=list)
    seen: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.values = [[{} for _ in range(n)] for n in self.n_cases]
        self.errors = [[None] * n for n in self.n_cases]
        self.failures = [None] * len(self.n_cases)
        self.seen = [False] * len(self.n_cases)

    def result(self, header: Mapping[str, Any]) -> SubmissionRun:
        parts = []
        for p, n in enumerate(self.n_cases):
            failure = self.failures[p]
            if failure is None and not self.seen[p]:
                failure = CallError("crashed", "the part did not run (the sandbox stopped early)")
            values = tuple(
                None
                if (self.errors[p][c] is not None or failure is not None or not self.values[p][c])
                else self.values[p][c]
                for c in range(n)
            )
            parts.append(PartRun(values=values, errors=tuple(self.errors[p]), failure=failure))
        return SubmissionRun(
            parts=tuple(parts),
            layers=tuple(str(x) for x in header.get("layers", [])),
            stdout=str(header.get("stdout", "")),
            stderr=str(header.get("stderr", "")),
            fatal=header.get("fatal"),
        )


def _part_calls(problems: Sequence[ProblemSpec]) -> list[dict[str, Any]]:
    calls = []
    for p_index, problem in enumerate(problems):
        part: PartSpec
        for part in problem.parts:
            calls.append(
                {
                    "problem": p_index,
                    "module": problem.module,
                    "function": part.function,
                    "args": list(part.args),
                    "call": [dict(step) for step in part.call],
                    "stub_modules": list(problem.stub_modules),
                    "output": output_structure(part.output),
                    "time_limit": part.time_limit,
                    # Cases [0, public) are public: only theirs show a traceback.
                    "public": problem.cases,
                }
            )
    return calls


def run_batch(
    problems: Sequence[ProblemSpec],
    cases: Sequence[Sequence[Case]],
    sources: Sequence[Path],
    *,
    parallel: int,
    limits: isolation.Limits,
    capabilities: isolation.Capabilities,
    runner: RunnerProcess | None = None,
) -> Iterator[tuple[int, SubmissionRun]]:
    """Run every submission's parts on the cases; yield (index in sources, run) as each ends.

    Uses (and closes) ``runner`` when given one already started, else starts its own."""
    runner = runner if runner is not None else RunnerProcess()
    calls = _part_calls(problems)
    n_cases = [len(cases[c["problem"]]) for c in calls]
    setup = {
        "t": "setup",
        "root": runner.root,
        "parts": calls,
        "cases": [len(c) for c in cases],
        "jobs": [{"id": i, "source": str(Path(s).resolve())} for i, s in enumerate(sources)],
        "parallel": parallel,
        "limits": {f: getattr(limits, f) for f in limits.__dataclass_fields__},
        "capabilities": {
            "landlock_abi": capabilities.landlock_abi,
            "seccomp": capabilities.seccomp,
            "reasons": list(capabilities.reasons),
        },
    }
    stream = [encode_frame(setup)]
    for p_index, problem_cases in enumerate(cases):
        for case in problem_cases:
            # Dimensions travel with the inputs: call chains may pass them (a constructor's sizes).
            for name, value in {**case.dims, **case.inputs}.items():
                base = {"problem": p_index, "case": case.index, "name": name}
                if isinstance(value, np.ndarray):
                    header, payload = encode_array(value)
                    stream.append(encode_frame({**base, **header}, payload))
                else:
                    stream.append(encode_frame({**base, "value": value}))
    proc = runner.proc
    assert proc.stdin is not None and proc.stdout is not None
    collecting = {i: _Collect(n_cases) for i in range(len(sources))}
    try:
        try:
            proc.stdin.write(b"".join(stream))
            proc.stdin.close()
        except BrokenPipeError:
            pass
        while collecting:
            try:
                frame = read_frame(proc.stdout, max_payload=MAX_RESULT_PAYLOAD)
            except WireError as exc:
                raise GraderError(f"the sandbox runner sent unreadable output ({exc})") from None
            if frame is None:
                code = proc.wait()
                raise GraderError(
                    f"the sandbox runner stopped unexpectedly (exit code {code}) with "
                    f"{len(collecting)} submission(s) left; see the messages above"
                )
            header, payload = frame
            job = header.get("job")
            if job not in collecting:
                continue
            done = _apply(collecting[job], header, payload)
            if done is not None:
                del collecting[job]
                yield job, done
    finally:
        # Stopped early (an error, or the caller stopped iterating): kill; else let it exit.
        runner.close(kill=bool(collecting))


def _apply(c: _Collect, header: Mapping[str, Any], payload: bytes) -> SubmissionRun | None:
    kind = header["t"]
    if kind == "done":
        return c.result(header)
    if kind == "fatal":
        message = str(header.get("message", "the sandbox could not start"))
        for p in range(len(c.failures)):
            if not c.seen[p]:
                c.failures[p] = CallError("crashed", message)
                c.seen[p] = True
        return None
    part = header["part"]
    c.seen[part] = True
    if kind == "killed":
        c.failures[part] = CallError(header["reason"], header["detail"])
        return None
    failure, entries = split_result(header, payload, c.n_cases[part])
    if failure is not None:
        c.failures[part] = CallError(*failure)
        return None
    for case, (what, data) in enumerate(entries):
        if what == "error":
            c.errors[part][case] = CallError(*data)
        else:
            c.values[part][case] = dict(data)
    return None
