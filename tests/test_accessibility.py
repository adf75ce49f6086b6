"""Every screen of the station and of the fleet dashboard checked by axe-core
(vendored from npm, tests/vendor/axe-core/) in Debian's chromium, at 1280×800
and 800×480, in Vietnamese and in English: no violation of impact "serious" or
"critical". And the focus seen: walking each screen with Tab, every control
shows an outline that stands out from what is behind it, the red header too."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from station.appliance.station import Station
from station.central.fleet import Fleet
from station.central.fleetdb import FleetDB
from station.central.regions import Regions
from station.common.auth import hash_secret
from station.common.clock import VIETNAM
from station.demo.samples import sample_label
from station.ui import Services, WebSettings, create_app
from station.ui.app import WebServer
from station.wire.mqtt import Connection
from tests.helpers.axe import Violation, axe, failing, save, unseen_focus
from tests.helpers.broker import free_port
from tests.helpers.browser import artifacts, chromium, small_targets
from tests.helpers.offline_station import offline_station
from tests.helpers.wait import until
from tests.test_fleet_payloads import EVENT, STATE, health

pytestmark = pytest.mark.slow

PIN = "2468"
PASSWORD = "mật khẩu trạm"
SIZES = [(1280, 800), (800, 480)]
#: the fleet dashboard is read on a phone too
FLEET_SIZES = [*SIZES, (390, 844)]
SHOTS = Path(os.environ.get("SCANSTATION_SHOTS") or artifacts()) / "axe"


@dataclass
class Counter:
    station: Station
    url: str
    #: a url of the same station with a password set (the sign-in screen)
    signed_url: str
    #: a confirmed batch, its documents in the outbox and the Sổ đến
    done: str
    #: the same stack scanned again, with new labels, under review
    review: str


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory, sample_scans: Path) -> Iterator[Counter]:
    data = tmp_path_factory.mktemp("axe") / "data"
    station = offline_station(
        data, sample_scans, "st-axe", pin_hash=hash_secret(PIN, iterations=1000)
    )
    web = WebSettings(listen=f"127.0.0.1:{free_port()}", data_dir=data)
    server = WebServer(create_app(web, Services(station=station)), web)
    signed = WebSettings(
        listen=f"127.0.0.1:{free_port()}",
        data_dir=data,
        password_hash=hash_secret(PASSWORD, iterations=1000),
    )
    signed_server = WebServer(create_app(signed, Services(station=station)), signed)
    station.start()
    server.start()
    signed_server.start()
    try:
        done = _scanned(station, None)
        station.confirm(done, despite=True)
        until(lambda: station.store.batch(done).state == "done", 120, 0.2)
        review = _scanned(station, done)
        # new labels, one left out: "Vẫn gửi?" asks about the skipped Số đến
        # and the documents already on file
        for doc, number in zip(station.review.documents(review), (200, 201, 203), strict=True):
            station.set_registration(doc.doc_id, sample_label(number))
        # a subject read in doubt: "cần kiểm tra", its crop of the page beside it
        first = station.review.documents(review)[0]
        doubt = {**first.readings["Subject"], "confidence": 0.5, "code": "marks_disagree",
                 "read": str(first.metadata["Subject"])}  # fmt: skip
        station.review.set_read(first.doc_id, {**first.metadata, "Subject": None},
                                str(first.pdf), first.warnings, {**first.readings, "Subject": doubt})  # fmt: skip
        _sent(station)
        yield Counter(station, server.url, signed_server.url, done, review)
    finally:
        signed_server.stop()
        server.stop()
        station.stop()
        station.store.close()


def _sent(station: Station) -> None:
    """Two documents of today in the Sổ đi, one sent by post."""
    now = datetime.now(VIETNAM)
    for n in (1, 2):
        fields = {
            "TypeName": "Công văn", "CodeNumber": f"{n:02d}", "CodeNotation": "VKS-VP",
            "IssuedDate": now.date().isoformat(), "Subject": "phối hợp rà soát hồ sơ",
            "SignerPosition": "VIỆN TRƯỞNG", "SignerName": "Nguyễn Văn An",
            "Addressees": ["Sở Tư pháp tỉnh Thanh Hóa"], "ToPlaces": ["Như trên", "Lưu: VT"],
            "Priority": "Khẩn" if n == 1 else None,
        }  # fmt: skip
        station.outgoing.record(f"sent-{n}", "sent", fields, now)
    station.outgoing.update("sent-2", {"by_post": "1", "envelopes": "2"}, now.date())


def _scanned(station: Station, after: str | None) -> str:
    """Scan the stack; the new batch once it waits for review."""
    assert station.scan()
    batch: str = until(lambda: station.last_batch if station.last_batch != after else None, 60)
    until(lambda: station.store.batch(batch).state == "review", 300, 0.2)
    return batch


@dataclass
class Dashboard:
    fleet: Fleet
    url: str


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """The fleet dashboard with what stations report: one at work with a jammed
    scanner and commands, one lost with its disk nearly full, one quiet."""
    folder = tmp_path_factory.mktemp("axe-fleet")
    db = FleetDB(folder)
    fleet = Fleet(Connection("mqtt://127.0.0.1:1", "fleet-axe"), db)
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    root = "scanstation/v1"

    def send(handler: Callable[[str, bytes], None], topic: str, body: dict[str, Any]) -> None:
        handler(f"{root}/{topic}", json.dumps(body, ensure_ascii=False).encode())

    send(fleet._state, "st-good/state", STATE)
    send(fleet._health, "st-good/health", health("st-good"))
    send(fleet._event, "st-good/event", EVENT)
    send(fleet._event, "st-good/event", {**EVENT, "id": 2, "severity": "warning",
         "type": "capture.rejected", "message": {"vi": "Tệp bị từ chối", "en": "File refused"}})  # fmt: skip
    send(fleet._state, "st-lost/state", {**STATE, "state": "online"})
    send(fleet._health, "st-lost/health", health(
        "st-lost", unit="Viện kiểm sát nhân dân khu vực 3", ts=now,
        disk={"free_bytes": 1_000_000_000, "total_bytes": 63_000_000_000, "free_percent": 1.6},
        scanner={"model": "fi-7160", "device": "x", "status": "ready",
                 "status_text": {"vi": "sẵn sàng", "en": "ready"}},
        digitized={"2026-11": {"documents": 41, "pages": 133}}))  # fmt: skip
    send(fleet._state, "st-lost/state", {**STATE, "state": "lost", "since": now})
    send(fleet._state, "st-quiet/state", {**STATE, "state": "offline"})
    send(fleet._event, "st-lost/event", {**EVENT, "id": 3, "type": "secret.detected",
         "severity": "warning", "ts": now, "detail": {"level": "Mật"},
         "message": {"vi": "Văn bản mật đã dừng", "en": "A secret document stopped"}})  # fmt: skip
    fleet.regions = Regions({"Viện kiểm sát nhân dân khu vực 3": "Phía Nam"})
    # two days of reports: the station page's trends
    start = datetime.now(UTC) - timedelta(hours=49)
    for k in range(0, 49 * 60, 5):
        fleet.history.add("st-good", start + timedelta(minutes=k), health(
            "st-good", cpu_temp_c=45 + k % 90 / 10,
            queue={"depth": k // 60 % 7, "to_send": 0, "held": 0, "awaiting_receipt": 0,
                   "oldest_pending_s": 60.0 * (k % 50), "oldest_unsent_s": None},
            counters={"pages_total": 1000 + k, "pages_since_roller": 0, "sheets_total": 0,
                      "sheets_since_roller": 0, "roller_limit": 200000}))  # fmt: skip
    for name, reply in (
        ("ping", {"ok": True, "result": {"pong": now}}),
        ("config", {"ok": False, "error": {"code": "refused",
                    "message": {"vi": "Không được đổi", "en": "Not allowed"}}}),
        ("reannounce", None),
    ):  # fmt: skip
        command = secrets.token_hex(8)
        db.add_command(command, "st-good", name, {"key": "x"} if name == "config" else {})
        if reply is not None:
            db.set_reply("st-good", command, bool(reply["ok"]), {"id": command, **reply})
    web = WebSettings(listen=f"127.0.0.1:{free_port()}", data_dir=folder)
    server = WebServer(create_app(web, Services(fleet=fleet)), web)
    server.start()
    try:
        yield Dashboard(fleet, server.url)
    finally:
        server.stop()
        db.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


# ---------------------------------------------------------------------- screens

#: a screen: its name, and how to bring a page to it
Screen = tuple[str, Callable[[Page], None]]


def _go(url: str, ready: str = "main h1") -> Callable[[Page], None]:
    def show(page: Page) -> None:
        page.goto("about:blank")  # a new entry in the history: the viewer not reopened
        page.goto(url)
        expect(page.locator(ready).first).to_be_visible()

    return show


def _station_screens(c: Counter) -> list[Screen]:
    today = datetime.now(VIETNAM).date().isoformat()
    book = f"{c.url}/register?from={today}&to={today}"
    sent_book = f"{c.url}/register/outgoing?from={today}&to={today}"

    def page_actions(page: Page) -> None:
        _go(f"{c.url}/batch/{c.review}", "article.doc")(page)
        page.locator("article.doc figure.thumb summary .caption").first.click()
        expect(page.locator("article.doc .page-actions").first).to_be_visible()

    def viewer(page: Page) -> None:
        # a page full screen with its document's fields; a field chosen
        _go(f"{c.url}/batch/{c.review}", "article.doc")(page)
        page.locator("article.doc figure.thumb img").first.click()
        box = page.locator("#viewer")
        expect(box).to_be_visible()
        box.locator("button.f-Subject").click()
        expect(box.locator(".viewer-edit")).to_be_visible()

    def ask(page: Page) -> None:
        _go(f"{c.url}/batch/{c.review}", "article.doc")(page)
        page.locator("#confirm").click()
        expect(page.locator("#send-anyway")).to_be_visible()
        page.wait_for_timeout(800)  # the button given back, the question still up
        expect(page.locator("#confirm")).to_be_enabled()
        expect(page.locator("#send-anyway")).to_be_visible()
        assert c.station.store.batch(c.review).state == "review"

    def keyboard(page: Page) -> None:
        # the on-screen keyboard open on a field (⌨)
        _go(f"{c.url}/batch/{c.review}", "article.doc")(page)
        page.locator("#keyboard-open").click()
        expect(page.locator("#keyboard")).to_be_visible()

    def dropped(page: Page) -> None:
        # a confirmed batch: its blank backs and separator sheets, nothing to press
        _go(f"{c.url}/batch/{c.done}", "article.doc")(page)
        page.locator("details.dropped-pages summary").click()
        expect(page.locator("details.dropped-pages figure").first).to_be_visible()

    def register_form(page: Page) -> None:
        _go(book, "table.register-table")(page)
        page.locator("table.register-table tbody tr summary").first.click()
        expect(page.locator("form.register-form").first).to_be_visible()

    def sent_form(page: Page) -> None:
        _go(sent_book, "table.register-table")(page)
        page.locator("table.register-table tbody tr summary").first.click()
        expect(page.locator("form.register-form select[name=by_post]").first).to_be_visible()

    def pin(page: Page) -> None:
        # a new session (no PIN yet), in the same language
        kept = [k for k in page.context.cookies() if k.get("name") == "lang"]
        page.context.clear_cookies()
        page.context.add_cookies(kept)  # type: ignore[arg-type]
        _go(f"{c.url}/settings", "input[name=pin]")(page)

    def settings(page: Page) -> None:
        pin(page)
        page.locator("input[name=pin]").fill(PIN)
        page.locator("main button.primary").click()
        expect(page.locator("pre.logs")).to_be_visible()

    def login(page: Page) -> None:
        _go(f"{c.signed_url}/", "input[name=password]")(page)

    return [
        ("scan", _go(f"{c.url}/", "#scan-button")),
        ("batch", _go(f"{c.url}/batch/{c.review}", "article.doc label.check .crop img")),
        ("page-actions", page_actions),
        ("viewer", viewer),
        ("ask", ask),
        ("keyboard", keyboard),
        ("batch-done", dropped),
        ("outbox", _go(f"{c.url}/outbox", "table.outbox")),
        ("register", _go(book, "table.register-table")),
        ("register-form", register_form),
        ("register-outgoing", _go(sent_book, "#post-register")),
        ("register-outgoing-form", sent_form),
        ("pin", pin),
        ("settings", settings),
        ("not-found", _go(f"{c.url}/no-such-screen")),
        ("login", login),
    ]


def _fleet_screens(d: Dashboard) -> list[Screen]:
    def figures(page: Page) -> None:
        # the trends' figures as a table, for whoever cannot see the charts
        _go(f"{d.url}/station/st-good?range=7d", "#trends svg")(page)
        page.locator("details.chart-data summary").click()
        expect(page.locator("table.trend-table")).to_be_visible()

    return [
        ("fleet", _go(f"{d.url}/", "table.stations")),
        ("fleet-station", _go(f"{d.url}/station/st-good", "#commands")),
        ("fleet-station-quiet", _go(f"{d.url}/station/st-quiet")),
        ("fleet-alerts", _go(f"{d.url}/alerts")),
        ("fleet-stats", _go(f"{d.url}/stats?year=2026", "table.stats")),
        ("fleet-electronic", _go(f"{d.url}/stats/electronic")),
        ("fleet-not-found", _go(f"{d.url}/no-such-screen")),
        (
            "fleet-filtered",
            _go(f"{d.url}/?show=attention&group=region&sort=queue", "table.stations"),
        ),
        ("fleet-grouped", _go(f"{d.url}/?group=unit", "table.stations")),
        ("fleet-none", _go(f"{d.url}/?q=nothing-like-this")),
        ("fleet-trend-figures", figures),
        ("fleet-trend-year", _go(f"{d.url}/station/st-good?range=1y", "#trends")),
    ]


def _context(browser: Browser, size: tuple[int, int], lang: str, base: str) -> BrowserContext:
    width, height = size
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="vi-VN" if lang == "vi" else "en-US"
    )
    context.new_page().goto(f"{base}/lang/{lang}?next=/")  # the cookie; the sign-in screen too
    return context


def _checked(
    browser: Browser,
    screens: list[Screen],
    size: tuple[int, int],
    lang: str,
    bases: list[str],
    touch: bool = False,
) -> None:
    """axe on every screen; fails with what it found, screen by screen. On the
    touchscreen's screens (``touch``) no control may be less than 48 px either."""
    context = _context(browser, size, lang, bases[0])
    for base in bases[1:]:
        context.pages[0].goto(f"{base}/lang/{lang}?next=/")
    page = context.pages[0]
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    SHOTS.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[Violation]] = {}
    small: dict[str, list[str]] = {}
    for name, show in screens:
        show(page)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        tag = f"{name}-{size[0]}x{size[1]}-{lang}"
        violations = axe(page)
        save(violations, SHOTS / f"{tag}.json")
        page.screenshot(path=SHOTS / f"{tag}.png")
        if failing(violations):
            found[name] = failing(violations)
        if touch and small_targets(page):
            small[name] = small_targets(page)
    context.close()
    report = "\n".join(f"{n}: {v}" for n, vs in found.items() for v in vs)
    assert not found, f"axe at {size[0]}×{size[1]} in {lang}:\n{report}"
    assert not small, f"controls under 48 px at {size[0]}×{size[1]} in {lang}: {small}"
    assert errors == []


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_no_serious_violation_on_any_station_screen(
    counter: Counter, browser: Browser, size: tuple[int, int], lang: str
) -> None:
    _checked(
        browser, _station_screens(counter), size, lang, [counter.url, counter.signed_url], True
    )


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("size", FLEET_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_no_serious_violation_on_any_fleet_screen(
    dashboard: Dashboard, browser: Browser, size: tuple[int, int], lang: str
) -> None:
    _checked(browser, _fleet_screens(dashboard), size, lang, [dashboard.url])


def test_the_checks_find_what_they_look_for(counter: Counter, browser: Browser) -> None:
    """A screen spoilt on purpose: axe reports the faults this module guards
    against, and the Tab walk reports a control whose focus is hidden."""
    page = browser.new_page(viewport={"width": 800, "height": 480})
    page.goto(f"{counter.url}/outbox")
    page.evaluate(
        """() => {
            document.querySelector("main h1").outerHTML = "<p>no heading</p>";
            const badge = document.querySelector(".badge");
            badge.style.color = "#b26a00"; badge.style.background = "#fff1d6";
            document.querySelector("thead th").textContent = "";
            const box = document.querySelector(".scroll");
            box.removeAttribute("tabindex"); box.style.overflow = "auto"; box.style.height = "40px";
            box.querySelectorAll("button, a").forEach(e => e.remove());
            document.querySelectorAll("header.top a")
                .forEach(a => a.style.setProperty("outline", "none", "important"));
        }"""
    )
    rules = {v.rule for v in axe(page)}
    wanted = {"color-contrast", "scrollable-region-focusable", "empty-table-header"}
    assert wanted | {"page-has-heading-one"} <= rules, rules
    hidden, reached = unseen_focus(page, stops=12)
    assert reached >= 5 and any("brand" in h for h in hidden), hidden
    page.close()


def _focus_screens(c: Counter, d: Dashboard) -> list[Screen]:
    keep = {
        "scan",
        "batch",
        "page-actions",
        "viewer",
        "ask",
        "outbox",
        "register",
        "register-outgoing",
        "pin",
        "settings",
        "login",
    }
    return [s for s in _station_screens(c) if s[0] in keep] + _fleet_screens(d)[:3]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_focus_is_seen_on_every_control(
    counter: Counter, dashboard: Dashboard, browser: Browser, size: tuple[int, int]
) -> None:
    """Tab through each screen: every control reached shows an outline of at
    least 2 px at 3:1 against what is behind it (white on the red header)."""
    context = _context(browser, size, "vi", counter.url)
    page = context.pages[0]
    SHOTS.mkdir(parents=True, exist_ok=True)
    unseen: dict[str, list[str]] = {}
    for name, show in _focus_screens(counter, dashboard):
        show(page)
        hidden, reached = unseen_focus(page)
        assert reached >= 4, (name, reached)
        if hidden:
            unseen[name] = hidden
    # what the clerk sees: the ring on the header, then on the main button
    page.goto(f"{counter.url}/")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.locator("header nav a").first).to_be_focused()
    header = page.locator("header.top").bounding_box()
    assert header is not None
    tag = f"{size[0]}x{size[1]}"
    page.screenshot(
        path=SHOTS / f"focus-header-{tag}.png",
        clip={"x": 0, "y": 0, "width": size[0], "height": header["height"] + 8},
    )
    page.locator("#scan-button").focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(page.locator("#scan-button")).to_be_focused()
    page.screenshot(path=SHOTS / f"focus-scan-{tag}.png")
    page.goto(f"{counter.url}/batch/{counter.review}")
    page.locator("#confirm").focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(page.locator("#confirm")).to_be_focused()
    page.screenshot(path=SHOTS / f"focus-batch-{tag}.png")
    page.locator("article.doc figure.thumb img").first.click()
    button = page.locator("#viewer [data-act=in]")
    button.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(button).to_be_focused()
    page.screenshot(path=SHOTS / f"focus-viewer-{tag}.png")
    page.goto(f"{dashboard.url}/")
    page.screenshot(path=SHOTS / f"badges-fleet-{tag}.png")
    link = page.locator("table.stations th.id a").first
    link.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(link).to_be_focused()
    page.screenshot(path=SHOTS / f"focus-fleet-{tag}.png")
    context.close()
    report = "\n".join(f"{n}: {h}" for n, hs in unseen.items() for h in hs)
    assert not unseen, f"focus not seen at {tag}:\n{report}"
