"""Paper against electronic: the figures of the office's yearly report.

Every year the office reports, per unit, the documents it sent and received on
paper and electronically, and so the share still on paper. Here:

- **paper** (văn bản giấy): the documents the stations digitized, incoming and
  outgoing, from their own counts (``health.digitized``, kept by the fleet per
  station and month: :meth:`FleetDB.paper_months`). Months reported by stations
  older than the incoming/outgoing split count as **incoming**, marked
  "direction not reported" (``paper_unknown``): before the split a station had
  only the incoming register, so whatever it digitized went in as received.
- **electronic** (văn bản điện tử): what the DMS reports, imported by the
  administrator (:mod:`station.central.electronic`), per unit and year or month.
- **paper share**: paper / (paper + electronic), in per cent, and its change
  from the year before in percentage points.

A figure nobody gave is ``None`` ("no data"), never 0: a share is worked out
only where both sides are known, and a total says how many units lack a side
(:attr:`Figures.no_paper`, :attr:`Figures.no_electronic`) or have electronic
figures for only some months (:attr:`Figures.partial`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from station.central.electronic import ElectronicFigure, fold, unit_name
from station.central.fleetdb import PaperMonth

__all__ = ["EXPORT_HEADER", "Figures", "Report", "Row", "Table", "add", "export_rows"]


def natural(name: str) -> tuple[list[tuple[int, int | str]], str]:
    """A unit's place in a list: without tone marks, Đ with D, numbers as numbers
    ("khu vực 2" before "khu vực 10", "huyện Đông Sơn" before "huyện Quảng Xương")."""
    parts = re.split(r"(\d+)", fold(name))
    return [(0, int(t)) if t.isdigit() else (1, t) for t in parts], name


def _sum(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


@dataclass(frozen=True)
class Figures:
    """Documents of one unit (or a total) in one period."""

    paper_in: int | None = None
    paper_out: int | None = None
    #: of ``paper_in``, reported without their direction
    paper_unknown: int = 0
    e_in: int | None = None
    e_out: int | None = None
    #: units with electronic figures but no paper ones, and the other way round
    no_paper: int = 0
    no_electronic: int = 0
    #: units whose electronic figures, given by month, miss months of the period
    partial: int = 0
    #: units with only a whole-year electronic figure when a month was asked
    year_only: int = 0

    @property
    def paper(self) -> int | None:
        return _sum(self.paper_in, self.paper_out)

    @property
    def electronic(self) -> int | None:
        return _sum(self.e_in, self.e_out)

    @property
    def share(self) -> float | None:
        """Paper / (paper + electronic) in per cent, unrounded; None without both sides."""
        paper, electronic = self.paper, self.electronic
        if paper is None or electronic is None or paper + electronic == 0:
            return None
        return 100.0 * paper / (paper + electronic)

    @property
    def gaps(self) -> bool:
        return bool(self.no_paper or self.no_electronic or self.partial or self.year_only)

    @property
    def empty(self) -> bool:
        return self.paper is None and self.electronic is None

    def of_unit(self) -> Figures:
        """The same with this unit's own gaps counted (one unit)."""
        return replace(
            self,
            no_paper=int(self.paper is None and self.electronic is not None),
            no_electronic=int(self.electronic is None and self.paper is not None),
        )


def add(a: Figures, b: Figures) -> Figures:
    return Figures(
        paper_in=_sum(a.paper_in, b.paper_in),
        paper_out=_sum(a.paper_out, b.paper_out),
        paper_unknown=a.paper_unknown + b.paper_unknown,
        e_in=_sum(a.e_in, b.e_in),
        e_out=_sum(a.e_out, b.e_out),
        no_paper=a.no_paper + b.no_paper,
        no_electronic=a.no_electronic + b.no_electronic,
        partial=a.partial + b.partial,
        year_only=a.year_only + b.year_only,
    )


def rounded(value: float | None) -> float | None:
    """A share or a change as shown and exported: one decimal."""
    return None if value is None else round(value, 1)


def change(now: Figures, before: Figures | None) -> float | None:
    """The share's change from ``before`` in percentage points (unrounded)."""
    if before is None or now.share is None or before.share is None:
        return None
    return now.share - before.share


@dataclass(frozen=True)
class Row:
    """One line of a table: a unit (by unit) or a year (over the years)."""

    label: str
    year: int
    figures: Figures
    #: the share's change from the year before, percentage points
    change: float | None = None


@dataclass(frozen=True)
class Table:
    rows: list[Row]
    total: Figures = field(default_factory=Figures)
    #: the total's share change from the year before, percentage points
    total_change: float | None = None


