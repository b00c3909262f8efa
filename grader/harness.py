"""What runs inside a student's child process: import their modules, call each part, report.

The child is forked from the sandbox runner (``grader.zygote``) and never returns. Before any
student code runs it: moves into its own process group, points stdin/stdout/stderr at files
in its private working directory, closes every other inherited descriptor but the result
pipe, copies the submission in, cleans ``sys.path`` (all three: ``grader.child_setup``) and
confines itself (``grader.isolation``). Results go out as frames (``grader.wire``): raw
float64 bytes, never pickle. The child's word is believed for nothing but the numbers it
returns for each call.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from grader import child_setup, isolation
from grader.calls import CallChainError, run_call
from grader.wire import encode_array, encode_frame

__all__ = ["child_main", "flatten_output"]

# A result larger than this many elements is refused in the child: a student returning a
# 10^9-element array must not make the grader allocate it.
MAX_ELEMENTS = 4_000_000
MAX_MESSAGE = 4000
MAX_TRACEBACK = 6000
EXIT_FATAL = 3


class _Output:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, header: Mapping[str, Any], payload: bytes = b"") -> None:
        data = memoryview(encode_frame(header, payload))
        while data:
            written = os.write(self.fd, data)
            data = data[written:]


def _trim_traceback(exc: BaseException, workdir: Path) -> str:
    """The student's traceback, limited to frames in their own files, paths made relative."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename.startswith(workdir.as_posix())
    ]
    for f in frames:
        f.filename = os.path.relpath(f.filename, workdir)
    lines = ["Traceback (most recent call last):\n"] if frames else []
    lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    # A SyntaxError names its file itself: never show the sandbox's private path.
    text = "".join(lines).replace(workdir.as_posix() + "/", "")
    return text if len(text) <= MAX_TRACEBACK else text[:MAX_TRACEBACK] + "\n[... cut]"


def _message(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:MAX_MESSAGE]


class _Finder:
    """Finds a part's function: in its module file first, then in any top-level .py file."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.modules: dict[str, Any] = {}
        self.failures: dict[str, BaseException] = {}
        self.files: dict[str, bool] = {}  # module -> has a file: asked once, not per part

    def _import(self, name: str) -> Any:
        if name in self.modules:
            return self.modules[name]
        if name in self.failures:
            raise self.failures[name]
        try:
            module = importlib.import_module(name)
        except BaseException as exc:  # a SyntaxError, SystemExit, anything at top level
            self.failures[name] = exc
            raise
        self.modules[name] = module
        return module

    def _candidates(self) -> list[str]:
        return sorted(
            p.stem
            for p in self.workdir.glob("*.py")
            if p.stem.isidentifier() and not p.name.startswith(".")
        )

    def _has_file(self, module: str) -> bool:
        if module not in self.files:
            where = self.workdir.as_posix()
            self.files[module] = os.path.isfile(f"{where}/{module}.py") or os.path.isfile(
                f"{where}/{module}/__init__.py"
            )
        return self.files[module]

    def find(self, module: str, function: str) -> Callable[..., Any]:
        has_module = self._has_file(module)
        if has_module:
            try:
                mod = self._import(module)
            except BaseException as exc:
                raise _ImportFailure(module, exc) from None
            if callable(getattr(mod, function, None)):
                return getattr(mod, function)
        for name in self._candidates():
            if name == module:
                continue
            try:
                mod = self._import(name)
            except BaseException as exc:
                if not has_module:
                    raise _ImportFailure(name, exc) from None
                continue
            if callable(getattr(mod, function, None)):
                return getattr(mod, function)
        present = sorted(p.name for p in self.workdir.iterdir() if not p.name.startswith("."))
        where = f"{module}.py" if not has_module else f"{module}.py (it is not defined there)"
        raise _Missing(
            f"{function} not found: expected a function {function} in {where}; "
            f"your submission has: {', '.join(present) or 'no files'}"
        )


class _ImportFailure(Exception):
    def __init__(self, module: str, exc: BaseException) -> None:
        super().__init__(module)
        self.module = module
        self.exc = exc


class _Missing(Exception):
    pass


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"ndarray of {value.dtype} with shape {value.shape}"
    return type(value).__name__


def _to_array(value: Any) -> np.ndarray:
    """A student's leaf value as float64, or ValueError saying what it was."""
    if value is None:
        raise ValueError("returned None (is a return statement missing?)")
    try:
        arr = np.asarray(value)
    except BaseException as exc:
        raise ValueError(
            f"returned a {_describe(value)} that numpy cannot convert: {_message(exc)}"
        ) from None
    if arr.dtype.kind == "c":
        raise ValueError(f"returned complex values ({_describe(value)}); gradients here are real")
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise ValueError(f"returned a {_describe(value)}, not a real floating-point array")
    if arr.size > MAX_ELEMENTS:
        raise ValueError(f"returned {arr.size} numbers, more than the {MAX_ELEMENTS} allowed")
    return np.array(arr, dtype="<f8", order="C")


