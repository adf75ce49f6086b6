"""The on-screen Vietnamese keyboard (station/ui/static/keyboard.js) in Debian's
chromium, on a station whose batch waits for review: keys tapped as a finger
would, Telex, the caret, Enter, the hide key, the ⌨ button, both screen sizes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from station.appliance.station import Station
from station.central.fleet import Fleet
from station.central.fleetdb import FleetDB
from station.common.auth import hash_secret
from station.config import load
from station.errors import ConfigError
from station.ui import Services, WebSettings, create_app
from station.ui.app import WebServer
from station.wire.mqtt import Connection
from tests.helpers.broker import free_port
from tests.helpers.browser import artifacts, chromium
from tests.helpers.offline_station import offline_station
from tests.helpers.wait import until

pytestmark = pytest.mark.slow

PIN = "2468"
SHOTS = Path(os.environ.get("SCANSTATION_SHOTS") or artifacts())


@dataclass
class Counter:
    station: Station
    url: str
    batch: str


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory, sample_scans: Path) -> Iterator[Counter]:
    """A station with its scanned batch read and waiting for review."""
    data = tmp_path_factory.mktemp("keyboard") / "data"
    station = offline_station(
        data, sample_scans, "st-kbd", pin_hash=hash_secret(PIN, iterations=1000)
    )
    web = WebSettings(listen=f"127.0.0.1:{free_port()}", data_dir=data)
    server = WebServer(create_app(web, Services(station=station)), web)
    station.start()
    server.start()
    try:
        assert station.scan()
        batch = until(lambda: station.last_batch, 60, 0.1)
        until(lambda: station.store.batch(batch).state == "review", 300, 0.2)
        yield Counter(station, server.url, batch)
    finally:
        server.stop()
        station.stop()
        station.store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as running:
        yield running


def _touch(browser: Any, width: int = 1280, height: int = 800) -> BrowserContext:
    context: BrowserContext = browser.new_context(
        viewport={"width": width, "height": height}, has_touch=True, is_mobile=False, locale="vi-VN"
    )
    return context


def _review(context: BrowserContext, counter: Counter) -> tuple[Page, list[str]]:
    """The batch's review screen, and the script and console errors it will have."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{counter.url}/batch/{counter.batch}")
    expect(page.locator("article.doc").first).to_be_visible()
    return page, errors


def _key(page: Page, key: str) -> Locator:
    return page.locator(f'#keyboard .kb-key[data-key="{key}"]')


def _tap_keys(page: Page, keys: str) -> None:
    """Tap each key as a finger would; upper-case letters with ⇧ first."""
    for ch in keys:
        if ch.isalpha() and ch.isupper():
            _key(page, "shift").tap()
            ch = ch.lower()
        _key(page, "space" if ch == " " else ch).tap()


def _field(page: Page, doc: int, name: str) -> Locator:
    return page.locator("article.doc").nth(doc).locator(f'[name="{name}"]')


def _not_covered(page: Page, field: Locator) -> None:
    """The field is on the screen, wholly above the keyboard."""
    box, board = field.bounding_box(), page.locator("#keyboard").bounding_box()
    assert box is not None and board is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= board["y"], (box, board)


