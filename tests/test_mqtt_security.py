"""TLS, per-station identities and the ACL of firmware_config/mosquitto/, with a real mosquitto."""

from __future__ import annotations

import hashlib
import json
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from station.central.receiver import Receiver
from station.store import Store
from station.uplink.sender import Uplink
from station.wire import topics
from station.wire.mqtt import Connection
from tests.helpers.broker import Mosquitto, shipped_broker
from tests.helpers.pki import Pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    pki = Pki(tmp_path_factory.mktemp("pki"))
    pki.issue("broker", server=True)
    for name in ("st-a", "st-b", "central"):
        pki.issue(name)
    pki.issue("rogue", ca=False)
    return pki


@pytest.fixture
def tls_broker(pki: Pki, tmp_path: Path) -> Iterator[Mosquitto]:
    """The shipped config, with this test's port, files and log."""
    server = shipped_broker(tmp_path, pki.folder, pki.ca)
    server.start()
    yield server
    server.stop()


def _url(broker: Mosquitto) -> str:
    return f"mqtts://127.0.0.1:{broker.port}"


def _connect(pki: Pki, broker: Mosquitto, name: str, client_id: str = "") -> Connection:
    return Connection(
        _url(broker),
        client_id or name,
        ca_file=pki.ca,
        cert_file=pki.folder / f"{name}.crt",
        key_file=pki.folder / f"{name}.key",
        clean_start=True,
    )


def test_station_delivers_over_tls_with_its_own_certificate(
    pki: Pki, tls_broker: Mosquitto, tmp_path: Path
) -> None:
    central = _connect(pki, tls_broker, "central", "central-1")
    Receiver(central, tmp_path / "central", share_group="central")
    central.start()
    assert central.ready.wait(10)
    store = Store(tmp_path / "data")
    doc = tmp_path / "d.pdf"
    doc.write_bytes(b"%PDF-1.7 " + bytes(range(256)) * 3000)
    digest = store.outbox.enqueue("d1", doc, {"created_at": "2026-11-24"}, 65536).sha256
    conn = _connect(pki, tls_broker, "st-a")
    uplink = Uplink(store, conn, "st-a", response_timeout_s=5)
    stop = threading.Event()
    thread = threading.Thread(target=uplink.run, args=(stop,), daemon=True)
    conn.start()
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while store.outbox.item("d1").state != "received" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert store.outbox.item("d1").state == "received"
        final = tmp_path / "central" / "st-a" / "2026" / "11" / "d1.pdf"
        assert hashlib.sha256(final.read_bytes()).hexdigest() == digest
    finally:
        stop.set()
        thread.join(10)
        conn.stop()
        central.stop()
        store.close()


def _raw(pki: Pki, broker: Mosquitto, name: str) -> tuple[paho.Client, list[paho.MQTTMessage]]:
    got: list[paho.MQTTMessage] = []
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"raw-{name}", protocol=paho.MQTTv5)
    context = ssl.create_default_context(cafile=str(pki.ca))
    context.load_cert_chain(str(pki.folder / f"{name}.crt"), str(pki.folder / f"{name}.key"))
    client.tls_set_context(context)
    client.on_message = lambda c, u, m: got.append(m)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    return client, got


def test_station_is_pinned_to_its_own_subtree(pki: Pki, tls_broker: Mosquitto) -> None:
    a, a_got = _raw(pki, tls_broker, "st-a")
    b, b_got = _raw(pki, tls_broker, "st-b")
    central, central_got = _raw(pki, tls_broker, "central")
    try:
        time.sleep(0.5)
        central.subscribe("scanstation/v1/+/file/#", qos=1)
        # B's receipts, published by the central side, retained
        receipt = topics.receipt("st-b", "secret-doc")
        central.publish(receipt, json.dumps({"status": "01"}), qos=1, retain=True).wait_for_publish(
            5
        )
        a.subscribe(receipt, qos=1)
        a.subscribe("scanstation/v1/+/doc/+/receipt", qos=1)
        b.subscribe(topics.receipt("st-b", "+"), qos=1)
        # A writes into B's subtree, and into its own
        a.publish(topics.FileTopics("st-b").init("forged"), b"{}", qos=1).wait_for_publish(5)
        a.publish(topics.FileTopics("st-a").init("own"), b"{}", qos=1).wait_for_publish(5)
        time.sleep(1.5)
        seen = [m.topic for m in central_got]
        assert "scanstation/v1/st-a/file/own/init" in seen
        assert "scanstation/v1/st-b/file/forged/init" not in seen
        assert [m.topic for m in a_got] == []  # A reads none of B's receipts
        assert [m.topic for m in b_got] == [receipt]  # B reads its own
    finally:
        for client in (a, b, central):
            client.loop_stop()
            client.disconnect()


@pytest.mark.parametrize(("who", "admitted"), [("rogue", False), (None, False), ("st-a", True)])
def test_no_valid_certificate_no_connection(
    pki: Pki, tls_broker: Mosquitto, who: str | None, admitted: bool
) -> None:
    """A self-signed certificate, or none, is refused; a station's own is admitted
    (the same code path, so the check can fail)."""
    connected = threading.Event()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="probe", protocol=paho.MQTTv5)
    context = ssl.create_default_context(cafile=str(pki.ca))
    if who:
        context.load_cert_chain(str(pki.folder / f"{who}.crt"), str(pki.folder / f"{who}.key"))
    client.tls_set_context(context)
    client.on_connect = lambda c, u, f, reason, p: None if reason.is_failure else connected.set()
    try:
        client.connect("127.0.0.1", tls_broker.port)
        client.loop_start()
        connected.wait(3)
    except (ssl.SSLError, OSError):
        pass  # refused during the handshake
    finally:
        client.loop_stop()
        client.disconnect()
    assert connected.is_set() is admitted
