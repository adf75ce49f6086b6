"""The fleet's pages live, in Debian's chromium: stations publish over a real
mosquitto to the real collector, and the stations page changes its rows in
place, without reloading, keeping the reader's place and the keyboard focus;
a station is a card on a 390 px phone; the alerts page follows as well."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from station.central.fleet import Fleet, iso
from station.central.fleetdb import FleetDB
from station.common.clock import VIETNAM
from station.ui import Services, WebSettings, create_app
from station.ui.app import WebServer
from station.wire.mqtt import Connection
from tests.helpers.broker import Mosquitto, free_port
from tests.helpers.browser import artifacts, chromium
from tests.helpers.wait import until
from tests.test_fleet_payloads import STATE, health

pytestmark = pytest.mark.slow

STATIONS = [f"vks-{n:02d}" for n in range(1, 41)]
UNITS = ["Viện kiểm sát nhân dân tỉnh Thanh Hóa"] + [
    f"Viện kiểm sát nhân dân khu vực {n}" for n in range(1, 8)
]
READY = {"model": "fi-7160", "device": "x", "status": "ready",
         "status_text": {"vi": "sẵn sàng", "en": "ready"}}  # fmt: skip


@dataclass
class Live:
    fleet: Fleet
    url: str
    stations: Connection

    def publish(self, station: str, kind: str, body: dict[str, Any]) -> None:
        self.stations.publish(
            f"scanstation/v1/{station}/{kind}",
            json.dumps(body, ensure_ascii=False).encode(),
            qos=1,
            retain=kind == "state",
        )

    def report(self, station: str, depth: int, **changes: Any) -> None:
        n = int(station[-2:])
        body = health(station, unit=UNITS[n % len(UNITS)], scanner=READY, last_error=None,
                      ts=iso(datetime.now(UTC)), **changes)  # fmt: skip
        body["queue"] = {**body["queue"], "depth": depth, "oldest_pending_s": 30.0 * depth}
        self.publish(station, "health", body)

    def depth(self, station: str) -> int | None:
        row = self.fleet.db.station(station)
        return row.health["queue"]["depth"] if row and row.health else None


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("live")
    broker = Mosquitto(folder)
    broker.start()
    db = FleetDB(folder / "fleet")
    conn = Connection(broker.url, "fleet-live", clean_start=True)
    fleet = Fleet(conn, db)
    web = WebSettings(listen=f"127.0.0.1:{free_port()}", data_dir=folder / "fleet")
    app = create_app(web, Services(fleet=fleet))
    app.config["FLEET_LIVE_SECONDS"] = 1  # a page polls every second here (15 s by default)
    server = WebServer(app, web)
    stations = Connection(broker.url, "stations-live", clean_start=True)
    conn.start()
    stations.start()
    server.start()
    try:
        assert conn.ready.wait(10) and stations.connected.wait(10)
        board = Live(fleet, server.url, stations)
        for n, station in enumerate(STATIONS):
            board.publish(station, "state", STATE)
            board.report(station, n % 6)
        until(lambda: all(board.depth(s) is not None for s in STATIONS), timeout=30)
        yield board
    finally:
        server.stop()
        stations.stop()
        conn.stop()
        db.close()
        broker.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


def _row(page: Page, station: str) -> Any:
    return page.locator(f'tr[data-station="{station}"]')


def test_rows_change_in_place_without_reloading(live: Live, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live.url}/?sort=station")
    expect(_row(page, "vks-25")).to_be_visible()
    page.evaluate("() => { window.keptAcrossUpdates = 42; }")
    # the reader has scrolled to vks-25 and put the keyboard focus on vks-24's link
    page.evaluate(
        "() => document.querySelector('tr[data-station=\"vks-25\"]').scrollIntoView({block: 'center'})"
    )
    link = _row(page, "vks-24").locator("th.id a")
    link.focus()
    box = page.locator(".scroll.board")
    place = box.evaluate("el => el.scrollTop")
    top = _row(page, "vks-25").bounding_box()
    assert place > 0 and top is not None

    live.report("vks-25", 77)
    live.report("vks-24", 55)  # the row with the focus: its other cells change all the same
    live.publish("vks-30", "state", {**STATE, "state": "lost", "since": iso(datetime.now(UTC))})
    queue = _row(page, "vks-25").locator("td.queue")
    expect(queue).to_have_text("77", timeout=15_000)
    expect(queue).to_have_class(re.compile("changed"))  # the highlight
    expect(_row(page, "vks-24").locator("td.queue")).to_have_text("55")
    expect(_row(page, "vks-30")).to_have_attribute("data-state", "lost", timeout=15_000)
    expect(page.locator("#live-announce")).to_contain_text("vks-30: Mất kết nối")
    expect(page.locator('[data-tile="lost"] b')).to_have_text("1")
    expect(page.locator("#live-at")).to_contain_text("Cập nhật lúc")

    # not reloaded: the page's own state, its scroll position, the focus
    assert page.evaluate("() => window.keptAcrossUpdates") == 42
    assert box.evaluate("el => el.scrollTop") == place
    after = _row(page, "vks-25").bounding_box()
    assert after is not None and abs(after["y"] - top["y"]) < 1
    expect(link).to_be_focused()
    # the order no longer matches a sort by queue: offered, never done by itself
    page.goto(f"{live.url}/?sort=queue&dir=desc")
    page.evaluate("() => { window.keptAcrossUpdates = 43; }")
    first = page.locator("tr[data-station]").first.get_attribute("data-station")
    assert first == "vks-25"
    live.report("vks-03", 99)
    expect(_row(page, "vks-03").locator("td.queue")).to_have_text("99", timeout=15_000)
    expect(page.locator("#live-reorder")).to_be_visible()
    assert page.locator("tr[data-station]").first.get_attribute("data-station") == "vks-25"
    # a new station comes at the end of the list
    live.publish("vks-99", "state", STATE)
    live.report("vks-99", 1)
    expect(page.locator("tr[data-station]").last).to_have_attribute(
        "data-station", "vks-99", timeout=15_000
    )
    expect(page.locator("#live-announce")).to_contain_text("vks-99")
    assert page.evaluate("() => window.keptAcrossUpdates") == 43
    page.screenshot(path=artifacts() / "fleet-live.png")
    # pressing the offer sorts again (the reader asked for it)
    page.locator("#live-reorder").click()
    expect(page.locator("tr[data-station]").first).to_have_attribute("data-station", "vks-03")
    assert errors == []
    page.close()


def test_a_highlight_without_motion_when_asked(live: Live, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    page = context.new_page()
    page.goto(f"{live.url}/?q=vks-12")
    cell = _row(page, "vks-12").locator("td.queue")
    assert cell.evaluate("el => getComputedStyle(el).transitionDuration") == "0s"
    live.report("vks-12", 31)
    expect(cell).to_have_text("31", timeout=15_000)
    context.close()
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{live.url}/?q=vks-12")
    assert (
        _row(page, "vks-12")
        .locator("td.queue")
        .evaluate("el => getComputedStyle(el).transitionDuration")
        == "2.5s"
    )
    page.close()


def test_the_time_of_the_last_update_is_vietnam_time(live: Live, browser: Browser) -> None:
    """Every time on the dashboard is Vietnam time, the live update's too, on
    a computer set to another time zone."""
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  timezone_id="Europe/Paris")  # fmt: skip
    page = context.new_page()
    page.goto(f"{live.url}/alerts")
    expect(page.locator("#live-at")).to_contain_text("Cập nhật lúc", timeout=15_000)
    found = re.search(r"(\d\d):(\d\d):(\d\d)", page.locator("#live-at").inner_text())
    assert found
    now = datetime.now(VIETNAM)
    shown = now.replace(hour=int(found[1]), minute=int(found[2]), second=int(found[3]))
    assert abs((now - shown).total_seconds()) < 30 or abs((now - shown).total_seconds()) > 86370
    context.close()


def test_a_station_is_a_card_on_a_phone(live: Live, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(f"{live.url}/?group=unit")
    card = _row(page, "vks-08")
    expect(card).to_be_visible()
    assert card.evaluate("el => getComputedStyle(el).display") == "grid"
    assert page.locator("table.stations thead").is_hidden()
    # nothing wider than the phone: no sideways scrolling
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    box = card.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    # each figure says what it is
    label = card.locator("td.queue").evaluate("el => getComputedStyle(el, '::before').content")
    assert label == '"Chờ gửi"'
    # the tiles three to a row, each a finger's size
    tiles = page.locator("nav.tiles a")
    first, fourth = tiles.nth(0).bounding_box(), tiles.nth(3).bounding_box()
    assert first and fourth and fourth["y"] > first["y"] and abs(fourth["x"] - first["x"]) < 1
    assert all((b := tiles.nth(i).bounding_box()) and b["height"] >= 48 for i in range(9))
    page.screenshot(path=artifacts() / "fleet-phone.png")
    page.screenshot(path=artifacts() / "fleet-phone-full.png", full_page=True)
    # live on the phone as well
    live.report("vks-08", 42)
    expect(card.locator("td.queue")).to_have_text("42", timeout=15_000)
    page.close()


def test_the_alerts_page_follows_without_reloading(live: Live, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{live.url}/alerts")
    page.evaluate("() => { window.keptAcrossUpdates = 7; }")
    active = page.locator('[data-live="active"]')
    expect(active).not_to_contain_text("vks-05")
    live.publish("vks-05", "state", {**STATE, "state": "lost", "since": iso(datetime.now(UTC))})
    expect(active.locator('[data-subject="vks-05"]')).to_contain_text("Mất kết nối", timeout=15_000)
    expect(page.locator("#live-at")).to_contain_text("Cập nhật lúc")
    assert page.evaluate("() => window.keptAcrossUpdates") == 7
    page.close()


def test_a_station_page_follows_without_reloading(live: Live, browser: Browser) -> None:
    """A station's page follows its reports and its state in place; a setting
    the administrator is choosing stays chosen."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{live.url}/station/vks-07")
    page.evaluate("() => { window.keptAcrossUpdates = 9; }")
    health = page.locator('[data-live="health"]')
    expect(health.locator("dd.queue")).to_have_text("0")
    page.get_by_label("Cấu hình").select_option("scanner.roller_limit")
    page.get_by_label("Giá trị mới").fill("150000")
    page.locator("h1").click()  # the focus leaves the form
    live.report("vks-07", 9, cpu_temp_c=71.5)
    expect(health.locator("dd.queue")).to_have_text("9", timeout=15_000)
    expect(health).to_contain_text("71,5 °C")
    live.publish("vks-07", "state", {**STATE, "state": "lost", "since": iso(datetime.now(UTC))})
    expect(page.locator('[data-live="title"]')).to_contain_text("Mất kết nối", timeout=15_000)
    expect(page.locator("#live-at")).to_contain_text("Cập nhật lúc")
    assert page.evaluate("() => window.keptAcrossUpdates") == 9
    expect(page.get_by_label("Cấu hình")).to_have_value("scanner.roller_limit")
    expect(page.get_by_label("Giá trị mới")).to_have_value("150000")
    live.publish("vks-07", "state", STATE)
    page.close()


