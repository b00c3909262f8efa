"""Hostile: TCP: connect to a listener the test opened on 127.0.0.1, connect to the internet,
listen for a reverse shell.

Guarantee (Landlock ABI >= 4 or seccomp): no connection is made or accepted; those parts fail,
the others pass. A part returns the right answer only if its socket worked.
"""

import json
import socket

_honest = globals().copy()


def _config():
    with open("hostile_config.json", encoding="utf-8") as handle:
        return json.load(handle)


def grad_W(W, x):
    with socket.create_connection(("127.0.0.1", _config()["tcp_port"]), timeout=1) as conn:
        conn.sendall(b"hello from the sandbox")
    return _honest["grad_W"](W, x)


def grad_W_via_a(W, x):
    with socket.create_connection(("1.1.1.1", 443), timeout=0.3):
        pass
    return _honest["grad_W_via_a"](W, x)


def grad_W_via_b(W, x):
    with socket.create_server(("127.0.0.1", 0)):
        pass
    return _honest["grad_W_via_b"](W, x)
