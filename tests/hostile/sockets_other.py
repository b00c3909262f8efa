"""Hostile: the sockets Landlock does not cover: UDP to a socket the test bound, AF_UNIX to a
pathname and to an abstract listener the test opened, a raw packet socket, netlink.

Guarantee (seccomp): no datagram or connection arrives; those parts fail, the others pass.
"""

import json
import socket

_honest = globals().copy()


def _config():
    with open("hostile_config.json", encoding="utf-8") as handle:
        return json.load(handle)


def grad_W(W, x):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"hello from the sandbox", ("127.0.0.1", _config()["udp_port"]))
    return _honest["grad_W"](W, x)


def grad_W_via_a(W, x):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(_config()["unix_path"])
    return _honest["grad_W_via_a"](W, x)


def grad_W_via_b(W, x):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect("\0" + _config()["abstract_name"])
    return _honest["grad_W_via_b"](W, x)


def grad_a(W, x):
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW):
        pass
    return _honest["grad_a"](W, x)


def grad_c(W, x):
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW):
        pass
    return _honest["grad_c"](W, x)
