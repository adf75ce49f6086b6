"""Paper against electronic on the fleet's statistics page, end to end.

Stations publish their health over a real mosquitto to a real fleet collector:
a real station (its store, its telemetry) with incoming and outgoing documents
of this month, two stations of the provincial office whose months from 2020 to
2023 add up to the office's own yearly report, a station too old to report the
split, and 37 more units (40 in all). The administrator imports the DMS's
electronic figures as CSV in the browser. The table, the chart and the exports
must show exactly the office's figures, in Vietnamese and in English; a refused
file shows its faults; axe-core finds nothing serious; with 40 units the header,
the names and the totals stay in view; screenshots at 1280×800, 390×844 and
800×480 are left in test-artifacts/ to look at. The import's rules one by one
are tests/test_fleet_electronic.py."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page

from station.appliance.stats import ScannerState
from station.central.fleet import Fleet
from station.central.fleetdb import FleetDB
from station.common.clock import VIETNAM
from station.config import Config
from station.config.remote import Settings
from station.store import Store
from station.ui import Services, WebSettings, create_app
from station.ui.app import WebServer
from station.uplink.link import StationLink
from station.wire import topics
from station.wire.mqtt import Connection
from tests.helpers.axe import axe, failing, save
from tests.helpers.broker import Mosquitto, free_port
from tests.helpers.browser import artifacts, chromium
from tests.helpers.wait import until
from tests.test_fleet_electronic import HEADER
from tests.test_fleet_payloads import health

pytestmark = pytest.mark.slow

PROVINCE = "Viện kiểm sát nhân dân tỉnh Thanh Hóa"
#: the office's own yearly report: outgoing paper, outgoing electronic,
#: incoming paper, incoming electronic
REPORT = {
    2020: (3945, 1128, 7755, 3446),
    2021: (2041, 2883, 4342, 6377),
    2022: (2395, 3288, 4267, 6251),
    2023: (5079, 4303, 4285, 7687),
}
#: a unit with a real station: this month's documents, and no electronic figures
LIVE = "Viện kiểm sát nhân dân khu vực 1"
LIVE_IN, LIVE_OUT = 3, 2
#: a unit whose station is too old to say incoming or outgoing (2023, by month)
OLD = "Viện kiểm sát nhân dân khu vực 2"
OLD_MONTHS = {m: 40 + m for m in range(1, 13)}
OLD_ELECTRONIC = {m: (100 + m, 60 + m) for m in range(1, 13)}
#: 37 more units, so that the table has 40: 2023 paper and electronic each
MORE = [f"Viện kiểm sát nhân dân khu vực {n}" for n in range(3, 40)]


def _more(n: int) -> tuple[int, int, int, int]:
    """A unit of MORE in 2023: outgoing paper, outgoing electronic, incoming paper, electronic."""
    return (100 + n, 300 + 2 * n, 200 + n, 500 + 3 * n)


def _spread(total: int) -> list[int]:
    """A yearly figure over its twelve months."""
    return [total // 12 + (1 if m < total % 12 else 0) for m in range(12)]


def _months(years: dict[int, tuple[int, int, int, int]], part: int, parts: int) -> dict[str, Any]:
    """``health.digitized`` of one of ``parts`` stations sharing a unit's paper."""
    found: dict[str, Any] = {}
    for year, (out_p, _, in_p, _) in years.items():
        for m, (o, i) in enumerate(zip(_spread(out_p), _spread(in_p), strict=True), start=1):
            o_share = o // parts + (o % parts if part == 0 else 0)
            i_share = i // parts + (i % parts if part == 0 else 0)
            found[f"{year}-{m:02d}"] = {
                "documents": o_share + i_share, "pages": 2 * (o_share + i_share),
                "incoming": i_share, "outgoing": o_share,
            }  # fmt: skip
    return found


def _share(paper: int, electronic: int) -> float:
    return round(100 * paper / (paper + electronic), 1)


