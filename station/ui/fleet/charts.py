"""Charts drawn on the server as inline SVG: no script, no CDN, nothing to load.

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described by
its ``<desc>`` (what it shows, the lowest, the highest and the latest value),
and the page puts the same figures in a table beside it for whoever cannot see
it (docs/accessibility.md). Colours keep 3:1 against the white card; words
keep 4.5:1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup, escape

from station.common.clock import VIETNAM

INK = "#1d2433"
MUTED = "#5b6475"
GRID = "#d9dee7"
LINE = "#1a4f9c"
BAR = "#1a4f9c"
BAR_2 = "#a51d24"

#: the size of the words, in the viewBox's units (a chart is drawn about as
#: wide as its viewBox on a computer, and 0.8 times on a phone)
FONT = 13

Format = Callable[[float], str]


@dataclass(frozen=True)
class Frame:
    """Where the plot sits in the viewBox."""

    width: int = 420
    height: int = 180
    left: int = 50
    right: int = 10
    top: int = 10
    bottom: int = 26

    @property
    def plot_w(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> float:
        return self.height - self.top - self.bottom


def _shown_exactly(value: float, digits: int) -> bool:
    scaled = value * 10.0**digits
    return abs(scaled - round(scaled)) < 1e-6


def nice_ticks(low: float, high: float, count: int = 4, digits: int | None = None) -> list[float]:
    """Round values for the vertical axis, from at most ``low`` to at least
    ``high``. With ``digits`` (the decimals the labels show), every tick is
    written exactly: never 0.25 shown as "0,2", nor four ticks all "0,0"."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    if digits is not None:
        raw = max(raw, 10.0**-digits)
    power = 10 ** math.floor(math.log10(raw))
    step = next(
        m * power
        for m in (1, 2, 2.5, 5, 10)
        if m * power >= raw and (digits is None or _shown_exactly(m * power, digits))
    )
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
        if len(ticks) > 12:
            break
    return ticks


def _svg(chart_id: str, title: str, desc: str, frame: Frame, body: list[str]) -> Markup:
    # every word in ``body`` was escaped where it was written; the rest is numbers
    return Markup(  # noqa: S704
        f'<svg viewBox="0 0 {frame.width} {frame.height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" id="{chart_id}" '
        f'preserveAspectRatio="xMidYMid meet">'
        f'<title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def _y_axis(
    frame: Frame, ticks: list[float], fmt: Format
) -> tuple[list[str], Callable[[float], float]]:
    low, high = ticks[0], ticks[-1]

    def y(value: float) -> float:
        return frame.top + frame.plot_h * (1 - (value - low) / (high - low))

    parts = []
    for tick in ticks:
        at = y(tick)
        parts.append(
            f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{at:.1f}" '
            f'y2="{at:.1f}" stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{frame.left - 5}" y="{at + 4:.1f}" text-anchor="end" font-size="{FONT}" '
            f'fill="{MUTED}">{escape(fmt(tick))}</text>'
        )
    return parts, y


