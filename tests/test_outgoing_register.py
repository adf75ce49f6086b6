"""The outgoing register (docs/outgoing.md#the-register): entries taken from
a sent document's checked fields, what is flagged, the clerk's later columns
and the post register, the checks before an outgoing batch is confirmed and
the number offered when its Số is empty, the exports (PDF text read back,
CSV exact, XLSX opened) and ``scanstation register --outgoing / --post``."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from openpyxl import load_workbook

from station.common.clock import VIETNAM
from station.errors import InputError
from station.records.outgoing_register import (
    COLUMNS,
    LAYOUT,
    POST_COLUMNS,
    POST_LAYOUT,
    OutgoingRegister,
    own_notation,
    recipients_of,
    signer_of,
)
from station.records.register_export import NOTES_TITLE, Book, Period, to_csv, to_pdf, to_xlsx
from station.review.checks import Sent, before_confirming, next_numbers
from station.review.drafts import ReviewDoc
from station.store import Store
from tests.helpers.browser import artifacts
from tests.helpers.cli import scanstation

UNIT = "Viện kiểm sát nhân dân tỉnh Thanh Hóa"
TODAY = date(2026, 11, 30)
SUBJECT = "Về việc ban hành Quy chế công tác văn thư, lưu trữ"


def _meta(number: int | None, **more: Any) -> dict[str, Any]:
    return {
        "TypeName": "Quyết định",
        "CodeNumber": None if number is None else f"{number:02d}",
        "CodeNotation": "QĐ-VKS",
        "IssuedDate": "2026-11-02",
        "OrganName": UNIT,
        "Subject": SUBJECT,
        "SignerPosition": "VIỆN TRƯỞNG",
        "SignerName": "Nguyễn Văn An",
        "ToPlaces": ["Như trên", "Lãnh đạo đơn vị", "Lưu: VT, P.TH"],
        "PageAmount": 2,
        **more,
    }


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9), VIETNAM)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "data") as opened:
        yield opened


def test_an_entry_takes_the_checked_fields_once_and_the_clerk_adds_the_rest(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with Store(data) as store:
        register = OutgoingRegister(store)
        meta = _meta(
            7,
            Addressees=["Sở Tư pháp tỉnh Thanh Hóa"],
            SignerCompetence="KT. VIỆN TRƯỞNG",
            SignerPosition="PHÓ VIỆN TRƯỞNG",
            Priority="Khẩn",
        )
        entry = register.record("s1", "b1", meta, _at(date(2026, 11, 2)))
        assert (entry.year, entry.number, entry.kind) == (2026, 7, "Quyết định")
        assert entry.code == "07/QĐ-VKS" and entry.issued_date == date(2026, 11, 2)
        assert entry.summary == "Quyết định về việc ban hành Quy chế công tác văn thư, lưu trữ"
        assert entry.signer == "Nguyễn Văn An (KT. VIỆN TRƯỞNG, PHÓ VIỆN TRƯỞNG)"
        # "Như trên" is the addressees of "Kính gửi"; "Lưu: VT, P.TH" is column 6
        assert entry.recipients == "Sở Tư pháp tỉnh Thanh Hóa; Lãnh đạo đơn vị"
        assert entry.archive == "VT, P.TH"
        assert entry.urgency == ["Khẩn"] and entry.pages == 2
        assert (entry.copies, entry.transfer_date, entry.by_post) == (None, None, False)
        # a confirmation taken up again after a restart enters it again: no change
        again = register.record("s1", "b1", _meta(9), _at(date(2026, 11, 3)))
        assert again == entry
        today = date(2026, 11, 25)
        changed = register.update(
            "s1",
            {"copies": "5", "transfer_date": "03/11/2026", "received_by": " Trần  Thị Bình ",
             "note": "Gửi kèm phụ lục", "by_post": "1"},
            today,
        )  # fmt: skip
        assert changed.copies == 5 and changed.transfer_date == date(2026, 11, 3)
        assert changed.received_by == "Trần Thị Bình" and changed.by_post
        assert changed.envelopes == 1  # sent by post: at least one envelope
        assert register.update("s1", {"envelopes": "3"}, today).envelopes == 3
        for bad, words in (
            ({"transfer_date": "01/11/2026"}, "on or after its date"),
            ({"transfer_date": "26/11/2026"}, "future"),
            ({"copies": "0"}, "whole number"),
            ({"copies": "nhiều"}, "whole number"),
            ({"envelopes": "-1"}, "whole number"),
            ({"code": "08/QĐ-VKS"}, "cannot be changed"),
            ({"note": "x" * 501}, "500"),
        ):
            with pytest.raises(InputError, match=words):
                register.update("s1", bad, today)
        # refused and sent again corrected: the read columns follow, the clerk's stay
        corrected = register.correct("s1", _meta(8, Subject="Về việc sửa đổi Quy chế"))
        assert corrected.code == "08/QĐ-VKS" and corrected.number == 8
        assert corrected.summary == "Quyết định về việc sửa đổi Quy chế"
        assert corrected.recipients == "Như trên; Lãnh đạo đơn vị"  # no addressees now
        assert (corrected.copies, corrected.received_by) == (5, "Trần Thị Bình")
    # in the store (schema 14): all there after a restart
    with Store(data) as store:
        kept = OutgoingRegister(store).entry("s1")
        assert kept.note == "Gửi kèm phụ lục" and kept.envelopes == 3
    db = sqlite3.connect(data / "store.sqlite3")
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 14
    finally:
        db.close()


def test_the_columns_read_from_the_closing() -> None:
    assert signer_of({"SignerName": "Lê Thị Bình"}) == "Lê Thị Bình"
    assert signer_of({"SignerPosition": "GIÁM ĐỐC"}) == "GIÁM ĐỐC"
    assert signer_of({}) == ""
    # without addressees "Như trên" stays: it points at the articles of a decision
    assert recipients_of({"ToPlaces": ["Như trên", "Lưu: VT"]}) == ("Như trên", "VT")
    assert recipients_of({"Addressees": ["UBND tỉnh", "Sở Tư pháp"]}) == (
        "UBND tỉnh; Sở Tư pháp",
        "",
    )
    assert own_notation("QĐ-VKSTH", ["vksth"]) and own_notation("12/VKS-VP", ["VKS"])
    assert not own_notation("QĐ-VKSTH", ["VKS"]) and not own_notation("BC-STP", ["VKS"])


def test_gaps_repeats_and_documents_without_a_number_are_flagged(store: Store) -> None:
    common = OutgoingRegister(store)
    day = date(2026, 11, 2)
    for doc_id, meta in (
        ("q1", _meta(1)),
        ("q2", _meta(2)),
        ("c1", _meta(4, TypeName="Công văn", CodeNotation="VKS-VP")),
        ("c2", _meta(4, TypeName="Công văn", CodeNotation="VKS-VP")),
        ("q0", _meta(None)),
    ):
        common.record(doc_id, "b1", meta, _at(day))
    month = Period.parse("2026-11")
    entries = common.entries(month.start, month.end)
    assert [e.doc_id for e in entries] == ["q1", "q2", "c1", "c2", "q0"]  # no number last
    found = {(f.code, f.numbers, f.doc_ids) for f in common.flags(month.start, month.end)}
    assert found == {
        ("gap", (3, 3), ()),
        ("repeat", (4,), ("c1", "c2")),
        ("no_number", (), ("q0",)),
    }
    messages = {f.message_vi for f in common.flags(month.start, month.end)}
    assert "Thiếu số 03/2026 trong sổ đi" in messages
    assert "Văn bản «QĐ-VKS» vào sổ không có số" in messages
    # numbered for each type apart: decisions 1-2, letters 4 (twice), 1-3 missing
    per_type = OutgoingRegister(store, "per_type")
    apart = {(f.code, f.numbers) for f in per_type.flags(month.start, month.end)}
    assert apart == {("gap", (1, 3)), ("repeat", (4,)), ("no_number", ())}
    assert any("(Công văn)" in f.message_vi for f in per_type.flags(month.start, month.end))
    # a new year starts at 1 again; the number's year is the document's date's
    common.record("n1", "b2", _meta(1, IssuedDate="2027-01-04"), _at(date(2027, 1, 4)))
    january = Period.parse("2027-01")
    assert common.flags(january.start, january.end) == []
    assert common.entry("n1").year == 2027


def _doc(seq: int, **meta: Any) -> ReviewDoc:
    number = meta.pop("number", None)
    return ReviewDoc(
        doc_id=f"b-{seq:03d}",
        batch_id="b",
        seq=seq,
        registration=None,
        metadata=_meta(number, **meta),
        edited=[],
        warnings=[],
        pdf=None,
        stale=False,
        pages=[],
    )


def test_an_outgoing_batch_is_asked_about_its_numbers_symbols_and_fields(store: Store) -> None:
    """The next numbers of the Sổ đi, the agency's symbol and every field the
    Sổ đi needs: nothing to ask. A number skipped, a number already in the
    register or twice in the batch, a symbol of another agency, an empty Số or
    Người ký: asked ("Vẫn gửi?"), never blocking."""
    from station.records.register import Register

    register = OutgoingRegister(store)
    for n in range(1, 45):
        register.record(f"old-{n}", "old", _meta(n), _at(date(2026, 11, 2)))
    sent = Sent(register, ("VKS",))

    def ask(docs: list[ReviewDoc], given: Sent = sent) -> list[tuple[str, int | None]]:
        found = before_confirming(
            docs, Register(store), r"DEN-(?P<year>\d{4})-(?P<number>\d{6})", TODAY,
            labelled=False, sent=given,
        )  # fmt: skip
        assert all(not f.blocking and f.vi != f.en for f in found)
        return [(f.code, f.seq) for f in found]

    # the next ones, OrganName not needed for a document of the agency's own
    assert ask([_doc(1, number=45, OrganName=None), _doc(2, number=46)]) == []
    docs = [
        _doc(1, number=45),
        _doc(2, number=48),  # skips 46-47
        _doc(3, number=12),  # in the register already
        _doc(4, number=48),  # twice in the batch
        _doc(5, number=49, CodeNotation="QĐ-STP"),  # another agency's symbol
        _doc(6, SignerName=None),  # no Số (written by hand), no signer
    ]
    assert sorted(ask(docs), key=str) == sorted(
        [("gap", None), ("repeat", 3), ("repeat", 2), ("repeat", 4), ("notation", 5),
         ("empty_fields", 6)],
        key=str,
    )  # fmt: skip
    found = before_confirming(docs, Register(store), r"x", TODAY, labelled=False, sent=sent)
    messages = {f.vi for f in found}
    assert "Bỏ cách số: thiếu số 46-47/2026; số tiếp theo của sổ đi là 45" in messages
    assert any(m.startswith("Văn bản 3: số 12/2026 đã vào sổ đi ngày 02/11/2026") for m in messages)
    assert "Văn bản 5: ký hiệu QĐ-STP không có chữ viết tắt của cơ quan (VKS)" in messages
    assert "Văn bản 6 còn trống: Số, Người ký" in messages
    # a number of a document of another batch under review is taken
    waiting = Sent(register, ("VKS",), [_meta(45), _meta(46)])
    assert ask([_doc(1, number=47)], waiting) == []
    assert ask([_doc(1, number=46)], waiting) == [("repeat", 1)]
    # the station's first numbers of a year may go on from a paper book
    assert ask([_doc(1, number=120, IssuedDate="2025-12-01")]) == []


def test_the_next_number_is_offered_for_an_empty_number(store: Store) -> None:
    register = OutgoingRegister(store)
    for n in (1, 2, 3):
        register.record(f"old-{n}", "old", _meta(n), _at(date(2026, 11, 2)))
    sent = Sent(register)
    docs = [_doc(1), _doc(2, number=5), _doc(3), _doc(4, number=6), _doc(5)]
    # after the register's last; after the document before; past the batch's own
    assert next_numbers(docs, sent, TODAY) == {"b-001": "04", "b-003": "07", "b-005": "08"}
    # a number of another batch under review is not offered again
    assert next_numbers([_doc(1)], Sent(register, (), [_meta(4)]), TODAY) == {"b-001": "05"}
    # each type apart, each year apart (an empty date: this year's)
    per_type = Sent(OutgoingRegister(store, "per_type"))
    letters = [_doc(1, TypeName="Công văn"), _doc(2, IssuedDate=None)]
    assert next_numbers(letters, per_type, TODAY) == {"b-001": "01", "b-002": "04"}
    assert next_numbers([_doc(1, IssuedDate="2027-01-04")], sent, TODAY) == {"b-001": "01"}
    assert next_numbers([_doc(1, number=4)], sent, TODAY) == {}  # nothing to offer
    # a date left empty (written by hand too): the year of the stack's dated documents
    stack = [_doc(1, number=7, IssuedDate="2025-12-30"), _doc(2, IssuedDate=None)]
    assert next_numbers(stack, sent, TODAY) == {"b-002": "08"}


def _pages(data: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(data)
    try:
        return [
            " ".join(document[i].get_textpage().get_text_range().split())
            for i in range(len(document))
        ]
    finally:
        document.close()


def _book(store: Store, count: int = 24, skipped: int = 9) -> tuple[Book, Book]:
    register = OutgoingRegister(store)
    for n in range(1, count + 1):
        if n == skipped:
            continue
        day = date(2026, 11, 2 + n // 3)
        marks = {3: "Hỏa tốc"}.get(n)
        register.record(f"s{n}", "b1", _meta(n, IssuedDate=day.isoformat(), Priority=marks),
                        _at(day))  # fmt: skip
    register.update("s2", {"copies": "4", "transfer_date": "2026-11-03",
                           "received_by": "Trần Thị Bình", "note": "Bản chính",
                           "by_post": "1", "envelopes": "2", "post_note": "Bảo đảm"},
                    date(2026, 11, 25))  # fmt: skip
    if count >= 5:
        register.update("s5", {"by_post": "1"}, date(2026, 11, 25))
    period = Period.parse("2026-11")
    start, end = period.start, period.end
    return (
        Book(register.entries(start, end), register.flags(start, end), period, UNIT,
             "Lê Thị Hoa", layout=LAYOUT),
        Book(register.posted(start, end), [], period, UNIT, "Lê Thị Hoa", layout=POST_LAYOUT),
    )  # fmt: skip


def test_the_pdf_is_laid_out_like_the_paper_register(store: Store) -> None:
    book, post = _book(store)
    data = to_pdf(book)
    (artifacts() / "outgoing-register.pdf").write_bytes(data)
    text = _pages(data)
    document = pypdfium2.PdfDocument(data)
    try:
        width, height = document[0].get_size()
        assert (round(width), round(height)) == (842, 595)  # A4 landscape
        assert document.get_metadata_dict()["Title"] == "Sổ đăng ký văn bản đi"
        for i in range(len(document)):  # looked at: test-artifacts/outgoing-register-p*.png
            document[i].render(scale=1.5).to_pil().save(
                artifacts() / f"outgoing-register-p{i + 1}.png"
            )
    finally:
        document.close()
    book_pages = text[:-1]
    assert NOTES_TITLE in text[-1] and "Thiếu số 09/2026 trong sổ đi" in text[-1]
    first = book_pages[0]
    assert UNIT.upper() in first and "SỔ ĐĂNG KÝ VĂN BẢN ĐI" in first
    assert "Tháng 11 năm 2026" in first
    for page in book_pages:  # the ten columns and their numbers on every page
        assert all(f"({n})" in page for n in range(1, 11))
        assert "Đơn vị, người nhận bản lưu" in page and "Số lượng bản" in page
    assert "Nguyễn Văn An (VIỆN TRƯỞNG)" in first and "Như trên; Lãnh đạo đơn vị" in first
    assert "Hỏa tốc" in first and "Trần Thị Bình" in first
    last = book_pages[-1]
    assert "Sổ này ghi 23 văn bản đi, từ số 1 đến số 24." in last
    assert "NGƯỜI LẬP SỔ" in last and "Lê Thị Hoa" in last
    assert all(f"Trang {i + 1} / {len(book_pages)}" in p for i, p in enumerate(book_pages))
    # the post register: six columns, the documents marked as sent by post
    posted = _pages(to_pdf(post))
    (artifacts() / "post-register.pdf").write_bytes(to_pdf(post))
    assert len(posted) == 1 and "SỔ GỬI VĂN BẢN ĐI BƯU ĐIỆN" in posted[0]
    assert all(c.vi.split(",")[0] in posted[0] for c in POST_COLUMNS)
    assert "02/QĐ-VKS" in posted[0] and "05/QĐ-VKS" in posted[0] and "Bảo đảm" in posted[0]
    # marked without a Ngày chuyển: it went to the post office the day it was marked
    assert "25/11/2026 05/QĐ-VKS" in posted[0]
    assert "Sổ này ghi 2 văn bản gửi qua bưu điện." in posted[0]  # by day, not by number


def test_csv_and_xlsx_have_the_same_columns(store: Store, tmp_path: Path) -> None:
    book, post = _book(store, count=4, skipped=0)
    rows = list(csv.reader(io.StringIO(to_csv(book).decode("utf-8-sig"))))
    assert rows[0] == [c.vi for c in COLUMNS]
    assert rows[2] == [
        "02/QĐ-VKS", "02/11/2026",
        "Quyết định về việc ban hành Quy chế công tác văn thư, lưu trữ",
        "Nguyễn Văn An (VIỆN TRƯỞNG)", "Như trên; Lãnh đạo đơn vị", "VT, P.TH", "4",
        "03/11/2026", "Trần Thị Bình", "Bản chính",
    ]  # fmt: skip
    assert rows[3][-1] == "Hỏa tốc" and rows[3][6] == ""
    assert len(rows) == 5
    posted = list(csv.reader(io.StringIO(to_csv(post).decode("utf-8-sig"))))
    assert posted == [
        [c.vi for c in POST_COLUMNS],
        ["03/11/2026", "02/QĐ-VKS", "Như trên; Lãnh đạo đơn vị", "2", "", "Bảo đảm"],
    ]
    sheet = load_workbook(io.BytesIO(to_xlsx(book))).active
    assert sheet is not None
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = values.index([c.vi for c in COLUMNS])
    assert values[1][0] == "SỔ ĐĂNG KÝ VĂN BẢN ĐI" and sheet.title == "Sổ đi"
    body = values[header + 1 :]
    assert len(body) == 4 and body[1][0] == "02/QĐ-VKS"
    assert body[1][1] == datetime(2026, 11, 2) and body[1][7] == datetime(2026, 11, 3)
    assert body[1][6] == 4 and body[2][9] == "Hỏa tốc"
    post_sheet = load_workbook(io.BytesIO(to_xlsx(post))).active
    assert post_sheet is not None and post_sheet.title == "Sổ gửi bưu điện"
    post_values = [list(r) for r in post_sheet.iter_rows(values_only=True)]
    assert post_values[-1][:4] == [datetime(2026, 11, 3), "02/QĐ-VKS",
                                   "Như trên; Lãnh đạo đơn vị", 2]  # fmt: skip


def test_scanstation_register_exports_the_outgoing_and_the_post_register(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store(data) as store:
        _book(store, count=6, skipped=4)
    config = tmp_path / "station.toml"
    config.write_text(
        f'[station]\ndata_dir = "{data}"\nunit_name = "{UNIT}"\n'
        '[outgoing]\nkeeper = "Lê Thị Hoa"\n',
        encoding="utf-8",
    )
    base = ("register", "--config", str(config), "--from", "2026-11")
    done = scanstation(*base, "--outgoing", "--out", str(tmp_path / "so-di.csv"))
    assert done.returncode == 0, done.stderr
    assert "Sổ đi / outgoing register: Tháng 11 năm 2026, 5 văn bản" in done.stdout
    assert "Thiếu số 04/2026 trong sổ đi" in done.stdout
    lines = (tmp_path / "so-di.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith('"Số, ký hiệu văn bản",Ngày tháng văn bản') and len(lines) == 6
    post = scanstation(*base, "--post", "--out", str(tmp_path / "buu-dien.pdf"))
    assert post.returncode == 0, post.stderr
    assert "2 văn bản" in post.stdout
    assert "SỔ GỬI VĂN BẢN ĐI BƯU ĐIỆN" in _pages((tmp_path / "buu-dien.pdf").read_bytes())[0]
    both = scanstation(*base, "--outgoing", "--post", "--out", str(tmp_path / "x.pdf"))
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_a_refused_sent_document_keeps_its_entry(tmp_path: Path) -> None:
    """ "Gửi lại" and "Quét lại" of a refused sent document: one paper, one
    line in the Sổ đi, which follows the corrected fields."""
    from station.common.hub import Hub
    from station.config import Config
    from station.config.remote import Settings
    from station.pipeline.confirm import Confirmation
    from station.review.drafts import Review

    config = Config.model_validate({"station": {"id": "st-r", "data_dir": str(tmp_path / "d")}})
    pdf = tmp_path / "sent.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    with Store(config.station.data_dir) as store:
        confirmation = Confirmation(store, Review(store), Settings(config), Hub())
        register = OutgoingRegister(store)
        register.record("a", "b1", _meta(5), _at(date(2026, 11, 2)))
        sent = {**_meta(5), "Direction": "outgoing"}
        store.outbox.enqueue("a", pdf, sent, 1024)
        answer = {"doc_id": "a", "how": "update", "reason": "sai số"}
        store.outbox.enqueue("a-1", pdf, {**sent, "Supersedes": answer}, 1024)
        again = {"doc_id": "a-1", "how": "update", "reason": "sai ngày"}
        store.outbox.enqueue("a-2", pdf, {**sent, "Supersedes": again}, 1024)
        # an answer to an answer still finds the paper's line
        assert confirmation._sent_entry(store.outbox.item("a-2")) == "a"
        store.outbox.enqueue("in", pdf, {**sent, "Direction": "incoming"}, 1024)
        assert confirmation._sent_entry(store.outbox.item("in")) is None
        # scanned again ("Quét lại"): the new document corrects the line, makes none
        rescanned = _doc(1, number=6)
        confirmation._register_sent(register, "b2", rescanned, replaces="a")
        assert register.entry("a").code == "06/QĐ-VKS" and not register.has(rescanned.doc_id)
        # a confirmation taken up again finds the entry it made
        confirmation._register_sent(register, "b3", _doc(2, number=7))
        confirmation._register_sent(register, "b3", _doc(2, number=8))
        assert register.entry("b-002").code == "07/QĐ-VKS"
