"""grader.cleanup: removing what a student left in its workdir."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from grader.cleanup import remove_tree


def _chain(root: Path, depth: int) -> None:
    here = os.open(".", os.O_RDONLY)
    try:
        os.chdir(root)
        for _ in range(depth):
            os.mkdir("d")
            os.chdir("d")
        Path("leaf.txt").write_text("x")
    finally:
        os.fchdir(here)
        os.close(here)


def test_removes_a_chain_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    """tests/hostile/deep_tree.py: shutil.rmtree raised RecursionError here (Python < 3.12)."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "file.txt").write_text("x")
    _chain(work, sys.getrecursionlimit() + 500)
    remove_tree(work)
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_and_symlinks_are_fine(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    work = tmp_path / "work"
    work.mkdir()
    (work / "link").symlink_to(outside)
    remove_tree(work)
    remove_tree(work)  # already gone
    assert outside.read_text() == "keep" and not work.exists()
