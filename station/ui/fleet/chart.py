"""The paper-against-electronic chart, drawn as SVG on the server.

No script and no library: the page's Content-Security-Policy loads nothing from
elsewhere, and the chart must read the same with scripts off. For each year two
stacked bars, outgoing (Đi) and incoming (Đến): paper below, electronic above;
over each year its paper share and the change from the year before, in words.

Accessible (docs/accessibility.md): the SVG is an image named by its ``title``
and described by its ``desc`` (every year's figures in a sentence); the table
under it holds the same figures. Paper is hatched and electronic solid, each
bar is labelled Đi / Đến under it and the legend shows the patterns, so nothing
rests on colour alone; every mark is at least 3:1 against the white behind it
(outlines #5c1016 and #0d3b73) and the text is at least 4.5:1.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from markupsafe import Markup, escape

from station.central.paperstats import Row, rounded
from station.ui.i18n import gettext, number, percent

#: drawing sizes, in SVG units (pixels at 100 %)
HEIGHT = 360
TOP, BOTTOM, LEFT, RIGHT = 108, 58, 70, 20
GROUP_MIN = 150
BAR = 40
GAP = 10
PAPER_FILL, PAPER_LINE, PAPER_STRIPE = "#8c1c23", "#5c1016", "#f4d0d3"
E_FILL, E_LINE = "#1a5fb4", "#0d3b73"
INK, MUTED, GRID = "#1d2433", "#5b6475", "#d9dee7"


def nice_ceiling(value: int) -> tuple[int, int]:
    """The top of the axis (at least ``value``) and its step: 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 10, 2
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(1, int(step))
    return step * math.ceil(value / step), step


def change_words(value: float | None) -> str:
    """A share's change in percentage points, in words, never by colour alone:
    "giảm 31,1" / "down 31.1"; an en dash for none."""
    moved = rounded(value)
    if moved is None:
        return "–"
    if moved == 0:
        return gettext("không đổi")
    shown = number(abs(moved), 1)
    return gettext("tăng %(n)s", n=shown) if moved > 0 else gettext("giảm %(n)s", n=shown)


def _sentence(row: Row) -> str:
    f = row.figures
    return gettext(
        "Năm %(y)s: đi %(po)s giấy, %(eo)s điện tử; đến %(pi)s giấy, %(ei)s điện tử; tỷ lệ giấy %(s)s.",  # noqa: E501
        y=row.year,
        po=number(f.paper_out),
        eo=number(f.e_out),
        pi=number(f.paper_in),
        ei=number(f.e_in),
        s=percent(rounded(f.share)),
    )


