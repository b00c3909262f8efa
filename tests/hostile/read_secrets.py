"""Hostile: read what the grader must keep: a secret file outside the workdir, the reference
solutions, the assignment folder, the grader's own source, the grader's environment, the
other submissions being graded next to this one.

Guarantee (Landlock): every read fails, so those parts fail, and the secret never reaches the
report. A part returns the right answer only if its read succeeded.
"""

import json
import os
import sys

_honest = globals().copy()


def _config():
    with open("hostile_config.json", encoding="utf-8") as handle:
        return json.load(handle)


def grad_W(W, x):
    with open(_config()["secret_file"], encoding="utf-8") as handle:
        secret = handle.read()
    print(secret)
    raise RuntimeError(f"leaked: {secret}")


def grad_W_via_a(W, x):
    path = _config()["solutions"] + "/autoencoder.py"
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    namespace = {}
    exec(compile(source, path, "exec"), namespace)
    return namespace["grad_W_via_a"](W, x)


def grad_W_via_b(W, x):
    siblings = os.listdir(os.path.dirname(os.getcwd()))  # other submissions' workdirs
    print(siblings)
    return _honest["grad_W_via_b"](W, x)


def grad_a(W, x):
    with open(_config()["assignment"] + "/assignment.yaml", encoding="utf-8") as handle:
        print(handle.read())  # the seed regenerates the hidden cases
    return _honest["grad_a"](W, x)


def grad_b(W, x):
    source = os.path.join(os.path.dirname(sys.modules["grader"].__file__), "reference.py")
    with open(source, encoding="utf-8") as handle:
        print(handle.read())
    return _honest["grad_b"](W, x)


def grad_c(W, x):
    with open(f"/proc/{_config()['grader_pid']}/environ", "rb") as handle:
        print(handle.read())
    return _honest["grad_c"](W, x)
