"""Root's capabilities through ctypes: what exec could regain, and what the process holds.

A leaf module (stdlib only), like `grader.landlock` and `grader.seccomp`. A child runs as the
grader's uid, often root: with CAP_SYS_RESOURCE it could raise its rlimits again, with
CAP_SYS_BOOT/MODULE/RAWIO/TIME harm the host. `lock` (process-wide, inherited, harmless to a
process that never execs) is done once by the runner; `clear` by each child.
"""

from __future__ import annotations

import ctypes
import errno
import os

__all__ = ["clear", "lock"]

_libc = ctypes.CDLL(None, use_errno=True)
_PR_CAPBSET_DROP, _PR_SET_SECUREBITS, _PR_CAP_AMBIENT = 24, 28, 47
_SECBITS_LOCKED_NOROOT = 0x2F  # NOROOT, NO_SETUID_FIXUP and KEEP_CAPS off, all three locked
_CAP_SETPCAP = 8


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _capabilities() -> tuple[_CapHeader, ctypes.Array[_CapData]]:
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3: two 32-bit words
    data = (_CapData * 2)()
    if _libc.capget(ctypes.byref(header), data) != 0:
        raise _errno_error("capget")
    return header, data


def lock() -> None:
    """What exec could regain, gone for good: root's securebits locked, the bounding set and
    the ambient set emptied. Leaves the calling process's own capabilities as they are."""
    _, data = _capabilities()
    if data[0].effective & (1 << _CAP_SETPCAP):
        if _libc.prctl(_PR_SET_SECUREBITS, _SECBITS_LOCKED_NOROOT, 0, 0, 0) != 0:
            raise _errno_error("prctl(PR_SET_SECUREBITS)")
        for cap in range(64):
            if _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                if ctypes.get_errno() == errno.EINVAL:  # past CAP_LAST_CAP
                    break
                raise _errno_error(f"prctl(PR_CAPBSET_DROP, {cap})")
    _libc.prctl(_PR_CAP_AMBIENT, 4, 0, 0, 0)  # PR_CAP_AMBIENT_CLEAR_ALL; EINVAL before 4.3


def clear() -> bool:
    """Empty the effective, permitted and inheritable sets; False when they already were (and
    the process is not root)."""
    header, data = _capabilities()
    if os.geteuid() != 0 and not any(d.permitted or d.effective or d.inheritable for d in data):
        return False
    if _libc.capset(ctypes.byref(header), (_CapData * 2)()) != 0:
        raise _errno_error("capset")
    return True


def _errno_error(what: str) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, f"{what}: {os.strerror(err)}")
