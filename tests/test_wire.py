"""Tests for grader.wire: frames round-trip, and bytes from a hostile writer are rejected with
WireError (never another exception, never an oversized allocation)."""

from __future__ import annotations

import io
import json
import struct
from typing import Any

import numpy as np
import pytest

from grader.wire import (
    MAX_HEADER,
    TRUSTED_DTYPES,
    FrameReader,
    WireError,
    decode_array,
    encode_array,
    encode_frame,
    read_frame,
    split_result,
)

MAX_PAYLOAD = 1 << 16


def raw_frame(header: bytes, payload: bytes = b"", *, head_len: int | None = None) -> bytes:
    """A frame built by hand, so the prefix can lie about the lengths."""
    length = len(header) if head_len is None else head_len
    return struct.pack("<II", length, len(payload)) + header + payload


def read_one(data: bytes, *, max_payload: int = MAX_PAYLOAD) -> tuple[dict[str, Any], bytes]:
    frame = read_frame(io.BytesIO(data), max_payload=max_payload)
    assert frame is not None
    return frame


# --------------------------------------------------------------------------- round trips


def test_frame_round_trip() -> None:
    header = {"t": "leaf", "part": 3, "case": 1, "path": "['K']", "text": "ünïcode"}
    data = encode_frame(header, b"\x00\x01\x02")
    assert read_one(data) == (header, b"\x00\x01\x02")


def test_several_frames_then_clean_end_of_stream() -> None:
    stream = io.BytesIO(encode_frame({"n": 1}) + encode_frame({"n": 2}, b"xy"))
    assert read_frame(stream, max_payload=MAX_PAYLOAD) == ({"n": 1}, b"")
    assert read_frame(stream, max_payload=MAX_PAYLOAD) == ({"n": 2}, b"xy")
    assert read_frame(stream, max_payload=MAX_PAYLOAD) is None


@pytest.mark.parametrize(
    ("value", "dtype"),
    [
        pytest.param(np.arange(12.0).reshape(3, 4), "<f8", id="matrix"),
        pytest.param(np.arange(12.0).reshape(3, 4).T, "<f8", id="non-contiguous"),
        pytest.param(np.array(2.5), "<f8", id="0d"),
        pytest.param(np.zeros((0, 3)), "<f8", id="empty"),
        pytest.param(np.arange(6, dtype=np.float32).reshape(2, 3), "<f8", id="float32"),
        pytest.param(np.arange(6, dtype=np.int32), "<i8", id="int32"),
        pytest.param(np.array([True, False]), "|b1", id="bool"),
    ],
)
def test_array_round_trip(value: np.ndarray, dtype: str) -> None:
    header, payload = encode_array(value)
    assert header == {"dtype": dtype, "shape": list(value.shape)}
    data = encode_frame({"t": "leaf", **header}, payload)
    got_header, got_payload = read_one(data)
    back = decode_array(got_header, got_payload, dtypes=TRUSTED_DTYPES)
    assert back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back, value)
    assert back.flags.writeable  # a copy, not a view of the frame's bytes


def test_encode_refuses_complex_and_objects() -> None:
    with pytest.raises(TypeError):
        encode_array(np.array([1 + 2j]))
    with pytest.raises(TypeError):
        encode_array(np.array([object()]))


def test_untrusted_reader_accepts_only_float64() -> None:
    header, payload = encode_array(np.arange(3))
    with pytest.raises(WireError, match="not allowed"):
        decode_array(header, payload)


def test_header_must_be_valid_json_on_encode() -> None:
    with pytest.raises(ValueError):
        encode_frame({"x": float("nan")})


