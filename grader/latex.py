"""Read students' LaTeX answers as shape-checked sympy matrix expressions, and evaluate them.

Why a parser of our own: sympy's ``parse_latex`` and latex2sympy2 make every symbol commutative,
read ``K^{-1}`` as a scalar and ``^T`` as a power of a symbol ``T`` (measured in
shared/notes/gradient-checking-and-latex.md, Part C). This is a small recursive-descent parser:

    expr    := [+|-] term ((+|-) term)*              sums: shapes must be equal
    term    := factor ([\\cdot|\\times|*|/] factor)*  implicit products: noncommutative, in order
    factor  := primary ('^' sup | '_' sub)*          '^' takes one token or one {...} group (TeX)
    primary := letter | \\greek | number | (expr) | [expr] | {expr} | |expr| | \\frac{a}{b}
             | (\\tr | \\det | \\log | \\ln) (bracketed group | implicit product)

so ``W^TWx`` is (W^T)(W)(x). The lexer (``grader.latex_lexer``) drops ``\\left \\right \\big``,
spacing (``\\, \\; \\! \\quad ~``), ``$`` and the font commands
``\\mathbf \\boldsymbol \\bm \\vec``.

Policies (each is something a student can run into, so each is stated here):
- Only declared symbols: an unknown letter is an error with a did-you-mean, never a guess.
- Dimensions are compared by name: ``m`` and ``n`` differ even if they are equal at run time.
- A scalar counts as 1 x 1, so ``^T``, ``\\tr`` and ``\\det`` of a scalar return it unchanged
  (students write ``(x^Tx)^T``); ``^{-1}`` and ``^k`` of a scalar are ordinary powers.
- A (1 x 1) matrix such as ``x^Tx`` acts as a scalar where a matrix would not fit: as a factor
  that cannot multiply its neighbour as a matrix (``(x^Tx)W``), in ``\\log``, ``|.|``, a
  denominator, or added to a scalar. It becomes ``Trace(x.T*x)``, its only entry (sympy expands a
  ``MatrixElement`` into a ``Sum`` on every ``doit``; ``Trace`` it leaves alone).
- ``scalar + matrix`` is an error ("write D I"): reading it as ``D I`` would grade an answer
  other than the one written.
- ``I``: if declared (square) it is the identity of that size. Otherwise its size comes from the
  first sized matrix it is added to or multiplied with (``K - \\beta^{-1}I``), or from a subscript
  ``I_N``/``I_{N}`` (a declared dimension or an integer). If nothing fixes it (``\\tr I``, an answer
  ``2I``) the error asks for ``I_N``.
- ``^T`` is a transpose even when ``T`` is declared; ``^{-T}`` is the inverse transpose.
- ``\\tr``, ``\\det``, ``\\log`` take a bracketed group if one follows (``\\tr(A)B`` = tr(A) B),
  otherwise the implicit product that follows (``\\tr AB`` = tr(AB), ``\\log\\det K``).
- ``|A|`` is det for a square matrix and abs for a scalar (or 1 x 1); a bare ``|`` inside ``|...|``
  closes it, so nest with ``\\left| \\right|`` or ``\\det``. ``\\log`` is natural.
- sympy objects: a matrix is ``MatrixSymbol(name, r, c)`` with dimensions
  ``Symbol(d, integer=True, positive=True)``; a scalar is a plain ``Symbol(name)``, so the two never
  collide (Q2 has a scalar ``N`` and a dimension ``N``).

``evaluate`` walks the tree with numpy because sympy 1.14's lambdify cannot print Trace or
Determinant. ``A^{-1}B`` uses ``solve`` and ``\\log|K|`` uses ``slogdet`` (no over/underflow).
Not supported: norms, ``\\odot``, ``\\otimes``, diag/vec, primes as transposes, unicode ``ᵀ``/``α``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import sympy as sp

from grader.latex_lexer import (
    FRACS,
    FUNCS,
    GREEK,
    INFIX,
    KNOWN,
    OPEN,
    SUPPORTED,
    TRANSPOSE,
    LatexError,
    Token,
    tokenize,
)

__all__ = ["LatexError", "ParsedAnswer", "SymbolSpec", "evaluate", "parse_latex"]

Dim = str | int
Shape = tuple[Dim, ...]


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """A declared symbol: its LaTeX name ("W", "x", "alpha") and shape (() or (rows, cols))."""

    name: str
    shape: tuple[str | int, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedAnswer:
    """The source, its sympy expression and its shape (() for a scalar) in declared dimensions."""

    source: str
    expr: sp.Basic
    shape: tuple[str | int, ...]


_FREE = sp.Symbol("_unsized", integer=True, positive=True)
_UNSIZED_I = sp.MatrixSymbol("I", _FREE, _FREE)  # an identity whose size is not known yet
_ANY: Shape = ("?", "?")  # the shape of an expression built only from scalars and unsized I


@dataclass(frozen=True, slots=True)
class _Val:
    expr: Any  # a sympy expression (typed Any: sympy's operator stubs are too loose to check)
    shape: Shape
    start: int
    end: int


def _dim(d: Dim) -> sp.Expr:
    return sp.Integer(d) if isinstance(d, int) else sp.Symbol(d, integer=True, positive=True)


def _fmt(shape: Shape) -> str:
    return (
        "scalar" if not shape else "size unknown" if shape == _ANY else " x ".join(map(str, shape))
    )


def _shown(name: str) -> str:
    return f"\\{name}" if len(name) > 1 else name


def _square(shape: Shape) -> bool:
    return len(shape) == 2 and shape != _ANY and shape[0] == shape[1]


def _symbol_table(symbols: Mapping[str, SymbolSpec]) -> tuple[dict[str, _Val], set[Dim]]:
    """Validate the caller's declarations up front, so a bad spec is never blamed on a student."""
    table: dict[str, _Val] = {}
    for key, spec in symbols.items():
        if not isinstance(spec, SymbolSpec):
            raise TypeError(f"symbols[{key!r}]: expected SymbolSpec, got {type(spec).__name__}")
        name, shape = spec.name, tuple(spec.shape)
        if key != name or not (
            (len(name) == 1 and name.isascii() and name.isalpha()) or name in GREEK
        ):
            raise ValueError(
                f"symbols[{key!r}].name={name!r}: expected the key itself, a single letter or a "
                "Greek letter name such as 'alpha'"
            )
        dims_ok = all(
            (type(d) is int and d >= 1) or (isinstance(d, str) and d.isidentifier()) for d in shape
        )
        if len(shape) not in (0, 2) or not dims_ok or (name == "I" and not _square(shape)):
            raise ValueError(
                f"symbols[{key!r}].shape={shape!r}: expected () or (rows, cols) of dimension names"
                " or positive ints" + (" (I is the identity, so square)" if name == "I" else "")
            )
        if name == "I":
            expr: Any = sp.Identity(_dim(shape[0]))
        else:
            expr = sp.MatrixSymbol(name, *map(_dim, shape)) if shape else sp.Symbol(name)
        table[name] = _Val(expr, shape, 0, 0)
    return table, {d for v in table.values() for d in v.shape if isinstance(d, str)}


