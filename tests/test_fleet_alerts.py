"""The alert rules, their history and fleet.toml, without a network: each rule
at its thresholds, the working calendar, a unit's months without documents,
raise / acknowledge / clear / raise again in the fleet's SQLite, the messages'
grouping, and the config's refusals (line and fix)."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from station.appliance.stats import Stats
from station.central.alertdb import AlertStore, Change
from station.central.alerting import Alerting
from station.central.fleet import Fleet, iso
from station.central.fleetconfig import (
    Calendar,
    EmailChannel,
    FleetSettings,
    Notify,
    Rules,
    WebhookChannel,
    load_fleet,
    read_secret_file,
)
from station.central.fleetdb import SCHEMA, SCHEMA_VERSION, FleetDB, StationRow
from station.central.messages import compose
from station.central.rules import (
    STATION_KINDS,
    Alert,
    UnitFacts,
    alerts_of,
    secret_alert,
    unit_alerts,
)
from station.common.clock import VIETNAM
from station.config import Config
from station.config.remote import Settings
from station.errors import ConfigError
from station.store import Store
from station.wire import payloads
from station.wire.mqtt import Connection
from tests.helpers.cli import ROOT, scanstation
from tests.test_fleet_payloads import health

SETTINGS = FleetSettings()


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment in Vietnam time."""
    return datetime(year, month, day, hour, minute, tzinfo=VIETNAM)


def row(
    state: str = "online",
    *,
    since: datetime | None = None,
    seen: datetime | None = None,
    health: dict[str, Any] | None = None,
    first: datetime | None = None,
) -> StationRow:
    now = seen or vn(2026, 11, 25, 10, 0)
    return StationRow(
        station_id="vks-01", state=state, boot=1, version="0.1.0", since=iso(since or now),
        last_seen=iso(seen or now), first_seen=iso(first or now - timedelta(days=30)),
        unit="Viện kiểm sát nhân dân huyện Hoằng Hóa", health=health, health_at=iso(seen or now),
    )  # fmt: skip


def report(**parts: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "interval_s": 60,
        "queue": {"depth": 0, "oldest_pending_s": None, "rejected": 0},
        "disk": {"free_percent": 50.0, "free_bytes": 30 * 2**30},
        "counters": {"sheets_since_roller": 10, "roller_limit": 200000},
        "scanner": {"status": "ready"},
        "cpu_temp_c": 50.0,
        "signing": {"enabled": False},
    }
    base.update(parts)
    return base


def kinds(station: StationRow, now: datetime, settings: FleetSettings = SETTINGS,
          active: tuple[str, ...] = ()) -> list[str]:  # fmt: skip
    return [a.kind for a in alerts_of(station, settings, now, active)]


# ---------------------------------------------------------------------- rules


def test_lost_is_an_alert_at_once_and_offline_counts_working_hours() -> None:
    wednesday = vn(2026, 11, 25, 10, 0)
    assert kinds(row("lost", since=wednesday), wednesday) == ["lost"]
    # switched off at 09:40 on a Wednesday: 20 working minutes
    assert kinds(row("offline", since=vn(2026, 11, 25, 9, 40)), wednesday) == ["offline"]
    assert kinds(row("offline", since=vn(2026, 11, 25, 9, 50)), wednesday) == []
    # switched off at 16:55, looked at the next morning at 07:40: 5 + 10 working minutes
    evening, morning = vn(2026, 11, 24, 16, 55), vn(2026, 11, 25, 7, 40)
    assert kinds(row("offline", since=evening), morning) == ["offline"]
    assert kinds(row("offline", since=evening), vn(2026, 11, 25, 7, 35)) == []
    # off for the weekend: no alert on Sunday
    assert kinds(row("offline", since=vn(2026, 11, 27, 17, 0)), vn(2026, 11, 29, 12, 0)) == []
    # counted in plain minutes when the rule says so
    always = FleetSettings.model_validate({"rules": {"offline": {"working_hours_only": False}}})
    assert kinds(
        row("offline", since=vn(2026, 11, 29, 11, 0)), vn(2026, 11, 29, 12, 0), always
    ) == ["offline"]


