"""systemd's notify protocol, without a library: READY, STATUS, WATCHDOG, STOPPING.

Under ``Type=notify`` systemd passes ``NOTIFY_SOCKET`` (a Unix datagram socket,
``@`` for the abstract namespace) and, with ``WatchdogSec=``, ``WATCHDOG_USEC``.
Outside systemd every call does nothing. :class:`Watchdog` pings at half the
interval, and only while the station's loops are alive: a hung loop stops the
pings and systemd restarts the service.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

from station.common.supervisor import Supervised

log = logging.getLogger("scanstation.systemd")


def notify(*lines: str) -> bool:
    """Send ``KEY=value`` lines to systemd; False when not under systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall("\n".join(lines).encode())
    except OSError as exc:
        log.warning("systemd notify failed: %s", exc)
        return False
    return True


def watchdog_interval() -> float | None:
    """Seconds between watchdog pings (half of ``WatchdogSec``), or None."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000


class Watchdog(Supervised):
    def __init__(self, alive: Callable[[], bool], stop: threading.Event, interval_s: float) -> None:
        super().__init__("watchdog", self.loop, stop)
        self.alive = alive
        self.stop_event = stop
        self.interval_s = interval_s
        self.pings = 0

    def ping_once(self) -> bool:
        if not self.alive():
            log.error("a station loop has stopped: no watchdog ping, systemd will restart")
            return False
        notify("WATCHDOG=1")
        self.pings += 1
        return True

    def loop(self) -> None:
        while not self.stop_event.wait(self.interval_s):
            self.ping_once()
