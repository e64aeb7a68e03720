"""Fail any attempt to reach beyond loopback, in the test process and in servers it starts.

Tests must be able to run with no network at all; a library that quietly phones home (DNS probes,
weight downloads, analytics) is a bug the suite must catch, not a delay it tolerates.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import traceback

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}
violations: list[str] = []

_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex
_original_getaddrinfo = socket.getaddrinfo


class NetworkBlocked(OSError):
    """Raised instead of leaving loopback."""


def _is_local_host(host: object) -> bool:
    if not isinstance(host, str):
        return False
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _record(what: str) -> None:
    stack = "".join(traceback.format_stack(limit=12)[:-2])
    message = f"network attempt outside loopback: {what}\n{stack}"
    violations.append(message)
    log_path = os.environ.get("NETGUARD_LOG")
    if log_path:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(message + "\n---\n")
    raise NetworkBlocked(f"blocked by the test network guard: {what}")


def _guarded_connect(self: socket.socket, address):  # type: ignore[no-untyped-def]
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local_host(address[0]):
        _record(f"connect to {address!r}")
    return _original_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address):  # type: ignore[no-untyped-def]
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local_host(address[0]):
        _record(f"connect_ex to {address!r}")
    return _original_connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    if host is not None and not _is_local_host(host if isinstance(host, str) else host.decode()):
        _record(f"name lookup of {host!r}")
    return _original_getaddrinfo(host, *args, **kwargs)


def install() -> None:
    """Patch the socket module of this interpreter."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo
