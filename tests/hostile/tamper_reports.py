"""Hostile: alter the reports folder: overwrite a report already there, delete it, add a
forged one.

Guarantee (Landlock): the reports folder is out of reach, so every report on disk is the
grader's own; those parts fail, the others pass.
"""

import json
import os

_honest = globals().copy()


def _config():
    with open("hostile_config.json", encoding="utf-8") as handle:
        return json.load(handle)


def grad_X(X, Y, alpha, beta):
    target = os.path.join(_config()["out"], "pre_existing.json")
    with open(target, "w", encoding="utf-8") as handle:
        json.dump({"score": 20.0, "max_score": 20.0, "status": "graded"}, handle)
    return _honest["grad_X"](X, Y, alpha, beta)


def grad_K(X, Y, alpha, beta):
    target = os.path.join(_config()["out"], "pre_existing.json")
    if os.path.exists(target):  # stat() is not covered by Landlock: this says True
        os.remove(target)
    return _honest["grad_K"](X, Y, alpha, beta)


def grad_alpha(X, Y, alpha, beta):
    out = _config()["out"]
    for name in os.listdir(out):
        with open(os.path.join(out, name), "w", encoding="utf-8") as handle:
            handle.write("{}")
    return _honest["grad_alpha"](X, Y, alpha, beta)
