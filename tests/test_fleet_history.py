"""The fleet's trends (station/central/history.py) on a real SQLite file, with
a clock the test turns: every bucket of every tier holds exactly the sum of the
reports in it, each tier is kept for its time and no longer, a report that
comes late is counted once, a restart neither loses nor doubles anything, and a
station's year stays small."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from station.central.fleet import iso
from station.central.fleetdb import FleetDB
from station.central.history import OFFSET_S, SPANS, TIERS, History, bucket

START = datetime(2026, 3, 1, 16, 58, 30, tzinfo=UTC)  # 23:58:30 in Vietnam


def report(n: int) -> dict[str, Any]:
    """The n-th report of a made-up station: every figure varies, the
    temperature is missing every 7th time and the disk every 11th."""
    return {
        "queue": {"depth": n % 9, "oldest_pending_s": float(n % 5) * 600.5 if n % 3 else None},
        "disk": {"free_bytes": None if n % 11 == 0 else (30_000 + n % 13) * 2**20},
        "cpu_temp_c": None if n % 7 == 0 else 40 + (n % 17) / 10,
        "counters": {"pages_total": 1000 + 3 * n},
    }


def expected(n: int) -> tuple[int, int, int | None, int | None, int]:
    """What one report adds: queue, seconds pending, MiB free, tenths of a degree, pages."""
    body = report(n)
    pending = body["queue"]["oldest_pending_s"]
    free = body["disk"]["free_bytes"]
    temp = body["cpu_temp_c"]
    return (
        body["queue"]["depth"],
        round(pending) if pending is not None else 0,
        None if free is None else free // 2**20,
        None if temp is None else round(temp * 10),
        body["counters"]["pages_total"],
    )


def sums(reports: list[tuple[int, int]], seconds: int) -> dict[int, list[Any]]:
    """The buckets of ``seconds`` the test works out itself from (time, n) pairs."""
    found: dict[int, list[Any]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0, 0, None])
    for t, n in reports:
        queue, pending, disk, temp, pages = expected(n)
        row = found[bucket(t, seconds)]
        row[0] += 1
        row[1] += queue
        row[2] += pending
        if disk is not None:
            row[3] += disk
            row[4] += 1
        if temp is not None:
            row[5] += temp
            row[6] += 1
        row[7] = pages if row[7] is None else max(row[7], pages)
    return dict(found)


def stored(db: FleetDB, tier: int) -> dict[int, list[Any]]:
    rows = db._rows(
        "SELECT t, n, queue_sum, pending_sum, disk_sum, disk_n, temp_sum, temp_n, pages_max"
        " FROM series WHERE tier = ? ORDER BY t",
        (tier,),
    )
    return {r[0]: list(r)[1:] for r in rows}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[FleetDB]:
    found = FleetDB(tmp_path)
    yield found
    found.close()


def _run(
    history: History, start: datetime, count: int, every_s: int, first: int = 0
) -> list[tuple[int, int]]:
    """``count`` reports ``every_s`` apart; their (time, n)."""
    sent = []
    for k in range(count):
        at = start + timedelta(seconds=every_s * k)
        history.add("st-a", at, report(first + k))
        sent.append((int(at.timestamp()), first + k))
    return sent


def test_buckets_add_up_exactly(db: FleetDB) -> None:
    """Three days of a report every 40 s: each tier's buckets are the sums of
    their reports; the minutes only for the last 48 hours; days start at
    midnight in Vietnam."""
    history = History(db)
    sent = _run(history, START, 3 * 86400 // 40, 40)
    now = datetime.fromtimestamp(sent[-1][0], UTC)
    history.compact(now)
    t_now = sent[-1][0]
    minutes = stored(db, 0)
    assert min(minutes) >= t_now - 48 * 3600 - 60
    want = sums(sent, 60)
    assert minutes == {t: v for t, v in want.items() if t >= min(minutes)}
    for tier in TIERS[1:]:
        done = history.done[tier.number]
        assert done == bucket(t_now, tier.seconds)  # every bucket that is over, none open
        want = {t: v for t, v in sums(sent, tier.seconds).items() if t < done}
        assert stored(db, tier.number) == want, tier
    days = stored(db, 3)
    assert all((t + OFFSET_S) % 86400 == 0 for t in days)
    # the first day: from 23:58:30 in Vietnam, the two minutes before midnight
    assert min(days) == bucket(sent[0][0], 86400) and days[min(days)][0] == 3

    # what the page shows: points of 30 minutes over 48 hours, the last one
    # (not yet added up into its quarter) from the minutes
    points = history.series("st-a", SPANS["2d"], now)
    by_half_hour = sums(sent, 1800)
    assert points[-1].t == bucket(t_now, 1800)
    for point in points:
        n, queue, pending, disk, disk_n, temp, temp_n, pages = by_half_hour[point.t]
        assert point.reports == n
        assert point.queue == pytest.approx(queue / n)
        assert point.pending_s == pytest.approx(pending / n)
        assert point.disk_mib == pytest.approx(disk / disk_n)
        assert point.temp_c == pytest.approx(temp / temp_n / 10)
        assert point.pages_total == pages
    # pages scanned in each half hour: 45 reports of 3 pages
    assert {p.pages for p in points[1:-1]} == {135}
    assert len(points) in (96, 97)


def test_a_late_report_is_counted_once(db: FleetDB) -> None:
    """A report heard late (a retained one read at start-up) goes into its
    minute and into every coarser bucket already added up, once."""
    history = History(db)
    sent = _run(history, START, 2 * 86400 // 60, 60)
    late_at = START + timedelta(hours=30, seconds=7)
    history.add("st-a", late_at, report(10_000))
    sent.append((int(late_at.timestamp()), 10_000))
    _run(history, START + timedelta(days=2), 3 * 60, 60, first=20_000)
    sent += [
        (int((START + timedelta(days=2, minutes=k)).timestamp()), 20_000 + k) for k in range(180)
    ]
    history.compact(START + timedelta(days=2, hours=3))
    for tier in TIERS[1:]:
        done = history.done[tier.number]
        want = {t: v for t, v in sums(sent, tier.seconds).items() if t < done}
        assert stored(db, tier.number) == want, tier
    late_hour = stored(db, 2)[bucket(int(late_at.timestamp()), 3600)]
    assert late_hour[0] == 61  # its hour's 60 reports and the late one


def test_a_restart_neither_loses_nor_doubles(tmp_path: Path) -> None:
    db = FleetDB(tmp_path)
    history = History(db)
    sent = _run(history, START, 600, 60)
    db.close()
    again = FleetDB(tmp_path)
    try:
        history = History(again)
        assert history.done[1] == bucket(sent[-1][0], 900)
        sent += _run(history, START + timedelta(minutes=600), 600, 60, first=600)
        history.compact(START + timedelta(minutes=1200))
        for tier in TIERS[1:3]:
            done = history.done[tier.number]
            want = {t: v for t, v in sums(sent, tier.seconds).items() if t < done}
            assert stored(again, tier.number) == want
    finally:
        again.close()


@pytest.mark.slow
def test_a_station_year_stays_small(db: FleetDB) -> None:
    """A year of reports: a report every 15 minutes for the year, then one a
    minute for the last two days (what the tiers hold in the end is what a
    report every minute all year leaves). Each tier keeps its time only."""
    history = History(db)
    year_start = START
    _run(history, year_start, 365 * 96, 900)
    tail = year_start + timedelta(days=365)
    _run(history, tail, 2 * 1440, 60, first=365 * 96)
    now = tail + timedelta(days=2)
    history.compact(now)
    t_now = int(now.timestamp())
    size = history.size()
    for tier in TIERS:
        times = list(stored(db, tier.number))
        assert min(times) >= t_now - tier.keep.total_seconds() - tier.seconds, tier
        assert len(times) <= tier.keep.total_seconds() / tier.seconds + 1
    # each tier full, give or take the bucket at its edge
    assert 2879 <= size["tier0_rows"] <= 2881
    assert 30 * 96 - 1 <= size["tier1_rows"] <= 30 * 96 + 1
    assert 90 * 24 - 1 <= size["tier2_rows"] <= 90 * 24 + 1
    assert 365 <= size["tier3_rows"] <= 367
    # docs/benchmarks.md: bytes per station-year
    assert size["series_bytes"] < 400_000, size
    year = history.series("st-a", SPANS["1y"], now)
    assert 364 <= len(year) <= 366
    assert all(p.pages == 3 * 96 for p in year[1:-3])


def test_the_station_page_draws_the_trends(tmp_path: Path) -> None:
    """The station page's charts and their table, over each span: an SVG image
    named and described, a gap where the station was off, the same figures as
    a table; the statistics page's charts with their words."""
    from station.central.fleet import Fleet
    from station.ui import Services, WebSettings, create_app
    from station.wire.mqtt import Connection
    from tests.test_fleet_payloads import health

    db = FleetDB(tmp_path)
    try:
        fleet = Fleet(Connection("mqtt://127.0.0.1:1", "fleet-trends"), db)
        now = datetime.now(UTC)
        sent = 0
        for k in range(3 * 1440):
            at = now - timedelta(minutes=3 * 1440 - k)
            if 40 * 60 <= k < 46 * 60:
                continue  # off for six hours, from 32 to 26 hours ago
            body = report(k)
            body["digitized"] = {at.strftime("%Y-%m"): {"documents": 7, "pages": 30}}
            fleet.history.add("st-a", at, body)
            sent += 1
        db.set_state("st-a", "online", 1, "0.1.0", iso(now))
        db.set_health("st-a", health("st-a", unit="Viện kiểm sát nhân dân khu vực 2",
                                     digitized={now.strftime("%Y-%m"): {"documents": 7,
                                                                        "pages": 30}}), iso(now))  # fmt: skip
        client = create_app(WebSettings(data_dir=tmp_path), Services(fleet=fleet)).test_client()
        # points with reports: 30 minutes for 48 hours but the six off (12), 2 hours
        # for the three days but three, 6 hours, days
        for span, (least, most) in (("2d", (83, 86)), ("7d", (32, 36)), ("30d", (11, 13)),
                                    ("1y", (3, 4))):  # fmt: skip
            page = client.get(f"/station/st-a?range={span}").get_data(as_text=True)
            charts = re.findall(
                r'<svg viewBox="[^"]+" role="img" aria-labelledby="(\S+) (\S+)"', page
            )
            assert len(charts) == 5, span
            for title, desc in charts:
                assert f'<title id="{title}">' in page and f'<desc id="{desc}">' in page
            # the means of the queue, 0 to 8 report by report
            found = re.search(
                r"thấp nhất ([\d,]+), cao nhất ([\d,]+), gần nhất [\d,]+ văn bản", page
            )
            assert found, span
            low, high = (float(v.replace(",", ".")) for v in found.groups())
            assert 0 <= low <= high <= 8, span
            assert f'aria-current="true">{SPAN_WORDS[span]}</a>' in page
            rows = re.findall(r"<tr><th scope=\"row\">", page)
            assert least <= len(rows) <= most, (span, len(rows))
        # 48 hours: the line breaks where the station was off (two runs, no point between)
        page = client.get("/station/st-a?range=2d").get_data(as_text=True)
        queue = page.split('id="trend-queue"')[1].split("</svg>")[0]
        assert queue.count("<polyline") == 2
        stats = client.get(f"/stats?year={now.year}").get_data(as_text=True)
        assert 'id="stats-month-documents"' in stats and 'id="stats-unit-0"' in stats
        assert "Viện kiểm sát nhân dân khu vực 2, năm" in stats
        assert 'class="hbars"' in stats
    finally:
        db.close()


