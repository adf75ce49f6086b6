"""Delivery over MQTT with a real mosquitto: outbox, file transfer, receiver, receipts."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from station.config import Config
from station.config.remote import Settings
from station.store import Store
from station.uplink.link import StationLink
from station.wire import topics
from station.wire.mqtt import Connection
from tests.helpers.broker import Mosquitto
from tests.helpers.cli import ROOT
from tests.helpers.uplink import SEGMENT, Station, delivered, queue, receiver, wait_for


def test_documents_are_delivered_once_with_receipts(broker: Mosquitto, tmp_path: Path) -> None:
    out = tmp_path / "central"
    central = receiver(broker.url, out)
    station = Station(tmp_path / "data", broker.url)
    sums = {
        "doc-1": queue(station.store, tmp_path, "doc-1", 5 * SEGMENT + 123),
        "doc-2": queue(station.store, tmp_path, "doc-2", 100),
        "doc-3": queue(station.store, tmp_path, "doc-3", 0),
    }
    station.start()
    try:
        wait_for(
            lambda: (
                all(i.state == "received" for i in station.store.outbox.items(("received",)))
                and len(station.store.outbox.items(("received",))) == 3
            )
        )
        for doc_id, digest in sums.items():
            final = delivered(out, doc_id)
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
    central = receiver(broker.url, out)
    data = tmp_path / "data"
    first = Station(data, broker.url, window=2)
    digest = queue(first.store, tmp_path, "big", 20 * SEGMENT)
    file_id = first.store.outbox.item("big").file_id
    acknowledge = first.store.outbox.ack_segment

    def stop_after_six(file_id: str, offset: int) -> None:
        acknowledge(file_id, offset)
        if len(first.store.outbox.acked_offsets(file_id)) >= 6:
            first.stop.set()  # the station stops mid-file

    first.store.outbox.ack_segment = stop_after_six  # type: ignore[method-assign]
    first.start()
    wait_for(lambda: not first.thread.is_alive())
    first.close()
    acked = len(Store(data).outbox.acked_offsets(file_id))
    assert 6 <= acked < 20
    second = Station(data, broker.url, window=2).start()
    try:
        wait_for(lambda: second.store.outbox.item("big").state == "received")
        assert hashlib.sha256(delivered(out, "big").read_bytes()).hexdigest() == digest
        # only what was not acknowledged is sent again, less what the receiver
        # already holds (it names those in its answer to init)
        assert 20 - acked - 2 <= second.uplink.segments_sent <= 20 - acked
        assert second.store.outbox.item("big").file_id == file_id
    finally:
        second.close()
        central.stop()


def test_receiver_is_idempotent_and_checks_segments(broker: Mosquitto, tmp_path: Path) -> None:
    out = tmp_path / "central"
    central = receiver(broker.url, out)
    probe = Connection(broker.url, "st-b", clean_start=True)
    responses: list[dict[str, object]] = []
    probe.subscribe(
        topics.file_response("st-b"), lambda topic, payload: responses.append(json.loads(payload))
    )
    probe.start()
    assert probe.ready.wait(10)
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
        wait_for(lambda: len(responses) == 7)
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
        wait_for(lambda: len(responses) == 10)
        assert responses[-1]["reason_code"] == topics.CANCEL
        assert final.read_bytes() == data
        # hostile topics and payloads are ignored, the receiver carries on
        probe.publish("scanstation/v1/st-b/file/../../etc/init", b"{}")
        probe.publish(files.init("f3"), b"\xff\xfe not json")
        probe.publish(f"{topics.doc('st-b', 'd1')}", b"[1, 2]")
        wait_for(lambda: len(responses) == 11)
        assert responses[-1]["reason_code"] == topics.CANCEL
        assert not (out / "etc").exists()
    finally:
        probe.stop()
        central.stop()


def test_hostile_responses_and_receipts_are_ignored(broker: Mosquitto, tmp_path: Path) -> None:
    station = Station(tmp_path / "data", broker.url)
    digest = queue(station.store, tmp_path, "doc-9", 10)
    station.conn.start()
    assert station.conn.ready.wait(10)
    forger = Connection(broker.url, "forger", clean_start=True)
    forger.start()
    assert forger.ready.wait(10)
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
        wait_for(lambda: station.store.outbox.item("doc-9").status == "01")
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
            f"doc-{k}": queue(station.store, tmp_path, f"doc-{k}", (k % 3) * SEGMENT + 99 * k)
            for k in range(1, 9)
        }
        station.start()
        wait_for(lambda: len(station.store.outbox.items(("received",))) == 8, timeout=60)
        stored = sorted(p.name for p in out.rglob("*.pdf"))
        assert stored == sorted(f"{d}.pdf" for d in sums)
        for doc_id, digest in sums.items():
            data = delivered(out, doc_id).read_bytes()
            assert hashlib.sha256(data).hexdigest() == digest
    finally:
        station.close()
        for proc in receivers:
            proc.send_signal(signal.SIGTERM)
        outputs = [proc.communicate(timeout=10) for proc in receivers]
    for proc, (stdout, stderr) in zip(receivers, outputs, strict=True):
        assert proc.returncode == 0, stderr
        assert "Bộ nhận / receiver" in stdout and "central" in stdout


class Recorder:
    """Records what a station publishes under a topic filter and answers each
    file-transfer command with reason 0, as a receiver or EMQX would."""

    def __init__(self, url: str, topic_filter: str, answer_on: str) -> None:
        self.seen: list[tuple[str, bytes]] = []
        self.conn = Connection(url, "recorder", clean_start=True)
        self.answer_on = answer_on
        self.conn.subscribe(topic_filter, self._got)
        self.conn.start()
        assert self.conn.ready.wait(10)

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
        wait_for(lambda: store.outbox.item("w-1").state == "announced")
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


@pytest.mark.slow
def test_the_closing_fields_travel_in_the_doc_message(
    broker: Mosquitto, tmp_path: Path, two_document_scans: Path
) -> None:
    """A real station scans the sample stack's first two documents, reads them
    and confirms them by itself: the ``doc/{doc_id}`` message of each carries,
    in its metadata, the closing fields its page shows: Chức vụ and Người ký
    under the signature, Nơi nhận at the bottom left, Kính gửi above the body
    (docs/mqtt.md#docdoc_id)."""
    from station.appliance.station import Station as Appliance
    from station.demo.samples import SAMPLE_DOCUMENTS

    heard: list[tuple[str, bytes]] = []
    listener = Connection(broker.url, "doc-listener", clean_start=True)
    listener.subscribe(f"{topics.root('st-close')}/doc/+", lambda t, p: heard.append((t, p)))
    listener.start()
    assert listener.ready.wait(10)
    central = receiver(broker.url, tmp_path / "central")
    config = Config.model_validate(
        {
            "station": {"id": "st-close", "data_dir": str(tmp_path / "data")},
            "scanner": {"device": f"folder:{two_document_scans}"},
            "pipeline": {"auto_confirm_seconds": 1},
            "uplink": {"broker": broker.url},
            "ocr": {"jobs": 1},
        }
    )
    store = Store(config.station.data_dir, owner=True)
    station = Appliance(Settings(config), store)
    station.start()
    try:
        assert station.scan()
        wait_for(lambda: len(store.outbox.items(("received",))) == 2, 300, 0.2)
        wait_for(lambda: len(heard) >= 2)
    finally:
        station.stop()
        store.close()
        central.stop()
        listener.stop()
    sent = {json.loads(payload)["Registration"]: json.loads(payload) for _, payload in heard}
    first, second = (sent[spec.registration] for spec in SAMPLE_DOCUMENTS[:2])
    for spec, meta in ((SAMPLE_DOCUMENTS[0], first), (SAMPLE_DOCUMENTS[1], second)):
        assert meta["SignerName"] == spec.signer_name
        assert meta["SignerPosition"] == spec.signer_title
    # the sample's "Nơi nhận:" lines, each without its dash and closing mark
    assert first["ToPlaces"] == second["ToPlaces"] == ["Như trên", "Lãnh đạo đơn vị", "Lưu: VT"]
    # "Kính gửi:" only on the letter, none on the decision
    assert second["Addressees"] == ["Viện kiểm sát nhân dân tỉnh Thanh Hóa"]
    assert first["Addressees"] in (None, [])
    # the topic names the document the payload is
    assert all(topic.endswith(f"/doc/{json.loads(p)['doc_id']}") for topic, p in heard)
