"""The Sổ đi at the counter, with real components: a stack of generated
outgoing documents (signature block, "Nơi nhận:", a number written by hand)
scanned through the folder scanner, read by the real OCR, checked before
sending (a number skipped, a number already used, another agency's symbol,
an empty Số), "Dùng số tiếp theo" tapped in Debian's chromium, confirmed, and
entered in the Sổ đi with its signer and recipients; then the Sổ đi screen at
800×480 and 1280×800: the later columns, "Gửi qua bưu điện" and the post
register, the exports, axe-core clean. Screenshots under
test-artifacts/outgoing-register/, looked at."""

from __future__ import annotations

import csv
import dataclasses
import io
import random
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from station.appliance.station import Station
from station.common.clock import VIETNAM
from station.config import Config
from station.config.remote import Settings
from station.demo.samples import (
    SAMPLE_DOCUMENTS,
    DocumentSpec,
    render_document,
    scan_effects,
    separator_sheet,
)
from station.records.outgoing_register import COLUMNS, POST_COLUMNS
from station.store import Store
from station.ui import Services, WebSettings, create_app
from station.ui.app import WebServer
from tests.helpers.axe import axe
from tests.helpers.broker import free_port
from tests.helpers.browser import artifacts, chromium, small_targets
from tests.helpers.wait import until

pytestmark = pytest.mark.slow

UNIT = "Viện kiểm sát nhân dân tỉnh Thanh Hóa"
BASE = SAMPLE_DOCUMENTS[0]  # a decision of the provincial procuracy
LETTER = SAMPLE_DOCUMENTS[1]
REPORT = SAMPLE_DOCUMENTS[2]
#: four documents the agency signed and sends, in the order of the stack
SENT: tuple[DocumentSpec, ...] = (
    dataclasses.replace(BASE, registration=None, pages=1, number="45",
                        issued=date(2025, 11, 20)),
    # a letter "Kính gửi" the Sở Tư pháp; its number skips 46
    dataclasses.replace(
        LETTER, registration=None, superior=BASE.superior, organ=BASE.organ, number="47",
        notation="VKS-VP", issued=date(2025, 11, 21),
        body=("Kính gửi: Sở Tư pháp tỉnh Thanh Hóa.", *LETTER.body[1:]),
        signer_title="VIỆN TRƯỞNG", signer_name="Trần Văn Minh",
    ),
    # the number and the day written by hand: the reader leaves them empty
    dataclasses.replace(BASE, registration=None, pages=1, number="48", handwritten=True,
                        issued=date(2025, 11, 24),
                        subject="Về việc kiện toàn Hội đồng thi đua, khen thưởng"),
    # a number the register has already, and another agency's symbol
    dataclasses.replace(REPORT, registration=None, pages=1, number="12", notation="BC-STP",
                        issued=date(2025, 11, 25), body=REPORT.body[:3]),
)  # fmt: skip


def _stack(folder: Path) -> Path:
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    sheets: list[Image.Image] = []
    for n, spec in enumerate(SENT):
        if n:
            sheets.append(separator_sheet())
        sheets += render_document(spec, 200)
    for number, sheet in enumerate(sheets, start=1):
        buf = io.BytesIO()
        scan_effects(sheet, rng, 200).save(buf, format="JPEG", quality=88, dpi=(200, 200))
        (folder / f"scan_{number:04d}.jpg").write_bytes(buf.getvalue())
    return folder


def _meta(number: int, day: date, **more: Any) -> dict[str, Any]:
    return {
        "TypeName": "Quyết định",
        "CodeNumber": f"{number:02d}",
        "CodeNotation": "QĐ-VKS",
        "IssuedDate": day.isoformat(),
        "Subject": f"Về việc phân công công tác số {number}",
        "SignerPosition": "VIỆN TRƯỞNG",
        "SignerName": "Nguyễn Văn An",
        "ToPlaces": ["Như trên", "Lãnh đạo đơn vị", "Lưu: VT, P.TH"],
        "PageAmount": 1,
        **more,
    }


def _station(data: Path, scans: Path) -> Station:
    config = Config.model_validate(
        {
            "station": {"id": "st-sent", "data_dir": str(data), "unit_name": UNIT,
                        "default_direction": "outgoing"},
            "scanner": {"device": f"folder:{scans}"},
            "outgoing": {"notation": ["VKS"], "keeper": "Lê Thị Hoa"},
        }
    )  # fmt: skip
    return Station(Settings(config), Store(config.station.data_dir), connect=False)


