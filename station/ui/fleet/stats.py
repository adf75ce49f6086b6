"""The fleet's statistics: paper against electronic per unit and year (and month),
the documents digitized per month, their exports, and the import of the DMS's
electronic figures (docs/fleet.md#statistics)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)

from station.central.electronic import ImportRefused, parse, unit_name
from station.central.fleet import Fleet
from station.central.paperstats import Report, export_rows, natural, rounded
from station.common.clock import VIETNAM
from station.common.logsafe import printable
from station.common.spreadsheet import csv_bytes, xlsx_bytes
from station.ui.fleet.chart import change_words, trend_chart
from station.ui.fleet.trends import stats_charts
from station.ui.i18n import percent

blueprint = Blueprint("stats", __name__)

#: the longest name of whoever imports
MAX_WHO = 80
#: the template offered for download (the format of docs/fleet.md)
TEMPLATE_CSV: list[list[object]] = [
    ["Đơn vị", "Năm", "Tháng", "Đến điện tử", "Đi điện tử"],
    ["Viện kiểm sát nhân dân tỉnh Thanh Hóa", 2023, "", 7687, 4303],
    ["Viện kiểm sát nhân dân khu vực 1", 2024, 1, 512, 301],
]


def fleet() -> Fleet:
    found: Fleet = current_app.extensions["fleet"]
    return found


def today() -> date:
    return datetime.now(VIETNAM).date()


def report() -> Report:
    db = fleet().db
    return Report(db.paper_months(), db.electronic(), today())


# ------------------------------------------------------------------ filters


def _year() -> int:
    raw = request.args.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else today().year


def _month() -> int | None:
    raw = request.args.get("month", "")
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= 12 else None


def _unit(known: list[str]) -> str | None:
    """The unit asked for, when it is one with figures (else every unit)."""
    raw = request.args.get("unit")
    if raw is None or raw == "*":
        return None
    name = unit_name(raw)
    return name if name in known else None


def _of(row_unit: str, unit: str | None) -> bool:
    """Whether a stored unit name is the unit asked for (all of them for None)."""
    return unit is None or unit_name(row_unit) == unit


def share(value: float | None) -> str:
    """A paper share as shown: one decimal, in the reader's language."""
    return percent(rounded(value))


