"""The station page's trends and the statistics page's charts, in words and SVG."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from station.central.history import SPANS, Point, Span
from station.ui.fleet import charts
from station.ui.i18n import gettext, number, when


def span_words() -> dict[str, str]:
    return {
        "2d": gettext("48 giờ"),
        "7d": gettext("7 ngày"),
        "30d": gettext("30 ngày"),
        "1y": gettext("12 tháng"),
    }


def step_words(span: Span) -> str:
    return {
        "2d": gettext("mỗi 30 phút"),
        "7d": gettext("mỗi 2 giờ"),
        "30d": gettext("mỗi 6 giờ"),
        "1y": gettext("mỗi ngày"),
    }[span.key]


def pick_span(key: str | None) -> Span:
    return SPANS.get(key or "", SPANS["2d"])


@dataclass(frozen=True)
class Metric:
    key: str
    title: str
    unit: str
    read: Callable[[Point], float | None]
    digits: int
    bars: bool = False
    zero: bool = True


def metrics(span: Span) -> list[Metric]:
    return [
        Metric("queue", gettext("Văn bản chờ xác nhận đã nhận"), gettext("văn bản"),
               lambda p: p.queue, 1),
        Metric("pending", gettext("Văn bản chờ lâu nhất"), gettext("giờ"),
               lambda p: p.pending_s / 3600, 1),
        Metric("disk", gettext("Đĩa trống"), "GiB",
               lambda p: None if p.disk_mib is None else p.disk_mib / 1024, 1),
        Metric("temp", gettext("Nhiệt độ CPU"), "°C", lambda p: p.temp_c, 1, zero=False),
        Metric("pages", gettext("Trang đã quét %(step)s", step=step_words(span)), gettext("trang"),
               lambda p: None if p.pages is None else float(p.pages), 0, bars=True),
    ]  # fmt: skip


def _describe(metric: Metric, values: list[tuple[datetime, float | None]], start: str) -> str:
    shown = [v for _, v in values if v is not None]
    if not shown:
        return gettext("Chưa có số liệu trong khoảng này.")
    return gettext(
        "Từ %(start)s: thấp nhất %(low)s, cao nhất %(high)s, gần nhất %(last)s %(unit)s.",
        start=start,
        low=number(min(shown), metric.digits),
        high=number(max(shown), metric.digits),
        last=number(shown[-1], metric.digits),
        unit=metric.unit,
    )


def station_trends(points: list[Point], span: Span, now: datetime) -> dict[str, Any]:
    """The five charts of a station's page, and the table that holds their figures."""
    end = now.astimezone(UTC)
    start = end - span.length
    step = timedelta(seconds=span.step_s)
    found = []
    for metric in metrics(span):
        values = [(p.at, metric.read(p)) for p in points]
        title = f"{metric.title} ({metric.unit})"
        desc = _describe(metric, values, when(start.isoformat()))

        def fmt(value: float, digits: int = metric.digits) -> str:
            return number(value, digits if value != int(value) else 0)

        svg = charts.line(
            f"trend-{metric.key}", title, desc, start, end, values, step, fmt,
            bars=metric.bars, zero=metric.zero, digits=metric.digits,
        )  # fmt: skip
        found.append({"key": metric.key, "title": metric.title, "unit": metric.unit,
                      "svg": svg, "has_data": any(v is not None for _, v in values)})  # fmt: skip
    table = [{"at": p.at, "figures": [metric.read(p) for metric in metrics(span)]} for p in points]
    return {"charts": found, "table": table, "metrics": metrics(span), "span": span}


def month_labels() -> list[str]:
    return [gettext("T%(m)s", m=m) for m in range(1, 13)]


def stats_charts(rows: list[dict[str, Any]], total: dict[str, Any], year: int) -> dict[str, Any]:
    """The statistics page's charts: the fleet by month, the units over the
    year, and each unit by month (the table below holds the figures)."""
    labels = month_labels()

    def whole(value: float) -> str:
        return number(value)

    by_month = {}
    for key, title in (("documents", gettext("Số văn bản số hóa theo tháng")),
                       ("pages", gettext("Số trang số hóa theo tháng"))):  # fmt: skip
        values = [float(total["months"][m][key]) for m in range(1, 13)]
        desc = gettext(
            "Năm %(y)s, cả tỉnh: %(n)s; tháng nhiều nhất %(best)s (%(most)s).",
            y=year,
            n=number(sum(values)),
            best=labels[values.index(max(values))] if any(values) else "–",
            most=number(max(values)),
        )
        by_month[key] = charts.columns(
            f"stats-month-{key}", f"{title} {year}", desc, labels, values, whole,
            color=charts.BAR if key == "documents" else charts.BAR_2, digits=0,
        )  # fmt: skip
    ranked = sorted(rows, key=lambda u: (-u["documents"], u["unit"]))
    most_documents = max([u["documents"] for u in ranked], default=0)
    most_pages = max([u["pages"] for u in ranked], default=0)
    units = [
        {
            "unit": u["unit"] or "–",
            "documents": u["documents"],
            "pages": u["pages"],
            "documents_bar": charts.bar(u["documents"], most_documents),
            "pages_bar": charts.bar(u["pages"], most_pages, charts.BAR_2),
        }
        for u in ranked
    ]
    small = []
    for i, unit in enumerate(rows):  # the table's order
        values = [float(unit["months"].get(m, {}).get("documents", 0)) for m in range(1, 13)]
        name = unit["unit"] or "–"
        desc = gettext(
            "%(unit)s, năm %(y)s: %(d)s văn bản, %(p)s trang.",
            unit=name,
            y=year,
            d=number(unit["documents"]),
            p=number(unit["pages"]),
        )
        small.append({
            "unit": name,
            "svg": charts.columns(
                f"stats-unit-{i}", gettext("%(unit)s: văn bản theo tháng", unit=name), desc,
                labels, values, whole, small=True, digits=0,
            ),
        })  # fmt: skip
    return {"by_month": by_month, "units": units, "small": small}