def flatten_output(value: Any, out: Mapping[str, Any], path: str) -> list[tuple[str, np.ndarray]]:
    kind = out["k"]
    if kind == "array":
        return [(path, _to_array(value))]
    if kind == "tuple":
        items = out["items"]
        if not isinstance(value, (tuple, list)) or len(value) != len(items):
            raise ValueError(
                f"expected a tuple of {len(items)} values at {path or 'the result'}, "
                f"got {_describe(value)}"
            )
        leaves = []
        for k, (item, spec) in enumerate(zip(value, items, strict=True)):
            leaves += flatten_output(item, spec, f"{path}[{k}]")
        return leaves
    keys = out["keys"]
    if not isinstance(value, Mapping):
        raise ValueError(
            f"expected a dict with keys {', '.join(keys)} at {path or 'the result'}, "
            f"got {_describe(value)}"
        )
    missing = [k for k in keys if k not in value]
    if missing:
        raise ValueError(f"the dict at {path or 'the result'} lacks key(s) {', '.join(missing)}")
    leaves = []
    for key, spec in zip(keys, out["items"], strict=True):
        leaves += flatten_output(value[key], spec, f"{path}[{key!r}]")
    return leaves


def _call_error(exc: BaseException) -> str:
    if isinstance(exc, NotImplementedError):
        return "not_implemented"
    if isinstance(exc, MemoryError):
        return "memory"
    return "exception"


def _error(kind: str, message: str, traceback: str = "") -> dict[str, str]:
    return {"kind": kind, "message": message[:MAX_MESSAGE], "traceback": traceback}


def _run_part(
    out: _Output,
    index: int,
    part: Mapping[str, Any],
    cases: Sequence[Mapping[str, Any]],
    finder: _Finder,
    workdir: Path,
) -> None:
    """Run one part on every case and send one ``result`` frame (the runner starts the next
    part's clock when it arrives)."""
    chain = part.get("call") or []
    names = [
        step.get("function") or step["new"] for step in chain if "function" in step or "new" in step
    ] or [part["function"]]
    try:
        found = {name: finder.find(part["module"], name) for name in names}
    except _ImportFailure as failure:
        message = _import_message(failure, workdir)
        tb = _trim_traceback(failure.exc, workdir)
        out.send(
            {"t": "result", "part": index, "failure": _error("import", message, tb), "cases": []}
        )
        return
    except _Missing as missing:
        out.send(
            {"t": "result", "part": index, "failure": _error("missing", str(missing)), "cases": []}
        )
        return
    entries: list[dict[str, Any]] = []
    payloads: list[bytes] = []
    # The report shows one traceback per part: the first public case's that is not
    # NotImplementedError (grader.scoring picks the same). Formatting one costs ~0.2 ms (the
    # source lines, column carets), so the other cases send none.
    traced = False

    def trace(exc: BaseException, k: int) -> str:
        nonlocal traced
        if traced or k >= part["public"] or isinstance(exc, NotImplementedError):
            return ""
        traced = True
        return _trim_traceback(exc, workdir)

    for k, inputs in enumerate(cases):
        try:
            if chain:
                value = run_call(chain, found.__getitem__, inputs)
            else:
                # Each call gets its own copy: a function that mutates its arguments cannot
                # corrupt another part's inputs.
                args = [
                    np.array(inputs[a], copy=True)
                    if isinstance(inputs[a], np.ndarray)
                    else inputs[a]
                    for a in part["args"]
                ]
                value = found[part["function"]](*args)
            leaves = flatten_output(value, part["output"], "")
        except CallChainError as exc:
            entries.append({"error": _error("type", str(exc))})
            continue
        except ValueError as exc:
            if exc.__traceback__ is not None and _raised_in_harness(exc):
                entries.append({"error": _error("type", str(exc))})
            else:
                entries.append({"error": _error("exception", _message(exc), trace(exc, k))})
            continue
        except BaseException as exc:  # SystemExit and KeyboardInterrupt included
            entries.append({"error": _error(_call_error(exc), _message(exc), trace(exc, k))})
            continue
        specs = []
        for path, arr in leaves:
            header, payload = encode_array(arr)
            specs.append([path, header["dtype"], header["shape"]])
            payloads.append(payload)
        entries.append({"leaves": specs})
    out.send({"t": "result", "part": index, "failure": None, "cases": entries}, b"".join(payloads))


