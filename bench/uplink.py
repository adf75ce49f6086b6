"""Delivery over MQTT on loopback: one large document, and many small ones.

A real mosquitto on a free loopback port and ``scanstation receiver`` in its
own process (writing to a temporary folder), with the station's sender
(:class:`station.uplink.sender.Uplink`) in this process, using the default
segment size and window:

- one 20 MB document: time from queueing to a successful ``fin``, and to the
  receipt, in MB/s; beside it, ``mosquitto_pub`` sending the same bytes as
  one QoS 1 message to a ``mosquitto_sub`` (the broker's own floor, without
  segments, checksums, files or answers);
- 200 documents of 40 KB: documents per second, queue to last receipt.

    .venv/bin/python -m bench.uplink [--size-mb N] [--documents N] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write  # noqa: E402
from station.config import UplinkSection  # noqa: E402
from station.store import Store  # noqa: E402
from station.uplink.sender import Uplink  # noqa: E402
from station.wire.mqtt import Connection  # noqa: E402
from tests.helpers.broker import Mosquitto  # noqa: E402

DEFAULTS = UplinkSection()


def _wait(check: Any, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.01)


def _station(data: Path, url: str) -> tuple[Store, Uplink, Connection, threading.Event]:
    store = Store(data)
    conn = Connection(url, "bench-station")
    uplink = Uplink(store, conn, "bench-station", window=DEFAULTS.window)
    stop = threading.Event()
    conn.start()
    conn.connected.wait(10)
    threading.Thread(target=uplink.run, args=(stop,), daemon=True).start()
    return store, uplink, conn, stop


def large(url: str, folder: Path, size_mb: int) -> dict[str, Any]:
    doc = folder / "large.pdf"
    doc.write_bytes(os.urandom(size_mb * 1_000_000))
    store, uplink, conn, stop = _station(folder / "data-large", url)
    try:
        start = time.perf_counter()
        store.outbox.enqueue("large", doc, {"created_at": "2026-11-24"}, DEFAULTS.segment_size)
        uplink.wake.set()
        _wait(lambda: store.outbox.item("large").state in ("sent", "announced", "received"))
        sent = time.perf_counter() - start
        _wait(lambda: store.outbox.item("large").state == "received")
        received = time.perf_counter() - start
    finally:
        stop.set()
        conn.stop()
        store.close()
    # the broker's floor: the same bytes as one message, publisher to subscriber
    port = url.rsplit(":", 1)[1]
    sub = subprocess.Popen(
        ["mosquitto_sub", "-p", port, "-h", "127.0.0.1", "-t", "bench/one", "-q", "1", "-C", "1"],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    start = time.perf_counter()
    subprocess.run(
        [
            "mosquitto_pub",
            "-p",
            port,
            "-h",
            "127.0.0.1",
            "-t",
            "bench/one",
            "-q",
            "1",
            "-f",
            str(doc),
        ],
        check=True,
    )
    sub.wait(timeout=120)
    one_message = time.perf_counter() - start
    mb = size_mb
    return {
        "size_mb": mb,
        "segment_kib": DEFAULTS.segment_size // 1024,
        "window": DEFAULTS.window,
        "to_fin_s": round(sent, 2),
        "to_receipt_s": round(received, 2),
        "mb_per_s_to_fin": round(mb / sent, 1),
        "mb_per_s_to_receipt": round(mb / received, 1),
        "segments_sent": uplink.segments_sent,
        "mosquitto_pub_one_message_s": round(one_message, 2),
        "mosquitto_pub_mb_per_s": round(mb / one_message, 1),
    }


def small(url: str, folder: Path, count: int) -> dict[str, Any]:
    store, uplink, conn, stop = _station(folder / "data-small", url)
    try:
        paths = []
        for k in range(count):
            path = folder / f"small-{k:04d}.pdf"
            path.write_bytes(os.urandom(40_000))
            paths.append(path)
        start = time.perf_counter()
        for k, path in enumerate(paths):
            store.outbox.enqueue(
                f"small-{k:04d}", path, {"created_at": "2026-11-24"}, DEFAULTS.segment_size
            )
        uplink.wake.set()
        _wait(lambda: len(store.outbox.items(("received",))) == count)
        seconds = time.perf_counter() - start
    finally:
        stop.set()
        conn.stop()
        store.close()
    return {
        "documents": count,
        "size_kb": 40,
        "seconds": round(seconds, 2),
        "documents_per_s": round(count / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=20)
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "uplink.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-uplink-") as tmp:
        folder = Path(tmp)
        broker = Mosquitto(folder)
        broker.start()
        receiver = subprocess.Popen(
            [sys.executable, "-m", "station", "receiver", "--broker", broker.url,
             "--out", str(folder / "central"), "--client-id", "bench-central"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(1.5)
            figures = {
                "large": large(broker.url, folder, args.size_mb),
                "small": small(broker.url, folder, args.documents),
            }
        finally:
            receiver.send_signal(signal.SIGTERM)
            receiver.wait(timeout=30)
            broker.stop()
    write("uplink", args.out, figures)


if __name__ == "__main__":
    main()
