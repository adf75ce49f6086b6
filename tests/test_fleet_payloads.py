"""Hostile and broken station payloads cannot break the fleet dashboard.

Every malformed variant is published over a real mosquitto to a real
collector; after each one every page of the dashboard must still answer 200,
the message must be counted in ``/metrics`` under its reason, and nothing of it
stored. A fleet database that already holds bad rows (written by an older
version) is repaired when it is opened. Reports from a station whose clock
stepped back are taken in the order they arrive."""

from __future__ import annotations

import copy
import json
import logging
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from station.central.fleet import Fleet, iso
from station.central.fleetdb import SCHEMA, FleetDB
from station.ui import Services, WebSettings, create_app
from station.wire import payloads, topics
from station.wire.mqtt import Connection
from tests.helpers.broker import Mosquitto
from tests.helpers.wait import until

GOOD, BAD = "st-good", "st-bad"
#: a station whose state came but no health report (yet)
QUIET = "st-quiet"


def pages(*stations: str) -> list[str]:
    """Every page of the dashboard, with those of ``stations``."""
    return [
        "/", "/alerts", "/api/stations", "/metrics", "/stats?year=2026", "/stats.csv?year=2026",
        "/stats/paper.csv?year=2026", "/stats/paper.xlsx?scope=years", "/stats/electronic",
        *(f"/station/{s}" for s in stations), *(f"/api/stations/{s}" for s in stations),
    ]  # fmt: skip


def health(station_id: str, **changes: Any) -> dict[str, Any]:
    """A station's health report as a station sends it (station/appliance/stats.py)."""
    body: dict[str, Any] = {
        "station_id": station_id, "unit": "Viện kiểm sát nhân dân huyện Đông Sơn",
        "version": "0.1.0", "boot": 3, "ts": iso(datetime.now(UTC)), "uptime_s": 3600,
        "interval_s": 60, "broker_connected": True,
        "queue": {"depth": 3, "to_send": 1, "held": 0, "awaiting_receipt": 2,
                  "oldest_pending_s": 812.4, "oldest_unsent_s": None},
        "disk": {"free_bytes": 51234567890, "total_bytes": 63000000000, "free_percent": 81.3,
                 "floor_bytes": 524288000},
        "cpu_temp_c": 48.3,
        "memory": {"rss_bytes": 98000000, "available_bytes": 3100000000,
                   "total_bytes": 4100000000},
        "scanner": {"model": "fi-7160", "device": "fujitsu:fi-7160:1", "status": "jammed",
                    "status_text": {"vi": "kẹt giấy", "en": "paper jam"}},
        "counters": {"pages_total": 182034, "pages_since_roller": 20411, "sheets_total": 101220,
                     "sheets_since_roller": 11502, "roller_limit": 200000},
        "digitized": {"2026-10": {"documents": 310, "pages": 1204}},
        "signing": {"enabled": True, "held": 0, "ok": True, "at": "2026-11-24T08:00:00.000Z",
                    "subject": "Common Name: Viện kiểm sát"},
        "last_error": {"type": "scanner.jam", "ts": "2026-11-24T07:00:00.000Z",
                       "message": {"vi": "Kẹt giấy", "en": "Paper jam"}},
    }  # fmt: skip
    body.update(changes)
    return body


STATE = {"state": "online", "boot": 3, "version": "0.1.0", "since": "2026-11-24T08:00:00.000Z"}
EVENT = {"id": 1, "type": "scanner.jam", "severity": "error", "ts": "2026-11-24T08:01:02.000Z",
         "message": {"vi": "Kẹt giấy", "en": "Paper jam"}, "detail": {"batch": "b1", "pages": 3}}  # fmt: skip
#: keys a station may leave out
OPTIONAL = {("disk", "floor_bytes"), *(("signing", k) for k in ("held", "ok", "at", "subject"))}
#: free-form objects: any keys and values inside
FREE_FORM = {("detail",), ("result",)}
#: a "sent" placeholder: the reply is to a command the dashboard really sent
SENT = "<sent>"
REPLY = {"id": SENT, "ok": True, "result": {"pong": "2026-11-24T08:00:00.000Z"}}


