"""The counter end to end in Debian's chromium: a running station with a virtual
scanner (the generated sample stack at a feeder's pace), a real mosquitto and
the receiver. Press Quét, see the thumbnails, fix a field, move a page,
confirm, see the receipt; the countdown; screenshots at 1280×800 and 800×480."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from playwright.sync_api import Page, expect

from station.appliance.station import Station
from station.central.receiver import Receiver
from station.common.clock import VIETNAM
from station.config import Config
from station.config.remote import Settings
from station.demo.samples import LABEL_YEAR, sample_label
from station.store import Store
from station.ui import Services, WebSettings, create_app
from station.ui.app import WebServer
from station.wire.mqtt import Connection
from tests.helpers.broker import Mosquitto, free_port
from tests.helpers.browser import artifacts, chromium, small_targets
from tests.helpers.wait import until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    server = Mosquitto(tmp_path_factory.mktemp("broker"))
    server.start()
    yield server
    server.stop()


@dataclass
class Counter:
    station: Station
    store: Store
    server: WebServer
    out: Path
    receiver: Connection

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()
        self.station.stop()
        self.receiver.stop()
        self.store.close()


def _counter(broker: Mosquitto, samples: Path, folder: Path, auto_confirm: int) -> Counter:
    config = Config.model_validate(
        {
            "station": {"id": "vks-th-vt01", "data_dir": str(folder / "data")},
            "scanner": {"device": f"folder:{samples}?pace=0.3"},
            "pipeline": {"auto_confirm_seconds": auto_confirm},
            "uplink": {"broker": broker.url, "segment_size": 65536},
            "ocr": {"jobs": 1},
        }
    )
    out = folder / "central"
    receiver = Connection(broker.url, f"central-{folder.name}", clean_start=True)
    Receiver(receiver, out)
    receiver.start()
    store = Store(config.station.data_dir, owner=True)
    station = Station(Settings(config), store)
    web = WebSettings(listen=f"127.0.0.1:{free_port()}", data_dir=config.station.data_dir)
    server = WebServer(create_app(web, Services(station=station)), web)
    station.start()
    server.start()
    return Counter(station, store, server, out, receiver)


@pytest.fixture
def counter(broker: Mosquitto, sample_scans: Path, tmp_path: Path) -> Iterator[Counter]:
    running = _counter(broker, sample_scans, tmp_path, auto_confirm=0)
    yield running
    running.stop()


@pytest.fixture
def one_document_counter(
    broker: Mosquitto, one_document_scans: Path, tmp_path: Path
) -> Iterator[Counter]:
    """The counter with the sample batch's first document alone in the scanner."""
    running = _counter(broker, one_document_scans, tmp_path, auto_confirm=0)
    yield running
    running.stop()


@pytest.fixture
def two_document_counter(
    broker: Mosquitto, two_document_scans: Path, tmp_path: Path
) -> Iterator[Counter]:
    """The counter with the sample batch's first two documents in the scanner."""
    running = _counter(broker, two_document_scans, tmp_path, auto_confirm=0)
    yield running
    running.stop()


def _until(check: Callable[[], Any], timeout: float = 60.0, step: float = 0.2) -> Any:
    return until(check, timeout, step)


def _doc(page: Page, n: int) -> Any:
    return page.locator("article.doc").nth(n - 1)


def _start_scan(page: Page, counter: Counter) -> None:
    """Press the scan button on the home screen and follow to the new batch."""
    page.goto(f"{counter.url}/")
    page.locator("#scan-button").click()
    page.wait_for_url("**/batch/**", timeout=20_000)


