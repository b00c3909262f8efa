"""grader.child: what the runner believes of a child's frames, without a process.

The hostile suite (test_sandbox.py) sends such frames from real student code; these tests pin
the rules one at a time: the order of parts, the clock, which part a death is blamed on.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from grader.child import STARTUP_GRACE, Child
from grader.wire import FrameReader, encode_array, encode_frame

LIMITS = [5.0, 7.0, 9.0]  # three parts' time limits
N_CASES = [2, 2, 2]


def child(start: int = 0) -> Child:
    return Child(
        job=4,
        pid=123,
        fd=-1,
        workdir=Path("/nonexistent"),
        start=start,
        reader=FrameReader(max_payload=1 << 20, max_total=1 << 24),
        deadline=time.monotonic() + STARTUP_GRACE,
    )


def layers() -> bytes:
    return encode_frame({"t": "layers", "layers": ["rlimits", "landlock"]})


def result(part: int, value: float = 1.0) -> bytes:
    header, payload = encode_array(np.array([value]))
    leaf = {"leaves": [["", header["dtype"], header["shape"]]]}
    frame = {"t": "result", "part": part, "failure": None, "cases": [leaf, leaf]}
    return encode_frame(frame, payload * 2)


def test_parts_run_in_order_and_each_result_starts_the_next_clock() -> None:
    c = child()
    assert c.receive(layers(), LIMITS, N_CASES) == ([], True)
    assert c.part == 0 and c.layers == ["rlimits", "landlock"]
    assert c.deadline == pytest.approx(time.monotonic() + LIMITS[0], abs=0.5)
    forwarded, ok = c.receive(result(0) + result(1), LIMITS, N_CASES)
    assert ok and [h["part"] for h, _ in forwarded] == [0, 1]
    assert all(h["job"] == 4 for h, _ in forwarded)
    assert c.part == 2 and c.deadline == pytest.approx(time.monotonic() + LIMITS[2], abs=0.5)
    forwarded, ok = c.receive(result(2), LIMITS, N_CASES)
    assert ok and c.part is None and c.blamed_part(3) is None


def test_a_frame_split_across_reads_is_reassembled() -> None:
    c = child()
    data = layers() + result(0)
    first, _ = c.receive(data[:7], LIMITS, N_CASES)
    rest, ok = c.receive(data[7:], LIMITS, N_CASES)
    assert ok and first == [] and [h["part"] for h, _ in rest] == [0]


@pytest.mark.parametrize(
    "stream",
    [
        result(0),  # before the sandbox said it is up
        layers() + result(1),  # skips the running part
        layers() + result(0) + result(0),  # a part twice
        layers() + result(0) + layers(),  # a control frame from student code
        layers() + b"\xff" * 64,  # not frames
    ],
    ids=["before-layers", "wrong-part", "twice", "late-layers", "garbage"],
)
def test_out_of_turn_frames_make_the_child_corrupt(stream: bytes) -> None:
    forwarded, ok = child().receive(stream, LIMITS, N_CASES)
    assert not ok
    assert all(h["part"] == 0 for h, _ in forwarded)  # what came before the fault stands


def test_a_result_with_the_wrong_number_of_cases_is_refused() -> None:
    c = child()
    c.receive(layers(), LIMITS, N_CASES)
    assert c.receive(result(0), LIMITS, [3, 2, 2]) == ([], False)


def test_a_death_is_blamed_on_the_running_part_or_the_next_not_done() -> None:
    c = child(start=1)
    assert c.blamed_part(3) == 1  # died before its sandbox was up
    c.receive(layers() + result(1), LIMITS, N_CASES)
    assert c.blamed_part(3) == 2


def test_outcome_names_the_cause() -> None:
    c = child()
    c.killed = "timeout"
    assert c.outcome()[0] == "timeout"
    c.killed, c.status = None, signal.SIGSEGV  # a raw wait status: killed by SIGSEGV
    assert c.outcome() == ("crashed", "the process was killed by SIGSEGV")
    c.status = 3 << 8  # exited with status 3
    assert c.outcome()[0] == "exited" and "status 3" in c.outcome()[1]
    assert os.WIFEXITED(c.status)
