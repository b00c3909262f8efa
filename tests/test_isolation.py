"""grader.isolation: hostile probes, each run in a forked child that isolates itself first.

The child reports one short JSON object over a pipe opened before isolation, so every test also
checks that writing to an inherited fd survives all layers. A test whose layer is missing on this
machine skips with the reason `probe()` gave.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import isolation
from grader.isolation import (
    Capabilities,
    Confinement,
    Limits,
    apply_isolation,
    compile_seccomp,
    minimal_env,
    probe,
)

REPO = Path(isolation.__file__).resolve().parents[1]
CAPS = probe()
LANDLOCK_ONLY = Capabilities(landlock_abi=CAPS.landlock_abi, seccomp=False, reasons=())
SECCOMP_ONLY = Capabilities(landlock_abi=0, seccomp=CAPS.seccomp, reasons=())
IS_ROOT = os.geteuid() == 0
DEFAULT_LIMITS = Limits()
NOFILE = resource.getrlimit(resource.RLIMIT_NOFILE)


def require(*, landlock_abi: int = 0, seccomp: bool = False) -> None:
    """Skip with probe()'s reasons unless this machine offers the layers a test needs."""
    missing = []
    if CAPS.landlock_abi < landlock_abi:
        why = [r for r in CAPS.reasons if r.startswith("Landlock")]
        missing += why or [f"Landlock ABI {CAPS.landlock_abi} < {landlock_abi}"]
    if seccomp and not CAPS.seccomp:
        missing += [r for r in CAPS.reasons if r.startswith("seccomp")]
    if missing:
        pytest.skip("; ".join(missing))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the isolated child reported: its layers, then the action's value or exception."""

    layers: tuple[str, ...] = ()
    value: Any = None
    error: str | None = None  # exception type name
    errno: int | None = None
    message: str = ""
    signal: int | None = None  # set when the child was killed before reporting


