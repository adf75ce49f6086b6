"""The incoming register: entries, the year boundary, what is flagged, the
clerk's later columns, the exports (PDF rendered and looked at, CSV, XLSX) and
``scanstation register``."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pikepdf
import pypdfium2
import pytest
from openpyxl import load_workbook

from station.common.clock import VIETNAM
from station.config import DEFAULT_REGISTRATION
from station.errors import InputError, NotFound, UsageError
from station.records.register import COLUMNS, Register, next_working_day, registered_late
from station.records.register_export import (
    NOTES_TITLE,
    Book,
    Period,
    to_csv,
    to_pdf,
    to_xlsx,
    write,
)
from station.store import Store
from tests.helpers.browser import artifacts
from tests.helpers.cli import ROOT

UNIT = "Viện kiểm sát nhân dân tỉnh Thanh Hóa"


def _meta(number: int, **more: Any) -> dict[str, Any]:
    return {
        "TypeName": "Công văn",
        "CodeNumber": f"{number:02d}",
        "CodeNotation": "VKS-VP",
        "IssuedDate": "2026-11-02",
        "OrganName": "Viện kiểm sát nhân dân huyện Đông Sơn",
        "Subject": "Về việc báo cáo kết quả công tác kiểm sát tháng 11 năm 2026",
        **more,
    }


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), VIETNAM)


def _record(
    register: Register,
    doc_id: str,
    label: str,
    arrival: date,
    registered: date | None = None,
    **more: Any,
) -> None:
    number = int(label.rsplit("-", 1)[1])
    register.record(
        doc_id, "b1", label, DEFAULT_REGISTRATION, _meta(number, **more), arrival,
        _at(registered or arrival),
    )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with Store(tmp_path / "data") as opened:
        yield opened


def test_numbers_restart_at_one_in_a_new_year(store: Store) -> None:
    """Số đến runs within the year of its label: 2027 starts again at 1, and that
    is no gap; a 2026 label used in January 2027 is flagged."""
    register = Register(store)
    for n, day in ((1, date(2026, 12, 29)), (2, date(2026, 12, 30)), (3, date(2026, 12, 31))):
        _record(register, f"a{n}", f"DEN-2026-{n:06d}", day)
    _record(register, "b1", "DEN-2027-000001", date(2027, 1, 4))
    _record(register, "b2", "DEN-2027-000002", date(2027, 1, 4))
    winter = Period(date(2026, 12, 1), date(2027, 1, 31))
    entries = register.entries(winter.start, winter.end)
    assert [(e.year, e.number) for e in entries] == [
        (2026, 1), (2026, 2), (2026, 3), (2027, 1), (2027, 2),
    ]  # fmt: skip
    assert register.flags(winter.start, winter.end) == []
    # the new year's register alone starts at 1, with nothing missing
    january = Period.parse("2027-01")
    assert [e.number for e in register.entries(january.start, january.end)] == [1, 2]
    assert register.flags(january.start, january.end) == []
    # a label left over from last year's roll, and a number skipped
    _record(register, "b3", "DEN-2026-000004", date(2027, 1, 5))
    _record(register, "b4", "DEN-2027-000004", date(2027, 1, 5))
    flags = {(f.code, f.year, f.numbers) for f in register.flags(january.start, january.end)}
    assert flags == {("wrong_year", 2026, (4,)), ("gap", 2027, (3, 3))}


def test_repeats_gaps_and_late_registrations_are_flagged(store: Store) -> None:
    register = Register(store, holidays=[date(2026, 11, 23)])
    friday, tuesday = date(2026, 11, 20), date(2026, 11, 24)
    _record(register, "d1", "DEN-2026-000001", friday, friday)
    # Monday 23 is a day off here: Tuesday is the next working day, so in time
    _record(register, "d2", "DEN-2026-000002", friday, tuesday)
    # Wednesday is late
    _record(register, "d3", "DEN-2026-000003", friday, date(2026, 11, 25))
    # an urgent one is due the same day
    _record(register, "d4", "DEN-2026-000004", tuesday, date(2026, 11, 25), Priority="Hỏa tốc")
    # a label used twice (two batches), and numbers 6-8 never used
    _record(register, "d5", "DEN-2026-000005", tuesday)
    _record(register, "d6", "DEN-2026-000005", tuesday)
    _record(register, "d9", "DEN-2026-000009", tuesday)
    month = Period.parse("2026-11")
    found = {(f.code, f.numbers, f.doc_ids) for f in register.flags(month.start, month.end)}
    assert found == {
        ("late", (3,), ("d3",)),
        ("late", (4,), ("d4",)),
        ("repeat", (5,), ("d5", "d6")),
        ("gap", (6, 8), ()),
    }
    late = next(f for f in register.flags(month.start, month.end) if f.numbers == (4,))
    assert "văn bản khẩn" in late.message_vi and "24/11/2026" in late.message_vi
    assert register.holding("DEN-2026-000005") is not None
    assert register.holding("DEN-2026-000010") is None


def test_working_days_skip_weekends_and_the_national_holidays() -> None:
    assert next_working_day(date(2026, 11, 20)) == date(2026, 11, 23)  # Friday -> Monday
    # 30/4 and 1/5 (Thursday, Friday): Wednesday's document is due on Monday 4/5
    assert next_working_day(date(2026, 4, 29)) == date(2026, 5, 4)
    assert not registered_late(date(2026, 4, 29), date(2026, 5, 4), urgent=False)
    assert registered_late(date(2026, 4, 29), date(2026, 5, 5), urgent=False)
    assert next_working_day(date(2026, 9, 1), [date(2026, 9, 3)]) == date(2026, 9, 4)


def test_an_entry_is_made_once_and_the_clerk_adds_the_later_columns(tmp_path: Path) -> None:
    data = tmp_path / "data"
    today = date(2026, 11, 25)
    with Store(data) as store:
        register = Register(store)
        _record(register, "d1", "DEN-2026-000057", date(2026, 11, 24), Priority="Mật, Khẩn")
        # a confirmation taken up again after a restart enters it again: no change
        _record(register, "d1", "DEN-2026-000057", date(2026, 11, 25))
        entry = register.entry("d1")
        assert entry.arrival_date == date(2026, 11, 24) and entry.number == 57
        assert entry.author == "Viện kiểm sát nhân dân huyện Đông Sơn"
        assert entry.code == "57/VKS-VP"
        assert entry.summary.startswith("Công văn về việc báo cáo kết quả")
        assert entry.secrecy == ["Mật"] and entry.urgency == ["Khẩn"]
        changed = register.update(
            "d1",
            {"recipient": " Phòng 2  – Văn phòng ", "transfer_date": "2026-11-25",
             "received_by": "Nguyễn Văn An", "note": "Bản chính"},
            today,
        )  # fmt: skip
        assert changed.recipient == "Phòng 2 – Văn phòng"
        assert changed.transfer_date == date(2026, 11, 25)
        for bad, words in (
            ({"transfer_date": "2026-11-23"}, "after it arrived"),
            ({"transfer_date": "2026-11-26"}, "future"),
            ({"arrival_date": "31/02/2026"}, "day/month/year"),
            ({"arrival_date": "2026/11/25"}, "day/month/year"),
            ({"author": "someone"}, "cannot be changed"),
            ({"note": "x" * 501}, "500"),
        ):
            with pytest.raises(InputError, match=words):
                register.update("d1", bad, today)
        with pytest.raises(NotFound):
            register.entry("nope")
        # a day as the clerk types it: dd/mm/yyyy
        typed = register.update("d1", {"transfer_date": "25/11/2026"}, today)
        assert typed.transfer_date == date(2026, 11, 25)
    # the register is in the store: it is all there after a restart
    with Store(data) as store:
        again = Register(store).entry("d1")
        assert again.received_by == "Nguyễn Văn An" and again.note == "Bản chính"


def test_periods() -> None:
    assert Period.parse("2026-11-25").text() == "Ngày 25/11/2026"
    assert Period.parse("2026-11").text() == "Tháng 11 năm 2026"
    assert Period.parse("2026-02") == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert Period.parse("2026-12").end == date(2026, 12, 31)
    assert Period.parse("2026").text() == "Năm 2026"
    assert Period.parse("9999").text() == "Năm 9999"  # found by atheris: no overflow
    assert Period.parse("2026-11-03", "2026-11-20").text() == (
        "Từ ngày 03/11/2026 đến ngày 20/11/2026"
    )
    assert Period.parse("25/11/2026") == Period.parse("2026-11-25")  # as the clerk types it
    for bad in ("2026-13", "31/11/2026", "soon"):
        with pytest.raises(UsageError):
            Period.parse(bad)
    with pytest.raises(UsageError, match="before it starts"):
        Period.parse("2026-11-20", "2026-11-01")


def _book(store: Store, count: int = 30, skipped: int = 12) -> Book:
    register = Register(store)
    start = date(2026, 11, 2)
    for n in range(1, count + 1):
        if n == skipped:
            continue  # a skipped label
        marks = {3: "Hỏa tốc", 8: "Mật"}.get(n)
        day = start + timedelta(days=n // 4)
        _record(register, f"d{n}", f"DEN-2026-{n:06d}", day, Priority=marks)
    register.update(
        "d2",
        {"recipient": "Phòng Thực hành quyền công tố", "transfer_date": "2026-11-03",
         "received_by": "Trần Thị Bình", "note": "Bản chính"},
        date(2026, 11, 25),
    )  # fmt: skip
    period = Period.parse("2026-11")
    return Book(
        register.entries(period.start, period.end),
        register.flags(period.start, period.end),
        period,
        UNIT,
        "Lê Thị Hoa",
    )


def _pages(data: bytes) -> list[str]:
    """Each page's text, wrapped cells joined again."""
    document = pypdfium2.PdfDocument(data)
    try:
        return [
            " ".join(document[i].get_textpage().get_text_range().split())
            for i in range(len(document))
        ]
    finally:
        document.close()


