"""The lexer of students' LaTeX answers (``grader.latex`` parses what it yields).

It drops ``\\left \\right \\big``, spacing (``\\, \\; \\! \\quad ~``), ``$`` and the font commands
``\\mathbf \\boldsymbol \\bm \\vec``, reads ``\\operatorname{tr}``-style words, and tells an opening
``|`` from a closing one after ``\\left``/``\\right``. Also the vocabulary the parser accepts.
A leaf: stdlib only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "FRACS",
    "FUNCS",
    "GREEK",
    "INFIX",
    "KNOWN",
    "OPEN",
    "SUPPORTED",
    "TRANSPOSE",
    "LatexError",
    "Token",
    "tokenize",
]


class LatexError(ValueError):
    """A student's answer cannot be read. The one-line message says what, where and the fix."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.column = column


# TeX names a declared symbol may use ("alpha" is written \alpha). One string, not a 40-line list.
GREEK = frozenset(
    """alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi
    pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda
    Xi Pi Sigma Upsilon Phi Psi Omega""".split()  # noqa: SIM905
)
FUNCS = {"tr": "tr", "Tr": "tr", "trace": "tr", "det": "det", "log": "log", "ln": "log"}
FRACS = frozenset({"frac", "dfrac", "tfrac"})
INFIX = frozenset({"cdot", "times"})
TRANSPOSE = frozenset({"top", "intercal"})
OPEN = {"(": ")", "[": "]", "{": "}", "|": "|", "lbar": "|"}
KNOWN = sorted(
    {*GREEK, *FUNCS, *FRACS, *INFIX, *TRANSPOSE, "operatorname", "mathrm", "text", "mathbf"}
    | {"boldsymbol", "bm", "left", "right", "quad"}
)
SUPPORTED = (
    r"Greek letters, \frac, \cdot, \times, ^T, ^\top, ^{-1}, \operatorname{tr}, \det, \log, \ln,"
    r" |K|, \left( \right), \mathbf{W}, I_N"
)
_TOKEN = re.compile(
    r"(?P<skip>\s+|~|\$|\\[,;:!> ]|\\(?:q?quad|displaystyle|mathbf|boldsymbol|bm|mathbfit|pmb|vec)"
    r"(?![A-Za-z]))|(?P<size>\\(?:left|right|[bB]igg?[lrm]?)(?![A-Za-z]))"
    r"|(?P<word>\\(?:operatorname|mathrm|mathsf|mathit|text|textrm)\s*\{\s*(?P<w>[A-Za-z]+)\s*\})"
    r"|(?P<cmd>\\(?:[A-Za-z]+|.))|(?P<num>\d+(?:\.\d+)?|\.\d+)|(?P<letter>[A-Za-z])"
    r"|(?P<punct>[-+*/^_()[\]{}|])"
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "letter", "num", "cmd", "lbar", "rbar", or the punctuation character itself
    text: str  # the letter, the digits, or the command name without its backslash
    start: int  # 0-based offsets into the source; the column is start + 1
    end: int


def tokenize(src: str) -> list[Token]:
    toks: list[Token] = []
    side, pos = "", 0  # side: "l" or "r" after \left, \bigr, ...: tells | openers from closers
    while pos < len(src):
        if (m := _TOKEN.match(src, pos)) is None:
            hint = {"'": "write a transpose as ^T", "=": "give only the expression"}.get(src[pos])
            col = pos + 1
            raise LatexError(f"unexpected {src[pos]!r} at column {col}; {hint or 'remove it'}", col)
        kind, text, start, pos = m.lastgroup or "", m.group(), m.start(), m.end()
        if kind == "size":
            side = (
                "l" if text.endswith(("left", "l")) else "r" if text.endswith(("ght", "r")) else ""
            )
        if kind in ("skip", "size"):
            continue
        if kind == "word":
            word = m.group("w")
            if len(word) > 1 and word not in FUNCS and word.lower() not in FUNCS:
                col = start + 1
                raise LatexError(
                    f"unknown operator {text} at column {col}; supported: tr, det, log", col
                )
            kind, text = ("letter", word) if len(word) == 1 else ("cmd", word.lower())
        elif kind == "cmd":
            text = text[1:]
            if text in ("lvert", "rvert", "vert"):
                kind, side = "punct", text[0] if text[0] != "v" else side
        if kind == "punct":
            text = "|" if text.endswith("vert") else text
            kind = {"l": "lbar", "r": "rbar"}.get(side, "|") if text == "|" else text
        toks.append(Token(kind, text, start, pos))
        side = ""
    return toks