def test_thresholds_of_the_health_rules() -> None:
    now = vn(2026, 11, 25, 10, 0)
    cases: list[tuple[dict[str, Any], list[str]]] = [
        (report(), []),
        (report(cpu_temp_c=80.0), ["temperature"]),
        (report(cpu_temp_c=79.9), []),
        (report(disk={"free_percent": 9.9, "free_bytes": 9 * 2**30}), ["disk"]),
        (report(disk={"free_percent": 40.0, "free_bytes": 1000 * 2**20}), ["disk"]),
        (report(queue={"depth": 100, "oldest_pending_s": 60.0}), ["backlog"]),
        (report(queue={"depth": 3, "oldest_pending_s": 9 * 3600.0}), ["backlog"]),
        (report(queue={"depth": 99, "oldest_pending_s": 3600.0}), []),
        (report(signing={"enabled": True, "ok": False, "held": 2}), ["signing"]),
        (report(signing={"enabled": True, "ok": True, "held": 10}), ["signing"]),
        (report(signing={"enabled": True, "ok": True, "held": 9}), []),
        (report(scanner={"status": "jammed"}), ["scanner"]),
        (report(scanner={"status": "offline"}), ["scanner"]),
        (report(scanner={"status": "no_paper"}), []),
        (report(counters={"sheets_since_roller": 200000, "roller_limit": 200000}), ["roller"]),
        (report(queue={"depth": 0, "oldest_pending_s": None, "rejected": 1}), ["rejected"]),
        # odd values are no alert and no crash
        (report(disk={"free_percent": "lots"}, queue="x", counters=None, cpu_temp_c=True), []),
    ]
    for reported, want in cases:
        assert kinds(row(health=reported), now) == want, reported
    found = alerts_of(row(health=report(scanner={"status": "error"})), SETTINGS, now)
    assert found[0].vi == "Máy quét: máy quét báo lỗi" and found[0].value == "error"


def test_the_temperature_clears_a_few_degrees_lower() -> None:
    now = vn(2026, 11, 25, 10, 0)
    warm = row(health=report(cpu_temp_c=76.0))
    assert kinds(warm, now) == []
    assert kinds(warm, now, active=("temperature",)) == ["temperature"]
    assert kinds(row(health=report(cpu_temp_c=74.9)), now, active=("temperature",)) == []


def test_rules_are_set_in_the_config() -> None:
    now = vn(2026, 11, 25, 10, 0)
    settings = FleetSettings.model_validate(
        {"rules": {"temperature": {"warn_c": 70, "severity": "critical"},
                   "scanner": {"statuses": ["no_paper"]}, "disk": {"enabled": False}}}
    )  # fmt: skip
    station = row(health=report(cpu_temp_c=71.0, scanner={"status": "no_paper"},
                                disk={"free_percent": 1.0, "free_bytes": 1}))  # fmt: skip
    found = alerts_of(station, settings, now)
    assert [(a.kind, a.severity) for a in found] == [
        ("temperature", "critical"), ("scanner", "warning"),
    ]  # fmt: skip
    assert list(STATION_KINDS).index("temperature") < list(STATION_KINDS).index("scanner")


def _idle(last: datetime | None, seen: datetime, first: datetime | None = None) -> StationRow:
    health = report(last_document_at=iso(last) if last else None)
    return row(seen=seen, health=health, first=first)


