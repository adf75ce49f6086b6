"""Delivery over MQTT with a real mosquitto: outbox, file transfer, receiver, receipts."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from station.central.receiver import Receiver
from station.config import Config
from station.config.remote import Settings
from station.store import Store
from station.uplink.link import StationLink
from station.uplink.sender import Uplink
from station.wire import topics
from station.wire.mqtt import Connection
from tests.helpers.broker import Mosquitto
from tests.helpers.cli import ROOT
from tests.helpers.wait import until

SEGMENT = 64 * 1024


def _until(check: Callable[[], Any], timeout: float = 30.0, step: float = 0.05) -> Any:
    return until(check, timeout, step)


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
    return store.outbox.enqueue(name, path, meta, SEGMENT).sha256


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
                all(i.state == "received" for i in station.store.outbox.items(("received",)))
                and len(station.store.outbox.items(("received",))) == 3
            )
        )
        for doc_id, digest in sums.items():
            final = _delivered(out, doc_id)
            assert hashlib.sha256(final.read_bytes()).hexdigest() == digest
            meta = json.loads(final.with_suffix(".json").read_text(encoding="utf-8"))
            assert meta["doc_id"] == doc_id and meta["sha256"] == digest
            assert station.store.outbox.receipts(doc_id)[0]["status"] == "01"
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
    file_id = first.store.outbox.item("big").file_id
    acknowledge = first.store.outbox.ack_segment

    def stop_after_six(file_id: str, offset: int) -> None:
        acknowledge(file_id, offset)
        if len(first.store.outbox.acked_offsets(file_id)) >= 6:
            first.stop.set()  # the station stops mid-file

    first.store.outbox.ack_segment = stop_after_six  # type: ignore[method-assign]
    first.start()
    _until(lambda: not first.thread.is_alive())
    first.close()
    acked = len(Store(data).outbox.acked_offsets(file_id))
    assert 6 <= acked < 20
    second = Station(data, broker.url, window=2).start()
    try:
        _until(lambda: second.store.outbox.item("big").state == "received")
        assert hashlib.sha256(_delivered(out, "big").read_bytes()).hexdigest() == digest
        # only what was not acknowledged is sent again, less what the receiver
        # already holds (it names those in its answer to init)
        assert 20 - acked - 2 <= second.uplink.segments_sent <= 20 - acked
        assert second.store.outbox.item("big").file_id == file_id
    finally:
        second.close()
        central.stop()


def test_receiver_is_idempotent_and_checks_segments(broker: Mosquitto, tmp_path: Path) -> None:
    out = tmp_path / "central"
    central = _receiver(broker.url, out)
    probe = Connection(broker.url, "st-b", clean_start=True)
    responses: list[dict[str, object]] = []
    probe.subscribe(
        topics.file_response("st-b"), lambda topic, payload: responses.append(json.loads(payload))
    )
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
        item = station.store.outbox.item("doc-9")
        assert item.state == "queued" and station.store.outbox.receipts("doc-9") == []
        # a later DMS status with the right document is recorded
        forger.publish(receipt, json.dumps({"status": "01", "sha256": digest}).encode())
        _until(lambda: station.store.outbox.item("doc-9").status == "01")
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
        _until(lambda: len(station.store.outbox.items(("received",))) == 8, timeout=60)
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
    offsets: list[int] = []
    conn = _counting_receiver(broker.url, out, offsets)
    station = Station(tmp_path / "data", broker.url, window=4)
    digest = _queue(station.store, tmp_path, "big", 60 * SEGMENT)
    file_id = station.store.outbox.item("big").file_id
    station.start()
    try:
        _until(lambda: len(station.store.outbox.acked_offsets(file_id)) >= 15)
        broker.stop()
        time.sleep(1.0)
        broker.start()
        _until(lambda: station.store.outbox.item("big").state == "received", timeout=60)
        assert hashlib.sha256(_delivered(out, "big").read_bytes()).hexdigest() == digest
        assert sorted(set(offsets)) == list(range(0, 60 * SEGMENT, SEGMENT))
        assert len(offsets) - 60 <= 1, f"{len(offsets) - 60} segments arrived twice"
    finally:
        station.close()
        conn.stop()


class Recorder:
    """Records what a station publishes under a topic filter and answers each
    file-transfer command with reason 0, as a receiver or EMQX would."""

    def __init__(self, url: str, topic_filter: str, answer_on: str) -> None:
        self.seen: list[tuple[str, bytes]] = []
        self.conn = Connection(url, "recorder", clean_start=True)
        self.answer_on = answer_on
        self.conn.subscribe(topic_filter, self._got)
        self.conn.start()
        assert self.conn.connected.wait(10)

    def _got(self, topic: str, payload: bytes) -> None:
        self.seen.append((topic, payload))
        body = {"vsn": "0.1", "topic": topic, "reason_code": 0, "reason_description": ""}
        self.conn.publish(self.answer_on, json.dumps(body).encode())


@pytest.mark.parametrize(
    ("mode", "topic_filter", "prefix", "answer_on"),
    [
        (
            "station",
            "scanstation/v1/st-a/file/#",
            "scanstation/v1/st-a/file",
            "scanstation/v1/st-a/file-response",
        ),
        ("emqx", "$file-async/#", "$file-async", "$file-response/st-a"),
    ],
)
def test_wire_format_of_both_modes(
    broker: Mosquitto, tmp_path: Path, mode: str, topic_filter: str, prefix: str, answer_on: str
) -> None:
    """The exact topics and payloads of a transfer, under the station's root and
    in EMQX's native mode (docs/mqtt.md, EIP-0021)."""
    recorder = Recorder(broker.url, topic_filter, answer_on)
    store = Store(tmp_path / "data")
    data = os.urandom(SEGMENT + 10)
    path = tmp_path / "w.pdf"
    path.write_bytes(data)
    item = store.outbox.enqueue("w-1", path, {"registration": "DEN-2024-000001"}, SEGMENT)
    config = Config.model_validate(
        {"station": {"id": "st-a"}, "uplink": {"broker": broker.url, "topic_mode": mode}}
    )
    link = StationLink.build(store, Settings(config))  # the setting that switches the mode
    assert link.uplink.files.mode == mode
    link.start()
    try:
        _until(lambda: store.outbox.item("w-1").state == "announced")
    finally:
        link.stop()
        recorder.conn.stop()
        store.close()
    fid = item.file_id
    first, second = data[:SEGMENT], data[SEGMENT:]
    sha = hashlib.sha256
    assert [t for t, _ in recorder.seen] == [
        f"{prefix}/{fid}/init",
        f"{prefix}/{fid}/0/{sha(first).hexdigest()}",
        f"{prefix}/{fid}/{SEGMENT}/{sha(second).hexdigest()}",
        f"{prefix}/{fid}/fin/{len(data)}/{sha(data).hexdigest()}",
    ]
    init = json.loads(recorder.seen[0][1])
    assert init == {
        "name": "w.pdf",
        "size": len(data),
        "checksum": sha(data).hexdigest(),
        "user_data": {"registration": "DEN-2024-000001", "doc_id": "w-1"},
    }
    assert recorder.seen[1][1] == first and recorder.seen[2][1] == second
    assert recorder.seen[3][1] == b""