def _scan_to_review(page: Page, counter: Counter) -> list[str]:
    """Scan the sample stack from the home screen and wait for its review; the
    page's script errors are collected in the list returned."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _start_scan(page, counter)
    expect(page.locator("#batch-state")).to_have_attribute("data-state", "review", timeout=120_000)
    return errors


def _small_targets(page: Page) -> list[str]:
    return small_targets(page, "button, input, select, textarea, a.button, .lang")


def _shots(page: Page, name: str) -> None:
    page.screenshot(path=artifacts() / f"station-{name}.png", full_page=True)


def test_scan_review_fix_move_confirm_and_receipt(counter: Counter) -> None:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{counter.url}/")
        expect(page.locator("#scanner-status")).to_have_attribute("data-status", "ready")
        _shots(page, "scan-1280x800")

        page.locator("#scan-button").click()
        page.wait_for_url("**/batch/**", timeout=20_000)
        # thumbnails arrive while the scanner is still feeding
        expect(page.locator("figure.thumb img").first).to_be_visible(timeout=10_000)
        assert counter.station.capture.busy.is_set()
        # under the arriving pages, never "no document yet"
        expect(page.get_by_text("Chưa có văn bản nào")).to_have_count(0)
        expect(page.locator("#progress")).to_contain_text("Đã quét")
        _shots(page, "live-1280x800")

        expect(page.locator("#batch-state")).to_have_attribute(
            "data-state", "review", timeout=120_000
        )
        expect(page.locator("article.doc")).to_have_count(3)
        expect(page.locator('article.doc [data-read="yes"]')).to_have_count(3)  # "xong"
        expect(page.locator("#progress")).to_have_text("3 văn bản, 6 trang")
        second = _doc(page, 2)
        expect(second.locator("input[name=CodeNumber]")).to_have_value("07")

        # a wrong number is refused next to its field; a subject is corrected
        second.locator("input[name=CodeNumber]").fill("7a")
        second.locator("textarea[name=Subject]").fill(
            "Phối hợp rà soát hồ sơ thi hành án dân sự năm 2024"
        )
        second.locator("button.save").click()
        expect(second.locator('small[data-for="CodeNumber"]')).to_contain_text("chữ số")
        second.locator("input[name=CodeNumber]").fill("07")
        second.locator("button.save").click()
        expect(_doc(page, 2).locator("label.f-Subject.edited")).to_have_count(1, timeout=10_000)
        # the default Ngày đến saved with the form is not a change of the clerk's
        expect(_doc(page, 2).locator("label.f-ArrivalDate.edited")).to_have_count(0)
        # document 1 arrived ten days ago (found in a drawer): registered late
        arrived = (datetime.now(VIETNAM) - timedelta(days=10)).date()
        _doc(page, 1).locator("input[name=ArrivalDate]").fill(f"{arrived:%d/%m/%Y}")
        _doc(page, 1).locator("button.save").click()
        expect(_doc(page, 1).locator("label.f-ArrivalDate.edited")).to_have_count(1, timeout=10_000)

        # move the last page of document 3 to the end of document 2
        third = _doc(page, 3)
        expect(third.locator("figure.thumb")).to_have_count(3)
        last = third.locator("figure.thumb").nth(2)
        last.locator("summary .caption").click()
        target = _doc(page, 2).get_attribute("data-doc")
        last.locator("form.move select[name=doc]").select_option(str(target))
        last.locator("form.move select[name=index]").select_option("-1")
        last.locator("button.move").click()
        expect(_doc(page, 2).locator("figure.thumb")).to_have_count(2, timeout=10_000)
        expect(_doc(page, 3).locator("figure.thumb")).to_have_count(2)
        _shots(page, "review-1280x800")

        small = context.new_page()
        small.set_viewport_size({"width": 800, "height": 480})
        small.goto(page.url)
        small.locator("article.doc figure.thumb .caption").first.click()  # open a page's actions
        _shots(small, "review-800x480")
        assert _small_targets(small) == []
        small.goto(f"{counter.url}/")
        _shots(small, "scan-800x480")
        assert _small_targets(small) == []

        page.locator("#confirm").click()
        # busy at once: no second tap while the station confirms
        assert page.locator("#confirm").get_attribute("aria-busy") == "true"
        expect(page.locator("#batch-state")).to_have_attribute(
            "data-state", "done", timeout=120_000
        )
        _until(lambda: all(r["state"] == "received" for r in counter.station.outbox()), 60)
        page.goto(f"{counter.url}/outbox")
        expect(page.locator("td .receipt")).to_have_count(3)
        expect(page.locator("td .receipt").first).to_have_text("Đã nhận")
        _shots(page, "outbox-1280x800")
        small.goto(f"{counter.url}/outbox")
        _shots(small, "outbox-800x480")
        small.goto(f"{counter.url}/settings")
        _shots(small, "settings-800x480")

        # the register: every confirmed document, what to check, the later columns
        page.locator("nav a", has_text="Sổ đến").click()
        expect(page.locator("table.register-table tbody tr")).to_have_count(2)  # arrived today
        today = datetime.now(VIETNAM).date()
        book = f"{counter.url}/register?from={arrived.isoformat()}&to={today.isoformat()}"
        page.goto(book)
        rows = page.locator("table.register-table tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.first.locator("td.c-number")).to_contain_text("123")
        flags = page.locator("#register-flags li")
        expect(flags.filter(has_text="của năm")).to_have_count(0)  # this year's labels
        expect(flags.filter(has_text=f"Thiếu số đến 1-122/{LABEL_YEAR}")).to_have_count(1)
        expect(flags.filter(has_text="Số đến 123: vào sổ ngày")).to_have_count(1)  # late
        rows.first.locator("summary").click()
        form = rows.first.locator("form.register-form")
        form.locator("input[name=recipient]").fill("Phòng Thực hành quyền công tố")
        form.locator("input[name=received_by]").fill("Trần Thị Bình")
        form.locator("button.primary").click()
        expect(page.locator("table.register-table tbody tr").first).to_contain_text(
            "Phòng Thực hành quyền công tố"
        )
        _shots(page, "register-1280x800")
        with page.expect_download() as download:
            page.locator("#export-pdf").click()
        saved = artifacts() / "station-register-export.pdf"
        download.value.save_as(saved)
        assert saved.read_bytes()[:5] == b"%PDF-"
        small.goto(book)
        _shots(small, "register-800x480")
        assert _small_targets(small) == []
        assert errors == []

    delivered = sorted(counter.out.glob("vks-th-vt01/*/*/*.json"))
    assert len(delivered) == 3
    month = time.strftime("%Y/%m", time.gmtime(time.time() + 7 * 3600))
    assert all(month in str(p) for p in delivered)  # filed by the month of confirmation
    by_label = {m["Registration"]: m for m in (json.loads(p.read_text()) for p in delivered)}
    corrected = by_label[sample_label(124)]
    assert corrected["Subject"] == "Phối hợp rà soát hồ sơ thi hành án dân sự năm 2024"
    assert corrected["PageAmount"] == 2
    # the page went in last: the header is still read from the document's own first page
    assert (corrected["CodeNumber"], corrected["OrganName"]) == ("07", "Sở Tư pháp")
    with pikepdf.open(delivered[0].with_name(f"{corrected['doc_id']}.pdf")) as moved:
        assert len(moved.pages) == 2  # its own page and the one moved in
        assert "Phối hợp rà soát hồ sơ thi hành án dân sự" in str(moved.open_metadata())
    assert by_label[sample_label(125)]["PageAmount"] == 2
    scanned = datetime.now(VIETNAM).date().isoformat()
    assert [(m["ArrivalNumber"], m["ArrivalDate"]) for _, m in sorted(by_label.items())] == [
        (123, arrived.isoformat()), (124, scanned), (125, scanned),
    ]  # fmt: skip
    entry = counter.station.register.entry(by_label[sample_label(123)]["doc_id"])
    assert entry.recipient == "Phòng Thực hành quyền công tố"


def test_a_clean_batch_confirms_itself_after_a_countdown_the_clerk_can_stop(
    broker: Mosquitto, sample_scans: Path, tmp_path: Path
) -> None:
    counter = _counter(broker, sample_scans, tmp_path, auto_confirm=4)
    try:
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 800, "height": 480}, locale="vi-VN")
            _start_scan(page, counter)
            expect(page.locator("#countdown")).to_be_visible(timeout=120_000)
            _shots(page, "countdown-800x480")
            # stopped: the batch waits for the clerk
            page.locator("#stop-countdown").click()
            expect(page.locator("#countdown")).to_have_count(0, timeout=10_000)
            time.sleep(5)
            assert page.locator("#batch-state").get_attribute("data-state") == "review"
            # any later change leaves it to the clerk; a new scan of a clean stack confirms itself
            batch = counter.station.last_batch
            assert batch is not None
            counter.station.processor.countdown.arm(batch)
            page.reload()
            expect(page.locator("#countdown")).to_be_visible()
            expect(page.locator("#batch-state")).to_have_attribute(
                "data-state", "done", timeout=60_000
            )
        _until(lambda: len(list(counter.out.glob("vks-th-vt01/*/*/*.pdf"))) == 3)
    finally:
        counter.stop()


def test_an_edit_is_never_lost_to_the_countdown_or_a_confirmation(
    broker: Mosquitto, sample_scans: Path, tmp_path: Path
) -> None:
    """The clerk starts typing while a clean batch counts down: the countdown
    stops at the first touch and never comes back by itself; a refresh of the
    screen keeps the unsaved text; "Xác nhận và gửi" without "Lưu thông tin"
    saves it first, and the typed subject is what is delivered."""
    counter = _counter(broker, sample_scans, tmp_path, auto_confirm=2)
    try:
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 800, "height": 480}, locale="vi-VN")
            _start_scan(page, counter)
            box = page.locator("#countdown")
            expect(box).to_be_visible(timeout=120_000)
            # three documents: two seconds each
            assert int(box.get_attribute("data-seconds") or 0) > 2
            subject = _doc(page, 1).locator('textarea[name="Subject"]')
            subject.click()
            subject.press("End")
            subject.type(" (đã sửa)")
            expect(box).to_have_count(0, timeout=10_000)
            batch = counter.station.last_batch
            assert batch is not None
            assert counter.station.processor.countdown_left(batch) is None
            typed = subject.input_value()
            assert typed.endswith(" (đã sửa)")
            # away from the field, the screen refreshed by the station: the text stays
            page.locator("h1").first.click()
            counter.station.hub.publish("batch", batch=batch, stage="review")
            time.sleep(8)  # well past the countdown's six seconds
            assert page.locator("#batch-state").get_attribute("data-state") == "review"
            expect(_doc(page, 1).locator('textarea[name="Subject"]')).to_have_value(typed)
            page.locator("#confirm").click()
            expect(page.locator("#batch-state")).to_have_attribute(
                "data-state", "done", timeout=60_000
            )
        _until(lambda: len(list(counter.out.glob("vks-th-vt01/*/*/*.json"))) == 3)
        delivered = [json.loads(p.read_text()) for p in counter.out.glob("vks-th-vt01/*/*/*.json")]
        assert sum(m["Subject"] == " ".join(typed.split()) for m in delivered) == 1, [
            m["Subject"] for m in delivered
        ]
    finally:
        counter.stop()


def test_the_same_stack_twice_asks_before_sending_and_never_repeats_a_number(
    counter: Counter,
) -> None:
    """The same stack scanned again: its labels are already in the Sổ đến, so
    the batch cannot be sent as it is ("Chưa gửi được", no way round). With new
    labels it may go, after "Vẫn gửi?" lists the documents already on file and
    the Số đến skipped. No Số đến is ever entered twice."""
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="vi-VN")
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        for attempt in (1, 2):
            page.goto(f"{counter.url}/")
            page.locator("#scan-button").click()
            page.wait_for_url("**/batch/**", timeout=20_000)
            expect(page.locator("#batch-state")).to_have_attribute(
                "data-state", "review", timeout=120_000
            )
            if attempt == 1:  # a fresh station, nothing to ask
                page.locator("#confirm").click()
                expect(page.locator("#batch-state")).to_have_attribute(
                    "data-state", "done", timeout=120_000
                )
        page.locator("#confirm").click()
        ask = page.locator("#ask")
        expect(ask).to_be_visible(timeout=10_000)
        expect(ask.locator("h2")).to_have_text("Chưa gửi được")
        expect(ask.locator('li[data-code="registration_on_file"]')).to_have_count(3)
        expect(page.locator("#send-anyway")).to_have_count(0)
        _shots(page, "ask-blocked-1280x800")
        page.locator("#back-to-check").click()
        expect(ask).to_have_count(0)
        # new labels for the three documents, the last one leaving a hole
        for n, number in ((1, 200), (2, 201), (3, 203)):
            doc = _doc(page, n)
            doc.locator("input[name=registration]").fill(sample_label(number))
            doc.locator("button.save").click()
            expect(_doc(page, n).locator(".reg")).to_have_text(sample_label(number), timeout=10_000)
        page.set_viewport_size({"width": 800, "height": 480})
        page.locator("#confirm").click()
        expect(ask).to_be_visible(timeout=10_000)
        expect(ask.locator("h2")).to_have_text("Vẫn gửi?")
        expect(ask.locator('li[data-code="duplicate"]')).to_have_count(3)  # already on file
        expect(ask.locator('li[data-code="gap"]')).to_have_text(
            [f"Thiếu số đến 126-199/{LABEL_YEAR} (nhãn bị bỏ qua?)",
             f"Thiếu số đến 202/{LABEL_YEAR} (nhãn bị bỏ qua?)"]
        )  # fmt: skip
        assert page.locator("#batch-state").get_attribute("data-state") == "review"
        expect(page.locator("#send-anyway")).to_be_in_viewport()
        _shots(page, "ask-800x480")
        assert _small_targets(page) == []
        page.locator("#send-anyway").click()
        expect(page.locator("#batch-state")).to_have_attribute(
            "data-state", "done", timeout=120_000
        )
        assert errors == []
    rows = counter.station.store.query("SELECT year, number FROM register ORDER BY number")
    assert [r["number"] for r in rows] == [123, 124, 125, 200, 201, 203]


def test_fields_speak_the_clerks_language_dates_pickers_and_saved(
    one_document_counter: Counter,
) -> None:
    """Dates are shown and typed as dd/mm/yyyy whatever the browser's locale;
    Tên loại and Độ khẩn are picked from their lists (Độ mật under "Văn bản mật…"); a save says
    "Đã lưu"; an error is in the screen's one language; switching language
    stays on the screen; the 404 page is the station's own."""
    counter = one_document_counter
    with chromium() as browser:
        # an English browser: the station's dates stay Vietnamese
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="en-US")
        errors = _scan_to_review(page, counter)
        first = _doc(page, 1)
        expect(first.locator("input[name=IssuedDate]")).to_have_value("06/03/2024")
        types = first.locator("select[name=TypeName] option")
        assert "Quyết định" in types.all_inner_texts() and "Công văn" in types.all_inner_texts()
        expect(first.locator("select[name=TypeName]")).to_have_value("Quyết định")
        first.locator("input[name=IssuedDate]").fill("7/3/2024")
        # a connected station stops a secret document: its level is chosen under
        # "Văn bản mật…", never in a picker that only saves it (docs/security.md)
        pickers = first.locator("select[name=Priority]")
        expect(pickers).to_have_count(1)
        expect(first.locator("details.secret-mark summary")).to_have_text("Văn bản mật…")
        pickers.nth(0).select_option("Hỏa tốc")
        first.locator("button.save").click()
        expect(_doc(page, 1).locator(".saved-note")).to_have_text("✓ Đã lưu", timeout=10_000)
        expect(_doc(page, 1).locator("input[name=IssuedDate]")).to_have_value("07/03/2024")
        doc_id = _doc(page, 1).get_attribute("data-doc")
        saved = counter.station.review.document(str(doc_id)).metadata
        assert (saved["IssuedDate"], saved["Priority"]) == ("2024-03-07", "Hỏa tốc")
        # a wrong date: its error in Vietnamese only, next to it
        _doc(page, 1).locator("input[name=IssuedDate]").fill("31/02/2024")
        _doc(page, 1).locator("button.save").click()
        error = _doc(page, 1).locator('small.error[data-for="IssuedDate"]')
        expect(error).to_have_text("ngày có dạng ngày/tháng/năm, ví dụ 06/03/2024")
        # English: the same screen, in English only
        batch_url = page.url
        page.locator("a.lang", has_text="EN").click()
        page.wait_for_load_state()
        assert page.url == batch_url
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#confirm")).to_have_text("Confirm and send")
        _doc(page, 1).locator("input[name=IssuedDate]").fill("31/02/2024")
        _doc(page, 1).locator("button.save").click()
        expect(_doc(page, 1).locator('small.error[data-for="IssuedDate"]')).to_have_text(
            "a date is day/month/year, e.g. 06/03/2024"
        )
        page.goto(f"{counter.url}/no-such-screen")
        expect(page.locator("main p").first).to_have_text("There is no such page.")
        page.locator("a.lang", has_text="VI").click()
        expect(page.locator("main p").first).to_have_text("Không có trang này.")
        assert errors == []


