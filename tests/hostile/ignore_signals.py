"""Hostile: ignore and block every catchable signal at import, then sleep forever in grad_W,
swallowing any exception (a sleeping loop uses no CPU, so only a wall-clock deadline stops it).

Guarantee: grad_W still times out (SIGKILL cannot be caught); the other parts pass.
"""

import contextlib
import signal
import time

_SIGNALS = (
    signal.SIGTERM,
    signal.SIGINT,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGXCPU,
    signal.SIGALRM,
    signal.SIGUSR1,
    signal.SIGUSR2,
)
for _sig in _SIGNALS:
    signal.signal(_sig, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)


def grad_W(W, x):
    while True:
        with contextlib.suppress(BaseException):
            time.sleep(3600)