def run_isolated(
    action: Callable[[str], Any],
    tmp_path: Path,
    *,
    capabilities: Capabilities = CAPS,
    limits: Limits = DEFAULT_LIMITS,
    read_paths: Sequence[str] = (),
    before: Callable[[], object] | None = None,
    timeout: float = 10.0,
    seccomp_program: bytes | None = None,
    prepared: bool = False,
) -> Outcome:
    """Fork; the child (like the harness: own session, cwd = workdir) isolates itself, runs
    `action(workdir)` and reports over a pipe. Exceptions from apply_isolation are reported too.
    ``prepared``: the runner's way, ``Confinement.prepare`` then ``apply`` (both in the child:
    prepare changes the process that calls it)."""
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 0
        try:
            os.close(read_fd)
            os.setsid()
            os.chdir(workdir)
            if before is not None:
                before()
            report: dict[str, Any] = {}
            try:
                if prepared:
                    confinement = Confinement.prepare(
                        str(tmp_path), limits=limits, capabilities=capabilities
                    )
                    layers = confinement.apply(str(workdir))
                else:
                    layers = apply_isolation(
                        str(workdir),
                        limits=limits,
                        capabilities=capabilities,
                        read_paths=read_paths,
                        seccomp_program=seccomp_program,
                    )
                report["layers"] = list(layers)
                report["value"] = action(str(workdir))
            except BaseException as exc:
                report.update(error=type(exc).__name__, errno=getattr(exc, "errno", None))
                report["message"] = str(exc)[:300]
            os.write(write_fd, json.dumps(report, default=repr).encode())
        except BaseException:
            code = 70
        finally:
            os._exit(code)
    os.close(write_fd)
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            ready, _, _ = select.select([read_fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                pytest.fail(f"isolated child did not finish within {timeout} s")
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(read_fd)
        _, status = os.waitpid(pid, 0)
    if not data:
        assert os.WIFSIGNALED(status), f"child exited {status:#x} without a report"
        return Outcome(signal=os.WTERMSIG(status))
    report = json.loads(data)
    report["layers"] = tuple(report.get("layers", ()))
    return Outcome(**report)


def expected_layers(capabilities: Capabilities) -> tuple[str, ...]:
    return (
        "rlimits",
        *(["landlock"] if capabilities.landlock_abi else []),
        *(["caps"] if IS_ROOT else []),
        *(["seccomp"] if capabilities.seccomp else []),
    )


def assert_denied(outcome: Outcome, *names: str) -> None:
    assert outcome.error in (names or ("PermissionError",)), outcome


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP socket listening on 127.0.0.1 in the parent; asserts nobody connected."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]
        server.setblocking(False)
        with pytest.raises(BlockingIOError):
            server.accept()


# --- probe, env, limits (no fork) -----------------------------------------------------------


def test_probe_is_consistent_and_side_effect_free() -> None:
    def status(field: str) -> str:
        lines = Path("/proc/self/status").read_text().splitlines()
        return next(line for line in lines if line.startswith(field))

    before = status("NoNewPrivs"), status("Seccomp:")
    caps = probe()
    assert (status("NoNewPrivs"), status("Seccomp:")) == before
    assert caps.landlock_abi >= 0 and isinstance(caps.seccomp, bool)
    assert (caps.landlock_abi == 0) <= any(r.startswith("Landlock") for r in caps.reasons)
    assert (not caps.seccomp) <= any(r.startswith("seccomp") for r in caps.reasons)


def test_probe_finds_landlock_and_seccomp() -> None:
    require(landlock_abi=1, seccomp=True)
    assert CAPS.landlock_abi >= 1 and CAPS.seccomp


def test_minimal_env_inherits_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_TEST_SECRET", "hunter2")
    env = minimal_env({"PYTHONPATH": "/opt/x"})
    assert "GRADER_TEST_SECRET" not in env and env["PYTHONPATH"] == "/opt/x"
    assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1"
    assert env["PYTHONHASHSEED"] == "0" and env["PATH"] == "/usr/bin:/bin"
    with pytest.raises(TypeError, match="extra"):
        minimal_env({"N": 1})  # type: ignore[dict-item]


def test_limits_reject_non_positive() -> None:
    with pytest.raises(ValueError, match=r"Limits.memory_bytes: expected an int > 0, got"):
        Limits(memory_bytes=0)


# --- layers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "capabilities",
    [CAPS, Capabilities(landlock_abi=0, seccomp=False, reasons=("none",))],
    ids=["probed", "nothing-available"],
)
def test_returns_the_active_layers(tmp_path: Path, capabilities: Capabilities) -> None:
    outcome = run_isolated(lambda wd: None, tmp_path, capabilities=capabilities)
    assert outcome.error is None, outcome
    assert outcome.layers == expected_layers(capabilities)


def test_refuses_a_multithreaded_process(tmp_path: Path) -> None:
    if not (CAPS.landlock_abi or CAPS.seccomp):
        require(landlock_abi=1)

    def start_thread() -> None:
        threading.Thread(target=time.sleep, args=(5,), daemon=True).start()

    outcome = run_isolated(lambda wd: None, tmp_path, before=start_thread)
    assert outcome.error == "OSError" and outcome.errno == errno.EBUSY


@pytest.mark.parametrize("inside", ["repo", "parent-of-workdir"])
def test_rejects_read_paths_that_expose_secrets(tmp_path: Path, inside: str) -> None:
    path = str(REPO if inside == "repo" else tmp_path)
    outcome = run_isolated(lambda wd: None, tmp_path, read_paths=[path])
    assert outcome.error == "ValueError", outcome


# --- numpy still works -----------------------------------------------------------------------


def _threads_and_blas(wd: str) -> list[float]:
    out: list[float] = []
    threads = [
        threading.Thread(target=lambda: out.append(float(np.ones(3).sum()))) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    a = np.random.default_rng(0).normal(size=(300, 300))
    return [*out, float(np.abs(a @ np.linalg.inv(a) - np.eye(300)).max() < 1e-8)]


NUMPY_ACTIONS: dict[str, tuple[Callable[[str], Any], float]] = {
    "linalg.solve": (
        lambda wd: np.linalg.solve(np.eye(5) * 2 + np.ones((5, 5)), np.ones(5)).sum(),
        5 / 7,
    ),
    "polynomial": (
        lambda wd: __import__("numpy.polynomial").polynomial.Polynomial([1, 2])(3),
        7.0,
    ),
    "fft": (lambda wd: __import__("numpy.fft").fft.fft(np.ones(4)).real[0], 4.0),
    "threads": (_threads_and_blas, 4 * 3.0 + 1.0),
}


@pytest.mark.parametrize(("action", "expected"), NUMPY_ACTIONS.values(), ids=NUMPY_ACTIONS.keys())
def test_numpy_works(tmp_path: Path, action: Callable[[str], Any], expected: float) -> None:
    outcome = run_isolated(lambda wd: float(np.sum(action(wd))), tmp_path)
    assert outcome.error is None and outcome.value == pytest.approx(expected), outcome


ZYGOTE = """
import json, os, sys
import numpy as np
from grader import isolation
preloaded = [m for m in ("numpy.polynomial", "numpy.fft", "numpy.random") if m in sys.modules]
caps = isolation.Capabilities(**json.loads(sys.argv[1]))
workdir = sys.argv[2]
with open(os.path.join(workdir, "student.py"), "w") as f:
    f.write("import numpy as np, numpy.polynomial, numpy.fft, numpy.random\\n"
            "def run():\\n"
            "    a = np.random.default_rng(0).normal(size=(5, 5)) + 5 * np.eye(5)\\n"
            "    x = np.linalg.solve(a, np.ones(5))\\n"
            "    return float(abs(a @ x - 1).max() + numpy.fft.fft(x).real[0] * 0)\\n")
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.setsid(); os.chdir(workdir); sys.path.insert(0, workdir)
    out = {"preloaded": preloaded}
    try:
        limits = isolation.Limits()
        out["layers"] = isolation.apply_isolation(workdir, limits=limits, capabilities=caps)
        import student
        out["residual"] = student.run()
        for path in sys.argv[3:]:
            try:
                open(path).close()
                out[path] = "readable"
            except PermissionError:
                out[path] = "denied"
    except BaseException as exc:
        out["error"] = repr(exc)
    os.write(w, json.dumps(out).encode())
    os._exit(0)
os.close(w)
data = b"".join(iter(lambda: os.read(r, 65536), b""))
os.waitpid(pid, 0)
print(data.decode())
"""


def test_fresh_zygote_lazy_imports_and_hidden_repo(tmp_path: Path) -> None:
    """Like the real zygote: fresh interpreter, minimal env, run from the repo root with the repo
    on sys.path; numpy submodules first imported by the student after isolation."""
    require(landlock_abi=1)
    caps = json.dumps({"landlock_abi": CAPS.landlock_abi, "seccomp": CAPS.seccomp, "reasons": []})
    secrets = [str(REPO / "pyproject.toml"), isolation.__file__]
    workdir = tmp_path / "work"
    workdir.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", ZYGOTE, caps, str(workdir), *secrets],
        env=minimal_env({"PYTHONPATH": str(REPO)}),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout.strip(), proc.stderr
    out = json.loads(proc.stdout)
    assert "error" not in out, out
    assert out["preloaded"] == [] and out["residual"] < 1e-9
    assert all(out[path] == "denied" for path in secrets), out


# --- filesystem ------------------------------------------------------------------------------


def test_reads_and_writes_inside_the_workdir(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "data.txt").write_text("mine")

    def action(wd: str) -> list[Any]:
        os.mkdir("sub")
        with open("sub/out.txt", "w") as f:
            f.write("written")
        if CAPS.landlock_abi == 1:  # ABI 1 refuses every cross-directory rename (no REFER)
            shutil.copy("sub/out.txt", "moved.txt")
        else:
            os.rename("sub/out.txt", "moved.txt")
        fd, name = tempfile.mkstemp()  # TMPDIR now points into the workdir
        os.close(fd)
        return [Path("data.txt").read_text(), Path("moved.txt").read_text(), name.startswith(wd)]

    outcome = run_isolated(action, tmp_path)
    assert outcome.error is None and outcome.value == ["mine", "written", True], outcome


def _secret_file(tmp_path: Path) -> str:
    secret = tmp_path / "instructor" / "solution.py"
    secret.parent.mkdir()
    secret.write_text("ANSWER = 42\n")
    return str(secret)


READS = {
    "secret-outside-workdir": _secret_file,
    "etc-passwd": lambda tmp_path: "/etc/passwd",
    "repo-pyproject": lambda tmp_path: str(REPO / "pyproject.toml"),
    "repo-solutions-dir": lambda tmp_path: str(REPO / "solutions"),
}


@pytest.mark.parametrize("target", READS.values(), ids=READS.keys())
def test_reads_outside_are_denied(tmp_path: Path, target: Callable[[Path], str]) -> None:
    require(landlock_abi=1)
    path = target(tmp_path)
    read = os.listdir if os.path.isdir(path) else lambda p: Path(p).read_text()
    assert_denied(run_isolated(lambda wd: read(path), tmp_path))


@pytest.mark.parametrize("directory", ["/tmp", "/dev/shm"])
def test_writes_outside_are_denied(tmp_path: Path, directory: str) -> None:
    require(landlock_abi=1)
    path = os.path.join(directory, f"grader-isolation-test-{os.getpid()}")
    assert_denied(run_isolated(lambda wd: Path(path).write_text("x"), tmp_path))
    assert not os.path.exists(path)


LINKS = {
    "symlink": lambda wd: os.symlink("/etc/passwd", "stdout.txt"),
    "fifo": lambda wd: os.mkfifo("stdout.txt"),
}


@pytest.mark.parametrize("action", LINKS.values(), ids=LINKS.keys())
def test_no_symlinks_or_fifos_in_the_workdir(tmp_path: Path, action: Callable[[str], Any]) -> None:
    require(landlock_abi=1)
    assert_denied(run_isolated(action, tmp_path, capabilities=LANDLOCK_ONLY))


# --- network ---------------------------------------------------------------------------------


def test_tcp_connect_denied_by_landlock(tmp_path: Path, listener: int) -> None:
    require(landlock_abi=4)
    action = lambda wd: socket.create_connection(("127.0.0.1", listener), timeout=2).close()  # noqa: E731
    assert_denied(run_isolated(action, tmp_path, capabilities=LANDLOCK_ONLY))


SOCKETS = {
    "tcp": lambda wd: socket.socket(socket.AF_INET, socket.SOCK_STREAM),
    "udp": lambda wd: socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
    "udp6": lambda wd: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM),
    "unix": lambda wd: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM),
    "socketpair": lambda wd: socket.socketpair(),
}


