"""A station's delivery parts and a receiver, for the MQTT delivery tests."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from station.central.receiver import Receiver
from station.store import Store
from station.uplink.sender import Uplink
from station.wire.mqtt import Connection
from tests.helpers.wait import until

SEGMENT = 64 * 1024


def wait_for(check: Callable[[], Any], timeout: float = 30.0, step: float = 0.05) -> Any:
    return until(check, timeout, step)


class Station:
    """A store, an outbox sender and its thread, as the daemon runs them."""

    def __init__(
        self, data: Path, url: str, window: int = 4, announce_again_s: float = 120.0
    ) -> None:
        self.store = Store(data)
        self.conn = Connection(url, "st-a")
        self.uplink = Uplink(
            self.store, self.conn, "st-a", window=window, response_timeout_s=5,
            announce_again_s=announce_again_s,
        )  # fmt: skip
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.uplink.run, args=(self.stop,), daemon=True)

    def start(self) -> Station:
        self.conn.start()
        self.thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.conn.stop()
        self.store.close()


def receiver(url: str, out: Path, client: str = "central-1", group: str = "") -> Connection:
    conn = Connection(url, client, clean_start=True)
    Receiver(conn, out, share_group=group)
    conn.start()
    assert conn.ready.wait(10)
    return conn


def document(folder: Path, name: str, size: int) -> Path:
    path = folder / f"{name}.pdf"
    path.write_bytes(os.urandom(size))
    return path


def queue(store: Store, folder: Path, name: str, size: int) -> str:
    path = document(folder, name, size)
    meta = {"registration": f"DEN-2024-{name}", "created_at": "2026-11-24T10:00:00Z"}
    return store.outbox.enqueue(name, path, meta, SEGMENT).sha256


def delivered(out: Path, doc_id: str) -> Path:
    return out / "st-a" / "2026" / "11" / f"{doc_id}.pdf"
