"""grader.launch: where the runner's workdirs go, and that they go away."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from grader import launch


def test_an_explicit_tmpdir_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # as a fresh process reads it
    assert launch._workdirs_base() is None
    runner = launch.RunnerProcess()
    try:
        assert Path(runner.root).parent == tmp_path
    finally:
        runner.close()
    assert not Path(runner.root).exists()


def test_memory_when_dev_shm_has_room(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMPDIR", raising=False)
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        tmpfs = any(line.split()[1:3] == ["/dev/shm", "tmpfs"] for line in mounts)
    st = os.statvfs("/dev/shm") if os.path.isdir("/dev/shm") else None
    room = st.f_bavail * st.f_frsize if st else 0
    if not tmpfs or room < launch.RAM_FOLDER_MIN_FREE:
        pytest.skip("/dev/shm is no tmpfs with room here: the temp folder is used")
    assert launch._workdirs_base() == "/dev/shm"
    runner = launch.RunnerProcess()
    try:
        root = Path(runner.root)
        assert root.parent == Path("/dev/shm") and oct(root.stat().st_mode & 0o777) == "0o700"
    finally:
        runner.close()
    assert not root.exists()