SPAN_WORDS = {"2d": "48 giờ", "7d": "7 ngày", "30d": "30 ngày", "1y": "12 tháng"}


def test_the_axes_say_only_what_they_can_say_exactly(tmp_path: Path) -> None:
    """A new station with two reports: each chart's axis labels are exact and
    apart (not 0.25 written "0,2", not "0,0" four times, not "1, 1, 0, 0");
    a figure the station never sent is said to be missing, not drawn as an
    empty axis."""
    from station.central.fleet import Fleet
    from station.ui import Services, WebSettings, create_app
    from station.ui.fleet.charts import nice_ticks
    from station.wire.mqtt import Connection

    for digits in (0, 1):
        for high in (0.003, 0.3, 1, 1.7, 3, 7, 9.99, 84.5, 1234.5, 51_234):
            ticks = nice_ticks(0.0, high, 4, digits)
            assert ticks[0] == 0 and ticks[-1] >= high and 2 <= len(ticks) <= 6, (high, ticks)
            assert all(round(t, digits) == t for t in ticks), (digits, high, ticks)
    db = FleetDB(tmp_path)
    try:
        fleet = Fleet(Connection("mqtt://127.0.0.1:1", "fleet-axes"), db)
        now = datetime.now(UTC)
        body = {"queue": {"depth": 1, "oldest_pending_s": 30.0},
                "disk": {"free_bytes": 76 * 2**30}, "cpu_temp_c": None,
                "counters": {"pages_total": 7}}  # fmt: skip
        fleet.history.add("st-new", now - timedelta(hours=1), body)
        body["counters"] = {"pages_total": 8}  # one page scanned since
        fleet.history.add("st-new", now - timedelta(minutes=1), body)
        db.set_state("st-new", "online", 1, "0.1.0", iso(now))
        client = create_app(WebSettings(data_dir=tmp_path), Services(fleet=fleet)).test_client()
        page = client.get("/station/st-new").get_data(as_text=True)
        figures = dict(re.findall(r'<figure class="chart" data-chart="(\w+)">(.*?)</figure>', page,
                                  re.S))  # fmt: skip
        assert set(figures) == {"queue", "pending", "disk", "temp", "pages"}
        assert "<svg" not in figures["temp"]
        assert "Chưa có số liệu trong khoảng này." in figures["temp"]
        for key in ("queue", "pending", "disk", "pages"):
            labels = re.findall(r'<text [^>]*text-anchor="end"[^>]*>([^<]+)</text>', figures[key])
            assert len(labels) >= 2 and len(set(labels)) == len(labels), (key, labels)
        labels = re.findall(r'text-anchor="end"[^>]*>([^<]+)<', figures["queue"])
        assert labels == ["0", "0,5", "1"]
        labels = re.findall(r'text-anchor="end"[^>]*>([^<]+)<', figures["pending"])
        assert labels == ["0", "0,1"]  # half a minute, in hours
        labels = re.findall(r'text-anchor="end"[^>]*>([^<]+)<', figures["pages"])
        assert labels == ["0", "1"]
    finally:
        db.close()