# --------------------------------------------------------------------------- hostile frames


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(struct.pack("<II", MAX_HEADER + 1, 0), "header of", id="huge-header-length"),
        pytest.param(struct.pack("<II", 0xFFFFFFFF, 0), "header of", id="max-u32-header"),
        pytest.param(
            struct.pack("<II", 2, MAX_PAYLOAD + 1) + b"{}", "payload of", id="payload-over-cap"
        ),
        pytest.param(raw_frame(b"not json"), "not JSON", id="non-json-header"),
        pytest.param(raw_frame(b"\xff\xfe{}"), "not JSON", id="non-utf8-header"),
        pytest.param(raw_frame(b"[1, 2]"), "not an object", id="header-is-a-list"),
        pytest.param(raw_frame(b'"t"'), "not an object", id="header-is-a-string"),
        pytest.param(b"\x01\x00", "truncated", id="truncated-prefix"),
        pytest.param(raw_frame(b'{"a": 1}')[:-2], "truncated", id="truncated-header"),
        pytest.param(raw_frame(b"{}", b"12345678")[:-1], "truncated", id="truncated-payload"),
    ],
)
def test_read_frame_rejects(data: bytes, message: str) -> None:
    with pytest.raises(WireError, match=message):
        read_frame(io.BytesIO(data), max_payload=MAX_PAYLOAD)


def test_huge_lengths_are_rejected_before_reading_the_body() -> None:
    reads: list[int] = []

    class Stream(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            reads.append(-1 if size is None else size)
            return super().read(size)

    stream = Stream(struct.pack("<II", 10, 0xFFFFFFFF))
    with pytest.raises(WireError, match="payload of 4294967295 bytes exceeds"):
        read_frame(stream, max_payload=MAX_PAYLOAD)
    assert reads == [8]  # the prefix only


F8 = np.zeros(4).tobytes()  # 32 bytes: a float64 array of 4 entries


@pytest.mark.parametrize(
    ("header", "payload"),
    [
        pytest.param({"dtype": "object", "shape": [4]}, F8, id="dtype-object"),
        pytest.param({"dtype": "|O", "shape": [4]}, F8, id="dtype-O"),
        pytest.param({"dtype": "<c16", "shape": [2]}, F8, id="dtype-complex"),
        pytest.param({"dtype": ">f8", "shape": [4]}, F8, id="dtype-big-endian"),
        pytest.param({"dtype": "<f4", "shape": [8]}, F8, id="dtype-float32"),
        pytest.param({"dtype": "<V32", "shape": [1]}, F8, id="dtype-void"),
        pytest.param({"shape": [4]}, F8, id="dtype-missing"),
        pytest.param({"dtype": "<f8", "shape": [5]}, F8, id="shape-longer-than-payload"),
        pytest.param({"dtype": "<f8", "shape": [3]}, F8, id="shape-shorter-than-payload"),
        pytest.param({"dtype": "<f8", "shape": [2, 3]}, F8, id="shape-product-mismatch"),
        pytest.param({"dtype": "<f8", "shape": [-4]}, F8, id="negative-shape"),
        pytest.param({"dtype": "<f8", "shape": [-2, -2]}, F8, id="negative-product"),
        pytest.param({"dtype": "<f8", "shape": [1] * 8 + [4]}, F8, id="too-many-dims"),
        pytest.param({"dtype": "<f8", "shape": [4.0]}, F8, id="float-shape"),
        pytest.param({"dtype": "<f8", "shape": [True] * 4}, F8, id="bool-shape"),
        pytest.param({"dtype": "<f8", "shape": "4"}, F8, id="shape-string"),
        pytest.param({"dtype": "<f8"}, F8, id="shape-missing"),
        pytest.param({"dtype": "<f8", "shape": [2**62, 2**62]}, b"", id="overflowing-shape"),
    ],
)
def test_decode_array_rejects(header: dict[str, Any], payload: bytes) -> None:
    with pytest.raises(WireError):
        decode_array(header, payload)


@pytest.mark.parametrize(
    ("header", "payload"),
    [
        pytest.param({"dtype": ["<f8"], "shape": [4]}, F8, id="dtype-list"),
        pytest.param({"dtype": {"kind": "f"}, "shape": [4]}, F8, id="dtype-dict"),
        pytest.param({"dtype": "<f8", "shape": [0, 2**70]}, b"", id="zero-times-huge-dim"),
        pytest.param({"dtype": "<f8", "shape": [0, 2**62, 2**62]}, b"", id="zero-times-overflow"),
    ],
)
def test_decode_array_rejects_hostile_types_with_wire_error(
    header: dict[str, Any], payload: bytes
) -> None:
    with pytest.raises(WireError):
        decode_array(header, payload)


def test_deeply_nested_header_is_a_wire_error() -> None:
    depth = MAX_HEADER // 2 - 1
    head = b"[" * depth + b"]" * depth
    with pytest.raises(WireError):
        read_frame(io.BytesIO(raw_frame(head)), max_payload=MAX_PAYLOAD)


# --------------------------------------------------------------------------- FrameReader


def _frames() -> tuple[list[tuple[dict[str, Any], bytes]], bytes]:
    frames = [({"n": i, "pad": "x" * i}, bytes(range(i % 256)) * 3) for i in range(0, 40, 7)]
    return frames, b"".join(encode_frame(h, p) for h, p in frames)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 10_000], ids=lambda c: f"chunk{c}")