def _monthly(year: int, unit: str | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Documents / pages per unit and month of ``year``, one row per unit, with totals."""
    units: dict[str, dict[str, Any]] = {}
    for row in fleet().db.monthly(year):
        if not _of(row["unit"], unit):
            continue
        name = unit_name(row["unit"])
        found = units.setdefault(name, {"unit": name, "months": {}, "documents": 0, "pages": 0})
        month = int(row["month"][5:7])
        counts = found["months"].setdefault(month, {"documents": 0, "pages": 0})
        counts["documents"] += row["documents"]
        counts["pages"] += row["pages"]
        found["documents"] += row["documents"]
        found["pages"] += row["pages"]
    rows = sorted(units.values(), key=lambda u: natural(u["unit"]))
    months = {
        m: {
            key: sum(u["months"].get(m, {}).get(key, 0) for u in rows)
            for key in ("documents", "pages")
        }
        for m in range(1, 13)
    }
    total = {
        "documents": sum(u["documents"] for u in rows),
        "pages": sum(u["pages"] for u in rows),
        "months": months,
    }
    return rows, total


# ------------------------------------------------------------------ pages


@blueprint.get("/stats")
def page() -> str:
    found = report()
    year, month, unit = _year(), _month(), _unit(found.units)
    by_unit = found.by_unit(year, month, unit)
    by_year = found.by_year(month, unit)
    rows, total = _monthly(year, unit)
    years = sorted(set(found.years) | set(fleet().db.years()) | {year, today().year})
    filters = {"year": year, "month": month or "", "unit": "*" if unit is None else unit}
    return render_template(
        "fleet/stats.html",
        year=year,
        month=month,
        unit=unit,
        units=found.units,
        years=years,
        filters=filters,
        by_unit=by_unit,
        by_year=by_year,
        chart=trend_chart(by_year.rows, year, unit),
        rows=rows,
        total=total,
        share=share,
        change_words=change_words,
        stats_charts=stats_charts(rows, total, year),
    )


@blueprint.get("/stats.csv")
def monthly_csv() -> Response:
    year = _year()
    rows, total = _monthly(year, _unit(report().units))
    table: list[list[object]] = [
        ["Đơn vị / Unit", "Tháng / Month", "Số văn bản / Documents", "Số trang / Pages"]
    ]
    for unit in rows:
        label = unit["unit"] or "–"
        for month in range(1, 13):
            counts = unit["months"].get(month, {"documents": 0, "pages": 0})
            table.append([label, f"{year}-{month:02d}", counts["documents"], counts["pages"]])
        table.append([label, str(year), unit["documents"], unit["pages"]])
    table.append(["Tổng cộng / Total", str(year), total["documents"], total["pages"]])
    # the unit names come from the stations' payloads: no cell may become a formula
    return _download(csv_bytes(table), "text/csv", f"thong-ke-so-hoa-{year}.csv")


def _download(data: bytes, mimetype: str, name: str) -> Response:
    return Response(
        data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _export(fmt: str) -> Response:
    found = report()
    year, month, unit = _year(), _month(), _unit(found.units)
    scope = "years" if request.args.get("scope") == "years" else "units"
    rows = export_rows(found, scope, year, month, unit)
    stem = "giay-dien-tu-" + ("cac-nam" if scope == "years" else str(year))
    stem += f"-{month:02d}" if month else ""
    if fmt == "csv":
        return _download(csv_bytes(rows), "text/csv", f"{stem}.csv")
    sheet = "Các năm" if scope == "years" else f"Năm {year}" + (f" tháng {month}" if month else "")
    return _download(
        xlsx_bytes([(sheet, rows)]),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"{stem}.xlsx",
    )


@blueprint.get("/stats/paper.csv")
def paper_csv() -> Response:
    return _export("csv")


@blueprint.get("/stats/paper.xlsx")
def paper_xlsx() -> Response:
    return _export("xlsx")


# ------------------------------------------------------------------ the DMS's figures


def _import_page(status: int = 200, **values: Any) -> tuple[str, int]:
    db = fleet().db
    done = request.args.get("done", "")
    record = db.import_record(int(done)) if done.isdigit() else None
    return render_template(
        "fleet/electronic.html",
        imports=db.imports(),
        record=record,
        stored=len(db.electronic()),
        **values,
    ), status


@blueprint.get("/stats/electronic")
def electronic() -> tuple[str, int]:
    return _import_page()


@blueprint.post("/stats/electronic")
def electronic_import() -> Any:
    who = " ".join(request.form.get("who", "").split())
    upload = request.files.get("file")
    problems: list[tuple[str, str]] = []
    if not who or len(who) > MAX_WHO or not who.isprintable():
        problems.append((
            f"Ghi tên người nhập (tối đa {MAX_WHO} ký tự)",
            f"Give the name of who imports (at most {MAX_WHO} characters)",
        ))  # fmt: skip
    if upload is None or not upload.filename:
        problems.append(("Chọn tệp CSV để nhập", "Choose the CSV file to import"))
    if problems:
        return _import_page(400, problems=problems, more=0, who=who)
    assert upload is not None
    data = upload.read()
    try:
        figures = parse(data, today())
    except ImportRefused as refused:
        lines = [(p.vi, p.en) for p in refused.problems]
        return _import_page(400, problems=lines, more=refused.more, who=who,
                            file_name=upload.filename)  # fmt: skip
    stations = {unit_name(s.unit) for s in fleet().db.stations() if s.unit}
    units = sorted({f.unit for f in figures})
    summary = {
        "units": len(units),
        "years": sorted({f.year for f in figures}),
        "by_month": sum(f.month != 0 for f in figures),
        "whole_year": sum(f.month == 0 for f in figures),
        # a name no station carries: a unit without a station yet, or a misspelling
        "unknown_units": [u for u in units if u not in stations][:50],
    }
    record = fleet().db.import_electronic(
        figures,
        who=who,
        # the connection's address (the client's own behind --trusted-proxies)
        address=request.remote_addr or "?",
        file_name=printable(upload.filename, 200),
        sha256=hashlib.sha256(data).hexdigest(),
        summary=summary,
    )
    return redirect(url_for("stats.electronic", done=record.id), code=303)


@blueprint.get("/stats/electronic/mau.csv")
def electronic_template() -> Response:
    return _download(csv_bytes(TEMPLATE_CSV), "text/csv", "mau-nhap-van-ban-dien-tu.csv")