def _seed(station: Station, year: int, numbers: range, month: int = 11) -> None:
    for n in numbers:
        day = date(year, month, min(28, 1 + n // 2))
        station.outgoing.record(f"old-{n}", "old", _meta(n, day),
                                datetime.combine(day, time(9), VIETNAM))  # fmt: skip


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[Station, WebServer]]:
    station = _station(tmp_path / "data", _stack(tmp_path / "scans"))
    station.start()
    web = WebSettings(listen=f"127.0.0.1:{free_port()}", data_dir=station.store.data_dir)
    server = WebServer(create_app(web, Services(station=station)), web)
    server.start()
    try:
        yield station, server
    finally:
        server.stop()
        station.stop()
        station.store.close()


def _shot(page: Page, name: str) -> None:
    folder = artifacts() / "outgoing-register"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=folder / f"{name}.png")
    page.screenshot(path=folder / f"{name}-full.png", full_page=True)


def _serious(page: Page) -> list[str]:
    return [str(v) for v in axe(page) if v.impact in ("serious", "critical")]


def _sideways(page: Page) -> int:
    width: int = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return width


def test_a_sent_stack_is_checked_numbered_and_entered(
    web: tuple[Station, WebServer],
) -> None:
    station, server = web
    _seed(station, 2025, range(1, 45))
    assert station.scan()
    batch: str = until(lambda: station.last_batch, 60, 0.1)
    until(lambda: station.store.batch(batch).state == "review", 300, 0.2)
    until(lambda: not station.processor.batches[batch].reading, 300, 0.2)
    assert station.store.batch(batch).direction == "outgoing"
    docs = station.review.documents(batch)
    assert len(docs) == 4
    read = [(d.metadata.get("CodeNumber"), d.metadata.get("CodeNotation")) for d in docs]
    assert read == [("45", "QĐ-VKS"), ("47", "VKS-VP"), (None, "QĐ-VKS"), ("12", "BC-STP")]

    # before sending: each asks "Vẫn gửi?", none blocks
    found = station.findings(batch)
    assert not [f for f in found if f.blocking]
    assert sorted((f.code, f.seq) for f in found if f.code != "gap") == [
        ("empty_fields", 3), ("notation", 4), ("repeat", 4),
    ]  # fmt: skip
    messages = {f.vi for f in found}
    assert "Bỏ cách số: thiếu số 46/2025; số tiếp theo của sổ đi là 45" in messages
    assert any(m.startswith("Văn bản 4: số 12/2025 đã vào sổ đi ngày") for m in messages)
    assert "Văn bản 4: ký hiệu BC-STP không có chữ viết tắt của cơ quan (VKS)" in messages
    assert "Văn bản 3 còn trống: Số, Ngày ban hành" in messages
    # the number skipped was a misprint: 46, and the number offered follows it
    assert station.processor.next_numbers(batch) == {docs[2].doc_id: "48"}
    station.set_field(docs[1].doc_id, "CodeNumber", "46")
    assert station.processor.next_numbers(batch) == {docs[2].doc_id: "47"}
    assert not [f for f in station.findings(batch) if f.code == "gap"]

    shots = artifacts() / "outgoing-register"
    shots.mkdir(exist_ok=True)
    with chromium() as browser:
        for width, height in ((800, 480), (1280, 800)):
            page = browser.new_page(viewport={"width": width, "height": height}, locale="vi-VN")
            page.goto(f"{server.url}/batch/{batch}")
            article = page.locator(f"#doc-{docs[2].doc_id}")
            offer = article.locator("button.use-next")
            expect(offer).to_have_text("Dùng số tiếp theo: 47")
            # the signer and the recipients, marked apart, right under the header fields
            part = article.locator(".fields-part")
            expect(part).to_have_text("Người ký và nơi nhận — ghi vào Sổ đi")
            expect(article.locator("input[name=SignerName]")).to_have_value("Nguyễn Văn An")
            expect(article.locator("textarea[name=ToPlaces]")).to_contain_text("Lãnh đạo đơn vị")
            expect(article.locator("label.f-registration")).to_have_count(0)
            expect(article.locator("label.f-ArrivalDate")).to_have_count(0)
            expect(article.locator("h2 .reg")).to_have_text("chưa có số")
            expect(page.locator(f"#doc-{docs[0].doc_id} h2 .reg")).to_have_text("Số 45/QĐ-VKS")
            subject = article.locator("label.f-Subject").bounding_box()
            signer = article.locator("label.f-SignerName").bounding_box()
            organ = article.locator("label.f-OrganName").bounding_box()
            assert subject and signer and organ and subject["y"] < signer["y"] < organ["y"]
            assert _sideways(page) == 0
            assert small_targets(page, "button.use-next") == []
            assert _serious(page) == []
            offer.scroll_into_view_if_needed()
            page.screenshot(path=shots / f"review-{width}x{height}.png")
            part.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.screenshot(path=shots / f"review-signer-{width}x{height}.png")
            page.close()
        # one tap: the number is the clerk's choice, saved at once
        page = browser.new_page(viewport={"width": 800, "height": 480}, locale="vi-VN")
        page.goto(f"{server.url}/batch/{batch}")
        page.locator(f"#doc-{docs[2].doc_id} button.use-next").click()
        until(lambda: station.review.document(docs[2].doc_id).metadata.get("CodeNumber"), 20)
        expect(page.locator(f"#doc-{docs[2].doc_id} input[name=CodeNumber]")).to_have_value("47")
        expect(page.locator(f"#doc-{docs[2].doc_id} button.use-next")).to_have_count(0)
        page.close()
    assert station.review.document(docs[2].doc_id).metadata["CodeNumber"] == "47"
    # the day written by hand, typed by the clerk; what stays is asked and sent all the same
    station.set_field(docs[2].doc_id, "IssuedDate", "24/11/2025")
    assert sorted(f.code for f in station.findings(batch)) == ["notation", "repeat"]
    station.confirm(batch, despite=True)
    until(lambda: station.store.batch(batch).state == "done", 180, 0.2)

    # in the Sổ đi: from the fields the clerk checked
    register = station.outgoing
    first, letter, written, report = (register.entry(d.doc_id) for d in docs)
    assert (first.code, first.issued_date) == ("45/QĐ-VKS", date(2025, 11, 20))
    assert first.summary == "Quyết định về việc ban hành Quy chế công tác văn thư, lưu trữ"
    assert first.signer.startswith("Nguyễn Văn An (VIỆN TRƯỞNG")
    assert first.recipients == "Như trên; Lãnh đạo đơn vị" and first.archive == "VT"
    assert letter.code == "46/VKS-VP" and letter.signer == "Trần Văn Minh (VIỆN TRƯỞNG)"
    assert letter.recipients == "Sở Tư pháp tỉnh Thanh Hóa; Lãnh đạo đơn vị"
    assert letter.urgency == ["Khẩn"]
    assert (written.number, written.code, written.issued_date) == (
        47, "47/QĐ-VKS", date(2025, 11, 24),
    )  # fmt: skip
    assert report.number == 12 and report.signer.startswith("Trần Quốc Cường")
    november = (date(2025, 11, 1), date(2025, 11, 30))
    assert {(f.code, f.numbers) for f in register.flags(*november)} == {("repeat", (12,))}
    for doc in docs:
        item = station.store.outbox.item(doc.doc_id)
        assert item.metadata["Direction"] == "outgoing" and "ArrivalNumber" not in item.metadata
    # a confirmation taken up again (a restart after the entries, before the
    # outbox) finds the entries and makes no second one
    station.processor.confirmation._register_sent(register, batch, docs[0])
    assert len(register.entries(*november)) == 44 + 4