def test_frame_reader_reassembles_frames_split_across_feeds(chunk: int) -> None:
    frames, data = _frames()
    reader = FrameReader(max_payload=MAX_PAYLOAD, max_total=len(data))
    got = []
    for start in range(0, len(data), chunk):
        got += list(reader.feed(data[start : start + chunk]))
    assert got == frames
    assert reader.pending == 0
    assert reader.total == len(data)


def test_frame_reader_keeps_a_partial_frame_pending() -> None:
    data = encode_frame({"a": 1}, b"abc")
    reader = FrameReader(max_payload=MAX_PAYLOAD, max_total=1 << 20)
    assert list(reader.feed(data[:-1])) == []
    assert reader.pending == len(data) - 1
    assert list(reader.feed(data[-1:])) == [({"a": 1}, b"abc")]
    assert reader.pending == 0


def test_frame_reader_enforces_max_total() -> None:
    _, data = _frames()
    reader = FrameReader(max_payload=MAX_PAYLOAD, max_total=len(data) - 1)
    with pytest.raises(WireError, match=f"more than {len(data) - 1} bytes"):
        for start in range(0, len(data), 16):
            list(reader.feed(data[start : start + 16]))


def test_frame_reader_rejects_huge_lengths_from_the_prefix_alone() -> None:
    reader = FrameReader(max_payload=MAX_PAYLOAD, max_total=1 << 20)
    with pytest.raises(WireError, match="header of"):
        list(reader.feed(struct.pack("<II", MAX_HEADER + 1, 0)))
    reader = FrameReader(max_payload=MAX_PAYLOAD, max_total=1 << 20)
    with pytest.raises(WireError, match="payload of"):
        list(reader.feed(struct.pack("<II", 2, MAX_PAYLOAD + 1)))


def test_frame_reader_rejects_a_bad_header() -> None:
    good = encode_frame({"ok": True})
    reader = FrameReader(max_payload=MAX_PAYLOAD, max_total=1 << 20)
    frames = reader.feed(good + raw_frame(b"{nope"))
    assert next(frames) == ({"ok": True}, b"")
    with pytest.raises(WireError, match="not JSON"):
        next(frames)


def test_frame_header_is_compact_json() -> None:
    data = encode_frame({"a": [1, 2]})
    head_len, body_len = struct.unpack_from("<II", data)
    assert (head_len, body_len) == (len(b'{"a":[1,2]}'), 0)
    assert json.loads(data[8:]) == {"a": [1, 2]}


# --------------------------------------------------------------------------- result frames


def _result(*cases: dict[str, Any], failure: Any = None) -> dict[str, Any]:
    return {"t": "result", "part": 0, "failure": failure, "cases": list(cases)}


def _leaves(*specs: tuple[str, str, list[int]]) -> dict[str, Any]:
    return {"leaves": [list(s) for s in specs]}