def _counting_receiver(
    url: str, out: Path, arrivals: list[int], corrupt: set[int] | None = None
) -> Connection:
    """A receiver that counts segment arrivals; the first arrival of each offset in
    ``corrupt`` has a byte flipped on the way."""
    conn = Connection(url, "central-1", clean_start=True)
    handle = Receiver(conn, out)._on_message
    spoiled: set[int] = set()

    def counting(topic: str, payload: bytes) -> None:
        command = topics.parse_file_topic(topic)
        if command is not None and command.kind == "segment":
            arrivals.append(command.offset)
            if corrupt and command.offset in corrupt and command.offset not in spoiled:
                spoiled.add(command.offset)
                payload = bytes([payload[0] ^ 0xFF]) + payload[1:]
        handle(topic, payload)

    conn.on_message = counting
    conn.start()
    assert conn.connected.wait(10)
    return conn


def test_corrupted_segment_is_sent_again(broker: Mosquitto, tmp_path: Path) -> None:
    out = tmp_path / "central"
    arrivals: list[int] = []
    central = _counting_receiver(broker.url, out, arrivals, corrupt={2 * SEGMENT, 5 * SEGMENT})
    station = Station(tmp_path / "data", broker.url)
    digest = _queue(station.store, tmp_path, "doc-c", 8 * SEGMENT)
    station.start()
    try:
        _until(lambda: station.store.outbox.item("doc-c").state == "received")
        assert hashlib.sha256(_delivered(out, "doc-c").read_bytes()).hexdigest() == digest
        assert sorted(arrivals) == sorted(
            [*range(0, 8 * SEGMENT, SEGMENT), 2 * SEGMENT, 5 * SEGMENT]
        )
    finally:
        station.close()
        central.stop()


