"""The native report: one JSON and one YAML file per submission, same content.

Schema (``schema_version`` 1): top level ``schema_version``, ``grader_version``, ``assignment``,
``submission``, ``source``, ``seed``, ``status`` (graded | error), ``error``, ``score``,
``max_score``, ``isolation`` (active layers), ``warnings``, ``stdout`` (tail), and ``parts``:
each with ``problem``, ``function``, ``score``, ``max_score``, ``status``, ``feedback``,
``diagnoses`` (``code``, ``message``, ``params``), ``traceback`` and ``cases`` (``index``,
``hidden``, ``status``; public cases add ``dims``, ``message``, ``rel_error``,
``max_abs_error``). Nothing time-dependent: ``--seed`` reproduces a report byte for byte.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from grader import __version__
from grader.results import CaseResult, PartResult, SubmissionResult

__all__ = ["SCHEMA_VERSION", "dump_json", "dump_yaml", "to_dict", "write_json", "write_yaml"]

SCHEMA_VERSION = 1


def _number(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else x


def _case(c: CaseResult) -> dict[str, Any]:
    if c.hidden:
        return {"index": c.index, "hidden": True, "status": c.status}
    return {
        "index": c.index,
        "hidden": False,
        "status": c.status,
        "dims": dict(c.dims),
        "message": c.message,
        "rel_error": _number(c.rel_error),
        "max_abs_error": _number(c.max_abs_error),
    }


def _part(p: PartResult) -> dict[str, Any]:
    return {
        "problem": p.problem,
        "function": p.function,
        "score": p.score,
        "max_score": p.max_score,
        "status": p.status,
        "feedback": p.feedback,
        "diagnoses": [dict(d) for d in p.diagnoses],
        "traceback": p.traceback,
        "cases": [_case(c) for c in p.cases],
    }


def to_dict(result: SubmissionResult) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "grader_version": __version__,
        "assignment": result.assignment,
        "submission": result.submission,
        "source": result.source,
        "seed": result.seed,
        "status": result.status,
        "error": result.error,
        "score": result.score,
        "max_score": result.max_score,
        "isolation": list(result.isolation),
        "warnings": list(result.warnings),
        "stdout": result.stdout,
        "parts": [_part(p) for p in result.parts],
    }


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# The last result converted: write_json and write_yaml run one after the other on the same
# (frozen) result, and the conversion is a fifth of their time.
_last: list[tuple[SubmissionResult, dict[str, Any]]] = []


def _as_dict(result: SubmissionResult) -> dict[str, Any]:
    if _last and _last[0][0] is result:
        return _last[0][1]
    data = to_dict(result)
    _last[:] = [(result, data)]
    return data


def dump_json(data: dict[str, Any]) -> str:
    """One top-level key per line and one part per line: readable, and written by the C
    encoder (``indent=`` switches json to its pure-Python encoder, ~7 ms per report)."""
    lines = []
    for key, value in data.items():
        if key == "parts" and value:
            body = ",\n".join(
                "    " + json.dumps(p, allow_nan=False, ensure_ascii=False) for p in value
            )
            lines.append(f'  "parts": [\n{body}\n  ]')
        else:
            lines.append(
                f"  {json.dumps(key)}: {json.dumps(value, allow_nan=False, ensure_ascii=False)}"
            )
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_json(result: SubmissionResult, out: Path) -> Path:
    return _write(out / f"{result.submission}.json", dump_json(_as_dict(result)))


def write_yaml(result: SubmissionResult, out: Path) -> Path:
    return _write(out / f"{result.submission}.yaml", dump_yaml(_as_dict(result)))


# A small YAML emitter for report data (dicts, lists, str, int, float, bool, None). PyYAML's
# representer costs ~18 ms per report, most of a 1,000-submission batch; this writes the same
# document in well under 1 ms. The tests check that PyYAML reads it back to the JSON report.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./()+-]*( [A-Za-z0-9_./()+-]+)*")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}
# Characters written raw; anything else is escaped. NEL, the line and paragraph separators
# and the BOM are printable to YAML but break lines or parse oddly, so they are escaped too.
_NOT_PRINTABLE = re.compile(
    "[^\\x09\\x0a\\x20-\\x7e\\xa0-\\u2027\\u202a-\\ud7ff\\ue000-\\ufefe\\uff00-\\ufffd"
    "\\U00010000-\\U0010ffff]"
)


_SCALARS: dict[str, str] = {}


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        cached = _SCALARS.get(value)
        if cached is None:
            cached = _string(value)
            if len(_SCALARS) < 10_000:  # keys and statuses repeat in every report
                _SCALARS[value] = cached
        return cached
    if kind is float:
        text = repr(value)
        if "e" in text and "." not in text:  # YAML 1.1 floats need a dot: 1.0e-06
            text = text.replace("e", ".0e")
        return text
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _scalar(float(value))
    return _string(str(value))


def _string(text: str) -> str:
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    if _NOT_PRINTABLE.search(text):
        return _escaped(text)
    return json.dumps(text, ensure_ascii=False)


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t"}


def _escaped(text: str) -> str:
    """A YAML double-quoted scalar escaping what YAML cannot hold raw. Not json.dumps: its
    surrogate pairs (\\ud800\\udc00) are not recombined by PyYAML; YAML has \\U for those."""
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif not _NOT_PRINTABLE.match(ch):
            out.append(ch)
        else:
            code = ord(ch)
            out.append(
                f"\\x{code:02X}"
                if code < 0x100
                else f"\\u{code:04X}"
                if code < 0x10000
                else f"\\U{code:08X}"
            )
    out.append('"')
    return "".join(out)


def _block_string(text: str, indent: int) -> str | None:
    """A multi-line string as a literal block (content at ``indent``), when exact; else None."""
    if (
        "\n" not in text
        or text.endswith("\n")
        or text[:1] in ("", " ", "\t", "\n")
        or "\r" in text
        or _NOT_PRINTABLE.search(text)
    ):
        return None
    pad = " " * indent
    return "|-\n" + "\n".join(pad + line if line else "" for line in text.split("\n"))


def _inline(value: Any, indent: int) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    if isinstance(value, str):
        block = _block_string(value, indent + 2)
        if block is not None:
            return block
    return _scalar(value)


# Flow style ({a: 1, b: x} or [1, 2]) for a small dict or list of one-line scalars; a dict's
# values may also be such small dicts or lists of scalars (a case's dims). Longer than
# _FLOW_WIDTH, or anything else: block style.
_FLOW_ITEMS = 12
_FLOW_WIDTH = 160


_KEYS: dict[Any, str] = {}


def _key(key: Any) -> str:
    """``key: `` as it starts a flow mapping's entry (cached: keys repeat in every case)."""
    text = _scalar(str(key)) + ": "
    if len(_KEYS) < 10_000:
        _KEYS[key] = text
    return text


