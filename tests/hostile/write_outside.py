"""Hostile: write files outside the private workdir: next to the test (tmp_path), in /tmp,
/dev/shm, /var/tmp, in the runner's folder of workdirs, and into the submission's own source
folder (to plant code for the next run).

Guarantee (Landlock): every write fails and no file appears; those parts fail, the others
pass. A part returns the right answer only if its write succeeded.
"""

import json
import os

_honest = globals().copy()


def _config():
    with open("hostile_config.json", encoding="utf-8") as handle:
        return json.load(handle)


def _write(path):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("written by a sandboxed submission")


def grad_W(W, x):
    _write(_config()["markers"] + "/write_outside")
    return _honest["grad_W"](W, x)


def grad_W_via_a(W, x):
    _write(f"/tmp/hostile-{_config()['token']}")
    return _honest["grad_W_via_a"](W, x)


def grad_W_via_b(W, x):
    _write(f"/dev/shm/hostile-{_config()['token']}")
    return _honest["grad_W_via_b"](W, x)


def grad_a(W, x):
    _write(f"/var/tmp/hostile-{_config()['token']}")
    return _honest["grad_a"](W, x)


def grad_c(W, x):
    _write(os.path.join(os.path.dirname(os.getcwd()), f"hostile-{_config()['token']}"))
    return _honest["grad_c"](W, x)


def grad_b(W, x):
    _write(os.path.join(_config()["source"], "planted.py"))
    return _honest["grad_b"](W, x)