@pytest.mark.parametrize("action", SOCKETS.values(), ids=SOCKETS.keys())
def test_sockets_denied_by_seccomp(tmp_path: Path, action: Callable[[str], Any]) -> None:
    require(seccomp=True)
    assert_denied(run_isolated(action, tmp_path, capabilities=SECCOMP_ONLY))


# --- processes -------------------------------------------------------------------------------


PROCESS_ACTIONS = {
    "fork": lambda wd: os.fork(),
    "subprocess": lambda wd: subprocess.run(["true"]),
}


@pytest.mark.parametrize("action", PROCESS_ACTIONS.values(), ids=PROCESS_ACTIONS.keys())
def test_no_new_processes(tmp_path: Path, action: Callable[[str], Any]) -> None:
    require(seccomp=True)
    assert_denied(run_isolated(action, tmp_path), "BlockingIOError")


def _unshare(flags: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


SECCOMP_DENIES = {
    "exec": lambda wd: os.execv("/bin/true", ["true"]),
    "setsid": lambda wd: os.setsid(),  # would leave the process group the parent kills
    # Sets the parent's own value (a no-op if it got through): same uid, so only seccomp stops it.
    "prlimit-parent": lambda wd: resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE, NOFILE),
    "unshare": lambda wd: _unshare(0x10000000),  # CLONE_NEWUSER: allowed unprivileged
}


