"""A forked child's world before student code runs: its own copy of the submission, stdio
in files, descriptors closed, a clean ``sys.path``.

Used by ``grader.harness`` in every child (so: os-level calls, no pathlib, nothing done twice:
the runner calls ``warm_up`` once before it forks) and by ``grader.intake`` (the copy).
A leaf: stdlib only.
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["clean_sys_path", "copy_submission", "redirect_fds", "warm_up"]

MAX_COPY_FILES = 2000
MAX_COPY_BYTES = 64 << 20


def _copy_file(source: str, target: str) -> None:
    """shutil.copyfile without its checks and file objects (this runs in every child)."""
    src = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
    try:
        dst = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            while os.sendfile(dst, src, None, 1 << 24):
                pass
        finally:
            os.close(dst)
    finally:
        os.close(src)


def copy_submission(source: Path, workdir: Path) -> None:
    """Copy a submission file or folder into workdir: no symlinks, no hidden files or caches,
    bounded size and count. os.scandir, not pathlib: this runs once per submission."""
    if source.is_file():
        _copy_file(str(source), os.path.join(workdir, source.name))
        return
    budget = [MAX_COPY_FILES, MAX_COPY_BYTES]

    def copy_dir(src: str, dst: str) -> None:
        with os.scandir(src) as entries:
            for entry in entries:
                if entry.name.startswith(".") or entry.name == "__pycache__":
                    continue
                if entry.is_symlink():
                    continue
                target = os.path.join(dst, entry.name)
                if entry.is_dir():
                    os.mkdir(target)
                    copy_dir(entry.path, target)
                elif entry.is_file():
                    budget[0] -= 1
                    budget[1] -= entry.stat().st_size
                    if budget[0] < 0 or budget[1] < 0:
                        raise OSError(
                            f"submission is larger than {MAX_COPY_FILES} files or "
                            f"{MAX_COPY_BYTES >> 20} MiB"
                        )
                    _copy_file(entry.path, target)

    copy_dir(str(source), str(workdir))


def redirect_fds(workdir: str, keep: Sequence[int]) -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for fd, name in ((1, ".stdout"), (2, ".stderr")):
        handle = os.open(f"{workdir}/{name}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(handle, fd)
        os.close(handle)
    # Everything else inherited from the runner (its pipes to the grader above all) goes.
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, max(65536, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


def clean_sys_path(workdir: str) -> None:
    """Keep the interpreter's own directories; drop the grader's checkout and the cwd."""
    sys.path[:] = [workdir, *_interpreter_paths()]
    if len(sys.path_importer_cache) > _pruned[0]:
        _prune_import_finders()  # the runner imported from elsewhere since ``warm_up``


# Import finders cache their directory's listing: one for the grader's checkout would tell the
# student what it holds (``import solutions`` finding a folder Landlock hides).
_pruned = [0]


def _prune_import_finders() -> None:
    """Forget the finders of directories outside the interpreter's own. In the runner: freeing
    them in every child would copy the pages they sit on."""
    for entry in list(sys.path_importer_cache):
        if not _in_interpreter(entry):
            del sys.path_importer_cache[entry]
    _pruned[0] = len(sys.path_importer_cache)


@functools.lru_cache(maxsize=1)
def _interpreter_paths() -> tuple[str, ...]:
    """sys.path entries under the interpreter's prefixes (computed once: the runner warms this
    before forking, see ``warm_up``)."""
    return tuple(entry for entry in sys.path if entry and _in_interpreter(entry))


def _in_interpreter(path: str) -> bool:
    """Is ``path`` (resolved) one of the interpreter's prefixes or beneath one?"""
    resolved = os.path.realpath(path)
    return any(resolved == root or resolved.startswith(root + os.sep) for root in _roots())


@functools.lru_cache(maxsize=1)
def _roots() -> tuple[str, ...]:
    return tuple({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})


def warm_up() -> None:
    """Do once in the runner, right before it forks, what every child would otherwise repeat
    (children inherit all three)."""
    _interpreter_paths()
    _prune_import_finders()
    _lenient_copies()


def _lenient_copies() -> None:
    """Let ``shutil.copy``, ``copy2`` and ``copytree`` work in the sandbox. After a file's
    bytes they copy its mode, times and extended attributes, calls the seccomp layer refuses
    (chmod, utime and setxattr would reach files outside the workdir too, which Landlock does
    not cover). Correct code that copies a file must not lose its credit over that: the
    metadata step is skipped when refused. ``os.chmod`` itself still raises."""
    copymode, copystat = shutil.copymode, shutil.copystat

    def lenient_copymode(src: Any, dst: Any, *, follow_symlinks: bool = True) -> None:
        with contextlib.suppress(PermissionError):
            copymode(src, dst, follow_symlinks=follow_symlinks)

    def lenient_copystat(src: Any, dst: Any, *, follow_symlinks: bool = True) -> None:
        with contextlib.suppress(PermissionError):
            copystat(src, dst, follow_symlinks=follow_symlinks)

    shutil.copymode = lenient_copymode
    shutil.copystat = lenient_copystat