def time_ticks(start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """Where the time axis is labelled, in Vietnam time, and the labels."""
    span = end - start
    local = start.astimezone(VIETNAM)
    if span <= timedelta(days=3):
        step, fmt = timedelta(hours=12), "%H:%M %d/%m"
        first = local.replace(minute=0, second=0, microsecond=0)
        first += timedelta(hours=(12 - first.hour % 12) % 12)
    elif span <= timedelta(days=40):
        days = 1 if span <= timedelta(days=8) else 7
        step, fmt = timedelta(days=days), "%d/%m"
        first = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    else:
        found = []
        month = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        while month <= end:
            month = (month + timedelta(days=32)).replace(day=1)
            if start <= month <= end and month.month % 2 == 1:
                found.append((month, month.strftime("%m/%Y")))
        return found
    found = []
    at = first
    while at <= end:
        if at >= start:
            found.append((at, at.strftime(fmt)))
        at += step
    return found


def line(
    chart_id: str,
    title: str,
    desc: str,
    start: datetime,
    end: datetime,
    points: Sequence[tuple[datetime, float | None]],
    step: timedelta,
    fmt: Format,
    *,
    bars: bool = False,
    zero: bool = True,
    digits: int | None = None,
) -> Markup:
    """A line (or bars) over time; a gap where no value came for more than a
    step and a half. ``digits``: the decimals ``fmt`` writes (the axis's steps
    are no finer)."""
    frame = Frame()
    values = [v for _, v in points if v is not None]
    low = min(0.0, *values) if zero and values else min(values, default=0.0)
    high = max(values, default=1.0)
    if not zero and values:
        pad = (high - low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    ticks = nice_ticks(low, high, digits=digits)
    body, y = _y_axis(frame, ticks, fmt)
    total = (end - start).total_seconds() or 1.0

    def x(at: datetime) -> float:
        return frame.left + frame.plot_w * (at - start).total_seconds() / total

    for at, label in time_ticks(start, end):
        body.append(
            f'<text x="{x(at):.1f}" y="{frame.height - 7}" text-anchor="middle" font-size="{FONT}" '
            f'fill="{MUTED}">{escape(label)}</text>'
        )
    base = y(max(ticks[0], 0.0)) if ticks[0] <= 0 <= ticks[-1] else y(ticks[0])
    if bars:
        width = max(1.0, frame.plot_w * step.total_seconds() / total * 0.8)
        for at, value in points:
            if value is None:
                continue
            top = y(value)
            body.append(
                f'<rect x="{x(at):.1f}" y="{min(top, base):.1f}" width="{width:.1f}" '
                f'height="{abs(base - top):.1f}" fill="{BAR}"/>'
            )
    else:
        runs: list[list[tuple[float, float]]] = []
        last: datetime | None = None
        for at, value in points:
            if value is None:
                continue
            middle = at + step / 2
            if last is None or (middle - last) > step * 1.5:
                runs.append([])
            runs[-1].append((x(middle), y(value)))
            last = middle
        for run in runs:
            if len(run) == 1:
                px, py = run[0]
                body.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{LINE}"/>')
            else:
                path = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
                body.append(
                    f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2" '
                    'stroke-linejoin="round"/>'
                )
    body.append(
        f'<line x1="{frame.left}" x2="{frame.left}" y1="{frame.top}" '
        f'y2="{frame.height - frame.bottom}" stroke="{MUTED}" stroke-width="1"/>'
    )
    return _svg(chart_id, title, desc, frame, body)


def columns(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    values: Sequence[float],
    fmt: Format,
    *,
    small: bool = False,
    color: str = BAR,
    digits: int | None = None,
) -> Markup:
    """Vertical columns, one per label (the months of a year); ``digits`` as
    for :func:`line`."""
    frame = Frame(width=220, height=110, left=34, right=6, top=8, bottom=22) if small else Frame()
    ticks = nice_ticks(0.0, max([*values, 0.0]) or 1.0, 2 if small else 4, digits)
    body, y = _y_axis(frame, ticks, fmt)
    slot = frame.plot_w / max(1, len(values))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        left = frame.left + slot * i + slot * 0.15
        top = y(value)
        if value:
            body.append(
                f'<rect x="{left:.1f}" y="{top:.1f}" width="{slot * 0.7:.1f}" '
                f'height="{y(0) - top:.1f}" fill="{color}"/>'
            )
        if not small or i % 3 == 0:
            body.append(
                f'<text x="{left + slot * 0.35:.1f}" y="{frame.height - 6}" text-anchor="middle" '
                f'font-size="{11 if small else FONT}" fill="{MUTED}">{escape(label)}</text>'
            )
    return _svg(chart_id, title, desc, frame, body)


def bar(value: float, most: float, color: str = BAR) -> Markup:
    """One horizontal bar, stretched to its box (the words beside it are text
    of the page, so they keep their size on any screen)."""
    length = 1000 * value / most if most > 0 else 0
    return Markup(  # noqa: S704 (numbers and a colour of this module)
        '<svg viewBox="0 0 1000 10" preserveAspectRatio="none" aria-hidden="true" '
        'focusable="false">'
        f'<rect x="0" y="0" width="{length:.1f}" height="10" fill="{color}"/></svg>'
    )