def _flow(value: dict[Any, Any] | list[Any], nested: bool = False) -> str | None:
    """``value`` in flow style, or None when it needs block style. One pass, bails out early:
    this runs for every case of every part of every report."""
    if len(value) > _FLOW_ITEMS:
        return None
    items = []
    if type(value) is dict:
        for key, item in value.items():
            kind = type(item)
            if kind is str:
                if "\n" in item:
                    return None
                text = _SCALARS.get(item) or _scalar(item)
            elif kind is dict or kind is list:
                if nested:
                    return None
                text = _flow(item, True)
                if text is None:
                    return None
            else:
                text = _scalar(item)
            items.append((_KEYS.get(key) or _key(key)) + text)
        return "{" + ", ".join(items) + "}"
    for item in value:
        kind = type(item)
        if kind is dict or kind is list or (kind is str and "\n" in item):
            return None
        items.append(_scalar(item))
    return "[" + ", ".join(items) + "]"


def _emit(value: Any, indent: int, lines: list[str], prefix: str) -> None:
    """Emit a dict or list whose first line starts with ``prefix``, the rest at ``indent``."""
    pad = " " * indent
    if type(value) is dict:
        for k, (key, item) in enumerate(value.items()):
            head = f"{prefix if k == 0 else pad}{_scalar(str(key))}:"
            kind = type(item)
            if (kind is dict or kind is list) and item:
                flow = _flow(item)
                if flow is not None and len(flow) <= _FLOW_WIDTH:
                    lines.append(f"{head} {flow}")
                else:
                    lines.append(head)
                    _emit(item, indent + 2, lines, " " * (indent + 2))
            else:
                lines.append(f"{head} {_inline(item, indent)}")
        return
    for k, item in enumerate(value):
        head = f"{prefix if k == 0 else pad}- "
        kind = type(item)
        if (kind is dict or kind is list) and item:
            flow = _flow(item)
            if flow is not None and len(flow) <= _FLOW_WIDTH:
                lines.append(head + flow)
            else:
                _emit(item, indent + 2, lines, head)
        else:
            lines.append(head + _inline(item, indent))


def dump_yaml(data: dict[str, Any]) -> str:
    lines: list[str] = []
    _emit(data, 0, lines, "")
    return "\n".join(lines) + "\n"