def test_no_script_still_works(live: Live, browser: Browser) -> None:
    """Without scripts the page is whole: the filters are links and a form."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 800, "height": 480})
    page = context.new_page()
    page.goto(f"{live.url}/")
    page.locator('[data-tile="online"]').click()
    expect(page.locator('[data-tile="online"]')).to_have_attribute("aria-current", "true")
    page.locator("input[name=q]").fill("khu vực 3")
    page.get_by_role("button", name="Xem").click()
    assert "q=khu" in page.url and "show=online" in page.url
    shown = page.locator("tr[data-station]")
    assert shown.count() >= 4
    assert all("khu vực 3" in t for t in shown.locator("th.id small").all_inner_texts())
    context.close()


def test_the_statistics_table_stays_readable_with_40_units(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """40 units and 12 months: the table scrolls both ways in its box, its
    headings stay at the top and the unit column at the left."""
    folder = tmp_path_factory.mktemp("stats40")
    db = FleetDB(folder)
    fleet = Fleet(Connection("mqtt://127.0.0.1:1", "fleet-stats"), db)
    for n in range(1, 41):
        station = f"vks-{n:02d}"
        body = health(station, unit=f"Viện kiểm sát nhân dân khu vực {n}",
                      digitized={f"2026-{m:02d}": {"documents": n * m, "pages": 4 * n * m}
                                 for m in range(1, 13)})  # fmt: skip
        fleet._health(f"scanstation/v1/{station}/health", json.dumps(body).encode())
    web = WebSettings(listen=f"127.0.0.1:{free_port()}", data_dir=folder)
    server = WebServer(create_app(web, Services(fleet=fleet)), web)
    server.start()
    try:
        for width, height in ((1280, 800), (390, 844)):
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(f"{server.url}/stats?year=2026")
            box = page.locator(".scroll:has(> table.stats)")
            box.scroll_into_view_if_needed()
            assert page.locator("table.stats tbody tr").count() == 40
            box.evaluate("el => { el.scrollTop = 700; el.scrollLeft = 500; }")
            frame = box.bounding_box()
            heading = page.locator("table.stats thead th").nth(6).bounding_box()
            unit = page.locator("table.stats tbody tr").nth(25).locator("th").bounding_box()
            assert frame and heading and unit
            assert (
                box.evaluate("el => el.scrollTop") > 0 and box.evaluate("el => el.scrollLeft") > 0
            )
            assert abs(heading["y"] - frame["y"]) <= 2, (width, heading, frame)  # held at the top
            assert abs(unit["x"] - frame["x"]) <= 2, (width, unit, frame)  # held at the left
            page.screenshot(path=artifacts() / f"fleet-stats-40-{width}.png")
            page.close()
    finally:
        server.stop()
        db.close()
