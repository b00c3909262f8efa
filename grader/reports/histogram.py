"""A bar chart as a PNG, with no plotting library: a tiny RGB canvas, a 5x7 pixel font and a
PNG encoder (zlib + struct). A leaf module: it imports nothing from the package.

Why hand-written: the instructor's class summary needs one picture, and matplotlib would be a
~40 MB dependency of an autograder that runs in containers. A PNG is a signature, an IHDR chunk,
zlib-compressed scanlines (one filter byte each) in IDAT, and IEND; each chunk is
length + type + data + CRC-32.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Sequence

__all__ = ["bar_chart_png", "encode_png"]

Color = tuple[int, int, int]
WHITE: Color = (255, 255, 255)
INK: Color = (34, 34, 34)
GRID: Color = (222, 222, 222)
BAR: Color = (52, 110, 180)

# 5x7 glyphs: the character, then 7 rows as hex bytes (5 low bits each, left pixel = 0x10).
_FONT_DATA = (
    "00e11131519110e1040c040404040e20e11010204081f31f02040201110e402060a121f020251f101e0101110e"
    "60608101e11110e71f01020408080880e11110e11110e90e11110f01020c.00000000000c0c-0000001f000000"
    "/00010204081000(02040808080402)08040202020408=00001f001f0000A0e11111f111111B1e11111e11111e"
    "C0e11101010110eE1f10101e10101fI0e04040404040eM111b1515111111N11111915131111O0e11111111110e"
    "R1e11111e141211S0f10100e01011eT1f040404040404U1111111111110eX11110a040a1111"
)
_FONT = {_FONT_DATA[i]: bytes.fromhex(_FONT_DATA[i + 1 : i + 15]) for i in range(0, 435, 15)}
_SCALE = 2  # font pixels per glyph pixel
_ADVANCE = 6 * _SCALE  # 5 columns and one of spacing
_HEIGHT = 7 * _SCALE


def encode_png(width: int, height: int, rgb: bytes | bytearray) -> bytes:
    """An 8-bit RGB PNG from ``width * height * 3`` bytes, rows top to bottom."""
    stride = width * 3
    if len(rgb) != stride * height:
        raise ValueError(f"rgb has {len(rgb)} bytes, expected {stride * height}")
    raw = b"".join(b"\x00" + rgb[y * stride : (y + 1) * stride] for y in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bit, RGB, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


class _Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(WHITE) * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
        """Fill [x0, x1) x [y0, y1), clipped to the canvas."""
        x0, x1 = max(x0, 0), min(x1, self.width)
        if x1 <= x0:
            return
        row = bytes(color) * (x1 - x0)
        for y in range(max(y0, 0), min(y1, self.height)):
            start = (y * self.width + x0) * 3
            self.pixels[start : start + len(row)] = row

    def text(self, x: int, y: int, s: str, color: Color = INK) -> None:
        """Upper-case text with its top-left corner at (x, y); unknown characters are blank."""
        for k, char in enumerate(s.upper()):
            rows = _FONT.get(char, bytes(7))
            for r, bits in enumerate(rows):
                for c in range(5):
                    if bits & (0x10 >> c):
                        px, py = x + k * _ADVANCE + c * _SCALE, y + r * _SCALE
                        self.rect(px, py, px + _SCALE, py + _SCALE, color)


def _text_width(s: str) -> int:
    return len(s) * _ADVANCE - _SCALE


def _nice_step(top: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that needs at most 5 ticks to reach ``top``."""
    base = 1
    while True:
        for step in (base, 2 * base, 5 * base):
            if math.ceil(top / step) <= 5:
                return step
        base *= 10


def bar_chart_png(
    counts: Sequence[int],
    labels: Sequence[str],
    *,
    title: str = "",
    x_caption: str = "",
    width: int = 640,
    height: int = 360,
) -> bytes:
    """Bars with a y axis of counts (ticks and gridlines) and one label per bar, thinned out
    when labels would overlap. ``labels`` has one entry per bar."""
    if len(labels) != len(counts) or not counts:
        raise ValueError("need one label per bar and at least one bar")
    canvas = _Canvas(width, height)
    left, right, top, bottom = 64, width - 20, 44, height - 60
    step = _nice_step(max(max(counts), 1))
    y_max = step * math.ceil(max(max(counts), 1) / step)

    def y_of(value: float) -> int:
        return bottom - round((bottom - top) * value / y_max)

    for tick in range(0, y_max + 1, step):
        y = y_of(tick)
        canvas.rect(left, y, right, y + 1, GRID)
        canvas.rect(left - 6, y, left, y + 1, INK)
        label = str(tick)
        canvas.text(left - 10 - _text_width(label), y - _HEIGHT // 2, label)
    bar_width = (right - left) / len(counts)
    gap = 1 if bar_width < 6 else max(1, round(bar_width * 0.12))
    widest = max(_text_width(s) for s in labels) + 8
    every = max(1, math.ceil(widest / bar_width))
    for i, (count, label) in enumerate(zip(counts, labels, strict=True)):
        x0, x1 = round(left + i * bar_width), round(left + (i + 1) * bar_width)
        if count:
            canvas.rect(x0 + gap, y_of(count), x1 - gap, bottom, BAR)
        centre = (x0 + x1) // 2
        if i % every == 0:
            canvas.rect(centre, bottom, centre + 1, bottom + 5, INK)
            canvas.text(centre - _text_width(label) // 2, bottom + 9, label)
    canvas.rect(left, top - 6, left + 2, bottom + 1, INK)  # y axis
    canvas.rect(left, bottom, right, bottom + 2, INK)  # x axis
    canvas.text(left, 12, title)
    canvas.text((left + right - _text_width(x_caption)) // 2, height - 24, x_caption)
    return encode_png(width, height, canvas.pixels)