def test_the_pdf_is_laid_out_like_the_paper_register(store: Store) -> None:
    book = _book(store)
    data = to_pdf(book)
    out = artifacts() / "register.pdf"
    out.write_bytes(data)
    text = _pages(data)
    # the book, then one sheet with what to check
    assert NOTES_TITLE in text[-1] and not any(NOTES_TITLE in page for page in text[:-1])
    book_pages = text[:-1]
    pages = len(book_pages)
    assert pages >= 2
    document = pypdfium2.PdfDocument(data)
    try:
        width, height = document[0].get_size()
        assert (round(width), round(height)) == (842, 595)  # A4 landscape, in points
        for i in range(len(document)):  # looked at: test-artifacts/register-p*.png
            image = document[i].render(scale=1.5).to_pil()
            image.save(artifacts() / f"register-p{i + 1}.png")
    finally:
        document.close()
    first = book_pages[0]
    assert UNIT.upper() in first and "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN" in first
    assert "Tháng 11 năm 2026" in first
    for column in COLUMNS:  # the headings, repeated on every page of the book
        assert all(column.vi.split()[0] in page for page in book_pages)
    # the book's pages are numbered among themselves; the notes are not one of them
    assert all(f"Trang {i + 1} / {pages}" in page for i, page in enumerate(book_pages))
    assert "Trang" not in text[-1] and "tờ 1 / 1" in text[-1]
    assert "Phòng Thực hành quyền công tố" in first and "Hỏa tốc" in first
    last = book_pages[-1]
    assert "Sổ này ghi 29 văn bản đến, từ số 1 đến số 30." in last
    assert "NGƯỜI LẬP SỔ" in last and "Lê Thị Hoa" in last and "THỦ TRƯỞNG" in last
    assert "30/VKS-VP" in last  # the last row, with the signatures
    assert "Thiếu số đến 12/2026" in text[-1]
    assert not any("Thiếu số đến" in page or "kiểm tra" in page for page in book_pages)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        fonts = {
            str(font.get("/BaseFont"))
            for page in pdf.pages
            for font in page.Resources.Font.values()
        }
        embedded = all(
            "/FontFile2" in font.FontDescriptor
            for page in pdf.pages
            for font in page.Resources.Font.values()
        )
    # every font is a Liberation Serif (Times New Roman's metrics), embedded
    assert fonts and all("LiberationSerif" in name for name in fonts) and embedded


