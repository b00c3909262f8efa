"""Safe extraction of a ``.zip`` submission (the form LMSs hand out downloads in).

Every entry is checked before anything is written: no absolute paths, drive letters or ``..``,
no symlinks or device files, no encryption; at most ``MAX_FILES`` files and ``MAX_BYTES`` in
all; no entry that claims to expand more than ``MAX_RATIO`` times (a zip bomb). The sizes a zip
declares can lie, so the bytes actually written are counted too. Operating-system litter
(``__MACOSX/``, ``._*``, ``.DS_Store``, ``Thumbs.db``) is skipped. When everything sits in one
top-level folder (``alice.zip`` holding ``alice/``), that folder is the submission.

Errors are one line, naming the archive and the entry: a student reads them in their report.
A leaf: standard library only.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

__all__ = ["ArchiveError", "extract_zip"]

# The same bounds the sandbox applies when it copies a submission folder (grader.harness).
MAX_FILES = 2000
MAX_BYTES = 64 << 20
# Source code and notebooks compress 3-10x; 100x is already a file of one repeated byte.
MAX_RATIO = 100
# Below this size a high ratio is harmless (an empty file, a line of spaces).
RATIO_FLOOR = 1 << 20
CHUNK = 1 << 16
_LITTER = frozenset({"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"})


class ArchiveError(ValueError):
    """The zip cannot be graded. One line: the archive, the entry and the reason."""


def _parts(info: zipfile.ZipInfo, archive: str) -> tuple[str, ...] | None:
    """The entry's path components, None for litter; ArchiveError when it is unsafe."""
    name = info.filename.replace("\\", "/")
    posix = PurePosixPath(name)
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ArchiveError(
            f"{archive}: entry {info.filename!r} has an absolute path; not extracted"
        )
    parts = tuple(p for p in posix.parts if p not in ("", "."))
    if ".." in parts:
        raise ArchiveError(
            f"{archive}: entry {info.filename!r} points outside the folder (..); not extracted"
        )
    if not parts or any(p in _LITTER or p.startswith("._") for p in parts):
        return None
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise ArchiveError(f"{archive}: entry {info.filename!r} is a symbolic link; not extracted")
    kind = stat.S_IFMT(mode)  # 0 when the zip tool recorded no Unix type (Windows zips)
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        raise ArchiveError(f"{archive}: entry {info.filename!r} is not a regular file")
    if info.flag_bits & 0x1:
        raise ArchiveError(
            f"{archive}: entry {info.filename!r} is encrypted; zip it without a password"
        )
    return parts


def _check_sizes(entries: list[tuple[zipfile.ZipInfo, tuple[str, ...]]], archive: str) -> None:
    files = [(info, parts) for info, parts in entries if not info.is_dir()]
    if len(files) > MAX_FILES:
        raise ArchiveError(f"{archive}: {len(files)} files, more than the {MAX_FILES} allowed")
    total = sum(info.file_size for info, _ in files)
    if total > MAX_BYTES:
        raise ArchiveError(
            f"{archive}: expands to {total >> 20} MiB, more than the {MAX_BYTES >> 20} MiB allowed"
        )
    for info, _ in files:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
            raise ArchiveError(
                f"{archive}: entry {info.filename!r} expands {ratio:.0f} times (more than "
                f"{MAX_RATIO}); this looks like a zip bomb, not extracted"
            )


def _copy(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int, archive: str
) -> int:
    """Write one entry; return the bytes written. Counts what really comes out of the
    decompressor, so a lying size field cannot exceed the budget."""
    written = 0
    with zf.open(info) as src, open(target, "xb") as dst:
        while chunk := src.read(CHUNK):
            written += len(chunk)
            if written > info.file_size or written > budget:
                raise ArchiveError(
                    f"{archive}: entry {info.filename!r} expands beyond its declared size or the "
                    f"{MAX_BYTES >> 20} MiB allowed; not extracted"
                )
            dst.write(chunk)
    return written


def _unwrap(root: Path) -> Path:
    """alice.zip -> alice/ -> hw1/: the single folder that holds everything, a few levels deep."""
    for _ in range(4):
        children = list(root.iterdir())
        if len(children) != 1 or not children[0].is_dir():
            break
        root = children[0]
    return root


def extract_zip(path: str | Path, target: str | Path) -> Path:
    """Extract the zip at ``path`` into the empty folder ``target``; return the submission
    folder (``target`` or the single folder inside it). ArchiveError when the zip is corrupt or
    unsafe; nothing outside ``target`` is ever written."""
    path, target = Path(path), Path(target)
    archive = path.name
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ArchiveError(f"{archive}: not a zip file, or a corrupt one") from None
    except OSError as exc:
        raise ArchiveError(f"{archive}: cannot read: {exc.strerror or exc}") from None
    with zf:
        entries = []
        for info in zf.infolist():
            parts = _parts(info, archive)
            if parts is not None:
                entries.append((info, parts))
        _check_sizes(entries, archive)
        target.mkdir(parents=True, exist_ok=True)
        budget = MAX_BYTES
        try:
            for info, parts in entries:
                dest = target.joinpath(*parts)
                if info.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                budget -= _copy(zf, info, dest, budget, archive)
        except ArchiveError:
            shutil.rmtree(target, ignore_errors=True)
            raise
        except FileExistsError as exc:
            shutil.rmtree(target, ignore_errors=True)
            name = Path(exc.filename or "").name
            raise ArchiveError(f"{archive}: entry {name!r} appears twice") from None
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
            shutil.rmtree(target, ignore_errors=True)
            raise ArchiveError(f"{archive}: corrupt zip ({exc})") from None
    return _unwrap(target)