def trend_chart(rows: list[Row], selected: int, unit: str | None) -> Markup:
    """The chart of ``rows`` (one per year), or nothing when there are none."""
    if not rows:
        return Markup("")
    width = LEFT + RIGHT + GROUP_MIN * max(len(rows), 3)
    plot_h = HEIGHT - TOP - BOTTOM
    tallest = max(
        max((f.paper_out or 0) + (f.e_out or 0), (f.paper_in or 0) + (f.e_in or 0))
        for f in (r.figures for r in rows)
    )
    top, step = nice_ceiling(tallest)

    def y(value: int) -> float:
        return TOP + plot_h - plot_h * value / top

    title = gettext("Văn bản giấy và điện tử qua các năm")
    if unit is not None:
        title += f" – {unit or '–'}"
    desc = (
        " ".join(_sentence(r) for r in rows)
        + " "
        + gettext("Số liệu đầy đủ trong bảng “Qua các năm” ngay dưới biểu đồ.")
    )
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {HEIGHT}"'
        f' width="{width}" height="{HEIGHT}" role="img" aria-labelledby="chart-title chart-desc"'
        ' font-family="Liberation Sans, DejaVu Sans, Arial, sans-serif" font-size="13">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(desc)}</desc>',
        "<defs>"
        f'<pattern id="paper-hatch" width="8" height="8" patternUnits="userSpaceOnUse"'
        f' patternTransform="rotate(45)"><rect width="8" height="8" fill="{PAPER_FILL}"/>'
        f'<rect width="3" height="8" fill="{PAPER_STRIPE}"/></pattern>'
        "</defs>",
        f'<rect width="{width}" height="{HEIGHT}" fill="#fff"/>',
    ]
    # the legend: a swatch of each pattern and its name
    out.append(
        f'<g class="legend" transform="translate({LEFT},14)">'
        f'<rect width="22" height="16" fill="url(#paper-hatch)" stroke="{PAPER_LINE}"'
        ' stroke-width="1.5"/>'
        f'<text x="30" y="13" fill="{INK}">{escape(gettext("Văn bản giấy"))}</text>'
        f'<rect x="170" width="22" height="16" fill="{E_FILL}" stroke="{E_LINE}"'
        ' stroke-width="1.5"/>'
        f'<text x="200" y="13" fill="{INK}">{escape(gettext("Văn bản điện tử"))}</text>'
        f'<text y="40" fill="{MUTED}">'
        f"{escape(gettext('Đi: văn bản đi · Đến: văn bản đến'))}</text>"
        "</g>"
    )
    # the value axis: grid lines and their numbers
    for value in range(0, top + 1, step):
        at = y(value)
        out.append(
            f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{at:.1f}" y2="{at:.1f}"'
            f' stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{LEFT - 8}" y="{at + 4:.1f}" text-anchor="end" fill="{MUTED}">'
            f"{escape(number(value))}</text>"
        )
    group = (width - LEFT - RIGHT) / len(rows)
    for index, row in enumerate(rows):
        centre = LEFT + group * (index + 0.5)
        f = row.figures
        if row.year == selected:
            out.append(
                f'<rect x="{centre - group / 2 + 4:.1f}" y="{TOP - 52}" width="{group - 8:.1f}"'
                f' height="{plot_h + 52 + 40}" fill="#f1f3f7" rx="6"/>'
            )
        share = percent(rounded(f.share))
        out.append(
            f'<text x="{centre:.1f}" y="{TOP - 30}" text-anchor="middle" fill="{INK}"'
            f' font-weight="bold" class="share" data-year="{row.year}">'
            f"{escape(gettext('Giấy %(s)s', s=share))}</text>"
        )
        # under the share: its change, or which side is missing (then there is no share)
        if f.paper is None or f.electronic is None:
            below = (
                gettext("chưa có số liệu giấy")
                if f.paper is None
                else gettext("chưa có số liệu điện tử")
            )
        else:
            below = change_words(row.change) if row.change is not None else ""
        if below:
            out.append(
                f'<text x="{centre:.1f}" y="{TOP - 12}" text-anchor="middle" fill="{MUTED}"'
                f' class="change" data-year="{row.year}">{escape(below)}</text>'
            )
        for offset, direction, paper, electronic in (
            (-(BAR + GAP) / 2, "out", f.paper_out, f.e_out),
            ((BAR + GAP) / 2, "in", f.paper_in, f.e_in),
        ):
            out.append(_bar(row.year, centre + offset, direction, paper, electronic, y))
        out.append(
            f'<text x="{centre:.1f}" y="{HEIGHT - BOTTOM + 40}" text-anchor="middle"'
            f' fill="{INK}" font-weight="bold" font-size="14">{row.year}</text>'
        )
    out.append(
        f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}"'
        f' stroke="{MUTED}" stroke-width="1.5"/>'
    )
    out.append("</svg>")
    # every text above went through escape(); the rest is numbers and our own names
    return Markup("".join(out))  # noqa: S704


def _bar(
    year: int,
    middle: float,
    direction: str,
    paper: int | None,
    electronic: int | None,
    y: Callable[[int], float],
) -> str:
    """One stacked bar: paper below, electronic above, a white seam between them."""
    left = middle - BAR / 2
    word = gettext("Đi") if direction == "out" else gettext("Đến")
    parts = [f'<g class="bar" data-year="{year}" data-direction="{direction}">']
    base = 0
    for kind, value, fill, line in (
        ("paper", paper, "url(#paper-hatch)", PAPER_LINE),
        ("electronic", electronic, E_FILL, E_LINE),
    ):
        if value is None:
            continue
        top_y, bottom_y = y(base + value), y(base)
        name = gettext("giấy") if kind == "paper" else gettext("điện tử")
        tip = f"{year} · {word} · {name}: {number(value)}"
        parts.append(
            f'<rect x="{left:.1f}" y="{top_y:.1f}" width="{BAR}" height="{bottom_y - top_y:.1f}"'
            f' fill="{fill}" stroke="{line}" stroke-width="1.5" class="{kind}"'
            f' data-value="{value}"><title>{escape(tip)}</title></rect>'
        )
        base += value
        if kind == "paper" and value:
            # a white seam, so the two parts stay apart whatever their colours
            parts.append(
                f'<line x1="{left:.1f}" x2="{left + BAR:.1f}" y1="{top_y:.1f}" y2="{top_y:.1f}"'
                ' stroke="#fff" stroke-width="2"/>'
            )
    parts.append(
        f'<text x="{middle:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle"'
        f' fill="{INK}">{escape(word)}</text>'
    )
    parts.append("</g>")
    return "".join(parts)