def _vi(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _vi_1(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


# ---------------------------------------------------------------------- the fleet


@dataclass
class Board:
    fleet: Fleet
    db: FleetDB
    server: WebServer
    client: FlaskClient
    station: StationLink
    store: Store

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    folder = tmp_path_factory.mktemp("paper")
    broker = Mosquitto(folder)
    broker.start()
    db = FleetDB(folder / "fleet")
    conn = Connection(broker.url, "fleet-paper", clean_start=True)
    fleet = Fleet(conn, db)
    web = WebSettings(listen=f"127.0.0.1:{free_port()}", data_dir=folder / "fleet")
    app = create_app(web, Services(fleet=fleet))
    server = WebServer(app, web)
    conn.start()
    server.start()
    assert conn.ready.wait(10)
    # a real station: documents received and sent this month, reported by its telemetry
    config = Config.model_validate({
        "station": {"id": "vks-kv1", "unit_name": LIVE, "data_dir": str(folder / "kv1")},
        "uplink": {"broker": broker.url, "keepalive_s": 5},
        "telemetry": {"interval_s": 5},
    })  # fmt: skip
    store = Store(config.station.data_dir)
    batch = store.create_batch("test:0", "standard", "cli")
    for n in range(LIVE_IN + LIVE_OUT):
        direction = {"Direction": "outgoing"} if n >= LIVE_IN else {}
        store.add_document(f"d{n}", batch.id, None, None, {"PageAmount": 2, **direction})
    link = StationLink.build(store, Settings(config), ScannerState(model="fi-7160", status="ready"))
    link.start()
    # stations of other units: their health reports, as they publish them
    stations = Connection(broker.url, "stations-paper", clean_start=True)
    stations.start()
    assert stations.ready.wait(10)
    reports = {
        "vks-th-01": health("vks-th-01", unit=PROVINCE, digitized=_months(REPORT, 0, 2)),
        "vks-th-02": health("vks-th-02", unit=PROVINCE, digitized=_months(REPORT, 1, 2)),
        # too old for the split: documents and pages only
        "vks-kv2": health("vks-kv2", unit=OLD, digitized={
            f"2023-{m:02d}": {"documents": n, "pages": 3 * n} for m, n in OLD_MONTHS.items()
        }),
        **{
            f"vks-kv{n}": health(f"vks-kv{n}", unit=unit, digitized=_months({2023: _more(n)}, 0, 1))
            for n, unit in enumerate(MORE, start=3)
        },
    }  # fmt: skip
    for station_id, body in reports.items():
        payload = json.dumps(body, ensure_ascii=False).encode()
        stations.publish(f"{topics.root(station_id)}/health", payload, qos=1, retain=True)
    until(lambda: len(db.stations()) == len(reports) + 1, timeout=30)
    until(lambda: any(p.unit == LIVE for p in db.paper_months()), timeout=30)
    stations.stop()
    yield Board(fleet, db, server, app.test_client(), link, store)
    link.stop()
    store.close()
    server.stop()
    conn.stop()
    db.close()
    broker.stop()


def _electronic_csv() -> bytes:
    """The DMS's figures as an administrator exports them from a spreadsheet
    program set to Vietnamese: semicolons, a byte order mark, 7.687."""
    lines = ["Đơn vị;Năm;Tháng;Đến điện tử;Đi điện tử"]
    for year, (_, e_out, _, e_in) in REPORT.items():
        lines.append(f"{PROVINCE};{year};;{_vi(e_in)};{_vi(e_out)}")
    for m, (e_in, e_out) in OLD_ELECTRONIC.items():
        lines.append(f"{OLD};2023;{m};{e_in};{e_out}")
    for n, unit in enumerate(MORE, start=3):
        _, e_out, _, e_in = _more(n)
        lines.append(f"{unit};2023;;{e_in};{e_out}")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


@pytest.fixture(scope="module")
def imported(board: Board, browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Board:
    """The administrator imports the DMS's figures on the dashboard, by hand."""
    path = tmp_path_factory.mktemp("csv") / "qlvb-2020-2023.csv"
    path.write_bytes(_electronic_csv())
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{board.url}/stats")
    page.get_by_role("link", name="Nhập số liệu văn bản điện tử").click()
    page.get_by_label("Tệp CSV (UTF-8)").set_input_files(str(path))
    page.get_by_label("Người nhập").fill("Lê Thị Văn Thư")
    page.get_by_role("button", name="Nhập", exact=True).click()
    done = page.locator("#done")
    rows = 4 + len(OLD_ELECTRONIC) + len(MORE)
    assert f"Đã nhập {rows} dòng từ qlvb-2020-2023.csv" in done.inner_text()
    page.screenshot(path=artifacts() / "fleet-electronic-imported.png", full_page=True)
    page.close()
    return board


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


def _cells(page: Page, row: str) -> dict[str, str]:
    return dict(
        page.locator(f"{row} td[data-col]").evaluate_all(
            "cells => cells.map(c => [c.dataset.col, c.innerText.replace('*', '').trim()])"
        )
    )


# ---------------------------------------------------------------------- the figures


def test_the_office_report_comes_out_of_the_stations_and_the_import(
    imported: Board, browser: Browser
) -> None:
    board = imported
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{board.url}/stats?year=2023&unit={PROVINCE}")
    shares: dict[int, float] = {}
    for year, (out_p, out_e, in_p, in_e) in REPORT.items():
        cells = _cells(page, f'table.by-year tr[data-year="{year}"]')
        share = shares[year] = 100 * (out_p + in_p) / (out_p + in_p + out_e + in_e)
        assert cells["paper_out"] == _vi(out_p)
        assert cells["e_out"] == _vi(out_e)
        assert cells["paper_in"] == _vi(in_p)
        assert cells["e_in"] == _vi(in_e)
        assert cells["paper"] == _vi(out_p + in_p)
        assert cells["electronic"] == _vi(out_e + in_e)
        assert cells["share"] == f"{_vi_1(round(share, 1))} %"
        if year - 1 in shares:
            moved = round(share - shares[year - 1], 1)
            word = "tăng" if moved > 0 else "giảm"
            assert cells["change"] == f"{word} {_vi_1(abs(moved))}"
        else:
            assert cells["change"] == "–"
        # the chart: the same four figures as bars, the share over them
        for direction, paper, electronic in (("out", out_p, out_e), ("in", in_p, in_e)):
            bar = page.locator(f'svg g.bar[data-year="{year}"][data-direction="{direction}"]')
            assert bar.locator("rect.paper").get_attribute("data-value") == str(paper)
            assert bar.locator("rect.electronic").get_attribute("data-value") == str(electronic)
        label = page.locator(f'svg text.share[data-year="{year}"]').text_content()
        assert label == f"Giấy {_vi_1(round(share, 1))} %"
    # the office's 2020 and 2021, worked out by hand: 71.9 % then 40.8 %, down 31.1 points
    assert _cells(page, 'table.by-year tr[data-year="2020"]')["share"] == "71,9 %"
    assert _cells(page, 'table.by-year tr[data-year="2021"]')["change"] == "giảm 31,1"
    svg = page.locator("svg.chart")
    assert svg.get_attribute("role") == "img"
    assert (
        svg.locator("title").first.text_content()
        == f"Văn bản giấy và điện tử qua các năm – {PROVINCE}"
    )
    desc = svg.locator("desc").text_content() or ""
    assert (
        "Năm 2023: đi 5.079 giấy, 4.303 điện tử; đến 4.285 giấy, 7.687 điện tử; tỷ lệ giấy 43,9 %."
        in desc
    )
    # bars are in proportion: electronic 1128 against paper 3945 in 2020
    heights = {
        kind: float(page.locator(f'g.bar[data-year="2020"][data-direction="out"] rect.{kind}')
                    .get_attribute("height") or 0)
        for kind in ("paper", "electronic")
    }  # fmt: skip
    assert heights["electronic"] / heights["paper"] == pytest.approx(1128 / 3945, rel=0.01)
    page.screenshot(path=artifacts() / "fleet-paper-province.png", full_page=True)
    # in English: the same figures, English number forms
    page.goto(f"{board.url}/lang/en?next=/stats?year=2023%26unit={PROVINCE}")
    assert page.locator("h1").inner_text() == "Paper and electronic documents"
    cells = _cells(page, 'table.by-year tr[data-year="2021"]')
    assert (cells["paper_in"], cells["share"], cells["change"]) == ("4,342", "40.8%", "down 31.1")
    assert page.locator('svg text.share[data-year="2020"]').text_content() == "Paper 71.9%"
    page.screenshot(path=artifacts() / "fleet-paper-province-en.png", full_page=True)
    page.close()


def test_units_of_a_year_with_their_total(imported: Board, browser: Browser) -> None:
    board = imported
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{board.url}/stats?year=2023")
    assert page.locator("table.by-unit tbody tr").count() == 40
    out_p, out_e, in_p, in_e = REPORT[2023]
    province = _cells(page, f'table.by-unit tr[data-unit="{PROVINCE}"]')
    assert (province["paper_out"], province["e_out"]) == (_vi(out_p), _vi(out_e))
    assert (province["paper_in"], province["e_in"]) == (_vi(in_p), _vi(in_e))
    assert province["paper_unknown"] == "0"
    # the old station's documents: incoming, direction not reported
    old = _cells(page, f'table.by-unit tr[data-unit="{OLD}"]')
    old_paper = sum(OLD_MONTHS.values())
    old_in = sum(e for e, _ in OLD_ELECTRONIC.values())
    old_out = sum(o for _, o in OLD_ELECTRONIC.values())
    assert old["paper_out"] == "0" and old["paper_in"] == _vi(old_paper)
    assert old["paper_unknown"] == _vi(old_paper)
    assert (old["e_in"], old["e_out"]) == (_vi(old_in), _vi(old_out))
    assert old["share"] == f"{_vi_1(_share(old_paper, old_in + old_out))} %"
    # the live unit has nothing in 2023: no figures, not zeros
    live = _cells(page, f'table.by-unit tr[data-unit="{LIVE}"]')
    assert set(live.values()) == {"–"}
    # the total: every unit added up, and the share of the sums
    papers = [(out_p, in_p), (0, old_paper), *((_more(n)[0], _more(n)[2]) for n in range(3, 40))]
    electronics = [
        (out_e, in_e),
        (old_out, old_in),
        *((_more(n)[1], _more(n)[3]) for n in range(3, 40)),
    ]
    total = _cells(page, 'table.by-unit tfoot tr[data-unit="*"]')
    paper = sum(o + i for o, i in papers)
    electronic = sum(o + i for o, i in electronics)
    assert total["paper_out"] == _vi(sum(o for o, _ in papers))
    assert total["e_in"] == _vi(sum(i for _, i in electronics))
    assert (total["paper"], total["electronic"]) == (_vi(paper), _vi(electronic))
    assert total["share"] == f"{_vi_1(_share(paper, electronic))} %"
    # this month: the real station's documents, received and sent
    now = datetime.now(VIETNAM)
    page.goto(f"{board.url}/stats?year={now.year}&month={now.month}&unit={LIVE}")
    live = _cells(page, f'table.by-unit tr[data-unit="{LIVE}"]')
    assert (live["paper_in"], live["paper_out"]) == (str(LIVE_IN), str(LIVE_OUT))
    assert live["e_in"] == "–" and live["share"] == "–"
    assert page.locator('#gaps li[data-gap="no_electronic"]').count() == 1
    page.close()


def test_the_exports_are_exact(imported: Board) -> None:
    client = imported.client
    answer = client.get(f"/stats/paper.csv?scope=years&unit={PROVINCE}&year=2023")
    assert answer.status_code == 200
    assert (
        answer.headers["Content-Disposition"] == 'attachment; filename="giay-dien-tu-cac-nam.csv"'
    )
    header = (
        "Năm / Year,Tháng / Month,Đơn vị / Unit,Đi - giấy / Outgoing on paper,"
        "Đi - điện tử / Outgoing electronic,Đến - giấy / Incoming on paper,"
        "Trong đó chưa rõ đến/đi / Of which direction not reported,"
        "Đến - điện tử / Incoming electronic,Giấy / Paper,Điện tử / Electronic,"
        "Tỷ lệ giấy (%) / Paper share (%),"
        "So với năm trước (điểm %) / Change from the year before (points)"
    )
    assert answer.get_data().decode("utf-8") == "\ufeff" + "\r\n".join([
        header,
        f"2020,,{PROVINCE},3945,1128,7755,0,3446,11700,4574,71.9,",
        f"2021,,{PROVINCE},2041,2883,4342,0,6377,6383,9260,40.8,-31.1",
        f"2022,,{PROVINCE},2395,3288,4267,0,6251,6662,9539,41.1,0.3",
        f"2023,,{PROVINCE},5079,4303,4285,0,7687,9364,11990,43.9,2.7",
    ]) + "\r\n"  # fmt: skip
    workbook = imported.client.get(f"/stats/paper.xlsx?scope=years&unit={PROVINCE}")
    sheet = load_workbook(io.BytesIO(workbook.get_data())).active
    assert sheet is not None and sheet.title == "Các năm"
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        header.split(","),
        [2020, None, PROVINCE, 3945, 1128, 7755, 0, 3446, 11700, 4574, 71.9, None],
        [2021, None, PROVINCE, 2041, 2883, 4342, 0, 6377, 6383, 9260, 40.8, -31.1],
        [2022, None, PROVINCE, 2395, 3288, 4267, 0, 6251, 6662, 9539, 41.1, 0.3],
        [2023, None, PROVINCE, 5079, 4303, 4285, 0, 7687, 9364, 11990, 43.9, 2.7],
    ]
    # by unit, a year: one line per unit and the total, the same as the page
    units = client.get("/stats/paper.csv?scope=units&year=2023").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(units)))
    assert len(rows) == 1 + 40 + 1
    by_unit = {row[2]: row for row in rows[1:]}
    old_paper = sum(OLD_MONTHS.values())
    assert old_paper == 558
    assert by_unit[OLD] == [
        "2023", "", OLD, "0", "798", "558", "558", "1278", "558", "2076",
        str(_share(558, 2076)), "",
    ]  # fmt: skip
    assert by_unit[LIVE] == ["2023", "", LIVE, *[""] * 9]
    assert by_unit["Tổng cộng / Total"][:3] == ["2023", "", "Tổng cộng / Total"]
    xlsx = client.get("/stats/paper.xlsx?scope=units&year=2023")
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    assert sheet is not None
    cells = [["" if c.value is None else str(c.value) for c in row] for row in sheet.iter_rows()]
    assert cells == rows