@pytest.mark.parametrize("action", SECCOMP_DENIES.values(), ids=SECCOMP_DENIES.keys())
def test_seccomp_denies(tmp_path: Path, action: Callable[[str], Any]) -> None:
    require(seccomp=True)
    outcome = run_isolated(action, tmp_path, capabilities=SECCOMP_ONLY)
    assert_denied(outcome)


@pytest.mark.parametrize(
    "layer", ["landlock", "seccomp"], ids=["landlock-scope", "seccomp-kill-rule"]
)
def test_cannot_signal_the_parent(tmp_path: Path, layer: str) -> None:
    if layer == "landlock":
        require(landlock_abi=6)
    else:
        require(seccomp=True)
    caps = LANDLOCK_ONLY if layer == "landlock" else SECCOMP_ONLY
    own_then_parent = lambda wd: (os.kill(os.getpid(), 0), os.kill(os.getppid(), 0))  # noqa: E731
    assert_denied(run_isolated(own_then_parent, tmp_path, capabilities=caps))


# --- resource limits -------------------------------------------------------------------------


def test_memory_limit(tmp_path: Path) -> None:
    outcome = run_isolated(lambda wd: np.ones(2**28).sum(), tmp_path)  # 2 GiB under 1 GiB
    assert_denied(outcome, "MemoryError", "_ArrayMemoryError")


def test_file_size_limit(tmp_path: Path) -> None:
    def action(wd: str) -> None:
        with open("big.bin", "wb") as f:
            f.write(b"x" * (2 << 20))

    outcome = run_isolated(action, tmp_path, limits=Limits(file_bytes=1 << 20))
    assert outcome.error == "OSError" and outcome.errno == errno.EFBIG, outcome
    assert (tmp_path / "work" / "big.bin").stat().st_size == 1 << 20


def test_cpu_limit_kills(tmp_path: Path) -> None:
    def spin(wd: str) -> None:
        while True:
            pass

    outcome = run_isolated(spin, tmp_path, limits=Limits(cpu_seconds=1))
    assert outcome.signal == signal.SIGKILL, outcome