def test_receiver_restarted_mid_file(broker: Mosquitto, tmp_path: Path) -> None:
    out = tmp_path / "central"
    arrivals: list[int] = []
    central = _counting_receiver(broker.url, out, arrivals)
    station = Station(tmp_path / "data", broker.url, window=4)
    digest = _queue(station.store, tmp_path, "doc-r", 40 * SEGMENT)
    file_id = station.store.outbox.item("doc-r").file_id
    station.start()
    try:
        _until(lambda: len(station.store.outbox.acked_offsets(file_id)) >= 10)
        central.stop()  # the receiver goes away mid-file
        time.sleep(2.0)
        central = _counting_receiver(broker.url, out, arrivals)
        _until(lambda: station.store.outbox.item("doc-r").state == "received", timeout=90)
        assert hashlib.sha256(_delivered(out, "doc-r").read_bytes()).hexdigest() == digest
        assert sorted(set(arrivals)) == list(range(0, 40 * SEGMENT, SEGMENT))
        assert len(list(out.rglob("*.pdf"))) == 1
    finally:
        station.close()
        central.stop()


def test_station_killed_mid_file_resumes_without_duplicate(
    broker: Mosquitto, tmp_path: Path
) -> None:
    SEGMENTS = 400
    out = tmp_path / "central"
    arrivals: list[int] = []
    central = _counting_receiver(broker.url, out, arrivals)
    data = tmp_path / "data"
    with Store(data) as store:
        # large enough that the kill lands mid-file however fast the receiver is
        digest = _queue(store, tmp_path, "doc-k", SEGMENTS * SEGMENT)
        file_id = store.outbox.item("doc-k").file_id
    watcher = Store(data)

    def child() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.uplink_child", str(data), broker.url],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )

    first = child()
    try:
        _until(lambda: len(watcher.outbox.acked_offsets(file_id)) >= 20)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        acked = len(watcher.outbox.acked_offsets(file_id))
        assert acked < SEGMENTS
        second = child()
        try:
            _until(lambda: watcher.outbox.item("doc-k").state == "received", timeout=90)
        finally:
            second.send_signal(signal.SIGKILL)
            second.wait(10)
        assert hashlib.sha256(_delivered(out, "doc-k").read_bytes()).hexdigest() == digest
        assert len(list(out.rglob("*.pdf"))) == 1
        assert watcher.outbox.item("doc-k").file_id == file_id  # resumed, not restarted
        # what travelled twice is at most what was in flight when the kill came
        assert len(arrivals) - SEGMENTS <= 4, f"{len(arrivals) - SEGMENTS} segments arrived twice"
    finally:
        if first.poll() is None:
            first.kill()
        watcher.close()
        central.stop()


@pytest.mark.slow
def test_outbox_waits_while_the_broker_is_down_and_drains(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """No broker when the station starts and documents are queued: they wait in
    the outbox, the connection keeps retrying with back-off, and everything is
    delivered once the broker is back, without anyone acting."""
    broker.stop()
    station = Station(tmp_path / "data", broker.url)
    station.start()
    sums = {f"doc-{k}": _queue(station.store, tmp_path, f"doc-{k}", k * SEGMENT) for k in (1, 2, 3)}
    try:
        time.sleep(65.0)  # over a minute: the back-off has reached its 60 s ceiling
        assert {i.state for i in station.store.outbox.items(("queued", "sent", "received"))} == {
            "queued"
        }
        broker.start()
        central = _receiver(broker.url, tmp_path / "central")
        try:
            _until(lambda: len(station.store.outbox.items(("received",))) == 3, timeout=120)
        finally:
            central.stop()
        for doc_id, digest in sums.items():
            data = _delivered(tmp_path / "central", doc_id).read_bytes()
            assert hashlib.sha256(data).hexdigest() == digest
    finally:
        station.close()


def test_a_receiver_that_lost_the_transfer_gets_init_again(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """A receiver restarted on an empty transfer folder answers every segment of
    the file "send it again" (it has no init): the station starts the file over
    with init instead of sending the same segment in a loop."""
    out = tmp_path / "central"
    arrivals: list[int] = []
    central = _counting_receiver(broker.url, out, arrivals)
    station = Station(tmp_path / "data", broker.url, window=2)
    digest = _queue(station.store, tmp_path, "doc-l", 30 * SEGMENT)
    file_id = station.store.outbox.item("doc-l").file_id
    station.start()
    try:
        _until(lambda: len(station.store.outbox.acked_offsets(file_id)) >= 6)
        central.stop()
        shutil.rmtree(out / ".transfer")  # the receiver's transfer state is gone
        central = _counting_receiver(broker.url, out, arrivals)
        _until(lambda: station.store.outbox.item("doc-l").state == "received", timeout=60)
        assert hashlib.sha256(_delivered(out, "doc-l").read_bytes()).hexdigest() == digest
        # a few rounds of the whole file at most, never a loop on one segment
        assert len(arrivals) < 4 * 30
    finally:
        station.close()
        central.stop()
