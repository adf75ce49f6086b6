"""The DMS's electronic figures imported as CSV on the fleet dashboard, and the
fleet history's incoming/outgoing split: good files in every usual shape, bad
files refused whole with their faults named (Vietnamese first, English too),
a re-import replacing the same unit and period, a history made before the split
migrated and then filled, a split that does not add up dropped. The figures
end to end, in the browser, are tests/test_fleet_paper.py."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from station.central.electronic import ImportRefused, parse
from station.central.fleet import Fleet
from station.central.fleetdb import SCHEMA, SCHEMA_VERSION, FleetDB
from station.common.clock import VIETNAM
from station.ui import Services, WebSettings, create_app
from station.wire import topics
from station.wire.mqtt import Connection
from tests.test_fleet_payloads import health

PROVINCE = "Viện kiểm sát nhân dân tỉnh Thanh Hóa"

# ---------------------------------------------------------------------- the import


def _post(
    client: FlaskClient, data: bytes, who: str = "Trần Văn Quản Trị", name: str = "dms.csv"
) -> Any:
    page = client.get("/stats/electronic").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    return client.post(
        "/stats/electronic",
        data={"csrf_token": token.group(1), "who": who, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[FlaskClient, FleetDB]]:
    db = FleetDB(tmp_path)
    fleet = Fleet(Connection("mqtt://127.0.0.1:1", "fleet-x"), db)
    db.set_health("st-a", {"unit": PROVINCE, "digitized": {
        "2023-05": {"documents": 9, "pages": 20, "incoming": 6, "outgoing": 3}}}, "2024-01-01T00:00:00Z")  # fmt: skip
    yield create_app(WebSettings(data_dir=tmp_path), Services(fleet=fleet)).test_client(), db
    db.close()


HEADER = "Đơn vị,Năm,Tháng,Đến điện tử,Đi điện tử\n"
#: the year after this one in Vietnam, where the import's "today" is
NEXT_YEAR = datetime.now(VIETNAM).year + 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Excel's "Unicode text": UTF-16
        ((HEADER + f"{PROVINCE},2023,,7687,4303\n").encode("utf-16"),
         "Tệp không phải CSV mã UTF-8: trong Excel chọn Lưu thành → “CSV UTF-8"),
        (b"", "Tệp trống"),
        (HEADER.encode(), "Tệp chỉ có dòng tiêu đề, không có số liệu"),
        (f"Đơn vị,Năm,Đến điện tử\n{PROVINCE},2023,7687\n".encode(),
         "Thiếu cột “Đi điện tử” ở dòng đầu (dòng tiêu đề)"),
        (f"Đơn vị,Năm,Đến điện tử,Đi điện tử,Ghi chú\n{PROVINCE},2023,1,2,x\n".encode(),
         "Cột “Ghi chú” không thuộc mẫu nhập"),
        ((HEADER + f"{PROVINCE},20x3,,7687,4303\n").encode(),
         "Dòng 2: năm “20x3” không hợp lệ: cần 4 chữ số, ví dụ 2023"),
        ((HEADER + f"{PROVINCE},2023,13,7687,4303\n").encode(),
         "Dòng 2: tháng “13” không hợp lệ: từ 1 đến 12, hoặc để trống cho cả năm"),
        ((HEADER + f"{PROVINCE},2023,,-5,4303\n").encode(),
         "Dòng 2: “Đến điện tử” là “-5”, không phải số văn bản"),
        ((HEADER + f"{PROVINCE},2023,,7.5,4303\n").encode(),
         "Dòng 2: “Đến điện tử” là “7.5”, không phải số văn bản"),
        ((HEADER + f"{PROVINCE},2023,,,4303\n").encode(),
         "Dòng 2: ô “Đến điện tử” để trống; ghi 0 nếu không có văn bản"),
        ((HEADER + ",2023,,1,2\n").encode(), "Dòng 2: thiếu tên đơn vị"),
        ((HEADER + f"{PROVINCE},2023,,1,2\n{PROVINCE},2023,,3,4\n").encode(),
         "Dòng 3: trùng với dòng 2 (cùng đơn vị, năm và tháng)"),
        ((HEADER + f"{PROVINCE},2023,,1,2\n{PROVINCE},2023,4,3,4\n").encode(),
         f"Dòng 3: năm 2023 của “{PROVINCE}” có cả số liệu cả năm và số liệu theo tháng (dòng 2)"),
        ((HEADER + f"{PROVINCE},{NEXT_YEAR},,1,2\n").encode(), f"Dòng 2: kỳ {NEXT_YEAR} chưa tới"),
    ],
    ids=["not-utf8", "empty", "header-only", "missing-column", "unknown-column", "bad-year",
         "month-13", "negative", "decimal", "empty-count", "no-unit", "duplicate", "year-and-months",
         "future"],
)  # fmt: skip
def test_a_bad_file_is_refused_whole_with_its_faults_named(
    client: tuple[FlaskClient, FleetDB], body: bytes, expected: str
) -> None:
    web, db = client
    good = (HEADER + f"{PROVINCE},2022,,10,20\n").encode()
    assert _post(web, good).status_code == 303
    before = (db.electronic(), db.imports())
    # the whole file or nothing: a good line before a bad one is not stored either
    answer = _post(web, body)
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "Chưa nhập: tệp có lỗi, chưa có số liệu nào được lưu" in text
    assert expected in text.replace("&#34;", '"')
    assert (db.electronic(), db.imports()) == before


def test_faults_are_named_in_english_too_and_counted_past_twenty(
    client: tuple[FlaskClient, FleetDB],
) -> None:
    web, db = client
    web.get("/lang/en?next=/")
    body = HEADER + "".join(f"{PROVINCE},2023,{m},x,1\n" for m in range(1, 13))
    body += "".join(f"Đơn vị {n},2023,,y,1\n" for n in range(13))
    answer = _post(web, body.encode())
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "Not imported: the file has errors, no figure was stored" in text
    assert "Line 2: “incoming electronic” is “x”, not a number of documents" in text
    assert text.count("not a number of documents") == 20
    assert "… and 5 more errors." in text
    assert db.electronic() == []
    missing = _post(web, HEADER.encode(), who="")
    assert "Give the name of who imports" in missing.get_data(as_text=True)


def test_a_good_file_in_any_usual_shape_and_the_same_again(
    client: tuple[FlaskClient, FleetDB],
) -> None:
    web, db = client
    shapes = [
        # what a spreadsheet program writes, English headers, thousands with a comma
        ("unit,year,month,incoming_electronic,outgoing_electronic\n"
         f'"{PROVINCE}",2023,,"7,687","4,303"\n'),
        # bilingual headers as our own exports write them, tabs, a column order of its own
        ("Năm / Year\tĐơn vị / Unit\tĐi điện tử\tĐến điện tử\n"
         f"2023\t{PROVINCE}\t4303\t7687\n"),
        # semicolons, a byte order mark, 7.687, blank lines, spaces in the name
        ("\ufeffĐơn vị;Năm;Tháng;Đến điện tử;Đi điện tử\r\n\r\n"
         " Viện kiểm sát  nhân dân tỉnh Thanh Hóa ;2023;;7.687;4.303\r\n"),
    ]  # fmt: skip
    for shape in shapes:
        answer = _post(web, shape.encode(), name="dms.csv")
        assert answer.status_code == 303, answer.get_data(as_text=True)
        figures = db.electronic()
        assert [(f.unit, f.year, f.month, f.incoming, f.outgoing) for f in figures] == [
            (PROVINCE, 2023, 0, 7687, 4303)
        ]
    imports = db.imports()
    assert [(i.who, i.rows, i.replaced, i.file_name) for i in imports] == [
        ("Trần Văn Quản Trị", 1, 1, "dms.csv"),
        ("Trần Văn Quản Trị", 1, 1, "dms.csv"),
        ("Trần Văn Quản Trị", 1, 0, "dms.csv"),
    ]
    assert imports[0].address == "127.0.0.1"
    page = web.get(f"/stats/electronic?done={imports[0].id}").get_data(as_text=True)
    assert (
        "Đã nhập 1 dòng từ dms.csv" in page and "1 dòng cũ cùng đơn vị và kỳ đã được thay." in page
    )
    assert page.count('<tr data-import="') == 3
    # a unit no station carries is taken, with a warning to check the name
    _post(web, (HEADER + "Viện kiểm sát nhân dân tỉnh Thanh Hoá,2023,,1,1\n").encode())
    latest = web.get(f"/stats/electronic?done={db.imports()[0].id}").get_data(as_text=True)
    assert "Chưa có trạm quét nào mang tên các đơn vị này" in latest
    assert "Viện kiểm sát nhân dân tỉnh Thanh Hoá" in latest


def test_a_unit_is_one_however_its_stations_space_its_name(
    client: tuple[FlaskClient, FleetDB],
) -> None:
    web, db = client
    spaced = PROVINCE.replace("nhân dân", "nhân  dân") + " "
    db.set_health("st-b", {"unit": spaced, "digitized": {
        "2023-05": {"documents": 4, "pages": 8, "incoming": 1, "outgoing": 3}}}, "2024-01-01T00:00:00Z")  # fmt: skip
    _post(web, (HEADER + f"{PROVINCE},2023,5,10,20\n").encode())
    page = web.get(f"/stats?year=2023&month=5&unit={spaced}").get_data(as_text=True)
    # one row by unit, one in the documents / pages per month
    assert page.count('<tr data-unit="') == 2
    assert "<b>13</b> / 28" in page
    rows = list(csv.reader(io.StringIO(
        web.get("/stats/paper.csv?year=2023&month=5").get_data().decode("utf-8-sig"))))  # fmt: skip
    assert rows[1:] == [
        ["2023", "5", PROVINCE, "6", "20", "7", "0", "10", "13", "30", "30.2", ""],
        ["2023", "5", "Tổng cộng / Total", "6", "20", "7", "0", "10", "13", "30", "30.2", ""],
    ]
    record = db.imports()[0]
    assert record.summary["unknown_units"] == []


def test_a_month_replaces_the_whole_year_and_the_year_its_months(tmp_path: Path) -> None:
    db = FleetDB(tmp_path)
    try:
        today = date(2026, 12, 1)
        year = parse((HEADER + f"{PROVINCE},2023,,100,50\n").encode(), today)
        months = parse(
            (HEADER + f"{PROVINCE},2023,1,10,5\n{PROVINCE},2023,2,20,6\n").encode(), today
        )
        first = db.import_electronic(
            year, who="a", address="x", file_name="y.csv", sha256="0", summary={}
        )
        assert first.replaced == 0
        by_month = db.import_electronic(
            months, who="a", address="x", file_name="m.csv", sha256="1", summary={}
        )
        assert by_month.replaced == 1
        assert [(f.month, f.incoming) for f in db.electronic()] == [(1, 10), (2, 20)]
        again = db.import_electronic(
            year, who="a", address="x", file_name="y.csv", sha256="0", summary={}
        )
        assert again.replaced == 2
        assert [(f.month, f.incoming) for f in db.electronic()] == [(0, 100)]
        with pytest.raises(ImportRefused) as refused:
            parse((HEADER + f"{PROVINCE},2026,12,1,1\n{PROVINCE},2027,1,1,1\n").encode(), today)
        assert [p.line for p in refused.value.problems] == [3]
    finally:
        db.close()


# ---------------------------------------------------------------------- older histories


def test_a_history_made_before_the_split_keeps_working(tmp_path: Path) -> None:
    """A fleet history of version 1 (no incoming / outgoing, no electronic
    figures) is migrated when it is opened; its months count as incoming,
    direction not reported, until the upgraded station reports the split."""
    folder = tmp_path / "fleet"
    folder.mkdir()
    old = sqlite3.connect(folder / "fleet.sqlite3")
    old.executescript(SCHEMA)
    old.execute("PRAGMA user_version = 1")
    old.execute("INSERT INTO monthly VALUES ('st-a', '2025-05', ?, 12, 30)", (PROVINCE,))
    old.execute("INSERT INTO monthly VALUES ('st-a', '2025-06', ?, 7, 9)", (PROVINCE,))
    old.commit()
    old.close()
    for _ in range(2):  # and again: a migrated history opens as it is
        db = FleetDB(folder)
        try:
            assert db._rows("PRAGMA user_version")[0][0] == SCHEMA_VERSION == 2
            months = {(p.month, p.incoming, p.outgoing, p.unknown) for p in db.paper_months()}
            assert months == {(5, 0, 0, 12), (6, 0, 0, 7)}
        finally:
            db.close()
    db = FleetDB(folder)
    try:
        fleet = Fleet(Connection("mqtt://127.0.0.1:1", "fleet-x"), db)
        web = create_app(WebSettings(data_dir=tmp_path), Services(fleet=fleet)).test_client()
        page = web.get("/stats?year=2025").get_data(as_text=True)
        assert "“Chưa rõ đến/đi”: văn bản của các trạm phiên bản cũ" in page
        # the upgraded station: the same month with its split, a later one too;
        # a smaller count (a station replaced) changes nothing
        fleet._health(f"{topics.root('st-a')}/health", json.dumps(health("st-a", unit=PROVINCE, digitized={
            "2025-05": {"documents": 12, "pages": 30, "incoming": 8, "outgoing": 4},
            "2025-06": {"documents": 5, "pages": 9, "incoming": 5, "outgoing": 0},
            "2025-07": {"documents": 3, "pages": 3, "incoming": 1, "outgoing": 2},
        })).encode())  # fmt: skip
        months = {(p.month, p.incoming, p.outgoing, p.unknown) for p in db.paper_months()}
        assert months == {(5, 8, 4, 0), (6, 0, 0, 7), (7, 1, 2, 0)}
        rows = list(csv.reader(io.StringIO(
            web.get(f"/stats/paper.csv?year=2025&unit={PROVINCE}").get_data().decode("utf-8-sig"))))  # fmt: skip
        assert rows[1] == ["2025", "", PROVINCE, "6", "", "16", "7", "", "22", "", "", ""]
    finally:
        db.close()


def test_a_split_that_does_not_add_up_is_dropped(tmp_path: Path) -> None:
    db = FleetDB(tmp_path)
    try:
        fleet = Fleet(Connection("mqtt://127.0.0.1:1", "fleet-x"), db)
        for counts in (
            {"documents": 5, "pages": 9, "incoming": 4, "outgoing": 2},
            {"documents": 5, "pages": 9, "incoming": 5},
        ):
            fleet._health(f"{topics.root('st-a')}/health",
                          json.dumps(health("st-a", digitized={"2025-05": counts})).encode())  # fmt: skip
        assert db.paper_months() == []
        assert fleet.rejected_counts() == {("health", "bad_value"): 2}
    finally:
        db.close()
