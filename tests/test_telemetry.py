"""The station's reports and remote commands with a real mosquitto: state,
health, events, conditions, commands, and the remote settings file."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from station.appliance.stats import ScannerState, Stats, conditions, cpu_temperature
from station.config import Config
from station.config import remote as settings_mod
from station.config.remote import Settings
from station.errors import ConfigError
from station.store import Store
from station.uplink.commands import Commands
from station.uplink.link import StationLink
from station.wire import topics
from station.wire.mqtt import Connection
from station.wire.remote import COMMANDS
from tests.helpers.broker import Mosquitto, free_port
from tests.helpers.cli import ROOT, scanstation
from tests.helpers.wait import until


def _until(check: Callable[[], Any], timeout: float = 15.0, step: float = 0.05) -> Any:
    return until(check, timeout, step)


class Watcher:
    """Everything published under one station's root."""

    def __init__(self, url: str, station_id: str) -> None:
        self.seen: list[tuple[str, Any]] = []
        self.conn = Connection(url, f"watch-{station_id}", clean_start=True)
        self.conn.subscribe(f"{topics.root(station_id)}/#", self._got)
        self.conn.start()
        assert self.conn.ready.wait(10)

    def _got(self, topic: str, payload: bytes) -> None:
        self.seen.append((topic.rsplit("/", 1)[-1], json.loads(payload) if payload else None))

    def last(self, name: str) -> Any:
        found = [body for topic, body in self.seen if topic == name]
        return found[-1] if found else None

    def all(self, name: str) -> list[Any]:
        return [body for topic, body in self.seen if topic == name]


def _config(broker: Mosquitto, data: Path, **sections: Any) -> Config:
    return Config.model_validate(
        {
            "station": {"id": "st-t", "data_dir": str(data), **sections.pop("station", {})},
            "uplink": {"broker": broker.url, "keepalive_s": 5},
            "telemetry": {"interval_s": 5},
            **sections,
        }
    )


def test_state_health_events_and_conditions(broker: Mosquitto, tmp_path: Path) -> None:
    watcher = Watcher(broker.url, "st-t")
    # a free-space floor above what the disk has: disk.low from the first report
    config = _config(broker, tmp_path / "data", station={"min_free_mb": 900_000})
    store = Store(config.station.data_dir)
    store.events.add("scanner.jam", "error", "Kẹt giấy", "Paper jam", {"batch": "b1"})
    settings = Settings(config)
    link = StationLink.build(store, settings, ScannerState(model="fi-7160", status="jammed"))
    link.start()
    try:
        state = _until(lambda: watcher.last("state"))
        assert state["state"] == "online" and state["boot"] == 1 and state["version"]
        health = _until(lambda: watcher.last("health"))
        assert set(health) >= {
            "queue", "disk", "cpu_temp_c", "memory", "scanner", "counters", "uptime_s",
            "version", "last_error", "digitized", "unit",
        }  # fmt: skip
        assert health["scanner"]["status_text"] == {"vi": "kẹt giấy", "en": "paper jam"}
        assert health["last_error"]["type"] == "scanner.jam"
        events = _until(lambda: len(watcher.all("event")) >= 2 and watcher.all("event"))
        assert [e["type"] for e in events] == ["scanner.jam", "disk.low"]
        assert events[0]["message"] == {"vi": "Kẹt giấy", "en": "Paper jam"}
        assert events[1]["detail"]["active"] is True and events[1]["severity"] == "warning"
        assert store.events.unpublished() == []
        # the floor lowered remotely: the condition clears, once
        settings.change({"station.min_free_mb": 50})
        _until(lambda: len(watcher.all("event")) >= 3)
        time.sleep(0.5)
        cleared = watcher.all("event")[2:]
        assert [(e["type"], e["detail"]["active"]) for e in cleared] == [("disk.low", False)]
    finally:
        link.stop()
    # the broker took it before stop() returned; the watcher gets it a moment later
    _until(lambda: watcher.last("state")["state"] == "offline")
    # the retained state and health stay for whoever subscribes later
    late = Watcher(broker.url, "st-t")
    assert _until(lambda: late.last("state"))["state"] == "offline"
    assert _until(lambda: late.last("health"))["station_id"] == "st-t"
    # a restart is a new boot and remembers which conditions are active (none now)
    link = StationLink.build(store, settings)
    assert link.stats.boot == 2
    assert link.telemetry.active == set()
    watcher.conn.stop()
    late.conn.stop()
    store.close()