def test_split_result_round_trip() -> None:
    a, b = np.arange(6.0).reshape(3, 2), np.array(-1.5)
    header = _result(
        _leaves(("[0]", "<f8", [3, 2]), ("[1]", "<f8", [])),
        {"error": {"kind": "exception", "message": "ZeroDivisionError", "traceback": "tb"}},
    )
    head, payload = read_one(encode_frame(header, a.tobytes() + b.tobytes()))
    failure, entries = split_result(head, payload, 2)
    assert failure is None
    (kind0, leaves), (kind1, error) = entries
    assert (kind0, [path for path, _ in leaves]) == ("leaves", ["[0]", "[1]"])
    np.testing.assert_array_equal(leaves[0][1], a)
    np.testing.assert_array_equal(leaves[1][1], b)
    assert (kind1, error) == ("error", ("exception", "ZeroDivisionError", "tb"))


def test_split_result_of_a_failed_part() -> None:
    header = _result(failure={"kind": "import", "message": "could not import q1.py"})
    assert split_result(header, b"", 3) == (("import", "could not import q1.py", ""), [])


F8_1 = np.zeros(1).tobytes()


@pytest.mark.parametrize(
    ("header", "payload"),
    [
        pytest.param({"failure": None}, b"", id="cases-missing"),
        pytest.param(_result(_leaves()), b"", id="too-few-cases"),
        pytest.param(_result(*[_leaves()] * 3), b"", id="too-many-cases"),
        pytest.param(
            _result(_leaves(), _leaves(), failure={"kind": "x"}), b"", id="failure-and-cases"
        ),
        pytest.param(_result(failure="boom"), b"", id="failure-not-an-object"),
        pytest.param(_result(_leaves(), {"error": "x"}), b"", id="error-not-an-object"),
        pytest.param(_result(_leaves(), 7), b"", id="case-not-an-object"),
        pytest.param(_result(_leaves(), {"leaves": "all"}), b"", id="leaves-not-a-list"),
        pytest.param(_result(_leaves(), {"leaves": [[1, "<f8", []]]}), F8_1, id="path-not-str"),
        pytest.param(_result(_leaves(), {"leaves": [["", "<f8"]]}), F8_1, id="short-leaf"),
        pytest.param(_result(_leaves(), _leaves(("", "<c16", [1]))), F8_1 * 2, id="complex"),
        pytest.param(_result(_leaves(), _leaves(("", "|O", [1]))), F8_1, id="object"),
        pytest.param(_result(_leaves(), _leaves(("", "<f8", [-1]))), F8_1, id="negative-shape"),
        pytest.param(_result(_leaves(), _leaves(("", "<f8", [1] * 9))), F8_1, id="too-many-dims"),
        pytest.param(_result(_leaves(), _leaves(("", "<f8", [2]))), F8_1, id="payload-short"),
        pytest.param(_result(_leaves(), _leaves(("", "<f8", [1]))), F8_1 * 2, id="payload-long"),
        pytest.param(
            _result(_leaves(), _leaves(("", "<f8", [2**61, 2**61]))), b"", id="overflowing-shape"
        ),
    ],
)
def test_split_result_rejects(header: dict[str, Any], payload: bytes) -> None:
    with pytest.raises(WireError):
        split_result(header, payload, 2)


@pytest.mark.parametrize(
    ("header", "payload"),
    [
        pytest.param(_result(_leaves(("", ["<f8"], [1]))), F8_1, id="dtype-list"),
        pytest.param(_result(_leaves(("", "<f8", [0, 2**70]))), b"", id="zero-times-huge-dim"),
        pytest.param(_result(_leaves(("", "<f8", [0, 2**62, 2**62]))), b"", id="zero-overflow"),
    ],
)
def test_split_result_rejects_hostile_types_with_wire_error(
    header: dict[str, Any], payload: bytes
) -> None:
    with pytest.raises(WireError):
        split_result(header, payload, 1)
