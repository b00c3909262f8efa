"""Containment, end to end: hostile submissions graded through ``grader.grading.grade``.

Each file in tests/hostile/ attacks one behaviour (an infinite loop, a fork bomb, a read of the
reference solutions, a forged result frame...). It is appended to a correct Q1 or Q2 file
(tests/hostile/base_*.py, every part written independently), so a submission is right
everywhere it does not attack, and "the other parts keep their credit" can be asserted. The
attacked parts are written to return the right answer only if the attack got through, so a
contained attack shows as a failing part whose message names the refusal.

Speed: every submission is graded in ONE call (the session fixture ``batch``) on a copy of the
assignment with a short time_limit; each test reads its results. A hostile case whose containing
layer is missing on this machine is not even run (a fork bomb without seccomp would be a real
fork bomb); its tests skip with the reason ``isolation.probe()`` gave.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import socket
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from grader.grading import grade
from grader.harness import MAX_ELEMENTS
from grader.isolation import probe
from grader.reports.native import to_dict
from grader.results import SubmissionResult
from grader.zygote import TAIL_BYTES
from tests.conftest import EXAMPLES, SOLUTIONS

HOSTILE = Path(__file__).resolve().parent / "hostile"
CAPS = probe()
IS_ROOT = os.geteuid() == 0

AUTOENCODER_PARTS = ("loss", "grad_c", "grad_b", "grad_a", "grad_W_via_b", "grad_W_via_a", "grad_W")
GPLVM_PARTS = (
    "log_likelihood",
    "grad_K",
    "grad_X_logdet",
    "grad_X_trace",
    "grad_X",
    "grad_alpha",
    "grad_beta",
)

# Messages that prove a layer refused (rather than, say, a network that happens to be down).
EACCES = r"PermissionError: \[Errno 13\]"
EPERM = r"PermissionError: \[Errno 1\]"
EAGAIN = r"BlockingIOError: \[Errno 11\]"
LINGER = "31.4159"  # the sleep argument fork_bomb.py uses: a surviving process shows it
PROCESS_NAMES = ("hostile-fork", "hostile-daemon")  # PR_SET_NAME in fork_bomb.py, daemon.py


def missing(*, landlock_abi: int = 0, seccomp: bool = False, any_of: bool = False) -> str:
    """Why the layers a case relies on are unavailable ("" when they are all there).

    ``any_of``: either layer is enough (Landlock ABI >= 4 and seccomp both stop TCP)."""
    reasons = []
    if landlock_abi and CAPS.landlock_abi < landlock_abi:
        found = [r for r in CAPS.reasons if r.startswith("Landlock")]
        reasons += found or [f"Landlock ABI {CAPS.landlock_abi} < {landlock_abi}"]
    if seccomp and not CAPS.seccomp:
        reasons += [r for r in CAPS.reasons if r.startswith("seccomp")]
    have_one = (landlock_abi and CAPS.landlock_abi >= landlock_abi) or (seccomp and CAPS.seccomp)
    if any_of and have_one:
        return ""
    return "; ".join(reasons)


@dataclass(frozen=True, slots=True)
class Hostile:
    """One file of tests/hostile/: the module it is appended to, and for each part it attacks
    the statuses it may end with and a regex its feedback must match."""

    target: str
    attacks: Mapping[str, tuple[tuple[str, ...], str]]
    needs: str = ""  # why a layer this case relies on is missing ("": all present)


def _attacks(statuses: tuple[str, ...], message: str, *parts: str) -> dict[str, Any]:
    return dict.fromkeys(parts, (statuses, message))


CASES: dict[str, Hostile] = {
    "loop": Hostile("autoencoder", {"grad_W": (("timeout",), "time limit")}),
    "ignore_signals": Hostile("autoencoder", {"grad_W": (("timeout",), "time limit")}),
    "memory_bomb": Hostile(
        "autoencoder",
        _attacks(("memory",), "MemoryError", "grad_W", "grad_W_via_a", "grad_W_via_b"),
    ),
    "fork_bomb": Hostile(
        "autoencoder",
        _attacks(("error",), EAGAIN, "grad_W", "grad_W_via_a", "grad_W_via_b", "grad_a"),
        needs=missing(seccomp=True),
    ),
    "daemon": Hostile(
        "autoencoder",
        {
            "grad_W": (("error",), EAGAIN),
            "grad_W_via_a": (("error",), EAGAIN),
        },
        needs=missing(seccomp=True),
    ),
    "exits": Hostile(
        "autoencoder",
        {
            "grad_c": (("exited",), "exited with status 3"),
            "grad_b": (("error",), "SystemExit"),
            "grad_a": (("error",), "KeyboardInterrupt"),
            "grad_W_via_b": (("crashed",), "SIGABRT"),
            "grad_W": (("crashed",), "SIGSEGV"),
        },
    ),
    "exit_import_os": Hostile(
        "autoencoder", _attacks(("exited",), "exited with status 0", *AUTOENCODER_PARTS)
    ),
    "exit_import_sys": Hostile(
        "gplvm", _attacks(("import_error",), "refuses to be imported", *GPLVM_PARTS)
    ),
    "read_secrets": Hostile(
        "autoencoder",
        _attacks(
            ("error",),
            EACCES,
            "grad_W",
            "grad_W_via_a",
            "grad_W_via_b",
            "grad_a",
            "grad_b",
            "grad_c",
        ),
        needs=missing(landlock_abi=1),
    ),
    "find_solutions": Hostile(
        "gplvm",
        {
            "grad_X": (("error",), "ModuleNotFoundError: No module named 'solutions'"),
            "grad_K": (("error",), "no reference solutions found on disk"),
            "grad_alpha": (("error",), "ModuleNotFoundError: No module named 'grader.reference'"),
            "grad_beta": (("error",), "ModuleNotFoundError: No module named 'ref_gplvm'"),
        },
        needs=missing(landlock_abi=1),
    ),
    "write_outside": Hostile(
        "autoencoder",
        _attacks(
            ("error",),
            EACCES,
            "grad_W",
            "grad_W_via_a",
            "grad_W_via_b",
            "grad_a",
            "grad_b",
            "grad_c",
        ),
        needs=missing(landlock_abi=1),
    ),
    "tamper_reports": Hostile(
        "gplvm",
        _attacks(("error",), EACCES, "grad_X", "grad_K", "grad_alpha"),
        needs=missing(landlock_abi=1),
    ),
    "sockets_tcp": Hostile(
        "autoencoder",
        _attacks(("error",), EACCES, "grad_W", "grad_W_via_a", "grad_W_via_b"),
        needs=missing(landlock_abi=4, seccomp=True, any_of=True),
    ),
    "sockets_other": Hostile(
        "autoencoder",
        _attacks(("error",), EACCES, "grad_W", "grad_W_via_a", "grad_W_via_b", "grad_a", "grad_c"),
        needs=missing(seccomp=True),
    ),
    "patch_numpy": Hostile(
        "autoencoder", _attacks(("wrong_value",), "wrong values", "grad_W", "grad_W_via_a")
    ),
    "patch_harness": Hostile(
        "autoencoder",
        {
            "grad_W": (("error", "crashed"), "ValueError"),
            "grad_W_via_a": (("wrong_value",), "wrong values"),
            "grad_W_via_b": (("error", "crashed"), "grader.scoring"),
        },
    ),
    "forge_frames": Hostile(
        "gplvm",
        {
            "grad_K": (("crashed",), "cannot read"),
            "grad_X": (("crashed",), "cannot read"),
            "grad_alpha": (("crashed",), "cannot read"),
            "grad_beta": (("wrong_value",), "wrong values"),
        },
    ),
    "fake_output": Hostile("autoencoder", {"grad_W": (("wrong_value",), "wrong values")}),
    "stdout_flood": Hostile(
        "autoencoder",
        _attacks(("error",), r"OSError: \[Errno 27\] File too large", "grad_W", "grad_W_via_a"),
    ),
    "huge_return": Hostile(
        "autoencoder",
        {
            "grad_W": (("memory", "wrong_type"), "MemoryError|more than"),
            "grad_W_via_a": (("wrong_type",), f"more than the {MAX_ELEMENTS} allowed"),
            "grad_W_via_b": (("crashed",), "too large or corrupt"),
        },
    ),
    "run_commands": Hostile(
        "autoencoder",
        {
            "loss": (("wrong_type",), r"os.system\('true'\) returned"),
            "grad_W": (("wrong_type",), r"os.system\('true'\) returned"),
            "grad_W_via_a": (("error",), EACCES),
            "grad_W_via_b": (("error",), EAGAIN),
            "grad_a": (("error",), r"os.system\('true'\) returned"),
        },
        needs=missing(seccomp=True),
    ),
    "signal_grader": Hostile(
        "autoencoder",
        _attacks(("error",), EPERM, "grad_W", "grad_W_via_a", "grad_W_via_b"),
        needs=missing(landlock_abi=6, seccomp=True, any_of=True),
    ),
    "renice_grader": Hostile(
        "autoencoder",
        _attacks(("error",), EPERM, "grad_a", "grad_b", "grad_c"),
        needs=missing(seccomp=True),
    ),
    "deep_tree": Hostile("autoencoder", {}),
    "metadata": Hostile(
        "autoencoder",
        _attacks(
            ("error",),
            "PermissionError",
            "grad_W",
            "grad_W_via_a",
            "grad_W_via_b",
            "grad_a",
            "grad_b",
            "grad_c",
        ),
        needs=missing(seccomp=True),
    ),
    "lazy_threads": Hostile("gplvm", {}),
    "copies_files": Hostile("autoencoder", {}, needs=missing(seccomp=True)),
    "fill_folder": Hostile(
        "autoencoder",
        {
            "grad_W": (("crashed",), "more than 256 MiB of files"),
            "grad_W_via_a": (("crashed",), "more than 20000 files and folders"),
        },
    ),
}
RUN = [name for name, case in CASES.items() if not case.needs]


def require(name: str) -> None:
    if CASES[name].needs:
        pytest.skip(CASES[name].needs)


# --------------------------------------------------------------------------- the batch


@dataclass
class Batch:
    results: dict[str, SubmissionResult]
    out: Path
    root: Path
    config: dict[str, Any]
    secret: str
    finished: float  # time.monotonic() when grade() returned
    rss_growth_mib: float  # this process's peak RSS growth during grade()
    tcp: socket.socket
    udp: socket.socket
    unix: socket.socket
    abstract: socket.socket
    signals: list[int] = field(default_factory=list)

    def part(self, name: str, function: str) -> Any:
        return next(p for p in self.results[name].parts if p.function == function)

    def report_text(self, name: str) -> str:
        return (self.out / f"{name}.json").read_text(encoding="utf-8")


def _listeners(config: dict[str, Any], short_dir: Path) -> tuple[socket.socket, ...]:
    tcp = socket.create_server(("127.0.0.1", 0))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(str(short_dir / "s"))  # sun_path holds 108 bytes: tmp_path may be longer
    unix.listen()
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract.bind("\0" + config["abstract_name"])
    abstract.listen()
    for sock in (tcp, udp, unix, abstract):
        sock.setblocking(False)
    config.update(
        tcp_port=tcp.getsockname()[1],
        udp_port=udp.getsockname()[1],
        unix_path=str(short_dir / "s"),
    )
    return tcp, udp, unix, abstract


def _build(name: str, case: Hostile, folder: Path, config: dict[str, Any]) -> Path:
    """A submission folder: base_autoencoder.py / base_gplvm.py, the hostile file appended to
    its target, and hostile_config.json (paths and ports the attack aims at)."""
    folder.mkdir(parents=True)
    for module in ("autoencoder", "gplvm"):
        text = (HOSTILE / f"base_{module}.py").read_text(encoding="utf-8")
        if module == case.target:
            text += "\n\n# ---- appended: tests/hostile/" + name + ".py ----\n"
            text += (HOSTILE / f"{name}.py").read_text(encoding="utf-8")
        (folder / f"{module}.py").write_text(text, encoding="utf-8")
    (folder / "hostile_config.json").write_text(
        json.dumps({**config, "source": str(folder)}), encoding="utf-8"
    )
    if name == "find_solutions":  # symlinks are never copied into the sandbox
        (folder / "ref_gplvm.py").symlink_to(SOLUTIONS / "gplvm.py")
    return folder


@pytest.fixture(scope="session")
def batch(tmp_path_factory: pytest.TempPathFactory, fast_assignment: Path) -> Iterator[Batch]:
    root = tmp_path_factory.mktemp("sandbox")
    token = uuid.uuid4().hex[:12]
    secret = f"SECRET-{uuid.uuid4().hex}"
    (root / "secret.txt").write_text(secret, encoding="utf-8")
    markers = root / "markers"
    markers.mkdir()
    victim = root / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    victim.chmod(0o600)
    out = root / "reports"
    out.mkdir()
    (out / "pre_existing.json").write_text('{"score": 0.0}', encoding="utf-8")
    config: dict[str, Any] = {
        "token": token,
        "secret_file": str(root / "secret.txt"),
        "victim": str(victim),
        "markers": str(markers),
        "out": str(out),
        "solutions": str(SOLUTIONS),
        "assignment": str(fast_assignment),
        "grader_pid": os.getpid(),
        "abstract_name": f"hostile-{token}",
    }
    short_dir = Path(tempfile.mkdtemp(prefix="hostile-"))
    sockets = _listeners(config, short_dir)
    received: list[int] = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: received.append(signum))
    submissions = [EXAMPLES / "correct"]
    submissions += [_build(n, CASES[n], root / "submissions" / n, config) for n in RUN]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        results = grade(fast_assignment, submissions, out=out, formats=("json",))
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        yield Batch(
            results={r.submission: r for r in results},
            out=out,
            root=root,
            config=config,
            secret=secret,
            finished=time.monotonic(),
            rss_growth_mib=(rss_after - rss_before) / 1024,
            tcp=sockets[0],
            udp=sockets[1],
            unix=sockets[2],
            abstract=sockets[3],
            signals=received,
        )
    finally:
        signal.signal(signal.SIGUSR1, previous)
        for sock in sockets:
            sock.close()
        shutil.rmtree(short_dir, ignore_errors=True)
        for where in ("/tmp", "/dev/shm", "/var/tmp"):  # only there if a test failed
            Path(where, f"hostile-{token}").unlink(missing_ok=True)


def expected_layers() -> tuple[str, ...]:
    return (
        "rlimits",
        *(["landlock"] if CAPS.landlock_abi else []),
        *(["caps"] if IS_ROOT else []),
        *(["seccomp"] if CAPS.seccomp else []),
    )


# --------------------------------------------------------------------------- every case


@pytest.mark.parametrize("name", CASES)
def test_attacked_parts_fail_with_a_clear_status(batch: Batch, name: str) -> None:
    require(name)
    for function, (statuses, message) in CASES[name].attacks.items():
        part = batch.part(name, function)
        assert part.status in statuses, f"{name}.{function}: {part.status}\n{part.feedback}"
        assert part.score == 0.0
        evidence = part.feedback + "\n" + "\n".join(c.message for c in part.cases)
        assert re.search(message, evidence), f"{name}.{function}: {evidence}"


@pytest.mark.parametrize("name", CASES)
def test_the_other_parts_keep_their_credit(batch: Batch, name: str) -> None:
    require(name)
    result = batch.results[name]
    attacked = CASES[name].attacks
    for part in result.parts:
        if part.function not in attacked:
            assert part.passed and part.score == part.max_score, (
                f"{name}.{part.function}: {part.status}\n{part.feedback}"
            )
    assert result.status == "graded"
    assert result.score == result.max_score - sum(
        p.max_score for p in result.parts if p.function in attacked
    )


def test_every_submission_is_graded_and_records_its_layers(batch: Batch) -> None:
    assert set(batch.results) == {"correct", *RUN}
    warnings = tuple(f"isolation: {reason}" for reason in CAPS.reasons)
    for name, result in batch.results.items():
        assert result.status == "graded", (name, result.error)
        assert result.isolation == expected_layers(), name
        assert result.warnings == warnings, name


def test_correct_submissions_earn_full_marks_in_the_sandbox(batch: Batch) -> None:
    for name in ("correct", "lazy_threads"):
        result = batch.results[name]
        assert result.score == result.max_score == 20.0, [
            (p.function, p.status) for p in result.parts if not p.passed
        ]


# --------------------------------------------------------------------------- specific guarantees


def test_secrets_never_reach_any_report(batch: Batch) -> None:
    require("read_secrets")
    for name, result in batch.results.items():
        assert batch.secret not in json.dumps(to_dict(result)), name
        assert batch.secret not in batch.report_text(name), name
    solution_line = (SOLUTIONS / "autoencoder.py").read_text(encoding="utf-8").splitlines()[0]
    assert solution_line not in batch.report_text("read_secrets")


def test_nothing_is_written_outside_the_workdir(batch: Batch) -> None:
    require("write_outside")
    token = batch.config["token"]
    assert list(Path(batch.config["markers"]).iterdir()) == []
    for where in ("/tmp", "/dev/shm", "/var/tmp"):
        assert not Path(where, f"hostile-{token}").exists(), where
    assert not (batch.root / "submissions" / "write_outside" / "planted.py").exists()


def test_files_outside_keep_their_metadata(batch: Batch) -> None:
    require("metadata")
    victim = Path(batch.config["victim"])
    info = victim.stat()
    assert (info.st_mode & 0o7777, victim.read_text(encoding="utf-8")) == (0o600, "precious")
    assert info.st_mtime > 0 and os.listxattr(victim) == []


def test_no_connection_is_made(batch: Batch) -> None:
    require("sockets_tcp")
    with pytest.raises(BlockingIOError):
        batch.tcp.accept()
    require("sockets_other")
    with pytest.raises(BlockingIOError):
        batch.udp.recvfrom(1024)
    with pytest.raises(BlockingIOError):
        batch.unix.accept()
    with pytest.raises(BlockingIOError):
        batch.abstract.accept()


def _lingering() -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            comm = (proc / "comm").read_text().strip()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if comm in PROCESS_NAMES or LINGER in cmdline:
            found.append(f"{proc.name}: {comm} {cmdline}")
    return found


def test_no_process_outlives_grading(batch: Batch) -> None:
    require("fork_bomb")
    require("daemon")
    assert _lingering() == []
    # The daemon would write its marker 1.5 s after starting; wait that long past grading.
    time.sleep(max(0.0, batch.finished + 2.0 - time.monotonic()))
    assert not Path(batch.config["markers"], "daemon").exists()
    assert _lingering() == []


def test_nothing_runs_in_the_grader(batch: Batch) -> None:
    require("run_commands")
    assert not Path(batch.config["markers"], "run_commands-reduce").exists()
    assert list(Path(batch.config["markers"]).iterdir()) == []


def test_the_grader_and_runner_are_not_signalled(batch: Batch) -> None:
    require("signal_grader")
    assert batch.signals == []
    # SIGKILL to the runner would have ended the batch: every submission was graded instead.
    assert all(r.status == "graded" for r in batch.results.values())


def test_reports_on_disk_are_the_graders_own(batch: Batch) -> None:
    require("tamper_reports")
    assert (batch.out / "pre_existing.json").read_text(encoding="utf-8") == '{"score": 0.0}'
    names = {p.name for p in batch.out.iterdir()}
    expected = {f"{n}.json" for n in batch.results} | {"pre_existing.json"}
    assert expected <= names, names - expected
    for name, result in batch.results.items():
        on_disk = json.loads(batch.report_text(name))
        assert on_disk == json.loads(json.dumps(to_dict(result))), name


def test_forged_frames_change_nothing_but_their_own_numbers(batch: Batch) -> None:
    result = batch.results["forge_frames"]
    honest = batch.results["correct"]
    assert result.isolation == honest.isolation
    assert result.warnings == honest.warnings
    assert "FORGED" not in batch.report_text("forge_frames")
    # grad_c's honest result, sent before the forged one, stands.
    assert batch.part("forge_frames", "log_likelihood").passed


def test_fake_output_is_only_ever_text(batch: Batch) -> None:
    result = batch.results["fake_output"]
    assert result.score == 18.0
    assert '"score": 20.0' in result.stdout and "fake_output  20/20" in result.stdout
    assert '"printed_on": "stdout"' in result.stdout  # stdout is shown as text, stderr is not
    assert '"printed_on": "stderr"' not in batch.report_text("fake_output")
    assert "FORGED-LAYER" not in result.isolation
    report = json.loads(batch.report_text("fake_output"))
    assert report["score"] == 18.0 and report["stdout"] == result.stdout


def test_output_floods_are_capped(batch: Batch) -> None:
    result = batch.results["stdout_flood"]
    assert len(result.stdout) <= TAIL_BYTES
    assert len(batch.report_text("stdout_flood")) < 200_000


def test_the_graders_memory_stays_flat(batch: Batch) -> None:
    """huge_return.py returns 800 MB and 40 MB results; memory_bomb.py allocates 16 GiB. (This
    process's peak RSS is a high-water mark: growth is measured above whatever earlier tests
    reached, so run this file alone for a strict reading.)"""
    assert batch.rss_growth_mib < 200, f"grader peak RSS grew {batch.rss_growth_mib:.0f} MiB"
