"""Hostile: run shell commands: return an object whose __reduce__ (pickle), __array__ and
__float__ run os.system; os.execv; subprocess; os.system.

Guarantee (seccomp): nothing runs in the child (fork and exec are denied) and nothing runs in
the grader (it never unpickles; __reduce__'s marker never appears); those parts fail, the
others pass. A part returns the right answer only if its command ran.
"""

import json
import os
import subprocess

import numpy as np

_honest = globals().copy()


def _config():
    with open("hostile_config.json", encoding="utf-8") as handle:
        return json.load(handle)


def _system(command):
    status = os.system(command)
    if status != 0:
        raise RuntimeError(f"os.system({command!r}) returned {status}")


class Payload:
    def __init__(self, value, marker):
        self.value = value
        self.marker = marker

    def __reduce__(self):  # runs wherever this object is unpickled
        return (os.system, (f"touch {self.marker}-reduce",))

    def __array__(self, dtype=None, copy=None):
        _system("true")
        return np.asarray(self.value, dtype=dtype)

    def __float__(self):
        _system("true")
        return float(self.value)


def grad_W(W, x):
    return Payload(_honest["grad_W"](W, x), _config()["markers"] + "/run_commands")


def loss(W, x):
    return Payload(_honest["loss"](W, x), _config()["markers"] + "/run_commands")


def grad_W_via_a(W, x):
    os.execv("/bin/sh", ["sh", "-c", "exit 0"])


def grad_W_via_b(W, x):
    subprocess.run(["/bin/true"], check=True)
    return _honest["grad_W_via_b"](W, x)


def grad_a(W, x):
    _system("true")
    return _honest["grad_a"](W, x)
