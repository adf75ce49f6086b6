"""The Sổ đến screen in Debian's chromium at the counter's 800×480 and at
1280×800: the register's rows readable without a sideways page, **Ghi thêm**
reachable on every row with its form whole, and after **Lưu** the same row in
view with "Đã lưu", with the script and without it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from station.appliance.station import Station
from station.common.auth import hash_secret
from station.common.clock import VIETNAM
from station.config import DEFAULT_REGISTRATION
from station.ui import Services, WebSettings, create_app
from station.ui.app import WebServer
from tests.helpers.broker import free_port
from tests.helpers.browser import artifacts, chromium, small_targets
from tests.helpers.offline_station import offline_station

pytestmark = pytest.mark.slow

START = date(2026, 11, 2)
PERIOD = "from=2026-11-01&to=2026-11-30"


@dataclass
class Counter:
    station: Station
    server: WebServer

    @property
    def book(self) -> str:
        return f"{self.server.url}/register?{PERIOD}"


def _fill(station: Station, count: int) -> None:
    register = station.register
    for n in range(1, count + 1):
        if n == 5:
            continue  # a skipped label: the screen shows what to check
        day = START + timedelta(days=n // 3)
        meta = {
            "TypeName": "Công văn",
            "CodeNumber": f"{n:02d}",
            "CodeNotation": "VKS-VP",
            "IssuedDate": "2026-11-02",
            "OrganName": "Viện kiểm sát nhân dân khu vực 3 - Thanh Hóa",
            "Subject": "Về việc báo cáo kết quả công tác kiểm sát việc giải quyết án hình sự tháng 11",
            "Priority": {3: "Hỏa tốc", 8: "Mật"}.get(n),
        }
        register.record(
            f"d{n}", "b1", f"DEN-2026-{n:06d}", DEFAULT_REGISTRATION, meta, day,
            datetime.combine(day, time(9), VIETNAM),
        )  # fmt: skip


@contextmanager
def _counter(folder: Path, **ui: Any) -> Iterator[Counter]:
    (folder / "scans").mkdir()
    st = offline_station(folder / "data", folder / "scans", "st-register", **ui)
    _fill(st, 14)
    web = WebSettings(listen=f"127.0.0.1:{free_port()}", data_dir=st.store.data_dir)
    server = WebServer(create_app(web, Services(station=st)), web)
    server.start()
    try:
        yield Counter(st, server)
    finally:
        server.stop()
        st.store.close()


@pytest.fixture
def counter(tmp_path: Path) -> Iterator[Counter]:
    with _counter(tmp_path) as running:
        yield running


def _shot(page: Page, name: str) -> None:
    """The screen as the clerk sees it, and the whole page; looked at."""
    folder = artifacts() / "register"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=folder / f"{name}.png")
    page.screenshot(path=folder / f"{name}-full.png", full_page=True)


def _in_view(page: Page, locator: Locator) -> bool:
    """Wholly inside the window, nothing cut off at any edge."""
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"]
        and box["y"] + box["height"] <= size["height"]
    )


def _sideways(page: Page) -> int:
    """How far the page scrolls sideways (0: not at all)."""
    width: int = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return width


def _small_targets(page: Page) -> list[str]:
    return small_targets(page, "button, input, select, a.button, summary")


def _row(page: Page, doc_id: str) -> Locator:
    return page.locator(f"#entry-{doc_id}")


def _open_and_fill(page: Page, doc_id: str) -> Locator:
    """Scroll to the row, open "Ghi thêm" and fill the later columns; the form."""
    row = _row(page, doc_id)
    row.evaluate("e => e.scrollIntoView({block: 'start'})")
    summary = row.locator("summary")
    assert _in_view(page, summary), summary.bounding_box()
    summary.click()
    form = row.locator("form.register-form")
    expect(form).to_be_visible()
    form.locator("input[name=recipient]").fill("Phòng Thực hành quyền công tố")
    form.locator("input[name=transfer_date]").fill("2026-11-06")
    form.locator("input[name=received_by]").fill("Trần Thị Bình")
    return form


def test_at_800x480_each_row_is_a_card_with_its_form_in_reach(counter: Counter) -> None:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 800, "height": 480}, locale="vi-VN")
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(counter.book)
        expect(page.locator("table.register-table thead")).to_be_hidden()  # cards
        assert _sideways(page) == 0
        _shot(page, "rows-800x480")
        assert _small_targets(page) == []
        # a row far down the list: its button in reach, its form whole
        form = _open_and_fill(page, "d11")
        assert _sideways(page) == 0
        save = form.locator("button.primary")
        save.scroll_into_view_if_needed()
        for field in ("arrival_date", "recipient", "transfer_date", "received_by", "note"):
            assert _in_view(page, form.locator(f"input[name={field}]")), field
        assert _in_view(page, save)
        assert _small_targets(page) == []
        _shot(page, "form-800x480")
        save.click()
        row = _row(page, "d11")
        expect(row.locator(".saved-badge")).to_have_text("✓ Đã lưu")
        expect(row.locator("td.c-recipient")).to_contain_text("Phòng Thực hành quyền công tố")
        expect(row.locator("details")).not_to_have_attribute("open", "")
        # the same row, in view, with its confirmation; the page did not go back to the top
        assert _in_view(page, row.locator(".saved-badge"))
        assert _in_view(page, row.locator("summary"))
        assert page.evaluate("() => window.scrollY") > 300
        assert page.url == counter.book  # saved by the script, not by leaving the page
        _shot(page, "saved-800x480")
        entry = counter.station.register.entry("d11")
        assert (entry.recipient, entry.received_by) == (
            "Phòng Thực hành quyền công tố",
            "Trần Thị Bình",
        )
        assert entry.transfer_date == date(2026, 11, 6)
        # a refused change is said in the form, which stays open with what was typed
        form = _open_and_fill(page, "d12")
        form.locator("input[name=transfer_date]").fill("2026-11-01")  # before it arrived
        form.locator("button.primary").click()
        expect(form.locator(".form-error")).to_be_visible()
        expect(form.locator(".form-error")).to_contain_text("trước")
        expect(form.locator("input[name=received_by]")).to_have_value("Trần Thị Bình")
        _shot(page, "refused-800x480")
        assert counter.station.register.entry("d12").recipient == ""
        assert errors == []


def test_without_the_script_the_form_comes_back_at_its_row(counter: Counter) -> None:
    with chromium() as browser:
        context = browser.new_context(
            viewport={"width": 800, "height": 480}, locale="vi-VN", java_script_enabled=False
        )
        page = context.new_page()
        page.goto(counter.book)
        form = _open_and_fill(page, "d10")
        form.locator("button.primary").click()
        page.wait_for_url("**#entry-d10")
        assert "saved=d10" in page.url
        row = _row(page, "d10")
        expect(row.locator(".saved-badge")).to_have_text("✓ Đã lưu")
        expect(row.locator("td.c-received_by")).to_contain_text("Trần Thị Bình")
        assert _in_view(page, row.locator(".saved-badge"))
        assert page.evaluate("() => window.scrollY") > 300
        assert _sideways(page) == 0
        _shot(page, "saved-nojs-800x480")
        # only that row is marked
        expect(page.locator(".saved-badge")).to_have_count(1)


def test_at_1280x800_a_table_with_the_form_under_its_row(counter: Counter) -> None:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="vi-VN")
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(counter.book)
        expect(page.locator("table.register-table thead")).to_be_visible()
        assert _sideways(page) == 0
        table = page.locator("table.register-table")
        box, table_box = page.locator(".register-rows").bounding_box(), table.bounding_box()
        assert box is not None and table_box is not None
        assert table_box["x"] + table_box["width"] <= box["x"] + box["width"] + 1  # not cut off
        _shot(page, "rows-1280x800")
        form = _open_and_fill(page, "d7")
        assert _sideways(page) == 0
        # the form is a band under its row, inside the table, over no other row
        band, under = form.bounding_box(), _row(page, "d9").bounding_box()
        table_box = table.bounding_box()
        assert band is not None and under is not None and table_box is not None
        assert band["x"] >= table_box["x"] - 1
        assert band["x"] + band["width"] <= table_box["x"] + table_box["width"] + 1
        assert band["y"] + band["height"] <= under["y"] + 1
        assert _in_view(page, form)
        _shot(page, "form-1280x800")
        form.locator("button.primary").click()
        row = _row(page, "d7")
        expect(row.locator(".saved-badge")).to_have_text("✓ Đã lưu")
        expect(row.locator("td.c-recipient")).to_contain_text("Phòng Thực hành quyền công tố")
        assert _in_view(page, row.locator(".saved-badge"))
        assert page.evaluate("() => window.scrollY") > 200
        _shot(page, "saved-1280x800")
        assert errors == []


def test_with_the_pin_guarding_edits_the_pin_comes_first_then_the_register(
    tmp_path: Path,
) -> None:
    pin = hash_secret("2468", iterations=1000)
    with (
        _counter(tmp_path, pin_hash=pin, require_pin_for=["edit"]) as counter,
        chromium() as browser,
    ):
        page = browser.new_page(viewport={"width": 800, "height": 480}, locale="vi-VN")
        page.goto(counter.book)
        _open_and_fill(page, "d4").locator("button.primary").click()
        page.wait_for_url("**/pin?next=*")
        assert counter.station.register.entry("d4").recipient == ""  # nothing saved without it
        page.locator("input[name=pin]").fill("2468")
        page.locator("button.primary").click()
        page.wait_for_url(counter.book)
        _open_and_fill(page, "d4").locator("button.primary").click()
        expect(_row(page, "d4").locator(".saved-badge")).to_be_visible()
        assert counter.station.register.entry("d4").received_by == "Trần Thị Bình"