def test_the_outgoing_register_at_the_counter(web: tuple[Station, WebServer]) -> None:
    """The Sổ đi screen: the switch from the Sổ đến, each row a card at
    800×480 and a table at 1280×800, "Ghi thêm" with the later columns and
    "Gửi qua bưu điện", the post register under it, the exports."""
    station, server = web
    _seed(station, 2026, range(1, 13))
    station.outgoing.update("old-3", {"copies": "6", "received_by": "Phòng Tổ chức"},
                            date(2026, 11, 30))  # fmt: skip
    book = f"{server.url}/register/outgoing?from=2026-11-01&to=2026-11-30"
    errors: list[str] = []
    with chromium() as browser:
        for width, height, row in ((800, 480, "old-9"), (1280, 800, "old-5")):
            page = browser.new_page(viewport={"width": width, "height": height}, locale="vi-VN")
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{server.url}/register?from=2026-11-01&to=2026-11-30")
            page.locator("#book-outgoing").click()
            page.wait_for_url(book)
            expect(page.locator("h1")).to_have_text("Sổ đăng ký văn bản đi")
            expect(page.locator("#book-outgoing")).to_have_attribute("aria-current", "page")
            expect(page.locator("table.register-table thead th")).to_have_count(len(COLUMNS) + 1)
            if width == 800:
                expect(page.locator("table.register-table thead")).to_be_hidden()
            else:
                expect(page.locator("table.register-table thead")).to_be_visible()
            assert _sideways(page) == 0
            card = page.locator("#entry-old-3")
            expect(card.locator("td.c-signer")).to_have_text("Nguyễn Văn An (VIỆN TRƯỞNG)")
            expect(card.locator("td.c-recipients")).to_have_text("Như trên; Lãnh đạo đơn vị")
            expect(card.locator("td.c-archive")).to_have_text("VT, P.TH")
            expect(card.locator("td.c-copies")).to_have_text("6")
            assert small_targets(page, "button, input, select, a.button, summary") == []
            assert _serious(page) == []
            _shot(page, f"book-{width}x{height}")
            # a row's later columns, and sent by post
            entry = page.locator(f"#entry-{row}")
            entry.evaluate("e => e.scrollIntoView({block: 'start'})")
            entry.locator("summary").click()
            form = entry.locator("form.register-form")
            form.locator("input[name=transfer_date]").fill("30/11/2026")
            form.locator("input[name=received_by]").fill("Bưu điện tỉnh")
            form.locator("select[name=by_post]").select_option("1")
            form.locator("input[name=envelopes]").fill("2")
            form.locator("input[name=post_note]").fill("Bảo đảm")
            save = form.locator("button.primary")
            save.scroll_into_view_if_needed()
            assert _sideways(page) == 0
            assert small_targets(page, "button, input, select, a.button, summary") == []
            _shot(page, f"form-{width}x{height}")
            save.click()
            expect(entry.locator(".saved-badge")).to_have_text("✓ Đã lưu")
            expect(entry.locator("td.c-note .mark.post")).to_have_text("Bưu điện: 2 bì")
            saved = station.outgoing.entry(row)
            assert saved.by_post and saved.envelopes == 2 and saved.post_note == "Bảo đảm"
            assert saved.transfer_date == date(2026, 11, 30)
            # the post register, once the page is shown again
            page.goto(book)
            post = page.locator("#post-register")
            expect(post.locator("thead th")).to_have_count(len(POST_COLUMNS))
            expect(post.locator(f'tr[data-doc="{row}"] td').nth(3)).to_have_text("2")
            post.scroll_into_view_if_needed()
            assert _sideways(page) == 0
            assert _serious(page) == []
            _shot(page, f"post-{width}x{height}")
            assert errors == []
            page.close()
        # the exports, as the buttons download them
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="vi-VN",
                                accept_downloads=True)  # fmt: skip
        page.goto(book)
        with page.expect_download() as got:
            page.locator("#export-csv").click()
        download = got.value
        assert download.suggested_filename == "so-di_20261101-20261130.csv"
        rows = list(csv.reader(io.StringIO(Path(download.path()).read_text("utf-8-sig"))))
        assert rows[0] == [c.vi for c in COLUMNS] and len(rows) == 13
        with page.expect_download() as got:
            page.locator("#export-post-pdf").click()
        assert got.value.suggested_filename == "so-gui-buu-dien_20261101-20261130.pdf"
        assert Path(got.value.path()).read_bytes()[:5] == b"%PDF-"
        # the same entries as JSON; a book the station does not keep is refused
        api = f"{server.url}/api/register?from=2026-11-01&to=2026-11-30"
        answer = page.request.get(f"{api}&book=outgoing").json()
        assert answer["book"] == "outgoing" and len(answer["entries"]) == 12
        assert answer["entries"][2]["copies"] == 6 and answer["flags"] == []
        assert page.request.get(f"{api}&book=post").status == 400
        page.close()
