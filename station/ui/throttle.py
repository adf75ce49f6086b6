"""One brake on guessing secrets: the password (sign-in and HTTP Basic) and the PIN.

Each client (its IP address; an IPv6 client by its /64 network, which one
machine usually owns whole) may get a secret wrong :data:`FREE_TRIES` times in a
row. Each further wrong try locks that client out, each time twice as long as
the time before: 1 s, 2 s, 4 s … up to :data:`MAX_WAIT_S`. While locked out, every try is
refused with 429 and ``Retry-After`` before the secret is even checked, so a
right guess made then is refused too. A right secret clears the count; a client
not heard of for :data:`FORGET_S` is forgotten.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

#: wrong tries in a row that cost nothing; the next one starts the first lockout
FREE_TRIES = 5
#: the first lockout; each further wrong try doubles it
FIRST_WAIT_S = 1.0
#: the longest lockout
MAX_WAIT_S = 900.0
#: a client with no try for this long starts afresh
FORGET_S = 24 * 3600.0
#: clients remembered at most (the oldest are forgotten first)
MAX_CLIENTS = 10_000


def message(wait_s: int) -> str:
    """What the person who is locked out reads, Vietnamese first."""
    return f"Thử sai quá nhiều lần, vui lòng đợi {wait_s} giây / Too many attempts, wait {wait_s} s"


def client_key(address: str | None) -> str:
    """Who is guessing: the IPv4 address, or the IPv6 /64 network."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "?"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass
class _Client:
    failures: int = 0
    locked_until: float = 0.0
    last: float = 0.0


class Throttle:
    """Exponential back-off and lockout per client, shared by the threads of a server."""

    def __init__(
        self,
        *,
        free_tries: int = FREE_TRIES,
        first_wait_s: float = FIRST_WAIT_S,
        max_wait_s: float = MAX_WAIT_S,
        forget_s: float = FORGET_S,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free_tries = free_tries
        self.first_wait_s = first_wait_s
        self.max_wait_s = max_wait_s
        self.forget_s = forget_s
        self.max_clients = max_clients
        self._clock = clock
        self._lock = threading.Lock()
        self._clients: OrderedDict[str, _Client] = OrderedDict()

    def _get(self, client: str, now: float) -> _Client | None:
        found = self._clients.get(client)
        if found is not None and now - found.last > self.forget_s:
            del self._clients[client]
            return None
        return found

    def wait(self, client: str) -> int:
        """Whole seconds this client must still wait before it may try (0: it may)."""
        with self._lock:
            now = self._clock()
            found = self._get(client, now)
            if found is None or found.locked_until <= now:
                return 0
            return max(1, math.ceil(found.locked_until - now))

    def failed(self, client: str) -> int:
        """Count a wrong secret; the lockout it starts, in whole seconds (0: none yet)."""
        with self._lock:
            now = self._clock()
            found = self._get(client, now) or _Client()
            found.failures += 1
            found.last = now
            self._clients[client] = found
            self._clients.move_to_end(client)
            while len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)
            beyond = found.failures - self.free_tries
            if beyond <= 0:
                return 0
            wait = min(self.max_wait_s, self.first_wait_s * 2.0 ** min(beyond - 1, 64))
            found.locked_until = now + wait
            return max(1, math.ceil(wait))

    def succeeded(self, client: str) -> None:
        """A right secret: this client starts afresh."""
        with self._lock:
            self._clients.pop(client, None)