def test_events_raised_while_the_broker_is_away_arrive_later(
    broker: Mosquitto, tmp_path: Path
) -> None:
    config = _config(broker, tmp_path / "data")
    store = Store(config.station.data_dir)
    link = StationLink.build(store, Settings(config))
    link.start()
    try:
        assert link.connection.ready.wait(10)
        broker.stop()
        _until(lambda: not link.connection.connected.is_set())
        store.events.add("scanner.cover_open", "error", "Nắp đang mở", "Cover open")
        link.telemetry.wake.set()
        time.sleep(0.5)
        assert len(store.events.unpublished()) == 1
        broker.start()
        watcher = Watcher(broker.url, "st-t")
        _until(lambda: link.connection.connected.is_set(), timeout=70)
        event = _until(lambda: watcher.last("event"), timeout=20)
        assert event["type"] == "scanner.cover_open"
        # marked published when the broker's acknowledgement comes back, which
        # may be a moment after the watcher has the message
        _until(lambda: store.events.unpublished() == [], timeout=10)
        watcher.conn.stop()
    finally:
        link.stop()
        store.close()


@pytest.fixture
def commands(tmp_path: Path) -> Iterator[tuple[Commands, Store, Settings]]:
    config = Config.model_validate({"station": {"id": "st-c", "data_dir": str(tmp_path / "data")}})
    store = Store(config.station.data_dir)
    settings = Settings(config)
    conn = Connection("mqtt://127.0.0.1:1", "st-c")  # never started: handle() only
    yield Commands(conn, store, settings, Stats(store, settings)), store, settings
    store.close()


def _answer(commands: Commands, name: str, payload: bytes | dict[str, Any]) -> dict[str, Any]:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    answer: dict[str, Any] = json.loads(commands.handle(name, raw))
    return answer


@pytest.mark.parametrize(
    ("name", "payload", "why"),
    [
        ("ping", b"", "JSON"),
        ("ping", b"\xff\xfe", "JSON"),
        ("ping", b"[1, 2]", "JSON"),
        ("ping", b'{"id": "a/b#", "args": {}}', "'id'"),
        ("ping", b'{"id": "' + b"x" * 65 + b'"}', "'id'"),
        ("ping", b'{"id": "p1", "args": "now"}', "a command is"),
        ("ping", b'{"id": "p2", "args": {}, "run": "rm -rf /"}', "a command is"),
        ("ping", b'{"id": "p3", "args": {"x": 1}}', "takes no args"),
        ("shutdown", b'{"id": "p4", "args": {}}', "unknown command"),
        ("config", b'{"id": "p5", "args": {"uplink.ca_file": "/etc/shadow"}}', "cannot be set"),
        ("config", b'{"id": "p6", "args": {"ocr.jobs": -1}}', "invalid settings"),
        ("reset-counter", b'{"id": "p7", "args": {"counter": "pages_total"}}', "one of: roller"),
        ("ping", b'{"id": "p8", "args": {}}' + b" " * 20_000, "JSON"),
    ],
)
def test_malformed_or_unknown_commands_change_nothing(
    commands: tuple[Commands, Store, Settings], name: str, payload: bytes, why: str
) -> None:
    handler, store, settings = commands
    before = (settings.config, store.counters(), len(store.events.since()))
    answer = _answer(handler, name, payload)
    assert answer["ok"] is False
    assert why in answer["error"]["message"]["en"]
    assert answer["error"]["message"]["vi"]
    assert (settings.config, store.counters(), len(store.events.since())) == before
    assert not (settings.config.station.data_dir / "settings.json").exists()


def test_the_station_runs_exactly_the_commands_of_the_contract(
    commands: tuple[Commands, Store, Settings],
) -> None:
    """The fleet offers the commands of station.wire.remote; the station has a
    handler for each of them and for nothing else."""
    assert tuple(commands[0].handlers) == COMMANDS


def test_a_redelivered_command_runs_once(commands: tuple[Commands, Store, Settings]) -> None:
    handler, store, _ = commands
    first = _answer(handler, "reset-counter", {"id": "r1", "args": {"counter": "roller"}})
    again = _answer(handler, "reset-counter", {"id": "r1", "args": {"counter": "roller"}})
    assert first == again and first["ok"] is True
    assert [e.type for e in store.events.since()] == ["counter.reset.roller"]


def test_remote_settings_file_is_checked_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    toml = tmp_path / "station.toml"
    toml.write_text(f'[station]\ndata_dir = "{data}"\n', encoding="utf-8")
    saved = data / "settings.json"
    for text, why in (
        ("{not json", "cannot be read"),
        ('{"uplink": {"broker": "mqtt://x:1"}}', "may not set"),
        ('{"telemetry": {"interval_s": 1}}', "interval_s"),
    ):
        saved.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=why):
            settings_mod.load(toml)
    saved.write_text('{"telemetry": {"interval_s": 30}}', encoding="utf-8")
    assert settings_mod.load(toml).telemetry.interval_s == 30


def test_cpu_temperature_reads_the_thermal_zone(tmp_path: Path) -> None:
    for name, kind, milli in (
        ("thermal_zone0", "acpitz", "30000"),
        ("thermal_zone1", "cpu-thermal", "48312"),
    ):
        (tmp_path / name).mkdir()
        (tmp_path / name / "type").write_text(kind + "\n")
        (tmp_path / name / "temp").write_text(milli + "\n")
    assert cpu_temperature(tmp_path) == 48.3
    assert cpu_temperature(tmp_path / "none") is None


