"""The byte format between the grader, the sandbox runner and student processes. Never pickle.

A frame is ``<u32 header length><u32 payload length><JSON header><raw payload>``. Arrays travel
as raw little-endian bytes described by the header (``dtype``, ``shape``); the reader checks
every length against caps and against the declared shape before it builds an array, so bytes
written by a hostile student process can at worst be rejected, never executed.

A leaf: stdlib and numpy only.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

import numpy as np

__all__ = [
    "MAX_HEADER",
    "FrameReader",
    "WireError",
    "decode_array",
    "encode_array",
    "encode_frame",
    "read_frame",
    "split_result",
]

_PREFIX = struct.Struct("<II")
MAX_HEADER = 256 * 1024
# dtypes accepted from an untrusted writer: the child converts results to float64 itself.
UNTRUSTED_DTYPES = frozenset({"<f8"})
TRUSTED_DTYPES = frozenset({"<f8", "<i8", "|b1"})
MAX_NDIM = 8
MAX_DIM = 1 << 31  # numpy refuses some shapes whose product is 0 but whose dims are huge


class WireError(ValueError):
    """Bytes that do not form a valid frame: the stream is corrupt or hostile."""


def encode_frame(header: Mapping[str, Any], payload: bytes = b"") -> bytes:
    head = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    return _PREFIX.pack(len(head), len(payload)) + head + payload


def encode_array(value: np.ndarray) -> tuple[dict[str, Any], bytes]:
    """Header fields and payload for an array (float64, int64 or bool)."""
    arr = np.asarray(value, order="C")
    if arr.dtype.kind == "f":
        arr = arr.astype("<f8", copy=False)
    elif arr.dtype.kind in "iu":
        arr = arr.astype("<i8", copy=False)
    elif arr.dtype.kind == "b":
        arr = arr.astype("|b1", copy=False)
    else:
        raise TypeError(f"cannot encode dtype {arr.dtype}")
    return {"dtype": arr.dtype.str, "shape": list(arr.shape)}, arr.tobytes()


def _check_shape(shape: Any) -> None:
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_NDIM
        or not all(
            isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= MAX_DIM for s in shape
        )
    ):
        raise WireError(f"bad shape {str(shape)[:100]}")


def _check_dtype(dtype: Any, dtypes: frozenset[str]) -> None:
    if not isinstance(dtype, str) or dtype not in dtypes:
        raise WireError(f"dtype {str(dtype)[:40]!r} not allowed")


def decode_array(
    header: Mapping[str, Any], payload: bytes, *, dtypes: frozenset[str] = UNTRUSTED_DTYPES
) -> np.ndarray:
    dtype = header.get("dtype")
    shape = header.get("shape")
    _check_dtype(dtype, dtypes)
    _check_shape(shape)
    itemsize = np.dtype(dtype).itemsize
    count = 1
    for s in shape:
        count *= s
    if count * itemsize != len(payload):
        raise WireError(f"payload of {len(payload)} bytes does not match shape {shape} {dtype}")
    return np.frombuffer(payload, dtype=dtype).reshape(shape).copy()


def _check_prefix(head_len: int, body_len: int, max_payload: int) -> None:
    if head_len > MAX_HEADER:
        raise WireError(f"header of {head_len} bytes exceeds {MAX_HEADER}")
    if body_len > max_payload:
        raise WireError(f"payload of {body_len} bytes exceeds {max_payload}")


def _parse_header(raw: bytes) -> dict[str, Any]:
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise WireError(f"header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise WireError("header is not an object")
    return header


def read_frame(stream: BinaryIO, *, max_payload: int) -> tuple[dict[str, Any], bytes] | None:
    """Read one frame from a blocking stream; None at a clean end of stream."""
    prefix = stream.read(_PREFIX.size)
    if not prefix:
        return None
    if len(prefix) < _PREFIX.size:
        raise WireError("truncated frame prefix")
    head_len, body_len = _PREFIX.unpack(prefix)
    _check_prefix(head_len, body_len, max_payload)
    head = stream.read(head_len)
    body = stream.read(body_len) if body_len else b""
    if len(head) < head_len or len(body) < body_len:
        raise WireError("truncated frame")
    return _parse_header(head), body


class FrameReader:
    """Incremental decoder for a non-blocking pipe: feed bytes, take complete frames."""

    def __init__(self, *, max_payload: int, max_total: int) -> None:
        self.max_payload = max_payload
        self.max_total = max_total
        self.total = 0
        self._buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[tuple[dict[str, Any], bytes]]:
        self.total += len(data)
        if self.total > self.max_total:
            raise WireError(f"more than {self.max_total} bytes of output")
        self._buffer += data
        while len(self._buffer) >= _PREFIX.size:
            head_len, body_len = _PREFIX.unpack_from(self._buffer)
            _check_prefix(head_len, body_len, self.max_payload)
            end = _PREFIX.size + head_len + body_len
            if len(self._buffer) < end:
                return
            head = bytes(self._buffer[_PREFIX.size : _PREFIX.size + head_len])
            body = bytes(self._buffer[_PREFIX.size + head_len : end])
            del self._buffer[:end]
            yield _parse_header(head), body

    @property
    def pending(self) -> int:
        return len(self._buffer)


# A part's result frame: {"failure": error | None, "cases": [{"error": error} |
# {"leaves": [[path, dtype, shape], ...]}]} + the leaves' bytes concatenated in order.
MAX_TEXT = 8000


def _error_fields(raw: Any) -> tuple[str, str, str]:
    if not isinstance(raw, dict):
        raise WireError("error entry is not an object")
    return (
        str(raw.get("kind", "exception"))[:40],
        str(raw.get("message", ""))[:MAX_TEXT],
        str(raw.get("traceback", ""))[:MAX_TEXT],
    )


def split_result(
    header: Mapping[str, Any], payload: bytes, n_cases: int
) -> tuple[tuple[str, str, str] | None, list[Any]]:
    """Validate a part's result frame and split it into (failure, per-case entries).

    Each entry is ``("error", (kind, message, traceback))`` or ``("leaves", [(path, array)])``.
    Raises WireError on anything malformed; nothing here evaluates what the child wrote.
    """
    failure = header.get("failure")
    cases = header.get("cases")
    if not isinstance(cases, list):
        raise WireError("cases is not a list")
    if failure is not None:
        if cases or payload:
            raise WireError("a failed part carries no cases")
        return _error_fields(failure), []
    if len(cases) != n_cases:
        raise WireError(f"{len(cases)} cases, expected {n_cases}")
    out: list[Any] = []
    offset = 0
    for entry in cases:
        if not isinstance(entry, dict):
            raise WireError("case entry is not an object")
        if "error" in entry:
            out.append(("error", _error_fields(entry["error"])))
            continue
        leaves = entry.get("leaves")
        if not isinstance(leaves, list) or len(leaves) > 1000:
            raise WireError("bad leaves")
        arrays = []
        for leaf in leaves:
            if not isinstance(leaf, list) or len(leaf) != 3 or not isinstance(leaf[0], str):
                raise WireError("bad leaf descriptor")
            path, dtype, shape = leaf
            _check_dtype(dtype, UNTRUSTED_DTYPES)
            _check_shape(shape)
            size = 8
            for s in shape:
                size *= s
            if offset + size > len(payload):
                raise WireError("payload shorter than its leaves")
            arr = np.frombuffer(payload, dtype=dtype, count=size // 8, offset=offset)
            arrays.append((path[:200], arr.reshape(shape)))
            offset += size
        out.append(("leaves", arrays))
    if offset != len(payload):
        raise WireError("payload longer than its leaves")
    return None, out