def test_no_documents_for_three_working_days() -> None:
    # the last document on Monday 23 November 2026; Tue, Wed, Thu make three whole working days
    monday = vn(2026, 11, 23, 15, 0)
    assert kinds(_idle(monday, vn(2026, 11, 26, 16, 0)), vn(2026, 11, 26, 16, 0)) == []
    friday = vn(2026, 11, 27, 8, 0)
    assert kinds(_idle(monday, friday), friday) == ["inactive"]
    # it stays over the weekend while the station is switched off
    off = StationRow(**{**_idle(monday, vn(2026, 11, 27, 17, 0)).__dict__, "state": "offline",
                        "since": iso(vn(2026, 11, 27, 17, 0))})  # fmt: skip
    assert kinds(off, vn(2026, 11, 29, 10, 0)) == ["inactive"]
    # the last document on Wednesday: Thu, Fri, Mon; raised on Tuesday, never on Saturday
    wednesday = vn(2026, 11, 25, 9, 0)
    assert kinds(_idle(wednesday, vn(2026, 11, 28, 9, 0)), vn(2026, 11, 28, 9, 0)) == []
    assert kinds(_idle(wednesday, vn(2026, 11, 30, 17, 0)), vn(2026, 11, 30, 17, 0)) == []
    tuesday = vn(2026, 12, 1, 7, 0)
    assert kinds(_idle(wednesday, tuesday), tuesday) == ["inactive"]
    # a station that was off on the idle days is not "inactive" (it is offline)
    assert kinds(_idle(wednesday, vn(2026, 11, 27, 12, 0)), tuesday) == ["silent"]
    # a holiday is no working day
    holiday = FleetSettings.model_validate({"calendar": {"holidays": [date(2026, 11, 24)]}})
    assert kinds(_idle(monday, friday), friday, holiday) == []
    # a station that never made a document counts from when it was first heard
    never = _idle(None, friday, first=vn(2026, 11, 20, 9, 0))
    assert kinds(never, friday) == ["inactive"]
    # a station older than the field says nothing about it
    old = row(seen=friday, health=report(), first=vn(2026, 1, 1, 9, 0))
    assert kinds(old, friday) == []


def test_a_unit_without_documents_for_three_months() -> None:
    now = vn(2026, 11, 25, 10, 0)
    unit = "Viện kiểm sát nhân dân huyện Mường Lát"
    old = UnitFacts(unit, vn(2026, 8, 24, 10, 0), vn(2025, 1, 1, 0, 0), ("vks-ml-01",))
    assert [a.kind for a in unit_alerts(old, SETTINGS, now)] == ["unit_inactive"]
    recent = UnitFacts(unit, vn(2026, 8, 26, 10, 0), vn(2025, 1, 1, 0, 0))
    assert unit_alerts(recent, SETTINGS, now) == []
    new = UnitFacts(unit, None, vn(2026, 10, 1, 0, 0))
    assert unit_alerts(new, SETTINGS, now) == []
    assert unit_alerts(UnitFacts(unit, None, vn(2026, 8, 1, 0, 0)), SETTINGS, now)


def test_a_secret_alert_names_the_level_and_nothing_else() -> None:
    alert = secret_alert(SETTINGS, "Tuyệt mật")
    assert alert is not None and alert.severity == "critical" and alert.value == "Tuyệt mật"
    assert "Tuyệt mật" in alert.vi and "Tuyệt mật" in alert.en
    made_up = secret_alert(SETTINGS, "Về việc A <script>")
    assert made_up is not None and made_up.value is None and "script" not in made_up.vi
    off = FleetSettings.model_validate({"rules": {"secret": {"enabled": False}}})
    assert secret_alert(off, "Mật") is None


# ---------------------------------------------------------------------- the history


@pytest.fixture
def db(tmp_path: Path) -> Iterator[FleetDB]:
    found = FleetDB(tmp_path)
    yield found
    found.close()


def _alert(kind: str = "disk", value: float = 5.0) -> Alert:
    return Alert(kind, "error", f"Đĩa {value}", f"Disk {value}", value)


def test_raise_acknowledge_clear_and_raise_again(db: FleetDB) -> None:
    store = AlertStore(db)
    t0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    sync = store.sync
    assert sync("station", "vks-01", "u", [_alert()], STATION_KINDS, t0) == ["raise:disk"]
    first = store.active()[0]
    assert (first.value, first.occurrence, first.raised_at) == (5.0, 1, "2026-11-25T03:00:00.000Z")
    # still true: the value follows, nothing is raised again
    assert sync("station", "vks-01", "u", [_alert(value=4.0)], STATION_KINDS, t0) == []
    assert store.active()[0].last_value == 4.0 and store.active()[0].value == 5.0
    done = store.acknowledge(
        first.id, "Trần Văn Cường", "đã gọi văn thư", t0 + timedelta(minutes=1)
    )
    assert done is not None and done.acked_by == "Trần Văn Cường" and done.active
    assert store.acknowledge(first.id, "Ai đó", "", t0) is None  # once only
    # still true after the acknowledgement: stays acknowledged
    sync("station", "vks-01", "u", [_alert(value=3.0)], STATION_KINDS, t0 + timedelta(minutes=2))
    assert store.active()[0].acked_by == "Trần Văn Cường"
    # the condition ends: cleared; it comes back: a new alert, raised again
    assert sync("station", "vks-01", "u", [], STATION_KINDS, t0 + timedelta(hours=1)) == [
        "clear:disk"
    ]
    assert store.active() == [] and store.acknowledge(first.id, "X", "", t0) is None
    assert sync("station", "vks-01", "u", [_alert()], STATION_KINDS, t0 + timedelta(hours=2)) == [
        "reraise:disk"
    ]
    back = store.active()[0]
    assert back.id != first.id and back.occurrence == 2 and back.acked_at is None
    assert [a.id for a in store.history()] == [back.id, first.id]
    assert [c.what for c in store.open_changes()] == ["raise", "clear", "reraise"]
    # kinds not looked at are left alone (a unit's, an event's)
    assert sync("station", "vks-01", "u", [], ("lost",), t0) == []
    assert store.active()[0].id == back.id


