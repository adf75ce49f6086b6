"""The fleet end to end: 50 station identities over TLS with the shipped ACL,
publishing real telemetry; the dashboard, API, metrics and statistics; remote
commands; a killed station shown lost; the history kept across a restart."""

from __future__ import annotations

import functools
import json
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from station.appliance.stats import ScannerState
from station.capture.session import record_error
from station.central.fleet import Fleet
from station.central.fleetdb import FleetDB
from station.config import Config
from station.config.remote import Settings
from station.config.remote import load as load_settings
from station.errors import PaperJam
from station.store import Store
from station.ui import Services, WebSettings, create_app
from station.ui.app import WebServer
from station.uplink.link import StationLink
from station.wire import topics
from station.wire.mqtt import Connection
from tests.helpers.broker import Mosquitto, free_port, shipped_broker
from tests.helpers.browser import artifacts, chromium
from tests.helpers.cli import ROOT
from tests.helpers.pki import Pki
from tests.helpers.wait import until

pytestmark = pytest.mark.slow

STATIONS = [f"vks-{n:02d}" for n in range(1, 51)]
UNITS = [
    "Viện kiểm sát nhân dân tỉnh Thanh Hóa",
    "Viện kiểm sát nhân dân thành phố Thanh Hóa",
    "Viện kiểm sát nhân dân huyện Đông Sơn",
    "Viện kiểm sát nhân dân huyện Quảng Xương",
    "Viện kiểm sát nhân dân thị xã Nghi Sơn",
]
JAMMED = "vks-07"
#: identities for the station processes the tests kill
SPARE = ["vks-91", "vks-92", "vks-93"]


def _read(url: str) -> bytes:
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        data: bytes = response.read()
    return data


def _get(url: str) -> Any:
    return json.loads(_read(url))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    pki = Pki(tmp_path_factory.mktemp("pki"))
    pki.issue("broker", server=True)
    for name in ("fleet", "central", *STATIONS, *SPARE):
        pki.issue(name)
    return pki


