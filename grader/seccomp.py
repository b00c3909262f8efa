"""The seccomp layer: a default-allow filter denying what student code must not do.

Built with libseccomp (through ``pyseccomp``) once, in the sandbox runner before it forks
(``compile_seccomp``); each child patches its own pid into the program and loads it with
prctl() (``Filter``), which takes microseconds where compiling takes ~2 ms. The filter allows
everything but the syscalls below; descriptors already open (the result pipe) keep working.
``grader.isolation`` applies it as the last layer and ``probe`` asks, without loading
anything, whether it is available.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import importlib.util
import os
import struct
import tempfile
from typing import Any

__all__ = ["Filter", "compile_seccomp", "unavailable_reason"]

_libc = ctypes.CDLL(None, use_errno=True)
_PR_GET_SECCOMP = 21


def _errno_error(what: str) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, f"{what}: {os.strerror(err)}")


def unavailable_reason() -> str:
    """Why seccomp filters cannot be used here ("" when they can). Loads no filter."""
    return _probe_seccomp_userland() or _probe_seccomp_kernel()


@functools.lru_cache(maxsize=1)
def _load_seccomp() -> tuple[Any, str]:
    """pyseccomp, or the reason it is unusable. Imported only where filters are built (the
    runner, before it forks): its import runs ldconfig twice, ~16 ms the grader need not pay."""
    try:
        import pyseccomp
    except ImportError:
        return None, "seccomp: pyseccomp is not installed (pip install pyseccomp)"
    except (OSError, RuntimeError) as exc:  # RuntimeError: "Unable to find libseccomp"
        return None, f"seccomp: cannot load libseccomp.so.2 ({exc}); install libseccomp2"
    return pyseccomp, ""


# seccomp(2)'s number, to ask the kernel without loading libseccomp (probe); other
# architectures ask pyseccomp.
_SECCOMP_SYSCALL = {"x86_64": 317, "aarch64": 277}

_CLONE_THREAD = 0x10000

# Always denied. Sockets: numpy needs none (AF_UNIX too: Landlock ABI 7 does not cover pathname
# unix sockets, and UDP is outside Landlock). fork/vfork/clone3: NPROC is ignored for uid 0, so this
# is the fork-bomb stopper (glibc falls back from clone3 on ENOSYS). setsid/setpgid: the child
# could leave the process group the parent kills. The rest are kernel attack surface or act on
# other processes; the caps-only ones are kept in case the capability drop is ever skipped.
_EPERM = (
    *("io_uring_setup", "io_uring_enter", "io_uring_register"),  # sockets without socket()
    *("ptrace", "process_vm_readv", "process_vm_writev", "userfaultfd", "bpf", "perf_event_open"),
    *("unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "mount_setattr"),
    *("fsopen", "fsmount", "fspick", "move_mount", "open_tree", "keyctl", "add_key", "request_key"),
    *("open_by_handle_at", "name_to_handle_at", "mknod", "mknodat"),  # bypass paths, make devices
    *("pidfd_open", "pidfd_getfd", "pidfd_send_signal", "tkill"),  # other processes
    *("reboot", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module"),
    *("iopl", "ioperm", "swapon", "swapoff", "settimeofday", "clock_settime", "clock_adjtime"),
    "adjtimex",
    # Landlock never covers file metadata: without these the child chmod-ed, utime-d and
    # setxattr-ed files outside its workdir that its uid owns (as root: any root file, say
    # chmod 4777 /bin/bash, or chmod 000 on the solutions). Found by tests/test_sandbox.py.
    *("chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat"),
    *("utime", "utimes", "futimesat", "utimensat"),
    *("setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr"),
    # Landlock restricts truncation only from ABI 3 (Linux 6.2): on 5.13-6.1 truncate(path)
    # emptied any file the uid may write (see also the O_TRUNC rule in _build_filter).
    "truncate",
    "openat2",  # its flags sit in a struct seccomp cannot read; nothing we run uses it
)
_DENY = (
    ("socket", errno.EACCES),
    ("socketpair", errno.EACCES),
    ("fork", errno.EAGAIN),
    ("vfork", errno.EAGAIN),
    ("clone3", errno.ENOSYS),
    ("execve", errno.EACCES),
    ("execveat", errno.EACCES),
    ("setsid", errno.EPERM),
    ("setpgid", errno.EPERM),
    *((name, errno.EPERM) for name in _EPERM),
)
# Denied with EPERM when argument `index` is not `allowed` (0 = "myself" for these calls). The
# child has the grader's uid, so without these it could renice, pin or re-limit the grader.
_DENY_UNLESS = (
    ("prlimit64", 0, 0),
    ("setpriority", 0, 0),  # which == PRIO_PROCESS ...
    ("setpriority", 1, 0),  # ... and who == self
    ("sched_setaffinity", 0, 0),
    ("sched_setscheduler", 0, 0),
    ("sched_setparam", 0, 0),
    ("sched_setattr", 0, 0),
    ("ioprio_set", 1, 0),
)
# Signals only to our own pid (Landlock ABI 6 scoping does this too; this covers older kernels).
_SIGNAL_CALLS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")


def _probe_seccomp_userland() -> str:
    """Is pyseccomp installed and libseccomp loadable? Without importing pyseccomp."""
    if importlib.util.find_spec("pyseccomp") is None:
        return "seccomp: pyseccomp is not installed (pip install pyseccomp)"
    try:
        ctypes.CDLL("libseccomp.so.2")
    except OSError as exc:
        return f"seccomp: cannot load libseccomp.so.2 ({exc}); install libseccomp2"
    return ""


def _probe_seccomp_kernel() -> str:
    if _libc.prctl(_PR_GET_SECCOMP, 0, 0, 0, 0) < 0:
        return f"seccomp: kernel without CONFIG_SECCOMP ({os.strerror(ctypes.get_errno())})"
    # seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &SECCOMP_RET_ERRNO): answers, installs nothing.
    number = _SECCOMP_SYSCALL.get(os.uname().machine)
    if number is None:
        seccomp, reason = _load_seccomp()
        if seccomp is None:
            return reason
        number = seccomp.resolve_syscall(seccomp.Arch.NATIVE, "seccomp")
    action = ctypes.c_uint32(0x00050000)  # SECCOMP_RET_ERRNO
    if _libc.syscall(ctypes.c_long(number), 2, 0, ctypes.byref(action)) != 0:
        return f"seccomp: filters unavailable ({os.strerror(ctypes.get_errno())})"
    return ""


# Stands for the child's pid in a filter compiled before the child exists (compile_seccomp).
_PID_PLACEHOLDER = 0x7A5A5A5A
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


def _build_filter(pid: int) -> Any:
    seccomp, reason = _load_seccomp()
    if seccomp is None:
        raise OSError(errno.ENOSYS, reason)
    filt = seccomp.SyscallFilter(seccomp.ALLOW)
    # Another arch's syscall (int 0x80, x32) would bypass the rules: kill the whole process.
    filt.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)

    def add(action: int, name: str, *args: object) -> None:
        if seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) == -1:
            return  # unknown to this libseccomp (-1); pseudo-numbers < -1 are fine
        filt.add_rule(action, name, *args)

    for name, err in _DENY:
        add(seccomp.ERRNO(err), name)
    # clone() without CLONE_THREAD is a fork; threads (OpenBLAS, threading) pass.
    add(seccomp.ERRNO(errno.EAGAIN), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, _CLONE_THREAD, 0))
    # open(O_RDONLY | O_TRUNC) truncates, and Landlock ABI < 3 checks only the read right:
    # a child emptied files it may only read (the stdlib, numpy). Nobody needs that mode.
    read_only_trunc = (os.O_ACCMODE | os.O_TRUNC, os.O_RDONLY | os.O_TRUNC)
    add(seccomp.ERRNO(errno.EACCES), "open", seccomp.Arg(1, seccomp.MASKED_EQ, *read_only_trunc))
    add(seccomp.ERRNO(errno.EACCES), "openat", seccomp.Arg(2, seccomp.MASKED_EQ, *read_only_trunc))
    for name, index, allowed in _DENY_UNLESS:
        add(seccomp.ERRNO(errno.EPERM), name, seccomp.Arg(index, seccomp.NE, allowed))
    for name in _SIGNAL_CALLS:
        add(seccomp.ERRNO(errno.EPERM), name, seccomp.Arg(0, seccomp.NE, pid))
    return filt


def compile_seccomp() -> bytes:
    """The seccomp filter as a BPF program, compiled once by the runner before it forks.

    libseccomp takes ~2 ms to compile the ~75 rules; a child that only patches its pid into
    the program and loads it with prctl() takes microseconds.
    """
    with tempfile.TemporaryFile() as handle:
        _build_filter(_PID_PLACEHOLDER).export_bpf(handle)
        handle.seek(0)
        program = handle.read()
    if len(program) % 8 or _PID_PLACEHOLDER not in _constants(program):
        raise OSError(errno.EINVAL, "seccomp: unexpected BPF program layout")
    return program


def _constants(program: bytes) -> list[int]:
    # struct sock_filter {u16 code; u8 jt; u8 jf; u32 k;}: k at offset 4 of every 8 bytes.
    return [k for (k,) in struct.iter_unpack("=4xI", program)]


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


class Filter:
    """A program from ``compile_seccomp`` made ready to load: the runner builds one before it
    forks, and each child patches its pid into the (inherited) buffer and loads it."""

    def __init__(self, program: bytes) -> None:
        self._buffer = ctypes.create_string_buffer(program, len(program))
        self._slots = [
            index * 8 + 4 for index, k in enumerate(_constants(program)) if k == _PID_PLACEHOLDER
        ]
        self._fprog = _SockFprog(len(program) // 8, ctypes.cast(self._buffer, ctypes.c_void_p))

    def load(self, pid: int) -> None:
        """Confine the calling (single-threaded) process ``pid``, irreversibly."""
        for offset in self._slots:
            struct.pack_into("=I", self._buffer, offset, pid)
        if _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(self._fprog), 0, 0):
            raise _errno_error("prctl(PR_SET_SECCOMP)")
