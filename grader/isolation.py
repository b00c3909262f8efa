"""Confine a forked child before it runs student code: rlimits, Landlock, capabilities, seccomp.

A leaf module: stdlib, `grader.landlock` (ctypes) and, if installed, `pyseccomp`. The trusted
parent calls `probe()` once; each freshly forked child calls `apply_isolation()` and then imports
the submission. Measured on this machine kind (kernel 6.18, root, Landlock ABI 7, seccomp on):
see shared/notes/sandbox-measurements.md; the numbers quoted in comments come from there.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import importlib.util
import os
import resource
import struct
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from grader import landlock


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

__all__ = [
    "Capabilities",
    "Limits",
    "apply_isolation",
    "compile_seccomp",
    "minimal_env",
    "probe",
    "warm_up",
]

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
# The grader's cwd at import (in the zygote): often the repo root, so never readable.
try:
    _IMPORT_CWD = os.getcwd()
except OSError:  # deleted cwd; "/" protects nothing extra
    _IMPORT_CWD = "/"

_RO = (
    landlock.ACCESS_FS["EXECUTE"] | landlock.ACCESS_FS["READ_FILE"] | landlock.ACCESS_FS["READ_DIR"]
)
# Workdir: everything but devices, sockets, FIFOs, symlinks and exec. Root could mknod a block
# device and read the disk; a symlink or FIFO put in place of the stdout file would make the
# grader read a secret or block. Exec is denied by seccomp anyway.
_WORKDIR = sum(
    landlock.ACCESS_FS[name]
    for name in (
        "WRITE_FILE",
        "READ_FILE",
        "READ_DIR",
        "REMOVE_DIR",
        "REMOVE_FILE",
        "MAKE_DIR",
        "MAKE_REG",
        "REFER",
        "TRUNCATE",
    )
)
# ld.so, timezone and entropy files; /usr and /lib* hold the shared libraries of lazily loaded
# extension modules (numpy.fft, numpy.random). On merged-/usr systems /lib* resolve into /usr.
_SYSTEM_READ = ("/usr", "/lib", "/lib64", "/etc/ld.so.cache", "/etc/localtime", "/dev/urandom")
_DEV_NULL = (
    "/dev/null",
    sum(landlock.ACCESS_FS[n] for n in ("READ_FILE", "WRITE_FILE", "TRUNCATE")),
)

_CLONE_THREAD = 0x10000
_PR_GET_SECCOMP, _PR_SET_NO_NEW_PRIVS = 21, 38
_PR_CAPBSET_DROP, _PR_SET_SECUREBITS, _PR_CAP_AMBIENT = 24, 28, 47
_SECBITS_LOCKED_NOROOT = 0x2F  # NOROOT, NO_SETUID_FIXUP and KEEP_CAPS off, all three locked
_CAP_SETPCAP = 8

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


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-child resource limits (soft = hard, so a student cannot raise them back)."""

    memory_bytes: int = 1 << 30  # RLIMIT_AS: numpy needs ~192 MiB, +41 MiB per OpenBLAS thread
    cpu_seconds: int = 30  # RLIMIT_CPU: SIGKILL at the limit; wall-clock timeout: the parent's
    file_bytes: int = 16 << 20  # RLIMIT_FSIZE: also caps the redirected stdout/stderr files
    open_files: int = 64  # RLIMIT_NOFILE
    processes: int = 64  # RLIMIT_NPROC: only meaningful when not root (the kernel exempts uid 0)

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if type(value) is not int or value <= 0:
                raise ValueError(
                    f"Limits.{field.name}: expected an int > 0, "
                    f"got {field.name}={value!r} (type={type(value).__name__})"
                )


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the kernel and userland offer; probed once in the trusted parent."""

    landlock_abi: int  # 0 when unavailable
    seccomp: bool
    reasons: tuple[str, ...]  # one line per missing layer (and a gap it leaves)


def probe() -> Capabilities:
    """Detect Landlock and seccomp without changing the calling process."""
    reasons: list[str] = []
    try:
        abi = landlock.abi_version()
    except OSError as exc:
        abi = 0
        if exc.errno == errno.EOPNOTSUPP:
            reasons.append("Landlock: built into the kernel but disabled (add it to lsm= at boot)")
        else:
            reasons.append(f"Landlock: kernel has no landlock syscall ({exc.strerror})")
    seccomp_reason = _probe_seccomp_userland() or _probe_seccomp_kernel()
    if seccomp_reason:
        reasons.append(seccomp_reason)
        # Gaps that seccomp would otherwise have covered (it denies socket() and foreign kill()).
        if 0 < abi < 4:
            reasons.append(f"Landlock: ABI {abi} < 4, so TCP is not restricted either")
        if 0 < abi < 6:
            reasons.append(f"Landlock: ABI {abi} < 6, so other processes can still be signalled")
    return Capabilities(landlock_abi=abi, seccomp=not seccomp_reason, reasons=tuple(reasons))


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


def minimal_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A from-scratch environment for the zygote: nothing inherited from the grader (no secrets)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",  # same output everywhere; no /etc/localtime lookup needed
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",  # never write __pycache__ into the submission copy
        "PYTHONNOUSERSITE": "1",  # ~/.local must not shadow the numpy we allowlist
        "PYTHONUNBUFFERED": "1",  # prints before a timeout kill still reach stdout.txt
        # 1 thread: ~41 MiB of address space per OpenBLAS thread, and it spawns one per core.
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    for key, value in (extra or {}).items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"minimal_env: extra[{key!r}]={value!r} (type={type(value).__name__})")
        env[key] = value
    return env


def apply_isolation(
    workdir: str,
    *,
    limits: Limits,
    capabilities: Capabilities,
    read_paths: Sequence[str] = (),
    seccomp_program: bytes | None = None,
) -> tuple[str, ...]:
    """Irreversibly confine the calling process (a freshly forked, single-threaded child).

    ``seccomp_program`` is the filter from ``compile_seccomp()``, compiled once before forking;
    without it the filter is compiled here.

    Returns the names of the active layers, in order applied, from "rlimits", "landlock",
    "caps" (root's capabilities dropped) and "seccomp". A layer that `capabilities` says is
    missing is skipped; one that it says is available raises OSError if it fails (abort then).
    Call it after redirecting stdout/stderr and closing inherited fds (open fds stay usable).
    """
    workdir = os.path.realpath(workdir)
    if not os.path.isdir(workdir):
        raise NotADirectoryError(errno.ENOTDIR, "apply_isolation: workdir is no directory", workdir)
    rules = _landlock_rules(workdir, read_paths) if capabilities.landlock_abi else []
    if capabilities.landlock_abi or capabilities.seccomp:
        _require_single_thread()
    # /tmp and ~ are out of reach now; keep tempfile and expanduser working inside the workdir.
    os.environ["HOME"] = os.environ["TMPDIR"] = workdir
    if "tempfile" in sys.modules:
        sys.modules["tempfile"].tempdir = workdir

    active = ["rlimits"]
    _apply_rlimits(limits)
    # no_new_privs even with no other layer: exec of a setuid binary then grants nothing.
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise _errno_error("prctl(PR_SET_NO_NEW_PRIVS)")
    if capabilities.landlock_abi:
        landlock.restrict_self(capabilities.landlock_abi, rules)
        active.append("landlock")
    if _drop_capabilities():
        active.append("caps")
    if capabilities.seccomp:
        _apply_seccomp(seccomp_program)
        active.append("seccomp")
    return tuple(active)


def _apply_rlimits(limits: Limits) -> None:
    wanted = [
        (resource.RLIMIT_AS, limits.memory_bytes),
        # soft = hard: SIGKILL at the limit (soft < hard sends SIGXCPU first, which can be caught)
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_FSIZE, limits.file_bytes),  # EFBIG: Python ignores SIGXFSZ
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ]
    if os.geteuid() != 0:  # the kernel exempts root from NPROC; seccomp stops forks there
        wanted.append((resource.RLIMIT_NPROC, limits.processes))
    for which, value in wanted:
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)  # raising a hard limit needs CAP_SYS_RESOURCE
        resource.setrlimit(which, (value, value))


@functools.lru_cache(maxsize=8)
def _static_rules(read_paths: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """Read-only: the stdlib, lib-dynload, numpy's site-packages, system libraries, `read_paths`.
    Never a directory that contains the grader's cwd or source tree, or any other sys.path
    entry (`_landlock_rules` also drops those containing the child's workdir)."""
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    prefixes.add(os.path.realpath(sys.base_exec_prefix))
    python_dirs = {os.path.dirname(os.path.realpath(os.__file__))}
    for entry in sys.path:  # stdlib, lib-dynload, site-packages: the entries under a prefix
        path = os.path.realpath(entry or os.curdir)
        if any(_beneath(path, p) for p in prefixes) and os.path.exists(path):
            python_dirs.add(path)
    numpy_dir = _site_dir_of("numpy")
    if numpy_dir:
        python_dirs.add(numpy_dir)

    protected = {os.path.realpath(_IMPORT_CWD), os.path.realpath(os.getcwd())}
    source_root = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    if os.path.basename(source_root) not in ("site-packages", "dist-packages"):
        protected.add(source_root)  # an editable install or a run from the repo
    for entry in sys.path:  # e.g. the repo root put there by `python -m` or a .pth file
        path = os.path.realpath(entry or os.curdir)
        if not any(_beneath(path, p) for p in prefixes | python_dirs):
            protected.add(path)

    def exposes(path: str) -> bool:
        return any(_beneath(p, path) for p in protected)

    rules = [(p, _RO) for p in sorted(python_dirs) if not exposes(p)]
    rules += [(os.path.realpath(p), _RO) for p in _SYSTEM_READ if not exposes(os.path.realpath(p))]
    for path in read_paths:
        real = os.path.realpath(path)
        if exposes(real):
            raise ValueError(
                f"read_paths: {path!r} contains the workdir, the grader's cwd or its source tree"
            )
        rules.append((real, _RO))
    return tuple(rules)


def _landlock_rules(workdir: str, read_paths: Sequence[str]) -> list[tuple[str, int]]:
    """The static read-only rules (computed once; the runner warms this cache before it forks,
    see ``warm_up``) minus any that would contain this child's workdir, plus the workdir."""
    for path in read_paths:
        if _beneath(workdir, os.path.realpath(path)):
            raise ValueError(f"read_paths: {path!r} contains the workdir")
    rules = [
        (p, access) for p, access in _static_rules(tuple(read_paths)) if not _beneath(workdir, p)
    ]
    return [*rules, _DEV_NULL, (workdir, _WORKDIR)]


def warm_up(read_paths: Sequence[str] = ()) -> None:
    """Compute what every child would otherwise compute again (the Landlock path list: ~20
    realpath/stat calls); call it in the runner before forking."""
    _static_rules(tuple(read_paths))


def _beneath(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _site_dir_of(package: str) -> str | None:
    """The directory holding `package` (its site-packages), without importing it."""
    module = sys.modules.get(package)
    spec = module.__spec__ if module is not None else importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.dirname(os.path.realpath(next(iter(spec.submodule_search_locations))))


def _require_single_thread() -> None:
    # Landlock and seccomp (without TSYNC) confine only the calling thread; the others would
    # stay free. A forked child has one thread (OpenBLAS restarts its pool lazily after fork).
    try:
        count = len(os.listdir("/proc/self/task"))
    except OSError:
        return
    if count != 1:
        raise OSError(errno.EBUSY, f"apply_isolation needs a single thread, found {count}")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _drop_capabilities() -> bool:
    """Drop every capability (and the bounding set, so exec cannot regain them). The child runs
    as the grader's uid, often root: with CAP_SYS_RESOURCE it could raise its rlimits again, with
    CAP_SYS_BOOT/MODULE/RAWIO/TIME harm the host. Returns False when there was nothing to drop."""
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3: two 32-bit words
    data = (_CapData * 2)()
    if _libc.capget(ctypes.byref(header), data) != 0:
        raise _errno_error("capget")
    if os.geteuid() != 0 and not any(d.permitted or d.effective for d in data):
        return False
    if data[0].effective & (1 << _CAP_SETPCAP):
        if _libc.prctl(_PR_SET_SECUREBITS, _SECBITS_LOCKED_NOROOT, 0, 0, 0) != 0:
            raise _errno_error("prctl(PR_SET_SECUREBITS)")
        for cap in range(64):
            if _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                if ctypes.get_errno() == errno.EINVAL:  # past CAP_LAST_CAP
                    break
                raise _errno_error(f"prctl(PR_CAPBSET_DROP, {cap})")
    _libc.prctl(_PR_CAP_AMBIENT, 4, 0, 0, 0)  # PR_CAP_AMBIENT_CLEAR_ALL; EINVAL before 4.3
    if _libc.capset(ctypes.byref(header), (_CapData * 2)()) != 0:
        raise _errno_error("capset")
    return True


def _errno_error(what: str) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, f"{what}: {os.strerror(err)}")


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


def _load_program(program: bytes, pid: int) -> None:
    patched = bytearray(program)
    for index, k in enumerate(_constants(program)):
        if k == _PID_PLACEHOLDER:
            struct.pack_into("=I", patched, index * 8 + 4, pid)
    buffer = ctypes.create_string_buffer(bytes(patched), len(patched))
    fprog = _SockFprog(len(patched) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise _errno_error("prctl(PR_SET_SECCOMP)")


def _apply_seccomp(program: bytes | None = None) -> None:
    """Default allow, deny the syscalls above. Existing fds (the result pipe) keep working."""
    if program is not None:
        _load_program(program, os.getpid())
    else:
        _build_filter(os.getpid()).load()