# ---------------------------------------------------------------------- as people see it

SIZES = [(1280, 800), (390, 844), (800, 480)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_page_reads_on_every_screen(
    imported: Board, browser: Browser, size: tuple[int, int], tmp_path: Path
) -> None:
    width, height = size
    tag = f"{width}x{height}"
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    found = {}
    for name, url in (
        ("units", f"{imported.url}/stats?year=2023"),
        ("province", f"{imported.url}/stats?year=2023&unit={PROVINCE}"),
        ("month", f"{imported.url}/stats?year=2023&month=5"),
        ("import", f"{imported.url}/stats/electronic"),
    ):
        page.goto(url)
        violations = axe(page)
        save(violations, artifacts() / f"fleet-paper-{name}-{tag}.json")
        if failing(violations):
            found[name] = [str(v) for v in failing(violations)]
        page.screenshot(path=artifacts() / f"fleet-paper-{name}-{tag}.png")
        # the page itself never scrolls sideways: wide tables scroll in their box
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, name
    # a refused file, as the administrator sees it
    page.goto(f"{imported.url}/stats/electronic")
    wrong = tmp_path / "sai.csv"
    wrong.write_text(HEADER + f"{PROVINCE},20x3,,1,2\n{PROVINCE},2023,13,1,2\n", encoding="utf-8")
    page.get_by_label("Tệp CSV (UTF-8)").set_input_files(wrong)
    page.get_by_label("Người nhập").fill("Lê Thị Văn Thư")
    page.get_by_role("button", name="Nhập", exact=True).click()
    problems = page.locator("#problems li").all_inner_texts()
    assert problems == [
        "Dòng 2: năm “20x3” không hợp lệ: cần 4 chữ số, ví dụ 2023",
        "Dòng 3: tháng “13” không hợp lệ: từ 1 đến 12, hoặc để trống cho cả năm",
    ]
    assert not failing(axe(page))
    page.screenshot(path=artifacts() / f"fleet-paper-refused-{tag}.png", full_page=True)
    assert found == {}
    assert errors == []
    page.close()


def test_forty_units_keep_their_header_and_names_in_view(imported: Board, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 800, "height": 480})
    page.goto(f"{imported.url}/stats?year=2023")
    box = page.locator("#by-unit .scroll")
    box.evaluate("el => el.scrollTo(400, 600)")
    page.wait_for_timeout(100)
    where = box.evaluate(
        """el => {
            const frame = el.getBoundingClientRect();
            const corner = el.querySelector("thead th.first").getBoundingClientRect();
            const name = el.querySelector("tbody tr:nth-child(20) th.first").getBoundingClientRect();
            const total = el.querySelector("tfoot th.first").getBoundingClientRect();
            return {scrolled: [el.scrollLeft, el.scrollTop], frame: [frame.left, frame.top, frame.bottom],
                    corner: [corner.left, corner.top], name: name.left, total: total.bottom};
        }"""
    )
    assert where["scrolled"][0] > 0 and where["scrolled"][1] > 0
    left, top, bottom = where["frame"]
    # the header row, the unit names and the totals stay at the box's edges
    assert abs(where["corner"][0] - left) <= 2 and abs(where["corner"][1] - top) <= 2
    assert abs(where["name"] - left) <= 2
    assert abs(where["total"] - bottom) <= 20
    page.screenshot(path=artifacts() / "fleet-paper-scrolled-800x480.png")
    page.close()