def test_a_pages_actions_close_every_way_and_a_deleted_page_comes_back(counter: Counter) -> None:
    """The sheet of a page's actions closes by ✕, Escape and a tap outside it;
    "Xóa trang" can be taken back with "Hoàn tác", the page where it was."""
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 800, "height": 480}, locale="vi-VN")
        errors = _scan_to_review(page, counter)
        third = _doc(page, 3)
        thumbs = third.locator("figure.thumb")
        expect(thumbs).to_have_count(3)
        order = [thumbs.nth(i).get_attribute("data-page") for i in range(3)]
        sheet = thumbs.nth(1).locator(".page-actions")
        for close in ("✕", "Escape", "outside"):
            thumbs.nth(1).locator(".caption").click()
            expect(sheet).to_be_visible()
            if close == "✕":
                sheet.locator("button.close-sheet").click()
            elif close == "Escape":
                page.keyboard.press("Escape")
            else:
                page.locator("h1").first.click()
            expect(sheet).to_be_hidden()
        thumbs.nth(1).locator(".caption").click()
        _shots(page, "page-actions-800x480")
        assert _small_targets(page) == []
        sheet.locator("button.delete-").click()
        expect(page.locator("#undo")).to_contain_text(
            "Đã xóa trang 2 của văn bản 3.", timeout=10_000
        )
        expect(_doc(page, 3).locator("figure.thumb")).to_have_count(2)
        page.locator("#undo-delete").click()
        expect(_doc(page, 3).locator("figure.thumb")).to_have_count(3, timeout=10_000)
        back = _doc(page, 3).locator("figure.thumb")
        assert [back.nth(i).get_attribute("data-page") for i in range(3)] == order
        assert errors == []


