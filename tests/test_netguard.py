"""The network guard itself: if it stopped working, 'no test leaves 127.0.0.1' would be untested."""

from __future__ import annotations

import socket

import pytest

from tests.support import netguard


@pytest.mark.parametrize("address", [("192.0.2.1", 80), ("10.0.0.1", 443)])
def test_connections_outside_loopback_are_blocked_and_recorded(address):
    before = len(netguard.violations)
    with pytest.raises(netguard.NetworkBlocked), socket.socket() as sock:
        sock.connect(address)
    assert len(netguard.violations) == before + 1
    del netguard.violations[before:]  # expected here; any other test would fail on it


def test_name_lookups_outside_loopback_are_blocked():
    before = len(netguard.violations)
    with pytest.raises(netguard.NetworkBlocked):
        socket.getaddrinfo("example.com", 443)
    del netguard.violations[before:]


def test_loopback_is_allowed():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
    assert socket.getaddrinfo("localhost", 80)
