"""Delivery over MQTT with a real mosquitto: outbox, file transfer, receiver, receipts."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from station.central.receiver import Receiver
from station.store import Store
from station.uplink import topics
from station.uplink.mqtt import Connection
from station.uplink.sender import Uplink
from tests.helpers.broker import Mosquitto
from tests.helpers.cli import ROOT

SEGMENT = 64 * 1024


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    server = Mosquitto(tmp_path)
    server.start()
    yield server
    server.stop()


def _until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


class Station:
    """A store, an outbox sender and its thread, as the daemon runs them."""

    def __init__(self, data: Path, url: str, window: int = 4) -> None:
        self.store = Store(data)
        self.conn = Connection(url, "st-a")
        self.uplink = Uplink(self.store, self.conn, "st-a", window=window, response_timeout_s=5)
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


def _receiver(url: str, out: Path, client: str = "central-1", group: str = "") -> Connection:
    conn = Connection(url, client, clean_start=True)
    Receiver(conn, out, share_group=group)
    conn.start()
    assert conn.connected.wait(10)
    return conn


def _document(folder: Path, name: str, size: int) -> Path:
    path = folder / f"{name}.pdf"
    path.write_bytes(os.urandom(size))
    return path


def _queue(store: Store, folder: Path, name: str, size: int) -> str:
    path = _document(folder, name, size)
    meta = {"registration": f"DEN-2024-{name}", "created_at": "2026-11-24T10:00:00Z"}
    return store.enqueue(name, path, meta, SEGMENT).sha256


def _delivered(out: Path, doc_id: str) -> Path:
    return out / "st-a" / "2026" / "11" / f"{doc_id}.pdf"


def test_documents_are_delivered_once_with_receipts(broker: Mosquitto, tmp_path: Path) -> None:
    out = tmp_path / "central"
    central = _receiver(broker.url, out)
    station = Station(tmp_path / "data", broker.url)
    sums = {
        "doc-1": _queue(station.store, tmp_path, "doc-1", 5 * SEGMENT + 123),
        "doc-2": _queue(station.store, tmp_path, "doc-2", 100),
        "doc-3": _queue(station.store, tmp_path, "doc-3", 0),
    }
    station.start()
    try:
        _until(
            lambda: (
                all(i.state == "received" for i in station.store.outbox(("received",)))
                and len(station.store.outbox(("received",))) == 3
            )
        )
        for doc_id, digest in sums.items():
            final = _delivered(out, doc_id)
            assert hashlib.sha256(final.read_bytes()).hexdigest() == digest
            meta = json.loads(final.with_suffix(".json").read_text(encoding="utf-8"))
            assert meta["doc_id"] == doc_id and meta["sha256"] == digest
            assert station.store.receipts(doc_id)[0]["status"] == "01"
        # 6 + 1 + 1 segments, none sent twice on a quiet line
        assert station.uplink.segments_sent == 8
        assert not list((out / ".transfer" / "st-a").glob("*/*"))
        # the local copy goes only after the retention
        assert station.uplink.purge(timedelta(hours=1)) == []
        assert sorted(station.uplink.purge(timedelta(0))) == ["doc-1", "doc-2", "doc-3"]
        assert not (tmp_path / "doc-1.pdf").exists()
    finally:
        station.close()
        central.stop()


def test_transfer_resumes_from_the_last_acknowledged_segment(
    broker: Mosquitto, tmp_path: Path
) -> None:
    out = tmp_path / "central"
    central = _receiver(broker.url, out)
    data = tmp_path / "data"
    first = Station(data, broker.url, window=2)
    digest = _queue(first.store, tmp_path, "big", 20 * SEGMENT)
    file_id = first.store.outbox_item("big").file_id
    first.start()
    _until(lambda: len(first.store.acked_offsets(file_id)) >= 6)
    first.close()  # the station stops mid-file
    acked = len(Store(data).acked_offsets(file_id))
    assert 6 <= acked < 20
    second = Station(data, broker.url, window=2).start()
    try:
        _until(lambda: second.store.outbox_item("big").state == "received")
        assert hashlib.sha256(_delivered(out, "big").read_bytes()).hexdigest() == digest
        # only what was not acknowledged is sent again, less what the receiver
        # already holds (it names those in its answer to init)
        assert 20 - acked - 2 <= second.uplink.segments_sent <= 20 - acked
        assert second.store.outbox_item("big").file_id == file_id
    finally:
        second.close()
        central.stop()


def test_receiver_is_idempotent_and_checks_segments(broker: Mosquitto, tmp_path: Path) -> None:
    out = tmp_path / "central"
    central = _receiver(broker.url, out)
    probe = Connection(broker.url, "st-b", clean_start=True)
    responses: list[dict[str, object]] = []
    probe.subscriptions = [(topics.file_response("st-b"), 1)]
    probe.on_message = lambda topic, payload: responses.append(json.loads(payload))
    probe.start()
    assert probe.connected.wait(10)
    files = topics.FileTopics("st-b")
    data = os.urandom(1000)
    digest = hashlib.sha256(data).hexdigest()
    init = {"name": "x.pdf", "size": 1000, "user_data": {"doc_id": "d1", "created_at": "2026-11"}}
    try:
        probe.publish(files.init("f1"), json.dumps(init).encode())
        bad = hashlib.sha256(b"other").hexdigest()
        probe.publish(files.segment("f1", 0, bad), data)  # checksum does not match
        probe.publish(files.fin("f1", 1000, digest), b"")  # nothing stored yet
        probe.publish(files.segment("f1", 0, digest), data)
        probe.publish(files.segment("f1", 0, digest), data)  # again
        probe.publish(files.fin("f1", 1000, digest), b"")
        probe.publish(files.fin("f1", 1000, digest), b"")  # again
        _until(lambda: len(responses) == 7)
        codes = [r["reason_code"] for r in responses]
        assert codes == [0, topics.RESEND, topics.RESEND, 0, 0, 0, 0]
        final = out / "st-b" / "2026" / "11" / "d1.pdf"
        assert final.read_bytes() == data
        # a second file claiming the same document is refused
        other = os.urandom(10)
        other_sum = hashlib.sha256(other).hexdigest()
        probe.publish(files.init("f2"), json.dumps(init).encode())
        probe.publish(files.segment("f2", 0, other_sum), other)
        probe.publish(files.fin("f2", 10, other_sum), b"")
        _until(lambda: len(responses) == 10)
        assert responses[-1]["reason_code"] == topics.CANCEL
        assert final.read_bytes() == data
        # hostile topics and payloads are ignored, the receiver carries on
        probe.publish("scanstation/v1/st-b/file/../../etc/init", b"{}")
        probe.publish(files.init("f3"), b"\xff\xfe not json")
        probe.publish(f"{topics.doc('st-b', 'd1')}", b"[1, 2]")
        _until(lambda: len(responses) == 11)
        assert responses[-1]["reason_code"] == topics.CANCEL
        assert not (out / "etc").exists()
    finally:
        probe.stop()
        central.stop()


def test_hostile_responses_and_receipts_are_ignored(broker: Mosquitto, tmp_path: Path) -> None:
    station = Station(tmp_path / "data", broker.url)
    digest = _queue(station.store, tmp_path, "doc-9", 10)
    station.conn.start()
    assert station.conn.connected.wait(10)
    forger = Connection(broker.url, "forger", clean_start=True)
    forger.start()
    assert forger.connected.wait(10)
    try:
        for payload in (
            b"not json",
            json.dumps({"topic": 5, "reason_code": 0}).encode(),
            json.dumps({"topic": "x", "reason_code": "0"}).encode(),
            json.dumps({"topic": "scanstation/v1/st-a/file/zz/init", "reason_code": 0}).encode(),
        ):
            forger.publish(topics.file_response("st-a"), payload).wait_for_publish(5)
        receipt = topics.receipt("st-a", "doc-9")
        forger.publish(receipt, json.dumps({"status": "01", "sha256": "0" * 64}).encode())
        forger.publish(receipt, json.dumps({"status": "99"}).encode())
        forger.publish(topics.receipt("st-a", "nope"), json.dumps({"status": "01"}).encode())
        time.sleep(1.0)
        item = station.store.outbox_item("doc-9")
        assert item.state == "queued" and station.store.receipts("doc-9") == []
        # a later DMS status with the right document is recorded
        forger.publish(receipt, json.dumps({"status": "01", "sha256": digest}).encode())
        _until(lambda: station.store.outbox_item("doc-9").status == "01")
    finally:
        forger.stop()
        station.conn.stop()
        station.store.close()


def _receiver_process(url: str, out: Path, group: str, name: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "station",
            "receiver",
            "--broker",
            url,
            "--out",
            str(out),
            "--share-group",
            group,
            "--client-id",
            name,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def test_two_receivers_in_a_shared_group_deliver_each_document_once(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """`scanstation receiver` twice in one group over one folder: every document
    arrives exactly once with its checksum, and SIGTERM stops each cleanly."""
    out = tmp_path / "central"
    receivers = [_receiver_process(broker.url, out, "central", f"r{k}") for k in (1, 2)]
    station = Station(tmp_path / "data", broker.url)
    try:
        time.sleep(1.5)  # both subscribed
        sums = {
            f"doc-{k}": _queue(station.store, tmp_path, f"doc-{k}", (k % 3) * SEGMENT + 99 * k)
            for k in range(1, 9)
        }
        station.start()
        _until(lambda: len(station.store.outbox(("received",))) == 8, timeout=60)
        stored = sorted(p.name for p in out.rglob("*.pdf"))
        assert stored == sorted(f"{d}.pdf" for d in sums)
        for doc_id, digest in sums.items():
            data = _delivered(out, doc_id).read_bytes()
            assert hashlib.sha256(data).hexdigest() == digest
    finally:
        station.close()
        for proc in receivers:
            proc.send_signal(signal.SIGTERM)
        outputs = [proc.communicate(timeout=10) for proc in receivers]
    for proc, (stdout, stderr) in zip(receivers, outputs, strict=True):
        assert proc.returncode == 0, stderr
        assert "Bộ nhận / receiver" in stdout and "central" in stdout


def test_broker_restart_mid_file(broker: Mosquitto, tmp_path: Path) -> None:
    """The broker goes away mid-file and comes back on the same port: the file
    completes, and at most one segment travels twice."""
    out = tmp_path / "central"
    arrivals: list[tuple[str, int]] = []
    conn = Connection(broker.url, "central-1", clean_start=True)
    receiver = Receiver(conn, out)
    handle = receiver._on_message

    def counting(topic: str, payload: bytes) -> None:
        command = topics.parse_file_topic(topic)
        if command is not None and command.kind == "segment":
            arrivals.append((command.file_id, command.offset))
        handle(topic, payload)

    conn.on_message = counting
    conn.start()
    assert conn.connected.wait(10)
    station = Station(tmp_path / "data", broker.url, window=4)
    digest = _queue(station.store, tmp_path, "big", 60 * SEGMENT)
    file_id = station.store.outbox_item("big").file_id
    station.start()
    try:
        _until(lambda: len(station.store.acked_offsets(file_id)) >= 15)
        broker.stop()
        time.sleep(1.0)
        broker.start()
        _until(lambda: station.store.outbox_item("big").state == "received", timeout=60)
        assert hashlib.sha256(_delivered(out, "big").read_bytes()).hexdigest() == digest
        offsets = [offset for _, offset in arrivals]
        assert sorted(set(offsets)) == list(range(0, 60 * SEGMENT, SEGMENT))
        assert len(offsets) - 60 <= 1, f"{len(offsets) - 60} segments arrived twice"
    finally:
        station.close()
        conn.stop()