class _Parser:
    """One parse of one answer. Every _Val carries its source span, for messages that quote it."""

    def __init__(self, src: str, table: dict[str, _Val], dims: set[Dim]) -> None:
        self.src, self.table, self.dims = src, table, dims
        self.toks, self.i, self.bars = tokenize(src), 0, 0

    def fail(self, message: str, col: int) -> NoReturn:
        raise LatexError(message.replace("@", f"at column {col}", 1), col)

    def desc(self, v: _Val) -> str:
        text = " ".join(self.src[v.start : v.end].split())
        if text[:1] == "{" and text[-1:] == "}" and "{" not in text[1:-1]:
            text = text[1:-1]  # \frac{1}{W} quotes W, not {W}
        return f"{text if len(text) <= 30 else text[:27] + '...'} ({_fmt(v.shape)})"

    def peek(self, *kinds: str) -> bool:
        return self.i < len(self.toks) and self.toks[self.i].kind in kinds

    def next(self, what: str) -> Token:
        if self.i >= len(self.toks):
            self.fail(f"incomplete answer: expected {what} @", len(self.src) + 1)
        self.i += 1
        return self.toks[self.i - 1]

    def split_digit(self, k: int) -> Token:
        """TeX reads one digit in ``x^23`` and ``\\frac12``; the rest stays for later."""
        t = self.toks[k] if k < len(self.toks) else Token("", "", 0, 0)
        if t.kind == "num" and len(t.text) > 1 and t.text[0].isdigit():
            rest = Token("num", t.text[1:], t.start + 1, t.end)
            self.toks[k : k + 1] = [Token("num", t.text[0], t.start, t.start + 1), rest]
        return self.toks[k] if k < len(self.toks) else t

    def parse(self) -> _Val:
        if not self.toks:
            self.fail("empty answer @: write the expression in LaTeX, e.g. Wx^T", 1)
        v = self.expr()
        if self.i < len(self.toks):
            t = self.toks[self.i]
            if t.kind in (")", "]", "}", "rbar"):
                self.fail(f"unbalanced parentheses: {t.text} @ has no matching opener", t.start + 1)
            self.fail(f"unexpected {self.src[t.start : t.end]} @", t.start + 1)
        if v.shape == _ANY:
            self.fail("cannot infer the size of I @; write I_N with N a dimension", v.start + 1)
        if v.expr.has(sp.zoo, sp.nan, sp.oo):  # sympy folds 1/0 and log 0 while building
            self.fail("the answer divides by zero or takes log 0 @ (its start)", v.start + 1)
        return v

    def expr(self) -> _Val:
        sign = self.next("an expression") if self.peek("+", "-") else None
        v = self.term()
        if sign is not None:
            v = _Val(-v.expr if sign.kind == "-" else v.expr, v.shape, sign.start, v.end)
        while self.peek("+", "-"):
            op = self.next("+")
            v = self.add(v, self.term(), op)
        return v

    def term(self, explicit: bool = True) -> _Val:
        v = self.factor()
        while self.i < len(self.toks):
            t = self.toks[self.i]
            infix = t.kind in ("*", "/") or (t.kind == "cmd" and t.text in INFIX)
            if explicit and infix:
                self.i += 1
                v = self.divide(v, self.factor()) if t.kind == "/" else self.mul(v, self.factor())
            elif (
                (t.kind == "cmd" and t.text not in INFIX and t.text not in TRANSPOSE)
                or t.kind in ("letter", "num", "(", "[", "{", "lbar")
                or (t.kind == "|" and not self.bars)  # inside |...| a bare | closes
            ):
                v = self.mul(v, self.factor())
            else:
                break
        return v

    def factor(self) -> _Val:
        v = self.primary()
        while self.peek("^", "_"):
            t = self.next("^")
            v = self.superscript(v, t) if t.kind == "^" else self.subscript(v, t)
        return v

    def primary(self) -> _Val:
        t = self.next("a symbol, a number or (")
        if t.kind == "letter" or (t.kind == "cmd" and t.text in GREEK):
            return self.symbol(t)
        if t.kind == "num":
            return _Val(sp.Rational(t.text), (), t.start, t.end)
        if t.kind in OPEN:
            bars, self.bars = self.bars, (self.bars + 1 if t.text == "|" else 0)
            v, self.bars = self.expr(), bars
            want = ("|", "rbar") if t.text == "|" else (OPEN[t.kind],)
            if not self.peek(*want):
                self.unclosed(t)
            v = _Val(v.expr, v.shape, t.start, self.next(")").end)
            return self.apply("abs", v, t) if t.text == "|" else v
        if t.kind == "cmd" and t.text in FRACS:
            self.split_digit(self.i)
            num = self.primary()
            self.split_digit(self.i)
            den = self.primary()
            return self.divide(_Val(num.expr, num.shape, t.start, num.end), den)
        if t.kind == "cmd" and t.text in FUNCS:
            arg = self.primary() if self.peek(*OPEN) else self.term(explicit=False)
            return self.apply(FUNCS[t.text], arg, t)
        if t.kind == "cmd" and t.text not in KNOWN:
            close = difflib.get_close_matches(t.text, KNOWN, n=1)
            mean = f"did you mean \\{close[0]}? " if close else ""
            self.fail(f"unknown command \\{t.text} @; {mean}supported: {SUPPORTED}", t.start + 1)
        self.fail(f"unexpected {self.src[t.start : t.end]} @; expected a symbol or (", t.start + 1)

    def unclosed(self, t: Token) -> NoReturn:
        if self.i < len(self.toks) and not self.peek(")", "]", "}", "rbar", "|"):
            bad = self.toks[self.i]
            self.fail(f"unexpected {self.src[bad.start : bad.end]} @", bad.start + 1)
        where = "is never closed"
        if self.i < len(self.toks):
            bad = self.toks[self.i]
            where = f"is closed by {bad.text} at column {bad.start + 1}"
        self.fail(f"unbalanced parentheses: {t.text} @ {where}; add {OPEN[t.kind]}", t.start + 1)

    def symbol(self, t: Token) -> _Val:
        name = t.text
        alias = name[3:] if name.startswith("var") else f"var{name}"
        found = self.table.get(name) or (self.table.get(alias) if name in GREEK else None)
        if found is not None:
            return _Val(found.expr, found.shape, t.start, t.end)
        if name == "I":
            return _Val(_UNSIZED_I, _ANY, t.start, t.end)
        # Suggest, never guess: same letter in the other case, a close name, or a Greek name /
        # function typed without its backslash ("alpha", "tr").
        guess = [d for d in self.table if d.lower() == name.lower()]
        guess = guess or difflib.get_close_matches(name, list(self.table), n=1, cutoff=0.6)
        left, right = t.start, t.start
        while left > 0 and self.src[left - 1].isalpha():
            left -= 1
        while right < len(self.src) and self.src[right].isalpha():
            right += 1
        run = self.src[left:right] if self.src[left - 1 : left] != "\\" else ""
        words = [w for w in (*self.table, "tr", "det", "log") if len(w) > 1 and w in run]
        guess = guess or [w if w in self.table else f"operatorname{{{w}}}" for w in words[:1]]
        hint = f"did you mean {_shown(guess[0])}?" if guess else ""
        hint = hint or "declared: " + ", ".join(map(_shown, sorted(self.table, key=str.lower)))
        self.fail(f"unknown symbol {_shown(name)} @; {hint}", t.start + 1)

    def sized(self, v: _Val, d: Dim) -> _Val:
        size = {_UNSIZED_I: sp.Identity(_dim(d)), _FREE: _dim(d)}  # _FREE: sympy folds I^0 to I
        return _Val(v.expr.xreplace(size), (d, d), v.start, v.end)

    def scalar(self, v: _Val) -> _Val:
        return _Val(sp.Trace(v.expr), (), v.start, v.end) if v.shape == (1, 1) else v

    def mul(self, a: _Val, b: _Val) -> _Val:
        if _ANY in (a.shape, b.shape):  # (x^Tx) I is a multiple of I, not I_1
            a, b = self.scalar(a), self.scalar(b)
        if a.shape == _ANY and len(b.shape) == 2 and b.shape != _ANY:
            a = self.sized(a, b.shape[0])
        if b.shape == _ANY and len(a.shape) == 2 and a.shape != _ANY:
            b = self.sized(b, a.shape[1])
        if not a.shape or not b.shape or a.shape == b.shape == _ANY:
            shape = a.shape or b.shape
        elif a.shape[1] == b.shape[0]:
            shape = (a.shape[0], b.shape[1])
        elif (1, 1) in (a.shape, b.shape):
            a, b = self.scalar(a), self.scalar(b)
            shape = a.shape or b.shape
        else:
            self.fail(
                f"cannot multiply {self.desc(a)} by {self.desc(b)} @: inner dimensions "
                f"{a.shape[1]} and {b.shape[0]} differ",
                b.start + 1,
            )
        return _Val(a.expr * b.expr, shape, a.start, b.end)

    def divide(self, num: _Val, den: _Val) -> _Val:
        den = self.scalar(den)
        if den.shape:
            self.fail(
                f"cannot divide by {self.desc(den)} @: the denominator must be a scalar; "
                "write a matrix inverse as ^{-1}",
                den.start + 1,
            )
        return _Val(num.expr / den.expr, num.shape, num.start, den.end)

    def add(self, a: _Val, b: _Val, op: Token) -> _Val:
        if a.shape == _ANY and _square(b.shape):
            a = self.sized(a, b.shape[0])
        if b.shape == _ANY and _square(a.shape):
            b = self.sized(b, a.shape[0])
        if () in (a.shape, b.shape):
            a, b = self.scalar(a), self.scalar(b)
        if a.shape != b.shape:
            s, m = (a, b) if not a.shape else (b, a)
            if not s.shape:
                text = " ".join(self.src[s.start : s.end].split()).lstrip("+- ")
                fix = (
                    f"write {text} I for a multiple of the identity"
                    if m.shape[0] == m.shape[1]
                    else ""
                )
                msg = f"cannot add scalar {text} to {self.desc(m)} @; {fix or 'remove it'}"
                self.fail(msg, op.start + 1)
            self.fail(
                f"cannot add {self.desc(a)} and {self.desc(b)} @: shapes differ", op.start + 1
            )
        expr = a.expr - b.expr if op.kind == "-" else a.expr + b.expr
        return _Val(expr, a.shape, a.start, b.end)

    def superscript(self, v: _Val, caret: Token) -> _Val:
        braced = self.peek("{")
        self.i += braced
        neg = braced and self.peek("-")
        self.i += neg
        body = self.split_digit(self.i)
        self.next("a superscript such as T or {-1}")
        transpose = body.text in TRANSPOSE if body.kind == "cmd" else body.text == "T"
        power = 1 if transpose else int(body.text) if body.text.isdigit() else None
        close = self.next("}") if braced else body
        if power is None or close.kind not in ("}", body.kind):
            msg = "unsupported superscript @; use ^T, ^\\top, ^{-1}, ^{-T} or an integer like ^2"
            self.fail(msg, caret.start + 1)
        power, expr, shape = -power if neg else power, v.expr, v.shape
        if power != 1 and shape and shape[0] != shape[1]:
            what = "invert" if power == -1 else "take a power of"
            msg = f"cannot {what} {self.desc(v)} @: only square matrices have powers and inverses"
            self.fail(msg, caret.start + 1)
        if power != 1:
            expr = sp.Inverse(expr) if power == -1 and shape else expr**power
        if transpose and shape:
            expr, shape = expr.T, shape[::-1]
        return _Val(expr, shape, v.start, close.end)

    def subscript(self, v: _Val, under: Token) -> _Val:
        col = under.start + 1
        if v.expr != _UNSIZED_I and not isinstance(v.expr, sp.Identity):
            text = self.src[v.start : v.end]
            self.fail(
                f"unexpected subscript on {text} @: only the identity takes one, as in I_N", col
            )
        braced = self.peek("{")
        self.i += braced
        parts = [self.split_digit(self.i)]
        self.next("a dimension such as N")
        while braced and self.peek("letter", "num"):
            parts.append(self.next("}"))
        end = self.next("}").end if braced else parts[0].end
        name = "".join(p.text for p in parts)
        d: Dim = int(name) if name.isdigit() else name
        plain = all(p.kind in ("letter", "num") for p in parts) and name != "0"
        if not plain or not (isinstance(d, int) or d in self.dims):
            known = ", ".join(sorted(map(str, self.dims))) or "none"
            self.fail(f"unknown dimension {name} in I_{{{name}}} @; declared: {known}", col)
        if v.expr != _UNSIZED_I and v.shape != (d, d):
            self.fail(f"I is declared as {_fmt(v.shape)} but written as I_{name} @", col)
        return self.sized(_Val(_UNSIZED_I, _ANY, v.start, end), d)

    def apply(self, func: str, v: _Val, t: Token) -> _Val:
        """\\tr, \\det, \\log and |.|; a scalar passes through \\tr and \\det unchanged."""
        col, v = t.start + 1, self.scalar(v) if func in ("log", "abs") else v
        if v.shape == _ANY:
            self.fail("cannot infer the size of I @; write I_N with N a dimension", col)
        if func == "log" and v.shape:
            square = v.shape[0] == v.shape[1]
            hint = "; for a log-determinant write \\log|K| or \\log\\det K" if square else ""
            self.fail(f"cannot take the log of {self.desc(v)} @: it needs a scalar{hint}", col)
        if v.shape and v.shape[0] != v.shape[1]:
            what = "trace" if func == "tr" else "determinant"
            self.fail(f"cannot take the {what} of {self.desc(v)} @: it must be square", col)
        if not v.shape:
            expr = {"log": sp.log, "abs": sp.Abs}.get(func, lambda e: e)(v.expr)
        else:
            expr = sp.Trace(v.expr) if func == "tr" else sp.Determinant(v.expr)
        return _Val(expr, (), t.start, v.end)


def parse_latex(source: str, symbols: Mapping[str, SymbolSpec]) -> ParsedAnswer:
    """Parse a LaTeX answer over the declared symbols; raise LatexError saying what and where."""
    if not isinstance(source, str):
        raise TypeError(f"source={source!r} (type={type(source).__name__}): expected str")
    table, dims = _symbol_table(symbols)
    v = _Parser(source, table, dims).parse()
    return ParsedAnswer(source, v.expr, v.shape)


# The evaluator lives in grader.latex_eval (numpy only, no parsing); re-exported here.
from grader.latex_eval import evaluate  # noqa: E402