@pytest.fixture(scope="module")
def broker(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    server = shipped_broker(tmp_path_factory.mktemp("broker"), pki.folder, pki.ca)
    server.start()
    yield server
    server.stop()


def _tls(pki: Pki, name: str) -> dict[str, str]:
    return {
        "ca_file": str(pki.ca),
        "cert_file": str(pki.folder / f"{name}.crt"),
        "key_file": str(pki.folder / f"{name}.key"),
    }


def _identity(pki: Pki, broker: Mosquitto, name: str, client_id: str) -> Connection:
    return Connection(
        f"mqtts://127.0.0.1:{broker.port}",
        client_id,
        ca_file=pki.ca,
        cert_file=pki.folder / f"{name}.crt",
        key_file=pki.folder / f"{name}.key",
    )


@dataclass
class Dashboard:
    fleet: Fleet
    db: FleetDB
    server: WebServer
    data_dir: Path

    @property
    def url(self) -> str:
        return self.server.url

    stopped: bool = False

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.server.stop()
            self.fleet.conn.stop()
            self.db.close()


def _dashboard(pki: Pki, broker: Mosquitto, data_dir: Path) -> Dashboard:
    db = FleetDB(data_dir)
    conn = _identity(pki, broker, "fleet", "fleet-test")
    fleet = Fleet(conn, db)
    web = WebSettings(listen=f"127.0.0.1:{free_port()}", data_dir=data_dir)
    server = WebServer(create_app(web, Services(fleet=fleet)), web)
    conn.start()
    server.start()
    assert conn.ready.wait(10)
    return Dashboard(fleet, db, server, data_dir)


@pytest.fixture(scope="module")
def dashboard(
    pki: Pki, broker: Mosquitto, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    board = _dashboard(pki, broker, tmp_path_factory.mktemp("fleet"))
    yield board
    board.stop()


@dataclass
class Station:
    link: StationLink
    store: Store
    settings: Settings
    expected: dict[str, Any]


def _config(pki: Pki, broker: Mosquitto, station_id: str, data_dir: Path, **extra: Any) -> Config:
    return Config.model_validate(
        {
            "station": {
                "id": station_id,
                "unit_name": UNITS[int(station_id[-2:]) % len(UNITS)],
                "data_dir": str(data_dir),
            },
            "uplink": {
                "broker": f"mqtts://127.0.0.1:{broker.port}",
                "keepalive_s": 5,
                **_tls(pki, station_id),
            },
            "telemetry": {"interval_s": 5},
            **extra,
        }
    )


def _fill(store: Store, number: int, folder: Path) -> dict[str, Any]:
    """Give a station a history of its own: pages, documents, a queue."""
    batch = store.create_batch("test:0", "standard", "cli")
    for n in range(number):
        store.add_page(
            batch.id, b"\xff\xd8page", ext="jpg", input_name=f"p{n}", frame=0,
            side="front" if n % 2 == 0 else "back", width=10, height=10, dpi=200,
        )  # fmt: skip
    documents = number % 4 + 1
    for n in range(documents):
        store.add_document(f"d{number}-{n}", batch.id, None, None, {"PageAmount": n + 1})
    queued = number % 3
    for n in range(queued):
        pdf = folder / f"q{n}.pdf"
        pdf.write_bytes(b"%PDF-1.7 queued")
        store.outbox.enqueue(f"q{number}-{n}", pdf, {"PageAmount": 1}, 65536)
    return {
        "pages_total": number,
        "sheets_since_roller": (number + 1) // 2,
        "queue": queued,
        "documents": documents,
        "pages": documents * (documents + 1) // 2,
    }


@pytest.fixture(scope="module")
def stations(
    pki: Pki,
    broker: Mosquitto,
    dashboard: Dashboard,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Station]]:
    found: dict[str, Station] = {}
    for station_id in STATIONS:
        folder = tmp_path_factory.mktemp(station_id)
        config = _config(pki, broker, station_id, folder / "data")
        store = Store(config.station.data_dir)
        expected = _fill(store, int(station_id[-2:]), folder)
        scanner = ScannerState(model="fi-7160", device="fujitsu:fi-7160:1", status="ready")
        if station_id == JAMMED:
            error = PaperJam("paper jam", "Kẹt giấy")
            record_error(store, error, batch="b1", pages=3)
            scanner.failed(error)
        settings = Settings(config)
        link = StationLink.build(store, settings, scanner, response_timeout_s=300)
        link.start()
        found[station_id] = Station(link, store, settings, expected)
    yield found
    for station in found.values():
        station.link.stop()
        station.store.close()


def _all_reported(board: Dashboard) -> list[dict[str, Any]] | None:
    rows = _get(f"{board.url}/api/stations")
    ready = [r for r in rows if r["state"] == "online" and r["health"]]
    return rows if len(ready) == len(STATIONS) else None


def test_fifty_stations_on_the_dashboard(
    dashboard: Dashboard, stations: dict[str, Station]
) -> None:
    rows = until(lambda: _all_reported(dashboard), timeout=60, step=0.5)
    by_id = {r["station_id"]: r for r in rows}
    assert sorted(by_id) == STATIONS
    for station_id, station in stations.items():
        row, want = by_id[station_id], station.expected
        health = row["health"]
        assert set(row) >= {"station_id", "state", "last_seen", "health"}
        assert row["unit"] == station.settings.config.station.unit_name
        assert health["queue"]["depth"] == want["queue"]
        assert health["counters"]["pages_total"] == want["pages_total"]
        assert health["counters"]["sheets_since_roller"] == want["sheets_since_roller"]
        assert health["disk"]["free_bytes"] > 0
        assert health["scanner"]["model"] == "fi-7160"
        month = next(iter(health["digitized"].values()))
        # documents recorded without a direction are received ones
        assert month == {"documents": want["documents"], "pages": want["pages"],
                         "incoming": want["documents"], "outgoing": 0}  # fmt: skip
    # what real stations publish fits the fleet's schemas: nothing was dropped
    assert dashboard.fleet.rejected_counts() == {}
    assert by_id[JAMMED]["health"]["scanner"]["status"] == "jammed"
    assert by_id[JAMMED]["health"]["last_error"]["type"] == "scanner.jam"
    assert [a["kind"] for a in by_id[JAMMED]["alerts"]] == ["scanner"]
    # the jam event reached the fleet's own history
    events = until(lambda: _get(f"{dashboard.url}/api/stations/{JAMMED}")["events"])
    assert events[0]["type"] == "scanner.jam" and events[0]["message_vi"] == "Kẹt giấy"

    metrics = _read(f"{dashboard.url}/metrics").decode()
    for station_id, station in stations.items():
        assert f'scanstation_up{{station="{station_id}"}} 1' in metrics
        unit = station.settings.config.station.unit_name
        pages = station.expected["pages_total"]
        assert (
            f'scanstation_pages_total{{station="{station_id}",unit="{unit}"}} {float(pages)!r}'
            in metrics
        )

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{dashboard.url}/")
        assert page.locator("table.stations tbody tr").count() == len(STATIONS)
        for station_id, station in stations.items():
            tr = page.locator(f'tr[data-station="{station_id}"]')
            assert tr.get_attribute("data-state") == "online"
            assert tr.locator("td.queue").inner_text() == str(station.expected["queue"])
            assert tr.locator("td.pages").inner_text() == str(station.expected["pages_total"])
        assert "kẹt giấy" in page.locator(f'tr[data-station="{JAMMED}"]').inner_text()
        page.screenshot(path=artifacts() / "fleet-dashboard.png", full_page=True)

        page.goto(f"{dashboard.url}/station/{JAMMED}")
        assert page.locator('tr[data-type="scanner.jam"]').count() == 1
        page.screenshot(path=artifacts() / "fleet-station.png", full_page=True)

        page.goto(f"{dashboard.url}/alerts")
        assert page.locator(f'tr[data-station="{JAMMED}"]').count() == 1
        page.screenshot(path=artifacts() / "fleet-alerts.png", full_page=True)

        page.goto(f"{dashboard.url}/stats")
        totals: dict[str, tuple[int, int]] = {}
        for station in stations.values():
            unit = station.settings.config.station.unit_name
            docs, pages = totals.get(unit, (0, 0))
            totals[unit] = (docs + station.expected["documents"], pages + station.expected["pages"])
        for unit, (docs, pages) in totals.items():
            cell = page.locator(f'tr[data-unit="{unit}"] td.total').inner_text()
            assert cell.replace(".", "") == f"{docs} / {pages}"
        page.screenshot(path=artifacts() / "fleet-stats.png", full_page=True)

        page.goto(f"{dashboard.url}/lang/en")
        page.goto(f"{dashboard.url}/")
        assert page.locator("th").first.inner_text() == "Station"
        page.screenshot(path=artifacts() / "fleet-dashboard-en.png", full_page=True)

    text = _read(f"{dashboard.url}/stats.csv").decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Đơn vị / Unit,Tháng / Month")
    total_docs = sum(s.expected["documents"] for s in stations.values())
    assert text.splitlines()[-1].split(",")[2] == str(total_docs)


def _reply(board: Dashboard, station_id: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    command_id = board.fleet.send(station_id, name, args)
    reply = board.fleet.wait_reply(command_id, timeout_s=10)
    assert reply is not None, f"no reply to {name}"
    return reply


def test_commands_round_trip(
    pki: Pki, broker: Mosquitto, dashboard: Dashboard, stations: dict[str, Station]
) -> None:
    until(lambda: _all_reported(dashboard), timeout=60, step=0.5)
    target = stations["vks-03"]
    ping = _reply(dashboard, "vks-03", "ping", {})
    assert ping["ok"] is True and ping["reply"]["result"]["version"]

    changed = _reply(dashboard, "vks-03", "config", {"telemetry.interval_s": 7})
    assert changed["ok"] and changed["reply"]["result"] == {"changed": {"telemetry.interval_s": 7}}
    assert target.settings.config.telemetry.interval_s == 7
    saved = target.settings.config.station.data_dir / "settings.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text()) == {"telemetry": {"interval_s": 7}}
    # the next start reads it again
    path = saved.parent / "station.toml"
    path.write_text(f'[station]\nid = "vks-03"\ndata_dir = "{saved.parent}"\n', encoding="utf-8")
    assert load_settings(path).telemetry.interval_s == 7
    reading = _reply(dashboard, "vks-03", "config", {})
    assert reading["reply"]["result"]["settings"]["telemetry.interval_s"] == 7

    before = saved.read_bytes()
    for args in (
        {"uplink.broker": "mqtt://evil:1883"},  # not settable remotely
        {"telemetry.interval_s": 1},  # out of range
        {"telemetry.interval_s": 30, "station.min_free_mb": "lots"},  # all or nothing
    ):
        refused = _reply(dashboard, "vks-03", "config", args)
        assert refused["ok"] is False and refused["reply"]["error"]["code"] == "command"
    assert saved.read_bytes() == before
    assert target.settings.config.telemetry.interval_s == 7

    counters = target.store.counters()
    assert counters["sheets_since_roller"] == 2
    reset = _reply(dashboard, "vks-03", "reset-counter", {"counter": "roller"})
    assert reset["reply"]["result"]["was"] == {"pages_since_roller": 3, "sheets_since_roller": 2}
    assert target.store.counters()["sheets_since_roller"] == 0
    assert target.store.counters()["pages_total"] == 3

    # malformed and unknown commands straight from the fleet identity
    answers: list[tuple[str, dict[str, Any]]] = []
    dashboard.fleet.conn.subscribe(
        topics.cmd_resp("vks-03", "#"), lambda t, p: answers.append((t, json.loads(p)))
    )
    raw = dashboard.fleet.conn
    raw.publish(topics.cmd("vks-03", "ping"), b"not json")
    raw.publish(topics.cmd("vks-03", "format-disk"), b'{"id": "x1", "args": {}}')
    raw.publish(topics.cmd("vks-03", "ping"), b'{"id": "x2", "args": [], "extra": 1}')
    raw.publish(topics.cmd("vks-03", "reset-counter"), b'{"id": "x3", "args": {"counter": "*"}}')
    # the broker hands each answer once per matching subscription (the fleet's
    # own and this one): wait for every command's answer, not for a count
    answered = {"ping", "format-disk", "reset-counter"}
    until(lambda: answered <= {t.rsplit("/", 1)[1] for t, _ in list(answers)})
    assert all(body["ok"] is False for _, body in list(answers))
    assert {t.rsplit("/", 1)[1] for t, _ in list(answers)} == answered

    # only the fleet identity may command: a station's own certificate may not
    intruder = _identity(pki, broker, "vks-04", "vks-04-second")
    intruder.start()
    assert intruder.ready.wait(10)
    for victim in ("vks-03", "vks-04"):
        intruder.publish(
            topics.cmd(victim, "config"), b'{"id": "evil", "args": {"telemetry.interval_s": 9}}'
        )
    time.sleep(2)
    intruder.stop()
    assert target.settings.config.telemetry.interval_s == 7
    assert stations["vks-04"].settings.config.telemetry.interval_s == 5
    assert not any(body.get("id") == "evil" for _, body in answers)

    # the same round trip from the station page, by finger
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{dashboard.url}/station/vks-03")
        page.get_by_role("button", name="Kiểm tra kết nối").click()
        sent = page.locator("tr.just-sent")
        assert sent.locator("code").first.inner_text() == "ping"
        assert "Xong" in sent.inner_text()
        page.screenshot(path=artifacts() / "fleet-station-command.png", full_page=True)


def _child(config: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.station_child", str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _write_config(pki: Pki, broker: Mosquitto, station_id: str, folder: Path) -> Path:
    tls = _tls(pki, station_id)
    path = folder / "station.toml"
    path.write_text(
        f'[station]\nid = "{station_id}"\ndata_dir = "{folder / "data"}"\n'
        f'[uplink]\nbroker = "mqtts://127.0.0.1:{broker.port}"\nkeepalive_s = 5\n'
        + "".join(f'{k} = "{v}"\n' for k, v in tls.items())
        + "[telemetry]\ninterval_s = 5\n",
        encoding="utf-8",
    )
    return path


def _state_of(board: Dashboard, station_id: str) -> str | None:
    row = board.db.station(station_id)
    return row.state if row else None


def _state_is(board: Dashboard, station_id: str, state: str) -> bool:
    return _state_of(board, station_id) == state


def test_killed_station_shows_lost_within_keepalive(
    pki: Pki, broker: Mosquitto, dashboard: Dashboard, tmp_path: Path
) -> None:
    keepalive = 5.0
    for station_id, how in (("vks-91", signal.SIGKILL), ("vks-92", signal.SIGSTOP)):
        folder = tmp_path / station_id
        folder.mkdir()
        proc = _child(_write_config(pki, broker, station_id, folder))
        try:
            is_online = functools.partial(_state_is, dashboard, station_id, "online")
            is_lost = functools.partial(_state_is, dashboard, station_id, "lost")
            until(is_online, timeout=20)
            os.kill(proc.pid, how)
            killed = time.monotonic()
            # SIGKILL closes the socket at once; SIGSTOP leaves it open and silent,
            # so the broker's keep-alive (1.5 x keepalive) is what notices
            until(is_lost, timeout=20, step=0.05)
            took = time.monotonic() - killed
            # mosquitto 2.0 checks keep-alives coarsely: up to twice 1.5 x keepalive
            limit = 1.5 * keepalive * (1 if how == signal.SIGKILL else 2)
            assert took <= limit, f"{station_id}: lost after {took:.1f} s"
        finally:
            proc.kill()
            proc.wait(10)
            assert proc.stdout is not None
            proc.stdout.close()
    assert _get(f"{dashboard.url}/api/stations/vks-91")["state"] == "lost"

    # a clean stop is "offline", not "lost"
    folder = tmp_path / "vks-93"
    folder.mkdir()
    proc = _child(_write_config(pki, broker, "vks-93", folder))
    until(lambda: _state_of(dashboard, "vks-93") == "online", timeout=20)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    assert proc.stdout is not None
    proc.stdout.close()
    until(lambda: _state_of(dashboard, "vks-93") == "offline", timeout=10)
    time.sleep(1)
    history = [c["state"] for c in dashboard.db.state_changes("vks-93")]
    assert history == ["offline", "online"]


def test_dashboard_keeps_its_history_across_a_restart(
    pki: Pki, broker: Mosquitto, dashboard: Dashboard, stations: dict[str, Station]
) -> None:
    until(lambda: _all_reported(dashboard), timeout=60, step=0.5)
    before = {r.station_id: r.state for r in dashboard.db.stations()}
    data_dir = dashboard.data_dir
    dashboard.stop()
    # an event while the dashboard is away waits in the broker (kept session)
    jammed = stations[JAMMED]
    jammed.store.events.add("scanner.cover_open", "error", "Nắp đang mở", "Cover open")
    jammed.link.telemetry.wake.set()
    until(lambda: not jammed.store.events.unpublished())
    again = _dashboard(pki, broker, data_dir)
    try:
        assert {r.station_id: r.state for r in again.db.stations()} == before
        types = until(
            lambda: (
                [e["type"] for e in again.db.events(JAMMED)]
                if len(again.db.events(JAMMED)) >= 2
                else None
            )
        )
        assert types[:2] == ["scanner.cover_open", "scanner.jam"]
        assert len(again.db.events(JAMMED)) == 2  # no event twice
    finally:
        again.stop()
