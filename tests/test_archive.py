"""Tests for grader.archive: zip submissions are extracted safely or refused with one line."""

from __future__ import annotations

import stat
import struct
import zipfile
from pathlib import Path

import pytest

from grader import archive
from grader.archive import ArchiveError, extract_zip


def make_zip(path: Path, entries: dict[str, bytes], *, mode: int = 0o100644) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = mode << 16
            zf.writestr(info, data)
    return path


def test_extracts_files_and_unwraps_the_single_top_folder(tmp_path: Path) -> None:
    zp = make_zip(
        tmp_path / "alice.zip",
        {"alice/hw1/autoencoder.py": b"x = 1\n", "alice/hw1/sub/helper.py": b"y = 2\n"},
    )
    root = extract_zip(zp, tmp_path / "out")
    assert root == tmp_path / "out" / "alice" / "hw1"
    assert (root / "autoencoder.py").read_text() == "x = 1\n"
    assert (root / "sub" / "helper.py").read_text() == "y = 2\n"


def test_keeps_the_root_when_files_sit_at_the_top(tmp_path: Path) -> None:
    zp = make_zip(tmp_path / "a.zip", {"a.py": b"", "lib/b.py": b""})
    assert extract_zip(zp, tmp_path / "out") == tmp_path / "out"


def test_skips_operating_system_litter(tmp_path: Path) -> None:
    zp = make_zip(
        tmp_path / "mac.zip",
        {
            "hw/a.py": b"",
            "__MACOSX/hw/._a.py": b"junk",
            "hw/.DS_Store": b"junk",
            "hw/._b.py": b"junk",
        },
    )
    root = extract_zip(zp, tmp_path / "out")
    assert sorted(p.name for p in root.rglob("*")) == ["a.py"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.py", "points outside the folder"),
        ("hw/../../evil.py", "points outside the folder"),
        ("..\\evil.py", "points outside the folder"),
        ("/etc/evil.py", "absolute path"),
        ("C:/evil.py", "absolute path"),
        ("\\\\server\\share\\evil.py", "absolute path"),
    ],
    ids=["dotdot", "nested-dotdot", "backslash-dotdot", "absolute", "drive", "unc"],
)
def test_refuses_paths_outside_the_target(tmp_path: Path, name: str, reason: str) -> None:
    zp = make_zip(tmp_path / "slip.zip", {"ok.py": b"", name: b"import os\n"})
    target = tmp_path / "deep" / "out"
    with pytest.raises(ArchiveError, match=reason) as info:
        extract_zip(zp, target)
    assert str(info.value).startswith("slip.zip: entry")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "evil.py").exists() and not (tmp_path / "deep" / "evil.py").exists()
    assert not target.exists()  # checked before anything is written


def test_refuses_a_symlink_entry(tmp_path: Path) -> None:
    zp = make_zip(tmp_path / "link.zip", {"secrets": b"/etc/passwd"}, mode=stat.S_IFLNK | 0o777)
    with pytest.raises(ArchiveError, match="symbolic link"):
        extract_zip(zp, tmp_path / "out")


def test_refuses_a_device_entry(tmp_path: Path) -> None:
    zp = make_zip(tmp_path / "dev.zip", {"fifo": b""}, mode=stat.S_IFIFO | 0o644)
    with pytest.raises(ArchiveError, match="not a regular file"):
        extract_zip(zp, tmp_path / "out")


def test_accepts_entries_without_unix_mode(tmp_path: Path) -> None:
    """Windows zip tools record no Unix file type: a plain file, not a device."""
    zp = make_zip(tmp_path / "win.zip", {"a.py": b"x = 1\n"}, mode=0)
    assert (extract_zip(zp, tmp_path / "out") / "a.py").is_file()


def test_refuses_a_zip_bomb_by_ratio(tmp_path: Path) -> None:
    zp = make_zip(tmp_path / "bomb.zip", {"zeros.py": b"\0" * (4 << 20)})
    with pytest.raises(ArchiveError, match="zip bomb"):
        extract_zip(zp, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_refuses_too_many_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_BYTES", 1000)
    zp = make_zip(tmp_path / "big.zip", {"a.py": b"a" * 600, "b.py": b"b" * 600})
    with pytest.raises(ArchiveError, match="more than the 0 MiB allowed"):
        extract_zip(zp, tmp_path / "out")


def test_refuses_too_many_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_FILES", 3)
    zp = make_zip(tmp_path / "many.zip", {f"f{i}.py": b"" for i in range(4)})
    with pytest.raises(ArchiveError, match="4 files, more than the 3 allowed"):
        extract_zip(zp, tmp_path / "out")


def test_a_size_field_that_lies_is_caught(tmp_path: Path) -> None:
    """The central directory says 10 bytes; the data inflates to 5000: never written whole."""
    zp = make_zip(tmp_path / "liar.zip", {"a.py": b"x" * 5000})
    data = bytearray(zp.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 10)  # uncompressed size
    zp.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match=r"liar\.zip: (corrupt|entry)"):
        extract_zip(zp, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_refuses_an_encrypted_entry(tmp_path: Path) -> None:
    zp = make_zip(tmp_path / "locked.zip", {"a.py": b"x"})
    data = bytearray(zp.read_bytes())
    data[6] |= 0x1  # general purpose flags, bit 0: encrypted (local header)
    data[data.rfind(b"PK\x01\x02") + 8] |= 0x1  # and central directory
    zp.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="encrypted"):
        extract_zip(zp, tmp_path / "out")


def test_refuses_a_duplicate_entry(tmp_path: Path) -> None:
    zp = tmp_path / "dup.zip"
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(zp, "w") as zf:
        zf.writestr("a.py", b"1")
        zf.writestr("a.py", b"2")
    with pytest.raises(ArchiveError, match="appears twice"):
        extract_zip(zp, tmp_path / "out")


@pytest.mark.parametrize(
    "content", [b"", b"PK\x03\x04 not really", b"hello"], ids=["empty", "truncated", "text"]
)
def test_not_a_zip(tmp_path: Path, content: bytes) -> None:
    zp = tmp_path / "hw.zip"
    zp.write_bytes(content)
    with pytest.raises(ArchiveError, match=r"^hw\.zip: not a zip file, or a corrupt one$"):
        extract_zip(zp, tmp_path / "out")