class Report:
    """The figures of every unit, year and month, to cut as the page asks."""

    def __init__(
        self,
        paper: Iterable[PaperMonth],
        electronic: Iterable[ElectronicFigure],
        today: date,
    ) -> None:
        self.today = today
        self._paper: dict[tuple[str, int], dict[int, PaperMonth]] = {}
        for p in paper:
            # one unit however its stations space or compose its name
            months = self._paper.setdefault((unit_name(p.unit), p.year), {})
            if p.month in months:
                same = months[p.month]
                p = replace(
                    p,
                    incoming=p.incoming + same.incoming,
                    outgoing=p.outgoing + same.outgoing,
                    unknown=p.unknown + same.unknown,
                )
            months[p.month] = p
        self._electronic: dict[tuple[str, int], dict[int, ElectronicFigure]] = {}
        for e in electronic:
            self._electronic.setdefault((e.unit, e.year), {})[e.month] = e
        keys = set(self._paper) | set(self._electronic)
        self.units = sorted({unit for unit, _ in keys}, key=natural)
        self.years = sorted({year for _, year in keys})

    def months_in(self, year: int) -> int:
        """The months of ``year`` that have begun."""
        if year < self.today.year:
            return 12
        return self.today.month if year == self.today.year else 0

    def figures(self, unit: str, year: int, month: int | None) -> Figures:
        """One unit's figures in ``year`` (or in its ``month``), its own gaps counted."""
        paper = [
            p for m, p in self._paper.get((unit, year), {}).items() if month is None or m == month
        ]
        found = Figures()
        if paper:
            found = replace(
                found,
                paper_in=sum(p.incoming + p.unknown for p in paper),
                paper_out=sum(p.outgoing for p in paper),
                paper_unknown=sum(p.unknown for p in paper),
            )
        given = self._electronic.get((unit, year), {})
        if month is not None:
            if month in given:
                found = replace(found, e_in=given[month].incoming, e_out=given[month].outgoing)
            elif 0 in given:
                found = replace(found, year_only=1)
        elif 0 in given:
            found = replace(found, e_in=given[0].incoming, e_out=given[0].outgoing)
        elif given:
            found = replace(
                found,
                e_in=sum(e.incoming for e in given.values()),
                e_out=sum(e.outgoing for e in given.values()),
                partial=int(len(given) < self.months_in(year)),
            )
        return found.of_unit()

    def _units(self, unit: str | None) -> list[str]:
        return [unit] if unit is not None else self.units

    def by_unit(self, year: int, month: int | None, unit: str | None = None) -> Table:
        """One row per unit (every unit known, those without figures too) and the total."""
        rows = []
        total = Figures()
        for name in self._units(unit):
            now = self.figures(name, year, month)
            before = self.figures(name, year - 1, month)
            rows.append(Row(name, year, now, change(now, before)))
            total = add(total, now)
        return Table(rows, total, change(total, self.total(year - 1, month, unit)))

    def total(self, year: int, month: int | None, unit: str | None = None) -> Figures:
        found = Figures()
        for name in self._units(unit):
            found = add(found, self.figures(name, year, month))
        return found

    def by_year(self, month: int | None, unit: str | None = None) -> Table:
        """One row per year with figures (for ``unit``, or all units added up)."""
        rows = []
        for year in self.years:
            now = self.total(year, month, unit)
            if not now.empty:
                before = self.total(year - 1, month, unit)
                rows.append(Row(str(year), year, now, change(now, before)))
        return Table(rows)


#: the columns of the CSV and XLSX exports
EXPORT_HEADER = [
    "Năm / Year",
    "Tháng / Month",
    "Đơn vị / Unit",
    "Đi - giấy / Outgoing on paper",
    "Đi - điện tử / Outgoing electronic",
    "Đến - giấy / Incoming on paper",
    "Trong đó chưa rõ đến/đi / Of which direction not reported",
    "Đến - điện tử / Incoming electronic",
    "Giấy / Paper",
    "Điện tử / Electronic",
    "Tỷ lệ giấy (%) / Paper share (%)",
    "So với năm trước (điểm %) / Change from the year before (points)",
]
TOTAL_LABEL = "Tổng cộng / Total"
ALL_UNITS = "Tất cả đơn vị / All units"


def _line(year: int, month: int | None, unit: str, f: Figures, moved: float | None) -> list[object]:
    return [
        year,
        month if month is not None else "",
        unit,
        *("" if v is None else v for v in (f.paper_out, f.e_out, f.paper_in)),
        f.paper_unknown if f.paper_in is not None else "",
        *("" if v is None else v for v in (f.e_in, f.paper, f.electronic)),
        *("" if v is None else v for v in (rounded(f.share), rounded(moved))),
    ]


def export_rows(
    report: Report, scope: str, year: int, month: int | None, unit: str | None
) -> list[list[object]]:
    """The rows of an export, header first: ``units`` (the year's units and their
    total, as the page's first table) or ``years`` (every year, as the second)."""
    rows: list[list[object]] = [list(EXPORT_HEADER)]
    if scope == "units":
        table = report.by_unit(year, month, unit)
        for row in table.rows:
            rows.append(_line(year, month, row.label or "–", row.figures, row.change))
        if unit is None:
            rows.append(_line(year, month, TOTAL_LABEL, table.total, table.total_change))
    else:
        label = ALL_UNITS if unit is None else unit or "–"
        for row in report.by_year(month, unit).rows:
            rows.append(_line(row.year, month, label, row.figures, row.change))
    return rows