@dataclass(frozen=True)
class Variant:
    name: str
    kind: str
    payload: bytes
    reason: str


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _paths(value: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, item in value.items():
        yield (*prefix, key)
        if isinstance(item, dict):
            yield from _paths(item, (*prefix, key))


def _set(body: dict[str, Any], path: tuple[str, ...], value: object) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


def _drop(body: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    target = changed
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return changed


def _wrong_type(value: object) -> object:
    """A JSON value of another type than ``value``'s."""
    if isinstance(value, str):
        return 48
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, int | float):
        return "hot"
    if isinstance(value, dict):
        return "not an object"
    return {"nested": ["garbage", {"deeper": [1, 2, {"x": None}]}]}


def _structural(kind: str, body: dict[str, Any]) -> list[Variant]:
    """A wrong type for every field, every key missing, an unknown key, at every level."""
    found = []
    for path in _paths(body):
        where = ".".join(path)
        if path[0] == "digitized" and len(path) == 2:
            continue  # a month's key is a name, not a field: see the month variants
        if len(path) > 1 and path[:1] in FREE_FORM:
            continue
        value: Any = body
        for key in path:
            value = value[key]
        found.append(Variant(f"{kind} {where} wrong type", kind, _json(_set(body, path, _wrong_type(value))), "wrong_type"))  # fmt: skip
        if path not in OPTIONAL:
            found.append(Variant(f"{kind} {where} missing", kind, _json(_drop(body, path)), "missing_field"))  # fmt: skip
        if isinstance(value, dict) and path != ("digitized",) and path not in FREE_FORM:
            extra = _set(body, (*path, "injected"), {"a": [{"b": "c" * 1000}]})
            found.append(Variant(f"{kind} {where} unknown key", kind, _json(extra), "unknown_field"))  # fmt: skip
    extra = {**body, "x" * 200: "y" * (payloads.MAX_BYTES[kind] // 2)}
    found.append(Variant(f"{kind} huge unknown key", kind, _json(extra), "unknown_field"))
    return found


def _raw(kind: str, body: dict[str, Any]) -> list[Variant]:
    """What is not a JSON object of the right size: the same for every topic."""

    def plus(raw: bytes) -> bytes:  # the payload with one more member, as raw JSON text
        return _json(body)[:-1] + b', "n": ' + raw + b"}"

    return [
        Variant(f"{kind} NaN", kind, plus(b"NaN"), "not_json"),
        Variant(f"{kind} Infinity", kind, plus(b"Infinity"), "not_json"),
        Variant(f"{kind} -Infinity", kind, plus(b"-Infinity"), "not_json"),
        Variant(f"{kind} 5000 digits", kind, plus(b"9" * 5000), "not_json"),
        Variant(f"{kind} truncated", kind, _json(body)[:-5], "not_json"),
        Variant(f"{kind} empty", kind, b"", "not_json"),
        Variant(f"{kind} nested 2000 deep", kind, b"[" * 2000 + b"]" * 2000, "not_json"),
        Variant(f"{kind} nested 500 deep", kind, b"[" * 500 + b"]" * 500, "not_object"),
        Variant(f"{kind} array", kind, b"[1, 2]", "not_object"),
        Variant(f"{kind} string", kind, b'"online"', "not_object"),
        Variant(f"{kind} number", kind, b"5", "not_object"),
        Variant(f"{kind} null", kind, b"null", "not_object"),
        Variant(f"{kind} invalid UTF-8", kind, plus(b'"\xff\xfe"'), "not_utf8"),
        Variant(f"{kind} lone surrogate", kind, plus(b'"\\ud800"'), "not_utf8"),
        Variant(f"{kind} too large", kind, b'{"x": "' + b"y" * 70_000 + b'"}', "too_large"),
    ]  # fmt: skip


def _values() -> list[Variant]:
    """Right types, wrong values."""
    good = health(BAD)
    found = [
        Variant("health month 2026-xx", "health", _json(health(BAD, digitized={"2026-xx": {"documents": 1, "pages": 1}})), "bad_value"),
        Variant("health month 2026-13", "health", _json(health(BAD, digitized={"2026-13": {"documents": 1, "pages": 1}})), "bad_value"),
        Variant("health month ../..", "health", _json(health(BAD, digitized={"../../": {"documents": 1, "pages": 1}})), "bad_value"),
        Variant("health 1e400", "health", _json(good).replace(b"48.3", b"1e400"), "bad_value"),
        Variant("health 10**30 pages", "health", _json(_set(good, ("counters", "pages_total"), 10**30)), "bad_value"),
        Variant("health true for a number", "health", _json(_set(good, ("counters", "pages_total"), True)), "wrong_type"),
        Variant("health '48.3' for a number", "health", _json(health(BAD, cpu_temp_c="48.3")), "wrong_type"),
        Variant("health 1.5 for a count", "health", _json(_set(good, ("queue", "depth"), 1.5)), "wrong_type"),
        Variant("health free 200 %", "health", _json(_set(good, ("disk", "free_percent"), 200.0)), "bad_value"),
        Variant("health huge unit", "health", _json(health(BAD, unit="Đ" * 20_000)), "bad_value"),
        Variant("health huge scanner model", "health", _json(_set(good, ("scanner", "model"), "m" * 50_000)), "bad_value"),
        Variant("health unknown scanner status", "health", _json(_set(good, ("scanner", "status"), "<script>")), "bad_value"),
        Variant("health ts not a time", "health", _json(health(BAD, ts="yesterday")), "bad_value"),
        Variant("health interval 0", "health", _json(health(BAD, interval_s=0)), "bad_value"),
        Variant("health another station's id", "health", _json(health(GOOD)), "bad_value"),
        Variant("health month split not adding up", "health", _json(health(BAD, digitized={"2026-10": {"documents": 5, "pages": 9, "incoming": 4, "outgoing": 2}})), "bad_value"),
        Variant("health month incoming alone", "health", _json(health(BAD, digitized={"2026-10": {"documents": 5, "pages": 9, "incoming": 5}})), "bad_value"),
        Variant("health 1000 months", "health", _json(health(BAD, digitized={f"{1000 + n}-01": {"documents": 1, "pages": 1} for n in range(1000)})), "bad_value"),
        Variant("state hacked", "state", _json({**STATE, "state": "hacked"}), "bad_value"),
        Variant("state since not a time", "state", _json({**STATE, "since": "x" * 41}), "bad_value"),
        Variant("state long version", "state", _json({**STATE, "version": "v" * 100}), "bad_value"),
        Variant("event unknown severity", "event", _json({**EVENT, "severity": "fatal"}), "bad_value"),
        Variant("event type with markup", "event", _json({**EVENT, "type": "<b>x</b>"}), "bad_value"),
        Variant("event detail nested deep", "event", _json({**EVENT, "detail": json.loads('{"a":' * 20 + "1" + "}" * 20)}), "bad_value"),
        Variant("event huge message", "event", _json({**EVENT, "message": {"vi": "x" * 30_000, "en": ""}}), "bad_value"),
        Variant("cmd-resp refused without error", "cmd-resp", _json({"id": SENT, "ok": False}), "missing_field"),
        Variant("cmd-resp with garbage as error", "cmd-resp", _json({"id": SENT, "ok": False, "error": {"code": [[]]}}), "wrong_type"),
        Variant("cmd-resp id with slashes", "cmd-resp", _json({**REPLY, "id": "a/b#"}), "bad_value"),
    ]  # fmt: skip
    for path in _paths(good):
        value: Any = good
        for key in path:
            value = value[key]
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and path != ("cpu_temp_c",)
        ):
            where = ".".join(path)
            found.append(Variant(f"health {where} negative", "health", _json(_set(good, path, -1)), "bad_value"))  # fmt: skip
    for key in ("id", "boot"):
        body = EVENT if key == "id" else STATE
        kind = "event" if key == "id" else "state"
        found.append(Variant(f"{kind} negative {key}", kind, _json({**body, key: -1}), "bad_value"))
    return found


def variants() -> list[Variant]:
    campaign = [
        Variant("cpu_temp_c hot", "health", _json(health(BAD, cpu_temp_c="hot")), "wrong_type"),
        Variant("queue missing", "health", _json(_drop(health(BAD), ("queue",))), "missing_field"),
        Variant("status_text not an object", "health", _json(_set(health(BAD), ("scanner", "status_text"), "x")), "wrong_type"),
        Variant("month 2026-xx", "health", _json(health(BAD, digitized={"2026-xx": {"documents": 1, "pages": 1}})), "bad_value"),
    ]  # fmt: skip
    found = [*campaign, *_values()]
    for kind, body in (
        ("health", health(BAD)),
        ("state", STATE),
        ("event", EVENT),
        ("cmd-resp", REPLY),
    ):
        found += _structural(kind, body) + _raw(kind, body)
    error = {
        "id": SENT,
        "ok": False,
        "error": {"code": "command", "message": {"vi": "a", "en": "b"}},
    }
    found += _structural("cmd-resp", error)
    # the size limit is checked first (a state is at most 4 KiB)
    return [
        Variant(v.name, v.kind, v.payload, "too_large")
        if len(v.payload) > payloads.MAX_BYTES[v.kind]
        else v
        for v in found
    ]


@pytest.fixture
def fleet(broker: Mosquitto, tmp_path: Path) -> Iterator[Fleet]:
    db = FleetDB(tmp_path / "fleet")
    conn = Connection(broker.url, "fleet-test", clean_start=True)
    collector = Fleet(conn, db)
    conn.start()
    assert conn.ready.wait(10)
    yield collector
    conn.stop()
    db.close()


@pytest.fixture
def station(broker: Mosquitto) -> Iterator[Connection]:
    conn = Connection(broker.url, "stations", clean_start=True)
    conn.start()
    assert conn.ready.wait(10)
    yield conn
    conn.stop()


def _client(collector: Fleet, data_dir: Path) -> FlaskClient:
    return create_app(WebSettings(data_dir=data_dir), Services(fleet=collector)).test_client()


def _pages_answer(client: FlaskClient, context: str, stations: tuple[str, ...]) -> None:
    for page in pages(*stations):
        response = client.get(page)
        assert response.status_code == 200, (
            f"{page} answered {response.status_code} after {context}"
        )


def _topic(kind: str, station_id: str) -> str:
    if kind == "cmd-resp":
        return topics.cmd_resp(station_id, "ping")
    return f"{topics.root(station_id)}/{kind}"


def test_every_malformed_payload_is_dropped_and_every_page_still_answers(
    fleet: Fleet, station: Connection, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "scanstation.fleet")
    client = _client(fleet, tmp_path)
    for station_id in (GOOD, BAD):
        station.publish(_topic("state", station_id), _json(STATE), retain=True)
        station.publish(_topic("health", station_id), _json(health(station_id)), qos=0, retain=True)
    station.publish(_topic("state", QUIET), _json(STATE), retain=True)
    until(lambda: len([r for r in fleet.db.stations() if r.health or r.state == "online"]) == 3)
    until(lambda: fleet.db.station(GOOD).health and fleet.db.station(BAD).health)  # type: ignore[union-attr]
    stored = fleet.db.station(BAD)
    command = fleet.send(BAD, "ping")
    sentinel = 1000

    tally: Counter[tuple[str, str]] = Counter()
    for variant in variants():
        payload = variant.payload.replace(SENT.encode(), command.encode())
        qos = 0 if variant.kind == "health" else 1
        station.publish(
            _topic(variant.kind, BAD), payload, qos=qos, retain=variant.kind == "health"
        )
        # a good event after it: once it is stored, the bad message was handled
        sentinel += 1
        station.publish(_topic("event", GOOD), _json({**EVENT, "id": sentinel}))
        until(lambda: [e["station_event_id"] for e in fleet.db.events(GOOD, 1)] == [sentinel])  # noqa: B023
        _pages_answer(client, variant.name, (GOOD, BAD, QUIET))
        tally[(variant.kind, variant.reason)] += 1
        assert fleet.rejected_counts() == tally, variant.name
    # nothing of them was stored
    assert fleet.db.station(BAD) is not None
    assert fleet.db.station(BAD).health == stored.health  # type: ignore[union-attr]
    assert fleet.db.events(BAD) == []
    assert fleet.db.command(command)["replied_at"] is None  # type: ignore[index]
    assert {r.station_id for r in fleet.db.stations()} == {GOOD, BAD, QUIET}
    assert [(r["month"], r["documents"]) for r in fleet.db.monthly(2026)] == [("2026-10", 620)]
    # each one was logged with its reason, and counted in /metrics
    logged = [r.getMessage() for r in caplog.records if "dropped a message" in r.getMessage()]
    assert len(logged) == sum(tally.values())
    metrics = client.get("/metrics").get_data(as_text=True)
    for (kind, reason), count in tally.items():
        line = f'scanstation_fleet_payloads_rejected_total{{topic="{kind}",reason="{reason}"}}'
        assert f"{line} {float(count)!r}\n" in metrics
    labels = re.findall(r"^scanstation_fleet_payloads_rejected_total\{([^}]*)\}", metrics, re.M)
    assert len(labels) == len(payloads.MODELS) * len(payloads.REASONS)
    # and a good reply is still taken after all that
    station.publish(_topic("cmd-resp", BAD), _json({**REPLY, "id": command}))
    assert until(lambda: fleet.db.command(command)["replied_at"])  # type: ignore[index]
    _pages_answer(client, "the good reply", (GOOD, BAD, QUIET))


def test_a_bad_topic_is_counted(fleet: Fleet, station: Connection) -> None:
    station.publish("scanstation/v1/ST_BAD/health", _json(health("st-bad")), qos=1)
    until(lambda: fleet.rejected_counts().get(("health", "bad_topic")) == 1)
    assert fleet.db.stations() == []


def test_a_stored_bad_row_cannot_keep_a_page_broken(tmp_path: Path) -> None:
    """A fleet database written before payloads were checked is repaired when
    it is opened: bad health reports and month figures are forgotten, the rest kept."""
    folder = tmp_path / "fleet"
    folder.mkdir()
    db = sqlite3.connect(folder / "fleet.sqlite3")
    db.executescript(SCHEMA)
    db.execute("PRAGMA user_version = 1")
    at = "2026-11-24T08:00:00.000Z"
    rows = {
        GOOD: health(GOOD),
        BAD: health(BAD, cpu_temp_c="hot", scanner={"status": "jammed", "status_text": "x"}),
        "st-old": {"queue": "x", "last_error": "boom", "disk": {"free_bytes": "x"}},
    }
    for station_id, body in rows.items():
        db.execute(
            "INSERT INTO stations (station_id, state, last_seen, first_seen, unit, health,"
            " health_at) VALUES (?, 'online', ?, ?, 'u', ?, ?)",
            (station_id, at, at, json.dumps(body), at),
        )
    for station_id, month, documents, pages in [
        (GOOD, "2026-10", 310, 1204),
        (BAD, "2026-xx", 1, 1),
        (BAD, "2026-13", 1, 1),
        ("st-old", "2026-11", -4, 1),
        ("st-old", "2026-11x", 2, "many"),
    ]:
        db.execute(
            "INSERT INTO monthly VALUES (?, ?, 'u', ?, ?)", (station_id, month, documents, pages)
        )
    db.commit()
    db.close()

    fleet_db = FleetDB(folder)
    try:
        collector = Fleet(Connection("mqtt://127.0.0.1:1", "fleet-x"), fleet_db)
        client = _client(collector, tmp_path)
        _pages_answer(client, "opening an old database", (GOOD, BAD, "st-old"))
        good, bad = fleet_db.station(GOOD), fleet_db.station(BAD)
        assert good is not None and good.health == rows[GOOD]
        assert bad is not None and bad.health is None and bad.state == "online"
        assert fleet_db.monthly(2026) == [
            {"unit": "u", "month": "2026-10", "documents": 310, "pages": 1204, "stations": 1}
        ]
    finally:
        fleet_db.close()


def test_reports_from_a_station_whose_clock_stepped_back_are_taken(
    fleet: Fleet, station: Connection, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    first = health(GOOD, ts=iso(now), queue={**health(GOOD)["queue"], "depth": 1})
    station.publish(_topic("health", GOOD), _json(first), qos=0, retain=True)
    until(lambda: (row := fleet.db.station(GOOD)) and row.health)
    # NTP corrects the station's clock an hour back: its next report says so
    stepped = health(GOOD, ts=iso(now - timedelta(hours=1)), queue={**first["queue"], "depth": 7})
    station.publish(_topic("health", GOOD), _json(stepped), qos=0, retain=True)
    row = until(
        lambda: (r := fleet.db.station(GOOD)) and r.health and r.health["queue"]["depth"] == 7 and r
    )
    assert row.health["ts"] == stepped["ts"]
    # heard now, by the dashboard's own clock: not "silent", not backwards
    heard = datetime.fromisoformat(row.last_seen)
    assert abs((heard - datetime.now(UTC)).total_seconds()) < 30
    assert row.health_at is not None and row.health_at >= iso(now - timedelta(seconds=5))
    client = _client(fleet, tmp_path)
    api = client.get(f"/api/stations/{GOOD}").json
    assert api is not None and api["health"]["queue"]["depth"] == 7
    assert "silent" not in [a["kind"] for a in api["alerts"]]


def test_a_station_whose_clock_is_behind_is_not_silent(fleet: Fleet, station: Connection) -> None:
    behind = datetime.now(UTC) - timedelta(hours=3)
    station.publish(_topic("state", GOOD), _json({**STATE, "since": iso(behind)}))
    station.publish(_topic("health", GOOD), _json(health(GOOD, ts=iso(behind))), qos=0)
    row = until(lambda: (r := fleet.db.station(GOOD)) and r.health and r)
    view = fleet.view(row, datetime.now(UTC))
    assert [a.kind for a in view["alerts"]] == ["scanner"]  # the jam only