def _fits(page: Page) -> None:
    """Every key at least 48 px high and inside the screen."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    keys = page.evaluate(
        """() => [...document.querySelectorAll('#keyboard .kb-key')].map(k => {
            const r = k.getBoundingClientRect();
            return [k.dataset.key, r.left, r.right, r.top, r.bottom, r.height, r.width];
        })"""
    )
    height = page.evaluate("window.innerHeight")
    for key, left, right, top, bottom, tall, wide in keys:
        assert tall >= 48 and wide >= 48, (key, tall, wide)
        assert left >= 0 and right <= width and top >= 0 and bottom <= height, key


def test_telex_in_the_browser(counter: Counter, browser: Any) -> None:
    """The conversion itself: tone on the right vowel, marks, doubled keys."""
    context = _touch(browser)
    page, errors = _review(context, counter)
    cases = {
        "Veef vieecj tawng cuwowngf": "Về việc tăng cường",
        "hoaf": "hòa",  # two vowels, no final consonant: the first (as the documents write it)
        "khoer": "khỏe",
        "thuyr": "thủy",
        "hoafn": "hoàn",  # a final consonant moves it to the second
        "quyeets": "quyết",  # qu is the onset; ê carries the tone
        "gif": "gì",  # gi alone: i is the vowel
        "giuwowngf": "giường",
        "ngoafi": "ngoài",  # three vowels: the middle one
        "ruwowuj": "rượu",
        "Thanh Hoas": "Thanh Hóa",
        "Ddoocj laapj - Tuwj do - Hanhj phucs": "Độc lập - Tự do - Hạnh phúc",
        "QDD": "QĐ",
        "45/QDD-VKS": "45/QĐ-VKS",
        "HDDND": "HĐND",
        "ass": "as",  # a doubled tone key takes the tone back
        "asss": "ass",  # and the word is then typed as it is
        "aaa": "aa",
        "ddd": "dd",
        "uwow": "ươ",
        "uoww": "uow",
        "asz": "a",  # z takes the tone away
        "nhw": "như",
        "DEN-2026-000123": "DEN-2026-000123",
        "Internet": "Internet",  # not a Vietnamese syllable: left alone
        "UBND": "UBND",
    }
    got = page.evaluate("cases => Object.keys(cases).map(k => [k, window.telex(k)])", cases)
    assert dict(got) == cases
    assert errors == []
    context.close()


def test_tapping_keys_types_vietnamese_into_a_review_field(counter: Counter, browser: Any) -> None:
    context = _touch(browser)
    page, errors = _review(context, counter)
    assert page.evaluate("matchMedia('(pointer: coarse)').matches")
    subject = _field(page, 0, "Subject")
    subject.evaluate("f => { f.value = ''; }")
    expect(page.locator("#keyboard")).to_be_hidden()
    subject.tap()  # a touchscreen: the keyboard opens by itself
    expect(page.locator("#keyboard")).to_be_visible()
    expect(page.locator("#keyboard-open")).to_be_hidden()
    subject.evaluate(
        "f => { window.inputs = 0; f.addEventListener('input', () => window.inputs++); }"
    )
    _tap_keys(page, "Veef vieecj tawng cuwowngf")
    expect(subject).to_have_value("Về việc tăng cường")
    assert page.evaluate("document.activeElement.name") == "Subject"
    assert page.evaluate("window.inputs") == len("Veef vieecj tawng cuwowngf")
    _not_covered(page, subject)
    _fits(page)

    # in the middle of the text: the caret stays where the letters went in
    subject.evaluate("f => f.setSelectionRange(3, 3)")
    _tap_keys(page, "taangf ")
    expect(subject).to_have_value("Về tầng việc tăng cường")
    assert page.evaluate("document.activeElement.selectionStart") == len("Về tầng ")
    _key(page, "back").tap()
    _key(page, "back").tap()
    expect(subject).to_have_value("Về tầnviệc tăng cường")
    assert page.evaluate("document.activeElement.selectionStart") == len("Về tần")
    # Enter in a text area is a new line, not a submission
    _key(page, "enter").tap()
    expect(subject).to_have_value("Về tần\nviệc tăng cường")
    assert errors == []
    context.close()


def test_a_number_and_symbol_typed_and_saved_with_enter(counter: Counter, browser: Any) -> None:
    context = _touch(browser)
    page, errors = _review(context, counter)
    notation = _field(page, 1, "CodeNotation")
    notation.evaluate("f => { f.value = ''; }")
    notation.tap()
    expect(page.locator("#keyboard")).to_be_visible()
    _tap_keys(page, "45/QDD-VKS")  # ⇧ before each capital: one letter at a time
    expect(notation).to_have_value("45/QĐ-VKS")
    for _ in range(3):
        _key(page, "back").tap()
    # ⇧ twice locks the capitals
    _key(page, "shift").tap()
    _key(page, "shift").tap()
    expect(_key(page, "shift")).to_have_class("kb-key kb-shift on locked")
    _tap_keys(page, "vks")
    expect(notation).to_have_value("45/QĐ-VKS")
    notation.evaluate("f => f.setSelectionRange(0, 3)")
    _key(page, "back").tap()  # the selection goes as a whole
    expect(notation).to_have_value("QĐ-VKS")
    number = _field(page, 1, "CodeNumber")
    number.evaluate("f => { f.value = ''; }")
    number.tap()
    _key(page, "shift").tap()  # unlock
    _tap_keys(page, "45")
    expect(number).to_have_value("45")
    doc_id = page.locator("article.doc").nth(1).get_attribute("data-doc")

    # Enter in a field submits its form, as a keyboard's Enter would
    _key(page, "enter").tap()
    assert page.evaluate("document.activeElement.tagName") == "BODY"
    second = page.locator("article.doc").nth(1)
    expect(second.locator("label.f-CodeNotation.edited")).to_have_count(1, timeout=10_000)
    doc = next(d for d in counter.station.review.documents(counter.batch) if d.doc_id == doc_id)
    assert (doc.metadata["CodeNumber"], doc.metadata["CodeNotation"]) == ("45", "QĐ-VKS")
    expect(page.locator("#keyboard")).to_be_hidden()  # done with the field
    assert errors == []
    context.close()


def test_hide_key_and_the_keyboard_button(counter: Counter, browser: Any) -> None:
    context = _touch(browser)
    page, errors = _review(context, counter)
    organ = _field(page, 2, "OrganName")
    organ.tap()
    expect(page.locator("#keyboard")).to_be_visible()
    _key(page, "hide").tap()
    expect(page.locator("#keyboard")).to_be_hidden()
    assert page.evaluate("document.activeElement.name") == "OrganName"
    expect(page.locator("#keyboard-open")).to_be_visible()
    page.locator("#keyboard-open").tap()  # ⌨ opens it again, on the same field
    expect(page.locator("#keyboard")).to_be_visible()
    before = organ.input_value()
    _tap_keys(page, " VKS")
    expect(organ).to_have_value(before + " VKS")
    # a date is typed too (day/month/year: digits and "/"); a picker is not for the keyboard
    _field(page, 2, "IssuedDate").tap()
    expect(page.locator("#keyboard")).to_be_visible()
    _field(page, 2, "TypeName").tap()
    expect(page.locator("#keyboard")).to_be_hidden()
    assert errors == []
    context.close()

    # with a mouse the keyboard waits for ⌨
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{counter.url}/batch/{counter.batch}")
    assert not page.evaluate("matchMedia('(pointer: coarse)').matches")
    field = _field(page, 0, "SignerPosition")
    field.fill("Quyết định")
    expect(page.locator("#keyboard")).to_be_hidden()
    page.locator("#keyboard-open").click()
    expect(page.locator("#keyboard")).to_be_visible()
    _key(page, "z").click()  # z takes the tone off the word before the caret
    assert page.evaluate("document.activeElement.name") == "SignerPosition"
    expect(field).to_have_value("Quyết đinh")
    # ⌫ held down goes on deleting; let go, it stops
    back = _key(page, "back").bounding_box()
    assert back is not None
    page.mouse.move(back["x"] + back["width"] / 2, back["y"] + back["height"] / 2)
    page.mouse.down()
    page.wait_for_timeout(1_000)
    page.mouse.up()
    held = field.input_value()
    assert "Quyết đinh".startswith(held) and len(held) <= len("Quyết đinh") - 2, held
    page.wait_for_timeout(400)
    assert field.input_value() == held
    # the scan screen has no text field: no ⌨ there
    page.goto(f"{counter.url}/")
    expect(page.locator("#keyboard-open")).to_be_hidden()
    context.close()


@pytest.mark.parametrize(("width", "height"), [(800, 480), (1280, 800)])
def test_the_keyboard_fits_the_screen_and_leaves_the_field_in_view(
    counter: Counter, browser: Any, width: int, height: int
) -> None:
    context = _touch(browser, width, height)
    page, errors = _review(context, counter)
    # the last field of the last document, the hardest to keep in view
    last = page.locator("article.doc").last.locator("form.fields textarea").last
    last.tap()
    expect(page.locator("#keyboard")).to_be_visible()
    _not_covered(page, last)
    _fits(page)
    page.screenshot(path=SHOTS / f"keyboard-review-{width}x{height}.png")
    subject = _field(page, 0, "Subject")
    subject.tap()
    _not_covered(page, subject)
    page.screenshot(path=SHOTS / f"keyboard-subject-{width}x{height}.png")
    _key(page, "hide").tap()
    expect(page.locator("#keyboard-open")).to_be_visible()
    page.screenshot(path=SHOTS / f"keyboard-closed-{width}x{height}.png")
    assert errors == []
    context.close()


def test_the_pin_is_typed_as_it_is_and_enter_opens_the_settings(
    counter: Counter, browser: Any
) -> None:
    context = _touch(browser, 800, 480)
    page = context.new_page()
    page.goto(f"{counter.url}/settings")
    page.wait_for_url("**/pin?next=/settings")
    expect(page.locator("#keyboard")).to_be_visible()  # the PIN field has the focus at once
    pin = page.locator("input[name=pin]")
    _tap_keys(page, "dd")
    expect(pin).to_have_value("dd")  # a password: no Telex
    _key(page, "back").tap()
    _key(page, "back").tap()
    _tap_keys(page, PIN)
    expect(pin).to_have_value(PIN)
    page.screenshot(path=SHOTS / "keyboard-pin-800x480.png")
    _key(page, "enter").tap()
    page.wait_for_url("**/settings")
    expect(page.locator("main")).to_contain_text("st-kbd")
    context.close()


def test_only_the_station_screens_carry_the_keyboard(counter: Counter, tmp_path: Path) -> None:
    web = WebSettings(data_dir=counter.station.store.data_dir)
    client = create_app(web, Services(station=counter.station)).test_client()
    review = client.get(f"/batch/{counter.batch}").get_data(as_text=True)
    assert 'data-keyboard="touch"' in review and "keyboard.js" in review
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert "keyboard" not in missing.get_data(as_text=True)  # a page on base.html alone
    # the fleet dashboard shares base.html, not the keyboard
    db = FleetDB(tmp_path)
    try:
        fleet = Fleet(Connection("mqtt://127.0.0.1:1", "fleet-kbd"), db)
        dashboard = create_app(WebSettings(data_dir=tmp_path), Services(fleet=fleet)).test_client()
        page = dashboard.get("/")
        assert page.status_code == 200 and "Giám sát trạm quét" in page.get_data(as_text=True)
        assert "keyboard" not in page.get_data(as_text=True)
    finally:
        db.close()


def test_a_wrong_keyboard_setting_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text('[ui]\nkeyboard = "auto"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load(path)
    message = info.value.message_en
    assert "station.toml:2: 'ui.keyboard'" in message
    assert "'touch', 'always' or 'button'" in message and "Fix:" in message
