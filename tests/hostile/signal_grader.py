"""Hostile: signal the processes above it: SIGKILL to the sandbox runner (the parent), SIGUSR1
to the grader (by pid, and through a pidfd).

Guarantee (seccomp, or Landlock ABI >= 6 scoping): every signal is refused, so those parts
fail, the grader and runner live on (the test checks the grader received nothing), the other
parts pass. A part returns the right answer only if its signal was delivered.
"""

import json
import os
import signal

_honest = globals().copy()


def _config():
    with open("hostile_config.json", encoding="utf-8") as handle:
        return json.load(handle)


def grad_W(W, x):
    os.kill(os.getppid(), signal.SIGKILL)
    return _honest["grad_W"](W, x)


def grad_W_via_a(W, x):
    os.kill(_config()["grader_pid"], signal.SIGUSR1)
    return _honest["grad_W_via_a"](W, x)


def grad_W_via_b(W, x):
    fd = os.pidfd_open(_config()["grader_pid"])
    try:
        signal.pidfd_send_signal(fd, signal.SIGUSR1)
    finally:
        os.close(fd)
    return _honest["grad_W_via_b"](W, x)