def _capabilities_left(wd: str) -> list[int]:
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable; two 32-bit words
    if ctypes.CDLL(None, use_errno=True).capget(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    return list(data)


def test_root_drops_every_capability(tmp_path: Path) -> None:
    if not IS_ROOT:
        pytest.skip("not root: no capabilities to drop")
    nothing = Capabilities(landlock_abi=0, seccomp=False, reasons=())
    outcome = run_isolated(_capabilities_left, tmp_path, capabilities=nothing)
    assert outcome.layers == ("rlimits", "caps") and outcome.value == [0] * 6, outcome
    # so the rlimits stay (this VM's root lacks CAP_SYS_RESOURCE anyway; most roots have it)
    infinity = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
    raise_as = lambda wd: resource.setrlimit(resource.RLIMIT_AS, infinity)  # noqa: E731
    assert run_isolated(raise_as, tmp_path, capabilities=nothing).error == "ValueError"


# --- the precompiled filter (compiled once by the runner, pid patched in by each child) -------


PRECOMPILED_DENIES = {
    **SECCOMP_DENIES,
    **SOCKETS,
    **PROCESS_ACTIONS,
    "kill-parent": lambda wd: (os.kill(os.getpid(), 0), os.kill(os.getppid(), 0)),
}


@pytest.mark.parametrize("action", PRECOMPILED_DENIES.values(), ids=PRECOMPILED_DENIES.keys())
def test_precompiled_filter_denies_the_same(tmp_path: Path, action: Callable[[str], Any]) -> None:
    require(seccomp=True)
    program = compile_seccomp()
    outcome = run_isolated(action, tmp_path, capabilities=SECCOMP_ONLY, seccomp_program=program)
    forks = action in PROCESS_ACTIONS.values()
    assert_denied(outcome, *(("BlockingIOError",) if forks else ()))


def test_precompiled_filter_keeps_numpy_and_threads_working(tmp_path: Path) -> None:
    require(seccomp=True)
    outcome = run_isolated(
        _threads_and_blas, tmp_path, capabilities=CAPS, seccomp_program=compile_seccomp()
    )
    assert outcome.error is None, outcome.message
    assert outcome.value == [3.0, 3.0, 3.0, 3.0, 1.0]


# --- the prepared confinement (the runner prepares once, each child applies) -----------------


def _open_descriptors() -> set[int]:
    open_now = set()
    for fd in range(256):  # /proc is out of reach once confined: probe instead
        try:
            os.fstat(fd)
        except OSError:
            continue
        open_now.add(fd)
    return open_now


_FDS: set[int] = set()


def _remember_descriptors() -> None:
    _FDS.update(_open_descriptors())


def _new_descriptors(wd: str) -> list[int]:
    """Descriptors open now that were not before the confinement was prepared."""
    return sorted(_open_descriptors() - _FDS)


PREPARED_DENIES = {
    "read-secret": lambda wd: Path(wd).parent.joinpath("instructor-secret.txt").read_text(),
    "write-tmp": lambda wd: Path(f"/tmp/grader-isolation-test-{os.getpid()}").write_text("x"),
    **SOCKETS,
    "kill-parent": lambda wd: os.kill(os.getppid(), 0),
    **PROCESS_ACTIONS,
}


def test_prepared_confinement_reports_the_same_layers(tmp_path: Path) -> None:
    outcome = run_isolated(lambda wd: None, tmp_path, prepared=True)
    assert outcome.error is None, outcome
    assert outcome.layers == expected_layers(CAPS)


@pytest.mark.parametrize("action", PREPARED_DENIES.values(), ids=PREPARED_DENIES.keys())
def test_prepared_confinement_denies_the_same(tmp_path: Path, action: Callable[[str], Any]) -> None:
    require(landlock_abi=1, seccomp=True)
    (tmp_path / "instructor-secret.txt").write_text("ANSWER = 42\n")
    outcome = run_isolated(action, tmp_path, prepared=True)
    forks = action in PROCESS_ACTIONS.values()
    assert_denied(outcome, *(("BlockingIOError",) if forks else ()))
    assert not list(Path("/tmp").glob(f"grader-isolation-test-{os.getpid()}"))


def test_prepared_confinement_closes_its_descriptors(tmp_path: Path) -> None:
    """The Landlock rules travel to the child as open O_PATH descriptors; none stays open for
    student code to use."""
    require(landlock_abi=1)
    outcome = run_isolated(_new_descriptors, tmp_path, prepared=True, before=_remember_descriptors)
    assert outcome.error is None, outcome
    assert outcome.value == [], outcome.value