def _import_message(failure: _ImportFailure, workdir: Path) -> str:
    exc = failure.exc
    missing = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
    top = (missing or "").split(".")[0]
    if missing and not (workdir / f"{top}.py").exists() and not (workdir / top).is_dir():
        return (
            f"could not import {failure.module}.py: it imports {missing}, which the grading "
            "environment does not have; remove that import (only the graded functions "
            "matter) or ask your instructor to add it to the assignment"
        )
    return f"could not import {failure.module}.py: {_message(exc)}"


class _StubModule(types.ModuleType):
    """An inert stand-in for a module the assignment declares optional (e.g. matplotlib): every
    attribute is a do-nothing callable, so ``plt.plot(...)`` at import time is harmless."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Inert()


class _Inert:
    def __call__(self, *args: Any, **kwargs: Any) -> _Inert:
        return self

    def __getattr__(self, name: str) -> _Inert:
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __iter__(self) -> Any:
        return iter((self, self))  # fig, ax = plt.subplots()

    def __enter__(self) -> _Inert:
        return self

    def __exit__(self, *args: Any) -> None:
        return None


def _install_stubs(names: Sequence[str]) -> None:
    for name in names:
        parts = name.split(".")
        try:
            if importlib.util.find_spec(parts[0]) is not None:
                continue  # installed: the real module is used
        except (ImportError, ValueError):
            pass
        for depth in range(1, len(parts) + 1):
            dotted = ".".join(parts[:depth])
            if dotted not in sys.modules:
                sys.modules[dotted] = _StubModule(dotted)
            if depth > 1:
                setattr(
                    sys.modules[".".join(parts[: depth - 1])], parts[depth - 1], sys.modules[dotted]
                )


def _raised_in_harness(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_filename == __file__


def child_main(
    *,
    result_fd: int,
    workdir: Path,
    source: Path,
    parts: Sequence[Mapping[str, Any]],
    cases: Sequence[Sequence[Mapping[str, Any]]],
    start: int,
    confinement: isolation.Confinement,
) -> None:
    """Body of a forked child: never returns. The runner has already set the environment
    (``isolation.minimal_env``) and prepared the confinement; it never imports from a workdir,
    so no import cache of the runner's can be stale here."""
    code = 0
    try:
        os.setsid()
        where = workdir.as_posix()
        child_setup.redirect_fds(where, [result_fd, *confinement.fds])
        out = _Output(result_fd)
        try:
            child_setup.copy_submission(source, workdir)
            os.chdir(where)
            child_setup.clean_sys_path(where)
            layers = confinement.apply(where)
        except BaseException as exc:
            out.send({"t": "fatal", "message": f"the sandbox could not start: {_message(exc)}"})
            os._exit(EXIT_FATAL)
        out.send({"t": "layers", "layers": list(layers)})
        _install_stubs(sorted({name for part in parts for name in part.get("stub_modules", [])}))
        finder = _Finder(workdir)
        for index in range(start, len(parts)):
            part = parts[index]
            _run_part(out, index, part, cases[part["problem"]], finder, workdir)
    except BaseException:
        code = 1
    finally:
        os._exit(code)
