"""The stations page on the web: its columns, its rows, and its live updates.

The page polls ``POST /api/board`` (with the page's own query string) every
few seconds (``static/live.js``). The answer gives every row of the view in
order, each with a short signature of its rendered HTML, and the HTML only of
the rows whose signature the page does not have yet (it sends the ones it
has), so that an update of 500 stations is a few kilobytes when little has
changed. The rows are rendered by the same macro as the page's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app, get_template_attribute, request, url_for

from station.central.board import Board, Query, build
from station.central.fleet import Fleet, iso
from station.ui.i18n import ago, gettext


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    numeric: bool = False


def columns(regions: bool) -> list[Column]:
    """The table's columns, each sortable by its key."""
    found = [Column("station", gettext("Trạm"))]
    if regions:
        found.append(Column("region", gettext("Khu vực")))
    return [
        *found,
        Column("state", gettext("Trạng thái")),
        Column("attention", gettext("Cảnh báo")),
        Column("seen", gettext("Lần cuối")),
        Column("queue", gettext("Chờ gửi"), True),
        Column("oldest", gettext("Chờ lâu nhất"), True),
        Column("disk", gettext("Đĩa trống"), True),
        Column("temp", gettext("Nhiệt độ"), True),
        Column("scanner", gettext("Máy quét")),
        Column("roller", gettext("Tờ / trục cuốn"), True),
        Column("pages", gettext("Tổng số trang"), True),
        Column("error", gettext("Lỗi gần nhất")),
        Column("version", gettext("Phiên bản")),
    ]


def fleet() -> Fleet:
    found: Fleet = current_app.extensions["fleet"]
    return found


def current(now: datetime | None = None) -> Board:
    """The board as the request's query string asks for it."""
    regions = bool(fleet().regions)
    return build(fleet(), Query.parse(request.args, regions), now or datetime.now(UTC))


def words() -> dict[str, str]:
    """What the live updates say, in the reader's language."""
    return {
        "at": gettext("Cập nhật lúc %(t)s"),
        "stale": gettext("Chưa cập nhật được từ %(t)s; đang thử lại"),
        "signin": gettext("Phiên đăng nhập đã hết: tải lại trang để đăng nhập"),
        "changed": gettext("%(station)s: %(what)s"),
        "attention": gettext("cần xử lý"),
        "resolved": gettext("không còn cần xử lý"),
        "new": gettext("trạm mới"),
        "gone": gettext("không còn khớp bộ lọc"),
    }


def seen_ago(at: str | None, now: datetime | None = None) -> str:
    """When a station was last heard, to the minute: a row changes no more
    often than that (the live updates send only rows that changed)."""
    if at:
        try:
            heard = datetime.fromisoformat(at)
        except ValueError:
            return at
        heard = heard if heard.tzinfo else heard.replace(tzinfo=UTC)
        if ((now or datetime.now(UTC)) - heard).total_seconds() < 120:
            return gettext("vừa xong")
    return ago(at)


def signature(html: str) -> str:
    return hashlib.blake2b(html.encode(), digest_size=6).hexdigest()


def row_words(regions: bool) -> dict[str, Any]:
    """What every row says, in the reader's language, looked up once per page."""
    return {
        **{c.key: c.label for c in columns(regions)},
        "states": {
            "online": gettext("Trực tuyến"),
            "offline": gettext("Đã tắt"),
            "lost": gettext("Mất kết nối"),
            "unknown": gettext("Chưa rõ"),
        },
        "acked": gettext("đã biết"),
    }


@dataclass(frozen=True)
class Row:
    station_id: str
    group: str
    sig: str
    html: str


def rows(board: Board) -> list[Row]:
    """Every row of the board in order, rendered, with its signature (``data-sig``)."""
    macro = get_template_attribute("fleet/board.html", "station_row")
    words = row_words(board.regions)
    link = url_for("fleet.station", station_id="-")[:-1]
    found = []
    for group in board.groups:
        for view in group.rows:
            text = str(macro(view, board.regions, words, link))
            sig = signature(text)
            text = text.replace("<tr ", f'<tr data-sig="{sig}" ', 1)
            found.append(Row(view["station_id"], group.key, sig, text))
    return found


def update(board: Board, have: dict[str, str]) -> dict[str, Any]:
    """The live update: tiles, every row in order with its signature, and the
    HTML of the rows the page does not have as they are now."""
    found = rows(board)
    return {
        "at": iso(datetime.now(UTC)),
        "tiles": board.tiles,
        "rows": [{"id": r.station_id, "group": r.group, "sig": r.sig} for r in found],
        "html": {r.station_id: r.html for r in found if have.get(r.station_id) != r.sig},
    }