def test_unacknowledged_alerts_come_first_then_the_worst(db: FleetDB) -> None:
    store = AlertStore(db)
    t0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    store.sync("station", "a", "", [Alert("roller", "warning", "r", "r")], STATION_KINDS, t0)
    store.sync("station", "b", "", [Alert("lost", "error", "l", "l")], STATION_KINDS, t0)
    store.sync("station", "c", "", [Alert("disk", "critical", "d", "d")], STATION_KINDS, t0)
    critical = next(a for a in store.active() if a.kind == "disk")
    store.acknowledge(critical.id, "An", "", t0)
    assert [a.kind for a in store.active()] == ["lost", "roller", "disk"]
    assert [a.kind for a in store.active("station", "a")] == ["roller"]


def test_an_events_alert_is_counted_and_ends_when_acknowledged(db: FleetDB) -> None:
    alerting = Alerting(db, SETTINGS, lambda: datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    db.set_state("vks-02", "online", 1, "0.1.0", "2026-11-25T02:00:00.000Z")
    alerting.secret("vks-02", "Mật")
    alerting.secret("vks-02", "Tối mật")
    (alert,) = alerting.store.active()
    assert alert.kind == "secret" and alert.count == 2 and alert.last_value == "Tối mật"
    assert len(alerting.store.open_changes()) == 1  # sent once
    # the sweep does not clear it: nothing but a person ends it
    alerting.sweep()
    assert alerting.store.active()
    done = alerting.acknowledge(alert.id, "Phạm Thu Hà", "đã báo cáo lãnh đạo")
    assert done is not None and done.cleared_at and done.cleared_by == "Phạm Thu Hà"
    assert [a for a in alerting.store.active() if a.kind == "secret"] == []


def test_units_are_swept_from_the_stations_and_the_months(db: FleetDB) -> None:
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    alerting = Alerting(db, SETTINGS, lambda: now)
    quiet, busy = "Viện kiểm sát nhân dân huyện Quan Sơn", "Viện kiểm sát nhân dân tỉnh Thanh Hóa"
    for station_id, unit, month, last in (
        ("vks-qs-01", quiet, "2026-07", None),
        ("vks-th-01", busy, "2026-11", "2026-11-24T09:00:00.000Z"),
    ):
        db.seen(station_id, "2026-01-05T01:00:00.000Z")
        health = {"unit": unit, "digitized": {month: {"documents": 4, "pages": 9}}}
        if last:
            health["last_document_at"] = last
        db.set_health(station_id, health, iso(now))
    alerting.sweep()
    units = {a.subject: a for a in alerting.store.active() if a.scope == "unit"}
    assert list(units) == [quiet]
    assert "từ 07/2026" in units[quiet].vi and "since 07/2026" in units[quiet].en
    facts = {f.unit: f for f in alerting.unit_facts(now)}
    assert facts[busy].last_document == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    # the last second of July, Vietnam time
    assert facts[quiet].last_document == vn(2026, 8, 1, 0, 0) - timedelta(seconds=1)


def test_a_message_groups_changes_of_one_kind(db: FleetDB) -> None:
    store = AlertStore(db)
    t0 = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
    for n in (3, 1, 2):
        store.sync("station", f"vks-0{n}", "u", [Alert("lost", "error", "l", "l")], ("lost",), t0)
    store.sync("station", "vks-09", "u", [_alert()], STATION_KINDS, t0)
    changes: list[Change] = store.open_changes()
    message = compose(changes, t0, dashboard_url="https://giamsat.example/")
    assert message["subject"].startswith("[Giám sát trạm quét] 4 cảnh báo mới, 0 cảnh báo đã hết")
    assert "Mất kết nối (3 trạm, 22:30 25/11/2026): vks-01, vks-02, vks-03" in message["text"]
    assert (
        "Connection lost (3 stations, 22:30 25/11/2026): vks-01, vks-02, vks-03" in message["text"]
    )
    assert message["text"].index("Cảnh báo mới") < message["text"].index("New alert")
    body = message["json"]
    assert body["summary"]["en"] == "4 new alerts, 0 cleared" and len(body["changes"]) == 4
    assert json.loads(json.dumps(body)) == body


# ---------------------------------------------------------------------- fleet.toml


def test_the_example_config_is_valid() -> None:
    settings = load_fleet(ROOT / "firmware_config" / "fleet.example.toml")
    assert settings.email is not None and settings.email.the_port == 587
    assert settings.webhook is not None and settings.notify.quiet_hours == "22:00-06:00"
    assert settings.rules.secret.severity == "critical"
    assert settings.calendar.is_working_day(date(2027, 4, 29))
    assert not settings.calendar.is_working_day(date(2027, 4, 30))


def test_the_example_shows_every_key() -> None:
    """A key added to fleet.toml's model is added to the example too (written,
    or commented out); every rule's own thresholds are there."""
    keys: dict[str, set[str]] = {}
    table = ""
    for line in (ROOT / "firmware_config" / "fleet.example.toml").read_text("utf-8").splitlines():
        header = re.match(r"^\[([\w.]+)\]", line)
        if header:
            table = header.group(1)
            keys.setdefault(table, set())
        elif found := re.match(r"^#?\s?(\w+)\s*=", line):
            keys.setdefault(table, set()).add(found.group(1))
    common = {"enabled", "notify", "severity"}
    for kind, field in Rules.model_fields.items():
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        assert f"rules.{kind}" in keys, kind
        assert set(model.model_fields) - common <= keys[f"rules.{kind}"], kind
    sections: dict[str, type[BaseModel]] = {
        "calendar": Calendar, "notify": Notify, "email": EmailChannel, "webhook": WebhookChannel,
    }  # fmt: skip
    assert set(sections) | {"rules"} == set(FleetSettings.model_fields)
    for section, model in sections.items():
        assert set(model.model_fields) <= keys[section], section


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("[rules.temprature]\nwarn_c = 70\n", "fleet.toml:1: unknown key 'rules.temprature'. "
         "Fix: did you mean 'temperature'?"),
        ("[rules.lost]\nseverity = \"urgent\"\n", "fleet.toml:2: 'rules.lost.severity'"),
        ("[notify]\nquiet_hours = \"22h-6h\"\n", "fleet.toml:2: 'notify.quiet_hours'"),
        ("[calendar]\nholidays = [\"30/4\"]\n", "fleet.toml:2: 'calendar.holidays.0'"),
        ("[email]\nhost = \"mail\"\nsender = \"a@b.vn\"\n", "add to = … under [email]"),
        ("[email]\nhost = \"mail\"\nsender = \"a@b.vn\"\nto = [\"x@y.vn\"]\nusername = \"u\"\n",
         "username and password_file go together"),
        ("[webhook]\nurl = \"ftp://x\"\n", "fleet.toml:2: 'webhook.url'"),
        ("[notify\n", "fleet.toml:1: not valid TOML"),
    ],
)  # fmt: skip
def test_a_bad_config_names_the_line_and_the_fix(tmp_path: Path, text: str, found: str) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_fleet(path)
    assert found in caught.value.message_en.replace(str(tmp_path) + "/", "")


