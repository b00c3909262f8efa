"""Landlock (Linux >= 5.13) through ctypes: a filesystem allowlist, TCP and signal scoping.

A leaf module (stdlib only). `grader.isolation` builds the rules; this module only speaks to the
kernel. Everything here affects the calling thread and its future children, irreversibly.
Reference: Documentation/userspace-api/landlock.rst and include/uapi/linux/landlock.h.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import stat
import sys
from collections.abc import Iterable

__all__ = [
    "ACCESS_FS",
    "FILE_RIGHTS",
    "Ruleset",
    "abi_version",
    "handled_fs",
    "open_rules",
    "restrict_self",
]

# landlock_create_ruleset / add_rule / restrict_self come from the unified syscall table, so the
# numbers are the same on every architecture we may meet (alpha is the exception; not supported).
_SYSCALLS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446), "arm64": (444, 445, 446)}
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# Filesystem rights, in the kernel's bit order (uapi landlock.h).
ACCESS_FS = {
    "EXECUTE": 1 << 0,
    "WRITE_FILE": 1 << 1,
    "READ_FILE": 1 << 2,
    "READ_DIR": 1 << 3,
    "REMOVE_DIR": 1 << 4,
    "REMOVE_FILE": 1 << 5,
    "MAKE_CHAR": 1 << 6,
    "MAKE_DIR": 1 << 7,
    "MAKE_REG": 1 << 8,
    "MAKE_SOCK": 1 << 9,
    "MAKE_FIFO": 1 << 10,
    "MAKE_BLOCK": 1 << 11,
    "MAKE_SYM": 1 << 12,
    "REFER": 1 << 13,  # ABI 2
    "TRUNCATE": 1 << 14,  # ABI 3
    "IOCTL_DEV": 1 << 15,  # ABI 5
}
# Rights that make sense on a file rule; the kernel rejects directory-only rights there (EINVAL).
FILE_RIGHTS = (
    ACCESS_FS["EXECUTE"]
    | ACCESS_FS["WRITE_FILE"]
    | ACCESS_FS["READ_FILE"]
    | ACCESS_FS["TRUNCATE"]
    | ACCESS_FS["IOCTL_DEV"]
)
_NET_TCP = 0b11  # LANDLOCK_ACCESS_NET_BIND_TCP | CONNECT_TCP, ABI 4
_SCOPE_ALL = 0b11  # LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | SIGNAL, ABI 6


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # __attribute__((packed)) in the uapi header: 12 bytes, not 16
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
if sys.platform == "linux":  # importable elsewhere (abi_version then raises ENOSYS)
    _libc.prctl.restype = ctypes.c_int
    _libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4


def _numbers() -> tuple[int, int, int]:
    numbers = _SYSCALLS.get(platform.machine()) if sys.platform == "linux" else None
    if numbers is None:
        where = f"{sys.platform}/{platform.machine()}"
        raise OSError(errno.ENOSYS, f"no Landlock syscall numbers for {where}")
    return numbers


def _syscall(number: int, *args: object) -> int:
    result = _libc.syscall(ctypes.c_long(number), *args)
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def abi_version() -> int:
    """The kernel's Landlock ABI (>= 1). Side-effect free.

    Raises OSError: ENOSYS (no syscall: kernel < 5.13 or built without Landlock, or unknown
    machine) or EOPNOTSUPP (built in but not enabled in the `lsm=` boot list).
    """
    create, _, _ = _numbers()
    return _syscall(create, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))


def handled_fs(abi: int) -> int:
    """Every filesystem right of `abi`: 13 in ABI 1, +REFER (2), +TRUNCATE (3), +IOCTL_DEV (5)."""
    rights = (1 << 13) - 1
    if abi >= 2:
        rights |= ACCESS_FS["REFER"]
    if abi >= 3:
        rights |= ACCESS_FS["TRUNCATE"]
    if abi >= 5:
        rights |= ACCESS_FS["IOCTL_DEV"]
    return rights


def open_rules(abi: int, rules: Iterable[tuple[str, int]]) -> list[tuple[int, int]]:
    """Each rule's path opened ``O_PATH`` with the rights this ABI handles and the file type
    allows: what ``Ruleset.add`` takes. Missing paths and rules left with no right are skipped.
    The caller owns (and closes) the descriptors; a runner keeps them for all its children."""
    handled = handled_fs(abi)
    opened = []
    for path, access in rules:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            access &= FILE_RIGHTS
        access &= handled
        if access:
            opened.append((fd, access))
        else:
            os.close(fd)
    return opened


class Ruleset:
    """A Landlock ruleset being built: ``add`` rules, then ``restrict`` the calling thread.

    Denies every filesystem right of `abi` but the rules added; denies TCP bind/connect
    (ABI >= 4); scopes signals and abstract unix sockets to this domain (ABI >= 6)."""

    def __init__(self, abi: int) -> None:
        create, self._add_rule, self._restrict = _numbers()
        attr = _RulesetAttr(
            handled_fs(abi), _NET_TCP if abi >= 4 else 0, _SCOPE_ALL if abi >= 6 else 0
        )
        # Pass the struct size this ABI knows: older kernels reject a size with fields they lack.
        size = 8 if abi < 4 else 16 if abi < 6 else 24
        self.fd = _syscall(create, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))

    def add(self, fd: int, access: int, path: str = "") -> None:
        """Allow ``access`` beneath the file or directory open at ``fd`` (see ``open_rules``)."""
        beneath = _PathBeneathAttr(access, fd)
        try:
            _syscall(self._add_rule, self.fd, _RULE_PATH_BENEATH, ctypes.byref(beneath), 0)
        except OSError as exc:
            raise OSError(exc.errno, f"landlock_add_rule: {exc.strerror}", path) from None

    def restrict(self) -> None:
        """Sets no_new_privs (required to self-restrict without CAP_SYS_ADMIN), enforces the
        ruleset on the calling thread and closes it. Raises OSError when the kernel refuses."""
        try:
            if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(err)}")
            _syscall(self._restrict, self.fd, ctypes.c_uint32(0))
        finally:
            self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def restrict_self(abi: int, rules: Iterable[tuple[str, int]]) -> None:
    """Deny every filesystem right of `abi` except `rules` (path, rights beneath it); see
    ``Ruleset``. Missing paths are skipped. Raises OSError when the kernel refuses."""
    ruleset = Ruleset(abi)
    try:
        for path, access in rules:
            for fd, allowed in open_rules(abi, [(path, access)]):
                try:
                    ruleset.add(fd, allowed, path)
                finally:
                    os.close(fd)
        ruleset.restrict()
    finally:
        ruleset.close()