def test_stats_count_queue_and_months(tmp_path: Path) -> None:
    config = Config.model_validate({"station": {"id": "st-s", "data_dir": str(tmp_path)}})
    store = Store(tmp_path)
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(b"%PDF-1.7")
    for n in range(3):
        store.outbox.enqueue(f"d{n}", pdf, {}, 4096)
    store.outbox.set_state("d0", "announced")
    store.add_document("x1", "b", None, None, {"PageAmount": 4})
    store.add_document("x2", "b", None, None, {"PageAmount": 2})
    snap = Stats(store, Settings(config), connected=threading.Event()).snapshot()
    assert snap["queue"]["depth"] == 3
    assert snap["queue"]["to_send"] == 2 and snap["queue"]["awaiting_receipt"] == 1
    assert snap["queue"]["oldest_pending_s"] >= 0
    assert list(snap["digitized"].values()) == [
        {"documents": 2, "pages": 6, "incoming": 2, "outgoing": 0}
    ]
    assert snap["broker_connected"] is False
    store.close()


def test_fleet_command_serves_the_dashboard(broker: Mosquitto, tmp_path: Path) -> None:
    """`scanstation fleet` sees a station, serves the API, and stops on SIGTERM;
    listening beyond loopback without a password is refused (exit 3)."""
    refused = scanstation(
        "fleet", "--broker", broker.url, "--listen", "0.0.0.0:8999", "--data-dir", str(tmp_path)
    )
    assert refused.returncode == 3 and "password" in refused.stderr
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "station", "fleet", "--broker", broker.url,
         "--listen", f"127.0.0.1:{port}", "--data-dir", str(tmp_path / "fleet")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
    )  # fmt: skip
    config = _config(broker, tmp_path / "data")
    store = Store(config.station.data_dir)
    link = StationLink.build(store, Settings(config))
    link.start()
    try:
        assert proc.stdout is not None
        assert f"http://127.0.0.1:{port}/" in proc.stdout.readline()

        def stations() -> Any:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/stations") as reply:
                rows = json.loads(reply.read())
            return rows if rows and rows[0]["health"] else None

        rows = _until(stations)
        assert rows[0]["station_id"] == "st-t" and rows[0]["state"] == "online"
    finally:
        link.stop()
        store.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert proc.stdout is not None
        proc.stdout.close()
    assert (tmp_path / "fleet" / "fleet.sqlite3").exists()


def test_conditions_by_the_telemetry_thresholds(tmp_path: Path) -> None:
    config = Config.model_validate({"station": {"id": "st-k", "data_dir": str(tmp_path)}})
    settings = Settings(config)
    snapshot: dict[str, Any] = {
        "disk": {"free_bytes": 10 * 2**30, "floor_bytes": 500 * 2**20, "free_percent": 40.0},
        "queue": {"depth": 4, "to_send": 2, "oldest_unsent_s": 14 * 60.0,
                  "oldest_pending_s": 7.9 * 3600},
    }  # fmt: skip
    assert conditions(snapshot, settings) == []
    snapshot["queue"].update(oldest_unsent_s=16 * 60.0, oldest_pending_s=8.1 * 3600)
    snapshot["disk"].update(free_percent=9.0)
    found = conditions(snapshot, settings)
    assert [c.type for c in found] == ["disk.low", "upload.failing", "backlog.old"]
    assert "16 phút" in found[1].message_vi and "8.1 h" in found[2].message_en
    settings.change({"telemetry.backlog_alert_hours": 9, "telemetry.upload_alert_minutes": 20})
    assert [c.type for c in conditions(snapshot, settings)] == ["disk.low"]


def test_a_retained_command_is_never_run(broker: Mosquitto, tmp_path: Path) -> None:
    """A command left retained on the broker would run at every connect: the
    station subscribes without retained messages (MQTT 5 retain handling 2)."""
    sender = Connection(broker.url, "fleet-r", clean_start=True)
    sender.start()
    assert sender.ready.wait(10)
    body = json.dumps({"id": "old-1", "args": {"counter": "roller"}}).encode()
    sender.publish(topics.cmd("st-t", "reset-counter"), body, retain=True).wait_for_publish(5)
    config = _config(broker, tmp_path / "data")
    store = Store(config.station.data_dir)
    store.bump_counter("sheets_since_roller")
    link = StationLink.build(store, Settings(config))
    link.start()
    try:
        assert link.connection.ready.wait(10)
        time.sleep(1.5)
        assert store.counters()["sheets_since_roller"] == 1
        assert not [e for e in store.events.since() if e.type == "counter.reset.roller"]
    finally:
        link.stop()
        sender.publish(topics.cmd("st-t", "reset-counter"), b"", retain=True)
        sender.stop()
        store.close()
