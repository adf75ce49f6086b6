"""What a station publishes to the fleet fits the wire models the fleet decodes
with (station/wire/payloads.py): every ``state``, ``health``, ``event`` and
``cmd-resp`` a real station sends over a real mosquitto, in its usual states and
its failing ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from station.appliance.stats import ScannerState
from station.capture.session import record_error
from station.config import Config
from station.config.remote import Settings
from station.errors import PaperJam, SigningError
from station.store import Store, now_iso
from station.uplink.link import StationLink
from station.uplink.telemetry import last_will
from station.wire import payloads, topics
from station.wire.mqtt import Connection
from tests.helpers.broker import Mosquitto
from tests.helpers.wait import until

STATION = "st-w"


class Recorder:
    """Every message published under the station's root, as sent (raw bytes)."""

    def __init__(self, url: str) -> None:
        self.seen: list[tuple[str, bytes]] = []
        self.conn = Connection(url, "recorder", clean_start=True)
        self.conn.subscribe(f"{topics.root(STATION)}/#", self._got)
        self.conn.start()
        assert self.conn.ready.wait(10)

    def _got(self, topic: str, payload: bytes) -> None:
        self.seen.append((topic, payload))

    def kinds(self) -> list[str]:
        return [_kind(topic) for topic, _ in self.seen]


def _kind(topic: str) -> str:
    part = topic.split("/")[3]
    return part if part in payloads.MODELS else "other"


def _until(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    return until(check, timeout, 0.05)


def test_what_a_station_publishes_fits_the_wire_models(broker: Mosquitto, tmp_path: Path) -> None:
    config = Config.model_validate(
        {
            # a floor above the disk's free space: disk.low from the first report
            "station": {"id": STATION, "data_dir": str(tmp_path / "data"),
                        "unit_name": "Viện kiểm sát nhân dân huyện Đông Sơn",
                        "min_free_mb": 900_000},
            "uplink": {"broker": broker.url, "keepalive_s": 5},
            "telemetry": {"interval_s": 5},
        }
    )  # fmt: skip
    store = Store(config.station.data_dir)
    jam = PaperJam("paper jam", "Kẹt giấy")
    record_error(store, jam, batch="b1", pages=3)
    batch = store.create_batch("test:0", "standard", "cli")
    store.add_document("d1", batch.id, None, None, {"PageAmount": 4})
    store.events.add("signing.failed", "error", "Không ký được", "Cannot sign",
                    {"doc_id": "d1", "sent_unsigned": False})  # fmt: skip
    scanner = ScannerState(model="fi-7160", device="fujitsu:fi-7160:1", status="ready")
    scanner.failed(jam)
    recorder = Recorder(broker.url)
    link = StationLink.build(store, Settings(config), scanner)
    failing = SigningError("the signing token is not there", "Không thấy thiết bị ký số")
    signing_states = iter(
        [
            {"ok": False, "at": now_iso(), "error": failing.to_json()},
            {"ok": True, "at": now_iso(), "subject": "Common Name: Viện kiểm sát"},
        ]
    )
    signing: dict[str, Any] = {}
    link.stats.signing = lambda: {"enabled": True, "held": 1, **signing}
    fleet = Connection(broker.url, "fleet-w", clean_start=True)
    fleet.start()
    assert fleet.ready.wait(10)
    link.start()
    try:
        _until(lambda: "health" in recorder.kinds() and recorder.kinds().count("event") >= 3)
        for state in signing_states:
            signing.update(state)
            link.telemetry.wake.set()
            reports = recorder.kinds().count("health")
            _until(lambda: recorder.kinds().count("health") > reports)  # noqa: B023
        # every command, well formed or not, gets a reply
        for name, body in [
            ("ping", {"id": "c1", "args": {}}),
            ("reannounce", {"id": "c2", "args": {}}),
            ("config", {"id": "c3", "args": {}}),
            ("config", {"id": "c4", "args": {"telemetry.interval_s": 7}}),
            ("config", {"id": "c5", "args": {"uplink.broker": "mqtt://elsewhere:1883"}}),
            ("reset-counter", {"id": "c6", "args": {"counter": "roller"}}),
            ("format-disk", {"id": "c7", "args": {}}),
            ("ping", "not an object"),
        ]:
            fleet.publish(topics.cmd(STATION, name), json.dumps(body).encode())
        _until(lambda: recorder.kinds().count("cmd-resp") >= 8)
        _until(lambda: recorder.kinds().count("event") >= 4)  # counter.reset.roller
    finally:
        link.stop()
        fleet.stop()
    _until(lambda: b'"offline"' in recorder.seen[-1][1])
    recorder.conn.stop()
    store.close()

    # what the station sent (not the commands the fleet sent it)
    sent = [(_kind(t), payload) for t, payload in recorder.seen if _kind(t) in payloads.MODELS]
    sent.append(("state", last_will(STATION, 3).payload))
    kinds = {kind for kind, _ in sent}
    assert kinds == set(payloads.MODELS), kinds
    for kind, payload in sent:
        found = payloads.decode(payloads.MODELS[kind], payload, payloads.MAX_BYTES[kind])
        assert not isinstance(found, payloads.Rejected), (kind, found, payload[:300])
    healths = [json.loads(p) for kind, p in sent if kind == "health"]
    assert {h["signing"].get("ok") for h in healths} >= {False, True}
    assert any(h["scanner"]["status"] == "jammed" and h["last_error"] for h in healths)
    assert any(h["digitized"] for h in healths)
    events = {json.loads(p)["type"] for kind, p in sent if kind == "event"}
    assert events >= {"scanner.jam", "signing.failed", "disk.low", "counter.reset.roller"}
    replies = [json.loads(p) for kind, p in sent if kind == "cmd-resp"]
    assert {r["ok"] for r in replies} == {True, False}
    assert any(r["id"] is None for r in replies)


def test_ready_waits_for_the_brokers_acknowledgement_of_every_subscription(
    broker: Mosquitto,
) -> None:
    """``connected`` is the session; ``ready`` is the session with every
    subscription acknowledged: a message published from then on is not missed."""
    heard: list[bytes] = []
    listener = Connection(broker.url, "listener", clean_start=True)
    listener.subscribe("ready/test", lambda t, p: heard.append(p))
    talker = Connection(broker.url, "talker", clean_start=True)
    talker.start()
    listener.start()
    try:
        assert listener.ready.wait(10) and talker.ready.wait(10)
        assert listener.connected.is_set()
        talker.publish("ready/test", b"1", qos=0)
        _until(lambda: heard == [b"1"])
        # a subscription added while connected: ready again once it is acknowledged
        listener.subscribe("ready/other", lambda t, p: heard.append(p))
        assert listener.ready.wait(10)
        talker.publish("ready/other", b"2", qos=0)
        _until(lambda: heard == [b"1", b"2"])
    finally:
        listener.stop()
        talker.stop()