def test_the_signatures_never_stand_alone_and_the_notes_follow_the_book(store: Store) -> None:
    """Eleven rows nearly fill page 1: without room for the closing and the
    signatures under them, the last rows go over to page 2 with them (under
    the column headings), never the signatures alone; what to check (number 5
    skipped) comes after the book, on a sheet of its own."""
    data = to_pdf(_book(store, count=11, skipped=5))
    (artifacts() / "register-full-page.pdf").write_bytes(data)
    text = _pages(data)
    signed = [i for i, page in enumerate(text) if "NGƯỜI LẬP SỔ" in page]
    last_row = [i for i, page in enumerate(text) if "11/VKS-VP" in page]
    assert len(text) == 3 and signed == [1] and last_row == [1]
    assert "Sổ này ghi 10 văn bản đến, từ số 1 đến số 11." in text[1]
    assert "10/VKS-VP" in text[1] and "09/VKS-VP" in text[0]  # two rows went over, in order
    assert "(Ký, ghi rõ họ tên)" in text[1] and "Số đến" in text[1]  # headings repeated
    notes = [i for i, page in enumerate(text) if NOTES_TITLE in page]
    assert notes == [2]  # after the book's last page, on none of its pages
    assert "Thiếu số đến 5/2026" in text[2] and "Viện kiểm sát nhân dân tỉnh Thanh Hóa" in text[2]
    assert not any("Thiếu số đến" in page for page in text[:2])
    assert "Trang 1 / 2" in text[0] and "Trang 2 / 2" in text[1] and "Trang" not in text[2]