def test_secret_files_must_be_private(tmp_path: Path) -> None:
    path = tmp_path / "smtp-password"
    path.write_text("mật khẩu\n", encoding="utf-8")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        read_secret_file(path, "SMTP password")
    path.chmod(0o600)
    assert read_secret_file(path, "SMTP password") == "mật khẩu"
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="empty"):
        read_secret_file(path, "SMTP password")


def test_the_fleet_command_refuses_a_bad_config(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text("[rules.disk]\nfree_percent = 120\n", encoding="utf-8")
    done = scanstation("fleet", "--broker", "mqtt://127.0.0.1:1", "--config", str(path),
                       "--data-dir", str(tmp_path / "d"), timeout=60)  # fmt: skip
    assert done.returncode == 3
    assert f"{path}:2: 'rules.disk.free_percent'" in done.stderr
    assert "Traceback" not in done.stderr
    secret = tmp_path / "hook-secret"
    secret.write_text("k\n", encoding="utf-8")
    secret.chmod(0o644)
    path.write_text(f'[webhook]\nurl = "http://127.0.0.1:9/x"\nsecret_file = "{secret}"\n',
                    encoding="utf-8")  # fmt: skip
    done = scanstation("fleet", "--broker", "mqtt://127.0.0.1:1", "--config", str(path),
                       "--data-dir", str(tmp_path / "d"), timeout=60)  # fmt: skip
    assert done.returncode == 3 and "chmod 600" in done.stderr


def test_a_station_reports_its_last_document(tmp_path: Path) -> None:
    """``health.last_document_at``, which the inactivity rule reads, from a real
    station's store, fits the fleet's schema, and is told apart from a station
    older than the field."""
    config = Config.model_validate({"station": {"id": "vks-ld-01", "data_dir": str(tmp_path)}})
    store = Store(tmp_path)
    try:
        stats = Stats(store, Settings(config), connected=threading.Event())
        assert stats.snapshot()["last_document_at"] is None
        store.add_document("d1", "b", None, None, {"PageAmount": 1})
        store.add_document("d2", "b", None, None, {"PageAmount": 2})
        snap = stats.snapshot()
        newest = max(d["created_at"] for d in store.query("SELECT created_at FROM documents"))
        assert snap["last_document_at"] == newest
        raw = json.dumps(snap).encode()
        found = payloads.decode(payloads.Health, raw, len(raw))
        assert isinstance(found, payloads.Health) and found.last_document_at == newest
        del snap["last_document_at"]
        old = payloads.decode(payloads.Health, json.dumps(snap).encode(), len(raw))
        assert isinstance(old, payloads.Health)
        assert "last_document_at" not in old.model_fields_set
    finally:
        store.close()


def test_the_fleet_keeps_whether_a_station_knows_its_last_document(db: FleetDB) -> None:
    fleet = Fleet(Connection("mqtt://127.0.0.1:1", "fleet-ld"), db)
    for station_id, extra in (("vks-old", {}), ("vks-new", {"last_document_at": None})):
        body = json.dumps(health(station_id, **extra), ensure_ascii=False).encode()
        fleet._health(f"scanstation/v1/{station_id}/health", body)
    old, new = db.station("vks-old"), db.station("vks-new")
    assert old is not None and old.health is not None and "last_document_at" not in old.health
    assert new is not None and new.health is not None and new.health["last_document_at"] is None


def test_an_older_history_gains_the_alerts_and_who_sent_each_command(tmp_path: Path) -> None:
    """A history of version 1 with a command in it opens at version 3: the
    command's sender is empty, the alerts work."""
    folder = tmp_path / "fleet"
    folder.mkdir()
    old = sqlite3.connect(folder / "fleet.sqlite3")
    old.executescript(SCHEMA)
    old.execute("PRAGMA user_version = 1")
    old.execute(
        "INSERT INTO commands (id, station_id, name, args, sent_at) VALUES"
        " ('c1', 'vks-01', 'ping', '{}', '2025-05-01T01:00:00.000Z')"
    )
    old.commit()
    old.close()
    db = FleetDB(folder)
    try:
        assert db._rows("PRAGMA user_version")[0][0] == SCHEMA_VERSION == 3
        assert [(c["id"], c["sent_by"]) for c in db.commands()] == [("c1", "")]
        store = AlertStore(db)
        at = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
        assert store.sync("station", "vks-01", "", [_alert()], STATION_KINDS, at) == ["raise:disk"]
    finally:
        db.close()
