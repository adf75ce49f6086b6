"""The fleet's parts without a network: alerts, hostile payloads, the web
app's security, its JSON errors and its translations."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from station.central.fleet import Fleet, iso
from station.central.fleetconfig import FleetSettings
from station.central.fleetdb import FleetDB, StationRow
from station.central.rules import alerts_of
from station.common.auth import hash_secret
from station.errors import ConfigError
from station.ui import Services, WebSettings, create_app
from station.wire.mqtt import Connection
from tests.helpers.cli import ROOT

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def _row(
    state: str = "online", since_min: float = 1, health: dict[str, Any] | None = None
) -> StationRow:
    at = iso(NOW - timedelta(minutes=since_min))
    return StationRow(
        station_id="st-x", state=state, boot=1, version="0.1.0", since=at,
        last_seen=at if state != "online" else iso(NOW), first_seen=at, unit="u",
        health=health, health_at=iso(NOW),
    )  # fmt: skip


def _health(**parts: object) -> dict[str, Any]:
    base: dict[str, Any] = {
        "interval_s": 60,
        "queue": {"depth": 0, "oldest_pending_s": None},
        "disk": {"free_percent": 50.0},
        "counters": {"sheets_since_roller": 10, "roller_limit": 200000},
        "scanner": {"status": "ready"},
    }
    base.update(parts)
    return base


@pytest.mark.parametrize(
    ("row", "kinds"),
    [
        (_row(health=_health()), []),
        (_row("offline", since_min=14), []),
        (_row("offline", since_min=16), ["offline"]),
        (_row("lost", since_min=0.01), ["lost"]),
        (_row(health=_health(queue={"depth": 3, "oldest_pending_s": 9 * 3600})), ["backlog"]),
        (_row(health=_health(disk={"free_percent": 9.9})), ["disk"]),
        (
            _row(health=_health(counters={"sheets_since_roller": 200000, "roller_limit": 200000})),
            ["roller"],
        ),
        (
            _row(health=_health(scanner={"status": "jammed", "status_text": {"vi": "kẹt giấy"}})),
            ["scanner"],
        ),
        (_row(health=_health(disk={"free_percent": "lots"}, queue="x", counters=None)), []),
        (_row(health=_health(signing={"enabled": True, "ok": False, "held": 2})), ["signing"]),
        (_row(health=_health(signing={"enabled": True, "ok": True, "held": 0})), []),
        # documents the agency's system refused, not yet answered by the clerk
        (
            _row(health=_health(queue={"depth": 0, "oldest_pending_s": None, "rejected": 2})),
            ["rejected"],
        ),
        (_row(health=_health(queue={"depth": 0, "oldest_pending_s": None, "rejected": 0})), []),
    ],
)
def test_alerts(row: StationRow, kinds: list[str]) -> None:
    found = alerts_of(row, FleetSettings(), NOW)
    assert [a.kind for a in found] == kinds
    assert all(a.vi and a.en for a in found)


def test_silent_station() -> None:
    row = _row(health=_health())
    quiet = StationRow(**{**row.__dict__, "last_seen": iso(NOW - timedelta(minutes=4))})
    assert [a.kind for a in alerts_of(quiet, FleetSettings(), NOW)] == ["silent"]


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    db = FleetDB(tmp_path)
    yield Fleet(Connection("mqtt://127.0.0.1:1", "fleet-x"), db)
    db.close()


def test_hostile_payloads_are_ignored(fleet: Fleet) -> None:
    root = "scanstation/v1"
    for topic, payload in [
        (f"{root}/st-a/state", b"online"),
        (f"{root}/st-a/state", b'{"state": "hacked"}'),
        (f"{root}/ST_A/state", b'{"state": "online"}'),
        (f"{root}/st-a/health", b"[]"),
        (f"{root}/st-a/health", b"{" + b" " * 70_000 + b"}"),
        (f"{root}/st-a/event", b'{"type": 5, "severity": "error"}'),
        (f"{root}/st-a/event", b'{"type": "x", "severity": "error", "message": "no"}'),
        (f"{root}/st-a/cmd-resp/ping", b'{"id": 5}'),
        ("elsewhere/st-a/state", b'{"state": "online"}'),
    ]:
        handlers = {"state": fleet._state, "health": fleet._health, "event": fleet._event}
        handlers.get(topic.split("/")[3] if topic.count("/") >= 3 else "", fleet._reply)(
            topic, payload
        )
    assert fleet.db.stations() == []
    assert sum(fleet.rejected_counts().values()) == 9
    # odd values inside a report: the whole report is dropped, nothing of it kept
    fleet._health(
        f"{root}/st-a/health",
        json.dumps({"ts": "9999-01-01T00:00:00Z", "unit": 7,
                    "digitized": {"2026-11": {"documents": -4, "pages": 1}}}).encode(),
    )  # fmt: skip
    assert fleet.db.stations() == [] and fleet.db.monthly(2026) == []
    assert sum(fleet.rejected_counts().values()) == 10


def test_events_are_kept_once(fleet: Fleet) -> None:
    event = {"id": 4, "type": "scanner.jam", "severity": "error", "ts": "2026-11-24T01:00:00Z",
             "message": {"vi": "Kẹt giấy", "en": "Paper jam"}, "detail": {}}  # fmt: skip
    for _ in range(2):
        fleet._event("scanstation/v1/st-a/event", json.dumps(event).encode())
    assert len(fleet.db.events("st-a")) == 1


def _app(fleet: Fleet, tmp_path: Path, **web: object) -> FlaskClient:
    settings = WebSettings(data_dir=tmp_path, **web)  # type: ignore[arg-type]
    app = create_app(settings, Services(fleet=fleet))
    return app.test_client()


def test_exposed_dashboard_needs_a_password(fleet: Fleet, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not loopback"):
        _app(fleet, tmp_path, listen="0.0.0.0:8090")
    client = _app(
        fleet,
        tmp_path,
        listen="0.0.0.0:8090",
        password_hash=hash_secret("mật-khẩu", iterations=1000),
    )
    assert client.get("/").status_code == 302
    denied = client.get("/api/stations")
    assert denied.status_code == 401 and denied.json == {
        "error": "sign-in required",
        "code": "auth",
    }
    assert client.get("/metrics").status_code == 401
    basic = base64.b64encode("prometheus:mật-khẩu".encode()).decode()
    assert client.get("/metrics", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    wrong = client.post("/login", data={"password": "sai", "csrf_token": token.group(1)})
    assert "Sai mật khẩu" in wrong.get_data(as_text=True)
    right = client.post("/login", data={"password": "mật-khẩu", "csrf_token": token.group(1)})
    assert right.status_code == 302
    assert client.get("/").status_code == 200


def test_forms_need_the_csrf_token(fleet: Fleet, tmp_path: Path) -> None:
    fleet.db.set_state("st-a", "online", 1, "0.1.0", "2026-11-25T01:00:00.000Z")
    client = _app(fleet, tmp_path)
    refused = client.post("/station/st-a/command", data={"name": "ping"})
    assert refused.status_code == 400
    assert fleet.db.commands("st-a") == []
    page = client.get("/station/st-a")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_api_errors_are_json(fleet: Fleet, tmp_path: Path) -> None:
    client = _app(fleet, tmp_path)
    missing = client.get("/api/stations/st-none")
    assert missing.status_code == 404
    assert missing.json is not None and missing.json["code"] == "not_found"
    unknown = client.get("/api/nothing")
    assert unknown.status_code == 404
    assert unknown.json is not None and set(unknown.json) == {"error", "code"}
    assert unknown.json["code"] == "http.404"
    assert client.get("/station/st-none").status_code == 404


TRANSLATED = re.compile(r"""(?:\b_|\bgettext)\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def test_every_text_has_its_english() -> None:
    marked = set()
    for path in (ROOT / "station" / "ui").rglob("*"):
        if path.suffix in (".html", ".py"):
            for match in TRANSLATED.finditer(path.read_text(encoding="utf-8")):
                marked.add(match.group(1) if match.group(1) is not None else match.group(2))
    english = json.loads(
        (ROOT / "station" / "ui" / "translations" / "en.json").read_text(encoding="utf-8")
    )
    assert sorted(marked - set(english)) == []
    assert sorted(set(english) - marked) == []
    assert all(value.strip() for value in english.values())
