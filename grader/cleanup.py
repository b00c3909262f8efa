"""Remove a folder a student process had full access to, whatever it left there.

A leaf (stdlib only), used by the sandbox runner for each workdir and by the grader for the
runner's temp root. Before Python 3.12, ``shutil.rmtree`` recurses once per directory level,
so a 5,000-level chain of directories built in a workdir (tests/hostile/deep_tree.py, 0.3 s
of student time) made it raise RecursionError, which ``ignore_errors`` does not cover: the
runner died and the rest of the batch went ungraded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["remove_tree"]


def remove_tree(path: str | os.PathLike[str]) -> None:
    """``shutil.rmtree(path, ignore_errors=True)`` that no directory structure can make raise."""
    try:
        shutil.rmtree(path, ignore_errors=True)
        return
    except RecursionError:
        pass
    root = Path(path)
    # Flatten iteratively: move every subdirectory into a fresh folder next to `path` (a name
    # the student cannot have chosen), so no path ever gets deep; files are unlinked on the
    # way. Then both folders are at most two levels deep.
    try:
        flat = Path(tempfile.mkdtemp(prefix=".flat-", dir=root.parent))
    except OSError:
        return
    pending = [root]
    moved = 0
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.is_dir(follow_symlinks=False):
                    target = flat / str(moved)
                    moved += 1
                    os.rename(entry.path, target)
                    pending.append(target)
                else:
                    os.unlink(entry.path)
    for folder in (root, flat):
        with contextlib.suppress(RecursionError):
            shutil.rmtree(folder, ignore_errors=True)
