"""A budget for the files a child leaves in its working folder, enforced by the runner.

RLIMIT_FSIZE caps each file a child writes (16 MiB), not how many: until its time runs out a
child could fill the disk, or the memory when the workdirs are on a tmpfs (``grader.launch``
puts them in /dev/shm when it can). The runner asks the filesystem holding the workdirs how
full it is at every poll (one ``statvfs``, every 50 ms); when it has grown by more than one
child's budget since the last look, the runner measures its running children's folders and
kills any child over budget. A child can overshoot by what it writes between two looks.

A leaf: stdlib only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["MAX_BYTES", "MAX_ENTRIES", "Watch", "over_budget"]

MAX_BYTES = 256 << 20  # per child: far above what a homework writes, far below the RAM
MAX_ENTRIES = 20_000  # files and folders per child (each costs kernel memory even when empty)


@dataclass
class Watch:
    """How full the filesystem holding ``root`` was at the last look that found nothing."""

    root: str
    base_bytes: int
    base_entries: int

    @classmethod
    def start(cls, root: str) -> Watch:
        used, entries = _usage(root)
        return cls(root, used, entries)

    def grown(self) -> bool:
        """Has the filesystem grown by a child's budget since the last look? (Files removed
        since lower the baseline, so they cannot hide growth.)"""
        used, entries = _usage(self.root)
        self.base_bytes = min(self.base_bytes, used)
        self.base_entries = min(self.base_entries, entries)
        return used - self.base_bytes > MAX_BYTES or entries - self.base_entries > MAX_ENTRIES

    def rebase(self) -> None:
        """The growth is accounted for (the culprits were killed, or it is not ours)."""
        self.base_bytes, self.base_entries = _usage(self.root)


def _usage(root: str) -> tuple[int, int]:
    try:
        st = os.statvfs(root)
    except OSError:
        return 0, 0
    return (st.f_blocks - st.f_bfree) * st.f_frsize, st.f_files - st.f_ffree


def over_budget(workdir: str) -> str | None:
    """What puts ``workdir`` over budget ("more than 256 MiB of files"), or None. Counts
    without following links, and stops at the budget, so a hostile tree costs a bounded walk."""
    size = entries = 0
    pending = [workdir]
    while pending:
        try:
            listing = os.scandir(pending.pop())
        except OSError:
            continue
        with listing:
            for entry in listing:
                entries += 1
                if entries > MAX_ENTRIES:
                    return f"more than {MAX_ENTRIES} files and folders"
                try:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                    else:
                        size += entry.stat(follow_symlinks=False).st_blocks * 512
                except OSError:
                    continue
                if size > MAX_BYTES:
                    return f"more than {MAX_BYTES >> 20} MiB of files"
    return None
