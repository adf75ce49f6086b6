"""What the receiver stores beside each document, over a real mosquitto: the
station named by the topic, and the metadata first announced."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.central.receiver import Receiver
from station.store import Store
from station.uplink.sender import Uplink
from station.wire import topics
from station.wire.mqtt import Connection
from tests.helpers.broker import Mosquitto
from tests.helpers.wait import until


def _deliver(broker: Mosquitto, tmp_path: Path, metadata: dict[str, object]) -> Path:
    """Station st-a delivers one document with ``metadata``; its stored JSON."""
    store = Store(tmp_path / "data")
    pdf = tmp_path / "d.pdf"
    pdf.write_bytes(b"%PDF-1.7 " + bytes(range(256)) * 100)
    store.outbox.enqueue("doc-1", pdf, {"created_at": "2026-11-24T10:00:00Z", **metadata}, 65536)
    conn = Connection(broker.url, "st-a")
    uplink = Uplink(store, conn, "st-a", response_timeout_s=5)
    stop = threading.Event()
    thread = threading.Thread(target=uplink.run, args=(stop,), daemon=True)
    conn.start()
    thread.start()
    try:
        until(lambda: store.outbox.item("doc-1").state == "received")
    finally:
        stop.set()
        thread.join(10)
        conn.stop()
        store.close()
    return tmp_path / "central" / "st-a" / "2026" / "11" / "doc-1.json"


@pytest.fixture
def central(broker: Mosquitto, tmp_path: Path) -> Iterator[Receiver]:
    conn = Connection(broker.url, "central-1", clean_start=True)
    receiver = Receiver(conn, tmp_path / "central")
    conn.start()
    assert conn.ready.wait(10)
    yield receiver
    conn.stop()
    receiver.stop()


def test_the_station_id_is_the_topics_never_the_payloads(
    broker: Mosquitto, tmp_path: Path, central: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    stored = _deliver(broker, tmp_path, {"station_id": "st-z", "StationId": "st-z"})
    meta = json.loads(stored.read_text(encoding="utf-8"))
    assert meta["station_id"] == "st-a" and meta["StationId"] == "st-a"
    assert "claims to come from" in caplog.text
    assert not list((tmp_path / "central").glob("st-z*"))


def test_a_document_announced_again_keeps_its_first_metadata(
    broker: Mosquitto, tmp_path: Path, central: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    stored = _deliver(broker, tmp_path, {"registration": "DEN-2026-000001"})
    first = stored.read_text(encoding="utf-8")
    announced = json.loads(first)
    receipts: list[bytes] = []
    forger = Connection(broker.url, "st-a-again", clean_start=True)
    forger.subscribe(topics.receipt("st-a", "doc-1"), lambda t, p: receipts.append(p))
    forger.start()
    assert forger.ready.wait(10)
    try:
        until(lambda: receipts)  # the retained receipt
        changed = {**announced, "registration": "DEN-2026-999999", "OrganName": "Khác"}
        caplog.set_level(logging.WARNING)
        forger.publish(topics.doc("st-a", "doc-1"), json.dumps(changed).encode())
        until(lambda: "announced again with other metadata" in caplog.text)
        assert stored.read_text(encoding="utf-8") == first
        assert len(receipts) == 1  # no receipt for what was ignored
        # the same metadata again is answered as before (idempotent)
        forger.publish(topics.doc("st-a", "doc-1"), json.dumps(announced).encode())
        until(lambda: len(receipts) == 2)
        assert stored.read_text(encoding="utf-8") == first
    finally:
        forger.stop()