def test_a_field_the_dictionary_filled_is_checked_with_one_tap(
    two_document_counter: Counter,
) -> None:
    """A subject filled in with a tone mark the dictionary chose is marked
    "cần kiểm tra" with the reason; "Đã kiểm tra" takes the mark off, keeps the
    subject as it is and saves what else the clerk typed on the card."""
    counter = two_document_counter
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 800, "height": 480}, locale="vi-VN")
        errors = _scan_to_review(page, counter)
        batch = counter.station.last_batch
        assert batch is not None
        doc = counter.station.review.documents(batch)[0]
        subject = "Về việc bổ sung kinh phí cổ phần hóa"
        readings = {"Subject": {"confidence": 0.85, "code": "by_dictionary"}}
        counter.station.review.set_read(
            doc.doc_id, {**doc.metadata, "Subject": subject}, str(doc.pdf), [], readings
        )
        page.reload()
        card = _doc(page, 1)
        field = card.locator("label.f-Subject")
        expect(field.locator(".check-badge")).to_be_visible()
        expect(field.locator("small.read")).to_contain_text("dấu đã chọn theo từ điển")
        field.scroll_into_view_if_needed()
        _shots(page, "dictionary-check-800x480")
        page.set_viewport_size({"width": 1280, "height": 800})
        field.scroll_into_view_if_needed()
        _shots(page, "dictionary-check-1280x800")
        card.locator('input[name="SignerName"]').fill("Lê Văn Tám")
        field.get_by_role("button", name="Đã kiểm tra").click()
        _until(lambda: counter.station.review.document(doc.doc_id).to_check() == [])
        after = counter.station.review.document(doc.doc_id)
        assert after.metadata["Subject"] == subject
        assert after.metadata["SignerName"] == "Lê Văn Tám"
        page.reload()
        expect(_doc(page, 1).locator("label.f-Subject .check-badge")).to_have_count(0)
        # a PDF that fails the Decree 30 check: said on its card, no way to dismiss
        # it, and "Xác nhận và gửi" answers "Chưa gửi được"
        from station.barcodes.split import warning

        second = counter.station.review.documents(batch)[1]
        failing = warning("pdf_check", vi="trang 1 không đúng khổ giấy (223×310 mm)",
                          en="page 1 is not a paper size (223×310 mm)")  # fmt: skip
        counter.station.review.add_warning(second.doc_id, failing)
        page.reload()
        warned = _doc(page, 2).locator('.warning[data-code="pdf_check"]')
        expect(warned).to_contain_text("trang 1 không đúng khổ giấy (223×310 mm)")
        expect(warned.get_by_role("button")).to_have_count(0)
        warned.scroll_into_view_if_needed()
        _shots(page, "pdf-check-1280x800")
        page.set_viewport_size({"width": 800, "height": 480})
        warned.scroll_into_view_if_needed()
        _shots(page, "pdf-check-800x480")
        page.locator("#confirm").click()
        expect(page.get_by_text("Chưa gửi được")).to_be_visible()
        assert counter.station.store.batch(batch).state == "review"
        assert errors == []
