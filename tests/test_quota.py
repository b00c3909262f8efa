"""grader.quota: the budget for what a child leaves in its folder (the hostile side is
tests/hostile/fill_folder.py, through the whole sandbox)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader import quota


@pytest.fixture
def small_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quota, "MAX_BYTES", 1 << 20)
    monkeypatch.setattr(quota, "MAX_ENTRIES", 50)


def test_a_homework_sized_folder_is_within_budget(tmp_path: Path, small_budget: None) -> None:
    (tmp_path / "autoencoder.py").write_text("def grad_W(W, x): ...\n")
    (tmp_path / ".stdout").write_bytes(b"x" * 1000)
    assert quota.over_budget(str(tmp_path)) is None


def test_too_many_bytes_deep_down(tmp_path: Path, small_budget: None) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    (deep / "big.bin").write_bytes(os.urandom(2 << 20))
    assert quota.over_budget(str(tmp_path)) == "more than 1 MiB of files"


def test_too_many_entries(tmp_path: Path, small_budget: None) -> None:
    for k in range(60):
        (tmp_path / str(k)).touch()
    assert quota.over_budget(str(tmp_path)) == "more than 50 files and folders"


def test_links_are_not_followed(tmp_path: Path, small_budget: None) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "big.bin").write_bytes(os.urandom(2 << 20))
    work = tmp_path / "work"
    work.mkdir()
    (work / "link").symlink_to(outside, target_is_directory=True)
    assert quota.over_budget(str(work)) is None


def test_the_watch_sees_growth_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    usage = [(1000, 10)]
    monkeypatch.setattr(quota, "_usage", lambda root: usage[0])
    watch = quota.Watch.start(str(tmp_path))
    assert not watch.grown()
    usage[0] = (1000 + quota.MAX_BYTES + 1, 10)
    assert watch.grown()
    watch.rebase()
    assert not watch.grown()
    usage[0] = (500, 10)  # files removed: the baseline follows them down
    assert not watch.grown()
    usage[0] = (500 + quota.MAX_BYTES + 1, 10)
    assert watch.grown()
