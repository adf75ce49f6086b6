"""Commands with care, by finger in chromium against a real station over a real
mosquitto: the roller counter and every setting go through a confirmation
screen that says what will change (Vietnamese first, with the settings' own
labels); nothing is sent before "Xác nhận"; every command lands in the log with
who sent it and the station's answer, shown per station and for the fleet and
exported as CSV and XLSX. The alerts page and the confirmation screens pass
axe-core at 1280×800 and 390×844; their screenshots are kept."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page

from station.appliance.stats import ScannerState
from station.central.fleet import Fleet, iso
from station.central.fleetdb import FleetDB
from station.config import Config
from station.config.remote import Settings
from station.store import Store
from station.ui import Services, WebSettings, create_app
from station.ui.app import WebServer
from station.uplink.link import StationLink
from station.wire import topics
from station.wire.mqtt import Connection
from station.wire.remote import REMOTE_KEYS, REMOTE_SETTINGS
from tests.helpers.axe import axe, failing, save
from tests.helpers.broker import Mosquitto, free_port
from tests.helpers.browser import artifacts, chromium
from tests.helpers.wait import until
from tests.test_fleet_payloads import STATE, health

pytestmark = pytest.mark.slow

STATION = "vks-tg-01"
UNIT = "Viện kiểm sát nhân dân huyện Triệu Sơn"
SIZES = [(1280, 800), (390, 844)]


@dataclass
class Setup:
    url: str
    fleet: Fleet
    store: Store
    settings: Settings


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    folder = tmp_path_factory.mktemp("commands")
    broker = Mosquitto(folder)
    broker.start()
    db = FleetDB(folder / "fleet")
    conn = Connection(broker.url, "fleet-commands", clean_start=True)
    fleet = Fleet(conn, db)
    web = WebSettings(listen=f"127.0.0.1:{free_port()}", data_dir=folder / "fleet")
    server = WebServer(create_app(web, Services(fleet=fleet)), web)
    conn.start()
    server.start()
    assert conn.ready.wait(10)
    config = Config.model_validate(
        {
            "station": {"id": STATION, "unit_name": UNIT, "data_dir": str(folder / "station")},
            "uplink": {"broker": broker.url, "keepalive_s": 5},
            "telemetry": {"interval_s": 5},
        }
    )
    store = Store(config.station.data_dir)
    for _ in range(7):
        store.bump_counter("sheets_since_roller")
    for _ in range(13):
        store.bump_counter("pages_since_roller")
    settings = Settings(config)
    link = StationLink.build(store, settings, ScannerState(model="fi-7160", status="ready"))
    link.start()
    # other stations with alerts, for the alerts page
    other = Connection(broker.url, "pub-others", clean_start=True)
    other.start()
    assert other.connected.wait(10)
    for station_id, changes in (
        ("vks-nc-02", {"cpu_temp_c": 86.5}),
        ("vks-tx-03", {"disk": {"free_bytes": 300 * 2**20, "total_bytes": 63 * 2**30,
                                "free_percent": 0.5, "floor_bytes": 500 * 2**20}}),
    ):  # fmt: skip
        other.publish(topics.state(station_id), json.dumps(STATE).encode(), qos=1, retain=True)
        body = health(station_id, ts=iso(datetime.now(UTC)), **changes)
        other.publish(topics.health(station_id), json.dumps(body, ensure_ascii=False).encode(),
                      qos=1, retain=True)  # fmt: skip
    other.publish(topics.state("vks-mt-04"), json.dumps({**STATE, "state": "lost"}).encode(), qos=1)
    until(lambda: len(fleet.alerting.store.active()) >= 5)
    until(lambda: (r := db.station(STATION)) and r.health and r.state == "online")
    hot = next(a for a in fleet.alerting.store.active() if a.kind == "temperature")
    fleet.alerting.acknowledge(hot.id, "Đỗ Minh Châu", "đã vệ sinh quạt")
    try:
        yield Setup(server.url, fleet, store, settings)
    finally:
        other.stop()
        link.stop()
        store.close()
        server.stop()
        conn.stop()
        db.close()
        broker.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


def _commands(setup: Setup, name: str | None = None) -> list[dict[str, Any]]:
    rows = setup.fleet.db.commands(STATION, limit=100)
    return [r for r in rows if name is None or r["name"] == name]


def _checked(page: Page, tag: str) -> None:
    """axe on the page as it is: no serious or critical violation; screenshot kept."""
    violations = axe(page)
    folder = artifacts()
    save(violations, folder / f"fleet-{tag}.json")
    page.screenshot(path=folder / f"fleet-{tag}.png", full_page=True)
    bad = failing(violations)
    assert not bad, f"{tag}: " + "\n".join(str(v) for v in bad)


def _cards_fit(page: Page, table: str, width: int, label: str) -> None:
    """On a phone a log's row is a card: nothing off to the side, every cell
    (the station's answer too) in view and named."""
    box = page.locator(table).locator("xpath=..")  # its scrolling box
    assert box.evaluate("el => el.scrollWidth <= el.clientWidth"), table
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert page.locator(f"{table} thead").is_hidden()
    for cell in page.locator(f"{table} tbody tr").first.locator("td").all():
        found = cell.bounding_box()
        assert found and found["x"] >= 0 and found["x"] + found["width"] <= width, table
    named = page.locator(f"{table} tbody tr").first.locator(f'td[data-label="{label}"]')
    assert named.evaluate("el => getComputedStyle(el, '::before').content") == f'"{label}"'


def test_every_remote_setting_has_its_labels() -> None:
    assert list(REMOTE_SETTINGS) == list(REMOTE_KEYS)
    for key, setting in REMOTE_SETTINGS.items():
        assert setting.vi and setting.en and setting.label == f"{setting.vi} / {setting.en}", key
        assert setting.kind in ("text", "int", "float", "choice"), key
        assert (setting.kind == "choice") == bool(setting.choices), key


def test_the_roller_counter_is_reset_only_after_the_confirmation(
    setup: Setup, browser: Browser
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{setup.url}/station/{STATION}")
    page.get_by_role("button", name="Đã thay trục cuốn: đặt lại bộ đếm…").click()
    # the second screen says what will change, and nothing is sent yet
    page.wait_for_selector("table.changes")
    assert page.locator("h1").inner_text() == "Xác nhận trước khi gửi"
    sheets = page.locator('tr[data-key="counters.sheets_since_roller"]')
    assert "Số tờ từ lần thay trục cuốn / Sheets since the roller change" in sheets.inner_text()
    assert sheets.locator("td.now").inner_text() == "7"
    assert sheets.locator("td.after").inner_text() == "0"
    assert page.locator('tr[data-key="counters.pages_since_roller"] td.now').inner_text() == "13"
    assert _commands(setup, "reset-counter") == []
    _checked(page, "confirm-reset-1280x800")
    # a name is needed
    page.get_by_label("Người gửi lệnh").fill("")
    page.get_by_role("button", name="Xác nhận và gửi").click()
    assert _commands(setup, "reset-counter") == []
    page.get_by_label("Người gửi lệnh").fill("Hoàng Văn Dũng")
    page.get_by_role("button", name="Xác nhận và gửi").click()
    sent = page.locator("tr.just-sent")
    sent.wait_for()
    assert "Xong" in sent.inner_text() and "Hoàng Văn Dũng" in sent.inner_text()
    (command,) = _commands(setup, "reset-counter")
    assert command["sent_by"] == "Hoàng Văn Dũng" and command["args"] == {"counter": "roller"}
    assert command["ok"] is True
    assert command["reply"]["result"]["was"] == {"pages_since_roller": 13, "sheets_since_roller": 7}
    assert setup.store.counters()["sheets_since_roller"] == 0
    page.close()


def test_a_setting_is_shown_with_its_labels_and_confirmed(setup: Setup, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{setup.url}/station/{STATION}")
    options = page.locator('select[name="key"] option').all_inner_texts()
    assert "Tên đơn vị / Unit name" in options and "station.unit_name" not in options
    page.get_by_label("Cấu hình").select_option("station.unit_name")
    page.get_by_label("Giá trị mới").fill("Viện kiểm sát nhân dân khu vực 7 - Thanh Hóa")
    page.get_by_role("button", name="Xem trước thay đổi…").click()
    row = page.locator('tr[data-key="station.unit_name"]')
    row.wait_for()
    assert row.locator("th").inner_text().startswith("Tên đơn vị / Unit name")
    assert row.locator("td.now").inner_text() == f"“{UNIT}”"
    assert row.locator("td.after").inner_text() == "“Viện kiểm sát nhân dân khu vực 7 - Thanh Hóa”"
    # cancelling sends nothing
    page.get_by_role("link", name="Huỷ").click()
    page.wait_for_url(f"**/station/{STATION}#commands")
    assert _commands(setup, "config") == []

    # a value that is not a number: said on the screen, nothing sent
    page.get_by_label("Cấu hình").select_option("telemetry.interval_s")
    page.get_by_label("Giá trị mới").fill("năm phút")
    page.get_by_role("button", name="Xem trước thay đổi…").click()
    page.wait_for_selector("p.flash.error")
    assert "Chu kỳ báo cáo tình trạng / Health report interval" in page.inner_text("main")
    assert "cần một số nguyên" in page.locator("p.flash.error").inner_text()
    assert _commands(setup, "config") == []

    # read the station's settings, then change one: "now" comes from the reading
    page.goto(f"{setup.url}/station/{STATION}")
    page.get_by_role("button", name="Đọc cấu hình hiện tại").click()
    page.locator("tr.just-sent").wait_for()
    # a command that changes nothing, sent before a name was given: the address
    assert page.locator("tr.just-sent td.by").inner_text() == "(127.0.0.1)"
    page.get_by_label("Cấu hình").select_option("pipeline.blank_sensitivity")
    page.get_by_label("Giá trị mới").fill("high")
    page.get_by_role("button", name="Xem trước thay đổi…").click()
    row = page.locator('tr[data-key="pipeline.blank_sensitivity"]')
    row.wait_for()
    assert row.locator("td.now").inner_text() == "“medium”"
    assert row.locator("td.after").inner_text() == "“high”"
    _checked(page, "confirm-setting-1280x800")
    page.get_by_label("Người gửi lệnh").fill("Hoàng Văn Dũng")
    page.get_by_role("button", name="Xác nhận và gửi").click()
    page.locator("tr.just-sent").wait_for()
    assert setup.settings.config.pipeline.blank_sensitivity == "high"
    changed = _commands(setup, "config")[0]
    assert changed["args"] == {"pipeline.blank_sensitivity": "high"} and changed["ok"] is True
    assert changed["sent_by"] == "Hoàng Văn Dũng"
    assert 'Độ nhạy bỏ trang trắng / Blank page sensitivity = "high"' in page.inner_text(
        "#commands"
    )
    # the next confirmation of the session has the name filled in
    page.get_by_role("button", name="Đã thay trục cuốn: đặt lại bộ đếm…").click()
    assert page.get_by_label("Người gửi lệnh").input_value() == "Hoàng Văn Dũng"
    page.close()


def test_the_command_log_for_the_fleet_and_its_exports(setup: Setup, browser: Browser) -> None:
    until(lambda: len(_commands(setup)) >= 3)
    # a name that a spreadsheet would take for a formula stays text
    client = create_app(
        WebSettings(data_dir=setup.store.data_dir.parent / "fleet"), Services(fleet=setup.fleet)
    ).test_client()
    page_html = client.get(f"/station/{STATION}").get_data(as_text=True)
    token = page_html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post(
        f"/station/{STATION}/command",
        data={"csrf_token": token, "name": "config", "key": "telemetry.interval_s",
              "value": "1", "by": "=2+5", "confirmed": "yes"},
    )  # fmt: skip
    rows = _commands(setup)
    assert rows[0]["sent_by"] == "=2+5" and rows[0]["ok"] is False  # the station refused 1 s

    with urllib.request.urlopen(f"{setup.url}/commands.csv?station={STATION}", timeout=10) as r:  # noqa: S310
        text = r.read().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:4] == ["Thời gian gửi (giờ Việt Nam) / Sent (Vietnam time)", "Trạm / Station",
                            "Người gửi / Sent by", "Lệnh / Command"]  # fmt: skip
    assert len(table) == len(rows) + 1 and {r[1] for r in table[1:]} == {STATION}
    formula = next(r for r in table[1:] if r[2] == "'=2+5")
    assert formula[4] == "Chu kỳ báo cáo tình trạng / Health report interval = 1"
    assert formula[5] == "Bị từ chối / Refused" and formula[6]
    reset = next(r for r in table[1:] if "reset-counter" in r[3])
    assert reset[2] == "Hoàng Văn Dũng" and reset[5] == "Xong / Done"
    assert reset[3] == "Đặt lại bộ đếm trục cuốn / Reset the roller counter (reset-counter)"

    with urllib.request.urlopen(f"{setup.url}/commands.xlsx", timeout=10) as r:  # noqa: S310
        book = load_workbook(io.BytesIO(r.read()))
    sheet = book.active
    assert sheet is not None and sheet.title == "Nhật ký lệnh"
    cells = [[c.value for c in line] for line in sheet.iter_rows()]
    assert cells[0] == table[0] and len(cells) == len(rows) + 1
    (name,) = [c for line in sheet.iter_rows(min_row=2) for c in line if c.value == "=2+5"]
    assert name.data_type == "s"

    for width, height in SIZES:
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(f"{setup.url}/commands")
        assert page.locator("table.command-log tbody tr").count() == len(rows)
        assert "Hoàng Văn Dũng" in page.locator("table.command-log").inner_text()
        if width < 700:
            _cards_fit(page, "table.command-log", width, "Kết quả")
        _checked(page, f"commands-{width}x{height}")
        page.close()


def test_the_alerts_page_and_the_confirmation_pass_axe(setup: Setup, browser: Browser) -> None:
    for width, height in SIZES:
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(f"{setup.url}/alerts")
        cards = page.locator("li.alert-card")
        assert cards.count() >= 4
        # the acknowledged one comes after those nobody has seen
        kinds = [c.get_attribute("data-kind") for c in cards.all()]
        assert kinds[-1] == "temperature" and "lost" in kinds
        assert "Đỗ Minh Châu" in cards.last.inner_text()
        assert page.get_by_role("button", name="Đã biết").count() == cards.count() - 1
        _checked(page, f"alerts-{width}x{height}")
        page.goto(f"{setup.url}/station/{STATION}")
        if width < 700:
            page.get_by_role("button", name="Kiểm tra kết nối").click()
            page.locator("tr.just-sent").wait_for()
            _cards_fit(page, "#commands table.log", width, "Kết quả")
        page.get_by_label("Cấu hình").select_option("scanner.roller_limit")
        page.get_by_label("Giá trị mới").fill("150000")
        page.get_by_role("button", name="Xem trước thay đổi…").click()
        page.wait_for_selector("table.changes")
        assert page.locator("td.now").inner_text() == "200000 tờ / sheets"
        _checked(page, f"confirm-setting-{width}x{height}")
        page.goto(f"{setup.url}/lang/en?next=/alerts")
        assert page.locator("h1").inner_text() == "Alerts"
        _checked(page, f"alerts-en-{width}x{height}")
        page.goto(f"{setup.url}/lang/vi?next=/alerts")
        page.close()
    # previewed, never confirmed: not sent
    assert all(c["args"] != {"scanner.roller_limit": 150000} for c in _commands(setup, "config"))


def test_an_alert_is_acknowledged_on_the_page(setup: Setup, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{setup.url}/alerts")
    card = page.locator('li.alert-card[data-kind="disk"]')
    card.get_by_label("Người xác nhận").fill("Vũ Thị Giang")
    card.get_by_label("Ghi chú (không bắt buộc)").fill("đã xoá bản sao cũ")
    card.get_by_role("button", name="Đã biết").click()
    done = page.locator("li.alert-card.just-done")
    done.wait_for()
    assert "Vũ Thị Giang" in done.inner_text() and "đã xoá bản sao cũ" in done.inner_text()
    page.screenshot(path=artifacts() / "fleet-alerts-acknowledged-390x844.png", full_page=True)
    disk = next(a for a in setup.fleet.alerting.store.active() if a.kind == "disk")
    assert disk.acked_by == "Vũ Thị Giang"
    history = page.locator("table.alert-history").inner_text()
    assert "Vũ Thị Giang" in history
    _cards_fit(page, "table.alert-history", 390, "Đã biết")
    page.close()
