"""Confine a forked child before it runs student code: rlimits, Landlock, capabilities, seccomp.

Stdlib, `grader.landlock`, `grader.capabilities`, `grader.seccomp` (ctypes; `pyseccomp` if
installed) and nothing else of the grader. The trusted parent calls `probe()` once. The runner
prepares a `Confinement` before it forks and each child applies it before it imports the
submission; `apply_isolation()` does both at once in the calling process.
Measured on this machine kind (kernel 6.18, root, Landlock ABI 7, seccomp on): see
shared/notes/sandbox-measurements.md; the numbers quoted in comments come from there.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import importlib.util
import os
import resource
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

from grader import capabilities as linux_caps
from grader import landlock, seccomp
from grader.seccomp import compile_seccomp

__all__ = [
    "Capabilities",
    "Confinement",
    "Limits",
    "apply_isolation",
    "compile_seccomp",
    "minimal_env",
    "probe",
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
_PR_GET_SECCOMP, _PR_SET_NO_NEW_PRIVS = 21, 38


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
    seccomp_reason = seccomp.unavailable_reason()
    if seccomp_reason:
        reasons.append(seccomp_reason)
        # Gaps that seccomp would otherwise have covered (it denies socket() and foreign kill()).
        if 0 < abi < 4:
            reasons.append(f"Landlock: ABI {abi} < 4, so TCP is not restricted either")
        if 0 < abi < 6:
            reasons.append(f"Landlock: ABI {abi} < 6, so other processes can still be signalled")
    return Capabilities(landlock_abi=abi, seccomp=not seccomp_reason, reasons=tuple(reasons))


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
    """Irreversibly confine the calling process (a freshly forked, single-threaded child):
    ``Confinement.prepare`` and ``apply`` at once.

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
    if capabilities.landlock_abi or capabilities.seccomp:
        _require_single_thread()
    # The workdir is its own root: the static rules that contain it are dropped.
    confinement = Confinement.prepare(
        workdir,
        limits=limits,
        capabilities=capabilities,
        read_paths=read_paths,
        seccomp_program=seccomp_program,
    )
    return confinement.apply(workdir)


@dataclass(frozen=True, slots=True)
class Confinement:
    """What every child of a runner applies to itself, prepared once by the runner.

    Preparing costs as much as applying: resolving paths, opening them, building ctypes
    structures, dropping 41 capabilities one call at a time; in a child, each step touches (and
    so copies) pages shared with the runner (~1.5 ms in all). A runner calls ``prepare`` once
    before it forks; each child then calls ``apply`` with its workdir and makes only the
    syscalls (~0.8 ms). ``apply_isolation`` does both in one process.
    """

    capabilities: Capabilities
    rlimits: tuple[tuple[int, int], ...]
    rules: tuple[tuple[int, int], ...]  # Landlock: (O_PATH fd held by the runner, rights)
    seccomp_filter: seccomp.Filter | None

    @classmethod
    def prepare(
        cls,
        root: str,
        *,
        limits: Limits,
        capabilities: Capabilities,
        read_paths: Sequence[str] = (),
        seccomp_program: bytes | None = None,
    ) -> Confinement:
        """For children whose workdirs are made in ``root``; ``seccomp_program`` is the filter
        from ``compile_seccomp()`` if the caller has it already. Irreversible for the calling
        process too: sets no_new_privs, locks root's securebits and empties the capability
        bounding set (what exec could regain), which children inherit. None of them changes
        what the caller itself can do, as long as it never execs."""
        rules: list[tuple[int, int]] = []
        if capabilities.landlock_abi:
            root = os.path.realpath(root)
            for path in read_paths:
                if _beneath(root, os.path.realpath(path)):
                    raise ValueError(f"read_paths: {path!r} contains the workdir(s)")
            static = _static_rules(tuple(read_paths))
            kept = [(path, access) for path, access in static if not _beneath(root, path)]
            rules = landlock.open_rules(capabilities.landlock_abi, [*kept, _DEV_NULL])
        program = None
        if capabilities.seccomp:
            program = seccomp_program if seccomp_program is not None else compile_seccomp()
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise _errno_error("prctl(PR_SET_NO_NEW_PRIVS)")
        linux_caps.lock()
        return cls(
            capabilities=capabilities,
            rlimits=tuple(_rlimit_values(limits)),
            rules=tuple(rules),
            seccomp_filter=seccomp.Filter(program) if program is not None else None,
        )

    @property
    def fds(self) -> tuple[int, ...]:
        """Descriptors a child must keep open until ``apply``, which closes them."""
        return tuple(fd for fd, _ in self.rules)

    def apply(self, workdir: str) -> tuple[str, ...]:
        """Irreversibly confine the calling process, a child just forked from the process that
        called ``prepare`` (so single-threaded), with its workdir in that ``root``. Returns the
        active layers, as ``apply_isolation`` does."""
        # /tmp and ~ are out of reach now; keep tempfile and expanduser working inside.
        os.environ["HOME"] = os.environ["TMPDIR"] = workdir
        if "tempfile" in sys.modules:
            sys.modules["tempfile"].tempdir = workdir
        for which, value in self.rlimits:
            resource.setrlimit(which, (value, value))
        active = ["rlimits"]
        abi = self.capabilities.landlock_abi
        if abi:
            ruleset = landlock.Ruleset(abi)
            try:
                for fd, access in self.rules:
                    ruleset.add(fd, access)
                fd = os.open(workdir, os.O_PATH | os.O_CLOEXEC | os.O_DIRECTORY)
                try:
                    ruleset.add(fd, _WORKDIR & landlock.handled_fs(abi), workdir)
                finally:
                    os.close(fd)
                ruleset.restrict()
            finally:
                ruleset.close()
            active.append("landlock")
        for fd in self.fds:
            os.close(fd)
        if linux_caps.clear():
            active.append("caps")
        if self.seccomp_filter is not None:
            self.seccomp_filter.load(os.getpid())
            active.append("seccomp")
        return tuple(active)


def _rlimit_values(limits: Limits) -> list[tuple[int, int]]:
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
    values = []
    for which, value in wanted:
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)  # raising a hard limit needs CAP_SYS_RESOURCE
        values.append((which, value))
    return values


@functools.lru_cache(maxsize=8)
def _static_rules(read_paths: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """Read-only: the stdlib, lib-dynload, numpy's site-packages, system libraries, `read_paths`.
    Never a directory that contains the grader's cwd or source tree, or any other sys.path
    entry (`Confinement.prepare` also drops those containing the workdirs)."""
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


def _errno_error(what: str) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, f"{what}: {os.strerror(err)}")