def test_rows_too_tall_to_go_over_two_with_the_signatures(store: Store) -> None:
    """A register whose last rows carry long later columns: two of them and the
    signatures do not fit on one page, so one row goes with the signatures."""
    book = _book(store, count=9)
    register = Register(store)
    long = "Phòng Thực hành quyền công tố và kiểm sát điều tra án hình sự " * 7
    for doc_id in ("d8", "d9"):
        register.update(
            doc_id, {"recipient": long[:140], "note": long[:140], "received_by": long[:140]},
            date(2026, 11, 25),
        )  # fmt: skip
    book = Book(register.entries(book.period.start, book.period.end), [], book.period, UNIT, "")
    text = _pages(to_pdf(book))
    assert not any(NOTES_TITLE in page for page in text)  # nothing to check: no sheet
    signed = [i for i, page in enumerate(text) if "NGƯỜI LẬP SỔ" in page]
    assert signed == [len(text) - 1] and "09/VKS-VP" in text[-1]
    assert "08/VKS-VP" in text[-2] and "08/VKS-VP" not in text[-1]


def test_csv_and_xlsx_have_the_same_columns(store: Store, tmp_path: Path) -> None:
    book = _book(store, count=6)
    data = to_csv(book)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [c.vi for c in COLUMNS]
    assert rows[2] == [
        "02/11/2026", "2", "Viện kiểm sát nhân dân huyện Đông Sơn", "02/VKS-VP", "02/11/2026",
        "Công văn về việc báo cáo kết quả công tác kiểm sát tháng 11 năm 2026",
        "Phòng Thực hành quyền công tố", "03/11/2026", "Trần Thị Bình", "Bản chính",
    ]  # fmt: skip
    assert rows[3][-1] == "Hỏa tốc"
    out = write(book, "xlsx", tmp_path / "so-den.xlsx")
    assert to_xlsx(book)[:2] == b"PK"
    sheet = load_workbook(out).active
    assert sheet is not None
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = values.index([c.vi for c in COLUMNS])
    assert values[0][0] == UNIT.upper() and values[1][0] == "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN"
    body = values[header + 1 :]
    assert len(body) == 6 and body[0][1] == 1
    assert body[1][0] == datetime(2026, 11, 2) and body[1][7] == datetime(2026, 11, 3)
    assert body[2][9] == "Hỏa tốc"


def test_scanstation_register_exports_a_period(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store(data) as store:
        _book(store, count=5)
    config = tmp_path / "station.toml"
    config.write_text(
        f'[station]\ndata_dir = "{data}"\nunit_name = "{UNIT}"\n[incoming]\nkeeper = "Lê Thị Hoa"\n',
        encoding="utf-8",
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "station", "register", "--config", str(config), *args],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    done = run("--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv",
               "--out", str(tmp_path / "nov.csv"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "5 văn bản" in done.stdout
    assert len((tmp_path / "nov.csv").read_text(encoding="utf-8-sig").splitlines()) == 6
    # the format follows the suffix; a single day
    day = run("--from", "2026-11-03", "--out", str(tmp_path / "day.pdf"))
    assert day.returncode == 0 and (tmp_path / "day.pdf").read_bytes()[:5] == b"%PDF-"
    assert "Ngày 03/11/2026" in day.stdout
    bad = run("--from", "2026-13", "--out", str(tmp_path / "x.pdf"))
    assert bad.returncode == 2 and "2026-13" in bad.stderr
    unknown = run("--from", "2026", "--out", str(tmp_path / "x.txt"))
    assert unknown.returncode == 2 and "--format" in unknown.stderr


def test_a_row_taller_than_a_page_goes_on_over_the_page_break(store: Store) -> None:
    """The longest later columns (500 characters) in the narrowest columns make a
    row taller than a page: it goes on over the break instead of stopping the
    export, and its end is on the page of the closing line and the signatures."""
    book = _book(store, count=9)
    register = Register(store)
    long = ("Phòng Thực hành quyền công tố và kiểm sát điều tra án hình sự " * 9)[:500]
    for doc_id in ("d8", "d9"):
        register.update(
            doc_id, {"recipient": long, "note": long, "received_by": long}, date(2026, 11, 25)
        )
    book = Book(register.entries(book.period.start, book.period.end), [], book.period, UNIT, "")
    data = to_pdf(book)
    (artifacts() / "register-tall-rows.pdf").write_bytes(data)
    text = _pages(data)
    assert len(text) >= 3
    signed = [i for i, page in enumerate(text) if "NGƯỜI LẬP SỔ" in page]
    closed = [i for i, page in enumerate(text) if "Sổ này ghi 9 văn bản đến" in page]
    assert signed == closed == [len(text) - 1]
    assert "kiểm sát điều tra án hình sự" in text[-1].split("Sổ này ghi")[0]  # the row's end
    assert all(f"Trang {i + 1} / {len(text)}" in page for i, page in enumerate(text))
