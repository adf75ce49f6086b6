"""The stations page as an administrator works it (station/central/board.py):
stations needing action first, tiles that filter, search, sort by every
column, groups by unit and by region; the regions file (CSV or TOML) with its
refusals, and ``scanstation fleet --regions`` refusing a bad one before it
starts; the live update's JSON. Reports go through the real collector's
handlers into a real history, pages through the Flask app."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from station.central.board import SHOWS, SORTS, fold
from station.central.fleet import Fleet, iso
from station.central.fleetconfig import FleetSettings
from station.central.fleetdb import FleetDB
from station.central.regions import Regions
from station.errors import ConfigError
from station.ui import Services, WebSettings, create_app
from station.wire.mqtt import Connection
from tests.helpers.cli import scanstation
from tests.test_fleet_payloads import STATE, health

ROOT = "scanstation/v1"
TINH = "Viện kiểm sát nhân dân tỉnh Thanh Hóa"
KV1 = "Viện kiểm sát nhân dân khu vực 1"
KV2 = "Viện kiểm sát nhân dân khu vực 2"
KV3 = "Viện kiểm sát nhân dân khu vực 3"
DONG_SON = "Viện kiểm sát nhân dân huyện Đông Sơn"  # an old name, in no region
REGIONS_CSV = (
    "\ufeffunit,region\n"
    f"{TINH},Văn phòng tỉnh\n"
    "\n"
    f'"{KV1}","Phía Bắc, ven biển"\n'
    f'{KV2.upper()},"Phía Bắc, ven biển"\n'  # names compare without case
    f"{KV3},Phía Nam\n"
)
READY = {"model": "fi-7160", "device": "x", "status": "ready",
         "status_text": {"vi": "sẵn sàng", "en": "ready"}}  # fmt: skip


def _send(fleet: Fleet, kind: str, station: str, body: dict[str, Any]) -> None:
    handler = {"state": fleet._state, "health": fleet._health, "event": fleet._event}[kind]
    handler(f"{ROOT}/{station}/{kind}", json.dumps(body, ensure_ascii=False).encode())


def _report(station: str, unit: str, depth: int, **changes: Any) -> dict[str, Any]:
    body = health(station, unit=unit, scanner=READY, last_error=None, **changes)
    body["queue"] = {**body["queue"], "depth": depth, "oldest_pending_s": 60.0 * depth}
    body["signing"] = {"enabled": True, "held": 0, "ok": True}
    body["cpu_temp_c"] = 40.0 + depth
    return body


@dataclass
class Board:
    fleet: Fleet
    client: FlaskClient


#: station -> (unit, queue depth, state or what is wrong with it)
STATIONS = {
    "st-lost": (KV1, 2, "lost"),
    "st-off": (KV2, 1, "offline"),
    "st-backlog": (TINH, 4, "backlog"),
    "st-sign": (KV3, 0, "signing"),
    "st-secret": (DONG_SON, 3, "secret"),
    "st-jam": (KV1, 7, "jam"),
    "st-ok1": (KV2, 5, ""),
    "st-ok2": (KV3, 6, ""),
}


def _fill(fleet: Fleet) -> None:
    now = datetime.now(UTC)
    for station, (unit, depth, how) in STATIONS.items():
        _send(fleet, "state", station, STATE)
        body = _report(station, unit, depth)
        if how == "backlog":
            body["queue"]["oldest_pending_s"] = 9 * 3600.0
        if how == "signing":  # signing works again, but a pile waits for it
            body["signing"] = {"enabled": True, "held": 12, "ok": True}
        if how == "jam":
            body["scanner"] = {**READY, "status": "jammed",
                               "status_text": {"vi": "kẹt giấy", "en": "paper jam"}}  # fmt: skip
        _send(fleet, "health", station, body)
        if how == "secret":
            _send(fleet, "event", station, {
                "id": 9, "type": "secret.detected", "severity": "warning", "ts": iso(now),
                "message": {"vi": "Văn bản mật (Mật) đã dừng", "en": "A secret document"},
                "detail": {"level": "Mật"}})  # fmt: skip
    _send(fleet, "state", "st-lost", {**STATE, "state": "lost", "since": iso(now)})
    _send(fleet, "state", "st-off",
          {**STATE, "state": "offline", "since": iso(now - timedelta(hours=3))})  # fmt: skip


@pytest.fixture
def board(tmp_path: Path) -> Iterator[Board]:
    db = FleetDB(tmp_path)
    # off for three hours counts whatever the hour the test runs; no station
    # is idle for want of documents
    settings = FleetSettings.model_validate(
        {"rules": {"offline": {"working_hours_only": False}, "inactive": {"enabled": False}}}
    )
    fleet = Fleet(Connection("mqtt://127.0.0.1:1", "fleet-board"), db, settings)
    regions = tmp_path / "regions.csv"
    regions.write_text(REGIONS_CSV, encoding="utf-8")
    fleet.regions = Regions.load(regions)
    _fill(fleet)
    app = create_app(WebSettings(data_dir=tmp_path), Services(fleet=fleet))
    yield Board(fleet, app.test_client())
    db.close()


def _order(page: str) -> list[str]:
    return re.findall(r'<tr data-sig="[0-9a-f]+" data-station="([^"]+)"', page)


def _get(board: Board, url: str) -> str:
    response = board.client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _tile(page: str, key: str) -> tuple[int, bool]:
    found = re.search(
        rf'<a class="tile[^"]*" data-tile="{key}" href="[^"]*"( aria-current="true")?><b>(\d+)</b>',
        page,
    )
    assert found, key
    return int(found.group(2)), bool(found.group(1))


def test_needing_action_first_and_tiles_that_filter(board: Board) -> None:
    page = _get(board, "/")
    # the worst alert first: critical (a secret document), errors (lost,
    # backlog, held for signing), warnings (a jam, off too long), then the
    # rest; ties by id
    assert _order(page) == ["st-secret", "st-backlog", "st-lost", "st-sign",
                            "st-jam", "st-off", "st-ok1", "st-ok2"]  # fmt: skip
    counts = {key: _tile(page, key)[0] for key in SHOWS}
    assert counts == {"all": 8, "attention": 6, "online": 6, "offline": 1, "lost": 1,
                      "backlog": 1, "signing": 1, "secret": 1, "alerts": 6}  # fmt: skip
    assert _tile(page, "all") == (8, True)
    row = re.search(r'data-station="st-secret".*?</tr>', page, re.S)
    assert row and "Phát hiện văn bản mật (độ Mật)" in row.group(0)
    assert 'data-attention="secret"' in row.group(0)
    row = re.search(r'data-station="st-sign".*?</tr>', page, re.S)
    assert row and "12 văn bản đang chờ ký số" in row.group(0)
    for key, want in (("lost", ["st-lost"]), ("offline", ["st-off"]),
                      ("backlog", ["st-backlog"]), ("signing", ["st-sign"]),
                      ("secret", ["st-secret"]), ("online", ["st-secret", "st-backlog", "st-sign",
                      "st-jam", "st-ok1", "st-ok2"]),
                      ("attention", ["st-secret", "st-backlog", "st-lost", "st-sign", "st-jam",
                                     "st-off"])):  # fmt: skip
        shown = _get(board, f"/?show={key}")
        assert _order(shown) == want, key
        assert _tile(shown, key) == (counts[key], True)  # the tile says it is the one shown
        assert _tile(shown, "all") == (8, False)
    # a value not understood shows everything
    assert len(_order(_get(board, "/?show=everything&sort=nonsense&group=x"))) == 8


def test_search_by_id_unit_or_region(board: Board) -> None:
    assert fold("Viện kiểm sát Đông Sơn") == "vien kiem sat dong son"
    for query, want in (
        ("dong son", ["st-secret"]),  # without diacritics
        ("ĐÔNG SƠN", ["st-secret"]),
        ("ST-OK", ["st-ok1", "st-ok2"]),
        ("phía nam", ["st-sign", "st-ok2"]),  # the region
        ("ven bien", ["st-lost", "st-jam", "st-off", "st-ok1"]),
        ("khu vực 2", ["st-off", "st-ok1"]),  # every word in one field, numbers whole
        ("vuc 2 bien", []),
        ("tỉnh", ["st-backlog"]),
        ("nowhere", []),
    ):
        page = _get(board, "/?" + _query(q=query))
        assert _order(page) == want, query
        if want:
            assert f'value="{query}"' in page
        else:
            assert "Không có trạm nào khớp bộ lọc." in page
    # the tiles count what the search found; a tile keeps the search
    page = _get(board, "/?" + _query(q="phía bắc"))
    assert _tile(page, "all") == (4, True) and _tile(page, "lost") == (1, False)
    assert 'href="/?show=lost&amp;q=ph%C3%ADa+b%E1%BA%AFc"' in page


def _query(**values: str) -> str:
    from urllib.parse import urlencode

    return urlencode(values)


def test_sort_by_any_column(board: Board) -> None:
    page = _get(board, "/?sort=queue&dir=desc")
    assert _order(page) == ["st-jam", "st-ok2", "st-ok1", "st-backlog", "st-secret",
                            "st-lost", "st-off", "st-sign"]  # fmt: skip
    assert 'aria-sort="descending"' in page
    # the heading sorts the other way; the others start with their own order
    assert 'href="/?sort=queue">Chờ gửi<span aria-hidden="true"> ▼</span>' in page
    assert 'href="/?sort=station">Trạm</a>' in page
    assert 'href="/?sort=pages&amp;dir=desc">' in page
    page = _get(board, "/?sort=queue")
    assert _order(page)[:2] == ["st-sign", "st-off"]
    assert _order(_get(board, "/?sort=station&dir=desc"))[0] == "st-sign"
    assert _order(_get(board, "/?sort=region"))[-1] == "st-secret"  # no region: last
    assert _order(_get(board, "/?sort=region&dir=desc"))[-1] == "st-secret"  # either way
    assert _order(_get(board, "/?sort=state"))[:2] == ["st-lost", "st-off"]
    assert _order(_get(board, "/?sort=scanner"))[0] == "st-jam"
    for column in SORTS:
        for direction in ("asc", "desc"):
            page = _get(board, f"/?sort={column}&dir={direction}")
            assert sorted(_order(page)) == sorted(STATIONS), column
            # every column's heading says how it is sorted (the unit is in the station's)
            assert page.count("aria-sort=") == (column != "unit"), column
            assert f'<option value="{column}" selected>' in page, column
    assert _order(_get(board, "/?sort=unit"))[:2] == ["st-secret", "st-jam"]


#: station -> its figures, each column in an order of its own (ascending):
#: queue b d c a, oldest a c d b, disk d b a c, temp c a b d, scanner d c a b,
#: roller a d b c, pages c b d a, last error b a c d; "ee" has no report at all
FIGURES: dict[str, dict[str, Any]] = {
    "aa": {"unit": "Viện kiểm sát nhân dân khu vực 10", "version": "0.9.1", "depth": 4,
           "oldest": 10.0, "disk": 50.0, "temp": 50.0, "scanner": "offline",
           "roller": (1000, 200000), "pages": 400000, "error": "2026-11-10T00:00:00.000Z"},
    "bb": {"unit": "Viện kiểm sát nhân dân khu vực 2", "version": "1.0.0", "depth": 1,
           "oldest": 40.0, "disk": 20.0, "temp": 60.0, "scanner": "ready",
           "roller": (90000, 100000), "pages": 2000, "error": "2026-11-01T00:00:00.000Z"},
    "cc": {"unit": "Viện kiểm sát nhân dân tỉnh Thanh Hóa", "version": "0.10.0", "depth": 3,
           "oldest": 20.0, "disk": 80.0, "temp": 40.0, "scanner": "cover_open",
           "roller": (199000, 200000), "pages": 100, "error": "2026-11-20T00:00:00.000Z"},
    "dd": {"unit": DONG_SON, "version": "0.2.0", "depth": 2, "oldest": 30.0, "disk": 5.0,
           "temp": 70.0, "scanner": "jammed", "roller": (50000, 200000), "pages": 30000,
           "error": "2026-11-24T00:00:00.000Z"},
}  # fmt: skip


def test_every_column_sorts_by_its_own_figures(tmp_path: Path) -> None:
    """Each column in its own order both ways, a station without the figure
    last either way; names and versions with their numbers as numbers
    ("khu vực 2" before "khu vực 10", 0.9.1 before 0.10.0), groups too."""
    db = FleetDB(tmp_path)
    try:
        fleet = Fleet(Connection("mqtt://127.0.0.1:1", "fleet-sort"), db, FleetSettings())
        fleet.regions = Regions({FIGURES["aa"]["unit"]: "Cụm 10", FIGURES["bb"]["unit"]: "Cụm 9",
                                 FIGURES["cc"]["unit"]: "Văn phòng tỉnh"})  # fmt: skip
        now = datetime.now(UTC)
        states = {"aa": "online", "bb": "lost", "cc": "online", "dd": "offline"}
        for n, (station, f) in enumerate(FIGURES.items()):
            _send(fleet, "state", station, {**STATE, "version": f["version"]})
            sheets, limit = f["roller"]
            body = health(station, unit=f["unit"], version=f["version"], cpu_temp_c=f["temp"],
                          scanner={**READY, "status": f["scanner"]},
                          last_error={"type": "x", "ts": f["error"],
                                      "message": {"vi": "Lỗi", "en": "Error"}})  # fmt: skip
            body["queue"] = {**body["queue"], "depth": f["depth"], "oldest_pending_s": f["oldest"]}
            body["disk"] = {**body["disk"], "free_percent": f["disk"]}
            body["counters"] = {**body["counters"], "sheets_since_roller": sheets,
                                "roller_limit": limit, "pages_total": f["pages"]}  # fmt: skip
            _send(fleet, "health", station, body)
            if states[station] != "online":
                _send(fleet, "state", station, {**STATE, "state": states[station],
                                                "version": f["version"], "since": iso(now)})  # fmt: skip
            # heard last in the order c a d b
            db.seen(station, iso(now + timedelta(hours=(2, 4, 1, 3)[n])))
        _send(fleet, "state", "ee", {**STATE, "version": "0.1.0"})
        db.seen("ee", iso(now - timedelta(days=1)))
        client = create_app(WebSettings(data_dir=tmp_path), Services(fleet=fleet)).test_client()
        # each column: the stations with the figure in ascending order, then
        # those without it (by id) last either way; "ee" has no report
        want: dict[str, tuple[list[str], list[str]]] = {
            "station": (["aa", "bb", "cc", "dd", "ee"], []),
            "unit": (["dd", "bb", "aa", "cc"], ["ee"]),
            "region": (["bb", "aa", "cc"], ["dd", "ee"]),
            "state": (["bb", "dd", "aa", "cc", "ee"], []),
            "seen": (["ee", "cc", "aa", "dd", "bb"], []),
            "version": (["ee", "dd", "aa", "cc", "bb"], []),
            "queue": (["bb", "dd", "cc", "aa"], ["ee"]),
            "oldest": (["aa", "cc", "dd", "bb"], ["ee"]),
            "disk": (["dd", "bb", "aa", "cc"], ["ee"]),
            "temp": (["cc", "aa", "bb", "dd"], ["ee"]),
            "scanner": (["dd", "cc", "aa", "bb"], ["ee"]),
            "roller": (["aa", "dd", "bb", "cc"], ["ee"]),
            "pages": (["cc", "bb", "dd", "aa"], ["ee"]),
            "error": (["bb", "aa", "cc", "dd"], ["ee"]),
        }
        for column, (order, missing) in want.items():
            page = client.get(f"/?sort={column}").get_data(as_text=True)
            assert _order(page) == order + missing, column
            page = client.get(f"/?sort={column}&dir=desc").get_data(as_text=True)
            if column == "state":  # a tie (three online) keeps the id order
                order = ["bb", "dd", "ee", "cc", "aa"]
            assert _order(page) == order[::-1] + missing, column
        assert set(want) | {"attention"} == set(SORTS)
        # groups in the same order of names, those without a name or region last
        page = client.get("/?group=unit").get_data(as_text=True)
        assert re.findall(r'<tbody data-group="([^"]*)">', page) == [
            "vien kiem sat nhan dan huyen dong son", "vien kiem sat nhan dan khu vuc 2",
            "vien kiem sat nhan dan khu vuc 10", "vien kiem sat nhan dan tinh thanh hoa", "",
        ]  # fmt: skip
        page = client.get("/?group=region").get_data(as_text=True)
        assert re.findall(r'<tbody data-group="([^"]*)">', page) == [
            "cum 9", "cum 10", "van phong tinh", "",
        ]  # fmt: skip
        # the statistics' documents / pages per unit and month list units so too
        page = client.get("/stats?year=2026").get_data(as_text=True)
        by_unit, months = page.split('<table class="stats">')
        assert re.findall(r'<tr data-unit="([^"]*)">', months) == [
            FIGURES[s]["unit"] for s in ("dd", "bb", "aa", "cc")
        ]
        # as the by-unit table already did
        assert re.findall(r'<tr data-unit="([^"*]+)">', by_unit) == [
            FIGURES[s]["unit"] for s in ("dd", "bb", "aa", "cc")
        ]
    finally:
        db.close()


def test_groups_by_unit_and_by_region(board: Board) -> None:
    page = _get(board, "/?group=region")
    groups = re.findall(r'<tbody data-group="([^"]*)">\s*<tr class="group"><th scope="rowgroup" '
                        r'colspan="\d+">([^<]+)<small>([^<]+)', page)  # fmt: skip
    assert [(g[1].strip(), g[2].strip()) for g in groups] == [
        ("Phía Bắc, ven biển", "4 trạm ·"),
        ("Phía Nam", "2 trạm ·"),
        ("Văn phòng tỉnh", "1 trạm ·"),
        ("Chưa xếp khu vực", "1 trạm ·"),
    ]
    assert "<b>3 cần xử lý</b>" in page  # in the north: lost, off, jam
    # within a group, the page's order: those needing action first
    north = page.split('data-group="phia bac, ven bien"')[1].split("</tbody>")[0]
    assert _order(north) == ["st-lost", "st-jam", "st-off", "st-ok1"]
    page = _get(board, "/?group=unit&sort=queue&dir=desc")
    assert page.count('<tr class="group">') == 5
    # huyện Đông Sơn, then khu vực 1 with its deepest queue first
    assert _order(page)[:3] == ["st-secret", "st-jam", "st-lost"]
    assert ">Phía Nam</td>" in page  # the region column
    # no regions file: no region column, no grouping by region
    board.fleet.regions = Regions()
    page = _get(board, "/?group=region")
    assert '<tr class="group">' not in page and 'class="region"' not in page
    assert len(_order(page)) == 8


def test_the_live_update_sends_only_what_changed(board: Board) -> None:
    page = _get(board, "/")
    token = re.search(r'data-csrf="([^"]+)"', page)
    assert token
    headers = {"X-CSRF-Token": token.group(1)}
    refused = board.client.post("/api/board", json={"have": {}})
    assert refused.status_code == 400  # no CSRF token
    have = {
        s: sig for sig, s in re.findall(r'<tr data-sig="([0-9a-f]+)" data-station="([^"]+)"', page)
    }
    answer = board.client.post("/api/board", json={"have": have}, headers=headers)
    assert answer.status_code == 200 and answer.json is not None
    assert [r["id"] for r in answer.json["rows"]] == _order(page)
    assert answer.json["html"] == {}
    assert answer.json["tiles"]["alerts"] == 6
    # the jam is cleared and the queue grows: that row only, as the page draws it
    _send(board.fleet, "health", "st-jam", _report("st-jam", KV1, 11))
    answer = board.client.post("/api/board", json={"have": have}, headers=headers)
    assert answer.json is not None
    assert list(answer.json["html"]) == ["st-jam"]
    row = answer.json["html"]["st-jam"]
    assert '<td class="num queue" data-label="Chờ gửi">11</td>' in row
    assert "kẹt giấy" not in row and 'data-attention=""' in row
    assert answer.json["tiles"]["alerts"] == 5 and answer.json["tiles"]["attention"] == 5
    # the view of those needing action no longer lists it (the page greys its row)
    answer = board.client.post("/api/board?show=attention", json={"have": have}, headers=headers)
    assert answer.json is not None
    assert "st-jam" not in [r["id"] for r in answer.json["rows"]]
    assert answer.json["html"] == {}


# ---------------------------------------------------------------------- regions


def test_a_regions_file_csv_or_toml(tmp_path: Path) -> None:
    csv_file = tmp_path / "regions.csv"
    csv_file.write_text(REGIONS_CSV, encoding="utf-8")
    regions = Regions.load(csv_file)
    assert len(regions) == 4 and regions.names() == ["Phía Bắc, ven biển", "Phía Nam",
                                                     "Văn phòng tỉnh"]  # fmt: skip
    assert regions.of("viện  kiểm sát nhân dân KHU VỰC 2") == "Phía Bắc, ven biển"
    assert regions.of(DONG_SON) is None and regions.of("") is None
    # the tone mark's place does not matter: "Hóa" and "Hoá"
    assert regions.of(TINH.replace("Hóa", "Hoá")) == "Văn phòng tỉnh"
    toml_file = tmp_path / "regions.toml"
    toml_file.write_text(
        f'# each unit\'s region\n[units]\n"{TINH}" = "Văn phòng tỉnh"\n"{KV1}" = "Phía Bắc"\n',
        encoding="utf-8",
    )
    regions = Regions.load(toml_file)
    assert regions.of(KV1) == "Phía Bắc" and len(regions) == 2


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("r.csv", "đơn vị,khu vực\nA,B\n", r"r\.csv:1: the header must be 'unit,region'"),
        ("r.csv", "unit,region\nA,B\nB,C\na, B\n ", None),  # the same twice: fine
        (
            "r.csv",
            "unit,region\nA,B\nB,C\nA,D\n",
            r"r\.csv:4: the unit 'A' is already in region 'B' \(.*r\.csv:2\)",
        ),
        ("r.csv", "unit,region\nA,\n", r"r\.csv:2: the region is empty"),
        ("r.csv", "unit,region\n,B\n", r"r\.csv:2: the unit is empty"),
        ("r.csv", "unit,region\nA,B,C\n", r"r\.csv:2: 3 columns, the header has 2"),
        ("r.csv", "unit,region\n", r"no unit listed"),
        ("r.csv", "unit,region\n" + "A" * 201 + ",B\n", r"longer than 200"),
        ("r.txt", "unit,region\nA,B\n", r"must end in \.csv or \.toml"),
        (
            "r.toml",
            '[units]\n"A" = "B"\n[regions]\n"C" = "D"\n',
            r"r\.toml:3: unknown key 'regions'",
        ),
        ("r.toml", '[units]\n"A" = "B"\n"C" = 4\n', r"r\.toml:3: 'units\.C': Input should be"),
        ("r.toml", "[units]\n", r"'units': Dictionary should have at least 1 item"),
        ("r.toml", '[units]\n"A" = "B\n', r"r\.toml:2: not valid TOML"),
        ("r.toml", '[units]\n"A" = "B"\n"a" = "C"\n', r"the unit 'a' is already in region 'B'"),
    ],
)
def test_a_regions_file_that_does_not_hold(
    tmp_path: Path, name: str, text: str, says: str | None
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    if says is None:
        assert Regions.load(path).of("a") == "B"
        return
    with pytest.raises(ConfigError) as refused:
        Regions.load(path)
    assert re.search(says, refused.value.message_en), refused.value.message_en
    assert refused.value.message_vi and refused.value.message_vi != refused.value.message_en


def test_a_regions_file_not_in_utf8(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b"unit,region\nVi\xea\xf2n,B\xe9c\n")  # Windows-1258, not UTF-8
    with pytest.raises(ConfigError, match="UTF-8"):
        Regions.load(path)


def test_the_fleet_refuses_a_bad_regions_file_before_it_starts(tmp_path: Path) -> None:
    bad = tmp_path / "regions.csv"
    bad.write_text("unit,region\nA,B\nA,C\n", encoding="utf-8")
    done = scanstation(
        "fleet", "--broker", "mqtt://127.0.0.1:1", "--data-dir", str(tmp_path / "data"),
        "--regions", str(bad), timeout=60,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert f"{bad}:3: the unit 'A' is already in region 'B'" in done.stderr
    assert "Cách sửa" in done.stderr or "Fix" in done.stderr
    assert not (tmp_path / "data").exists()  # nothing was started
