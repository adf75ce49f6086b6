"""A listen address (``HOST:PORT``): its parts, and whether only this machine can reach it."""

from __future__ import annotations

import ipaddress


def host_port(listen: str) -> tuple[str, int]:
    """``("127.0.0.1", 8780)`` for ``127.0.0.1:8780`` (IPv6 in brackets: ``[::1]:8780``);
    ValueError with the form to use when it is not an IP address or localhost and a port."""
    host, sep, port = listen.rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError("use HOST:PORT, e.g. 127.0.0.1:8780")
    if host != "localhost":
        try:
            ipaddress.ip_address(host)
        except ValueError as exc:
            raise ValueError("HOST must be an IP address or localhost") from exc
    return host, int(port)


def is_loopback(host: str) -> bool:
    """True for localhost and the loopback addresses (127.0.0.0/8, ::1)."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
