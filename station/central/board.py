"""The stations page as an administrator works it: what needs action first,
then filters, search, sort and groups (docs/fleet.md, "Stations").

A station needs action when it is lost, or has an active alert
(:mod:`station.central.alerting`): switched off too long, documents stuck
without a receipt, documents held for signing, a secret document stopped and
not yet acknowledged (the alert names the level only: nothing of the
document's content reaches the fleet), or any other. Those come first, the
worst severity first.

The search finds a station by its id, its unit or its region: every word of it
in one of them, without case or diacritics ("dong son" finds "Đông Sơn").
Names (station, unit, region) and versions sort as the statistics list units,
numbers as numbers ("khu vực 2" before "khu vực 10", 0.9.1 before 0.10.0).

Everything here is read from the query string, so that each view is a link
(a tile, a column heading, a group) that can be bookmarked and shared; values
that are not understood fall back to the defaults.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from station.central.fleet import Fleet
from station.central.paperstats import natural

#: what a station may need action for, in the order shown: an alert of that
#: kind (``alert``: of any other kind)
REASONS = ("lost", "offline", "backlog", "signing", "secret", "alert")
#: the order of alert severities, the worst first (a lost station without its
#: alert counts as an error)
RANK = {"critical": 0, "error": 1, "warning": 2}

#: the tiles, each a filter: key -> (Vietnamese, English)
SHOWS: dict[str, tuple[str, str]] = {
    "all": ("Tất cả", "All"),
    "attention": ("Cần xử lý", "Need action"),
    "online": ("Trực tuyến", "Online"),
    "offline": ("Đã tắt", "Switched off"),
    "lost": ("Mất kết nối", "Lost"),
    "backlog": ("Tồn đọng", "Backlog"),
    "signing": ("Chờ ký số", "Held for signing"),
    "secret": ("Văn bản mật", "Secret documents"),
    "alerts": ("Có cảnh báo", "With alerts"),
}

STATE_ORDER = {"lost": 0, "offline": 1, "unknown": 2, "online": 3}
SCANNER_ORDER = ("jammed", "cover_open", "error", "offline", "no_paper", "busy", "unknown")
GROUPS = ("", "unit", "region")
UNASSIGNED = ("Chưa xếp khu vực", "No region")
NO_UNIT = ("Chưa đặt tên đơn vị", "No unit name")


def fold(text: str) -> str:
    """Text as searched: without case or Vietnamese diacritics (đ is d)."""
    bare = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return " ".join("".join(c for c in bare if not unicodedata.combining(c)).split())


def found(query: str, *fields: str | None) -> bool:
    """Whether one of ``fields`` holds every word of ``query`` (without case or
    diacritics); a number is a whole number there: "khu vực 3" is not "khu vực 30"."""
    words = fold(query).split()
    patterns = [re.compile(rf"(?<!\d){re.escape(w)}(?!\d)" if w.isdigit() else re.escape(w))
                for w in words]  # fmt: skip
    return any(all(p.search(text) for p in patterns) for text in (fold(f) for f in fields if f))


def _dig(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _roller(view: dict[str, Any]) -> float | None:
    sheets = _num(_dig(view["health"], "counters", "sheets_since_roller"))
    limit = _num(_dig(view["health"], "counters", "roller_limit"))
    return sheets / limit if sheets is not None and limit else None


def _scanner(view: dict[str, Any]) -> float | None:
    status = _dig(view["health"], "scanner", "status")
    if not isinstance(status, str):
        return None
    return float(SCANNER_ORDER.index(status)) if status in SCANNER_ORDER else len(SCANNER_ORDER)


#: the columns one may sort by, and how each is read (None sorts last)
SORTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "attention": lambda v: (v["rank"], -len(v["attention"])),
    "station": lambda v: natural(v["station_id"]),
    "unit": lambda v: natural(v["unit"]) if fold(v["unit"] or "") else None,
    "region": lambda v: natural(v["region"]) if v["region"] else None,
    "state": lambda v: STATE_ORDER.get(v["state"], 2),
    "seen": lambda v: v["last_seen"],
    "queue": lambda v: _num(_dig(v["health"], "queue", "depth")),
    "oldest": lambda v: _num(_dig(v["health"], "queue", "oldest_pending_s")),
    "disk": lambda v: _num(_dig(v["health"], "disk", "free_percent")),
    "temp": lambda v: _num(_dig(v["health"], "cpu_temp_c")),
    "scanner": _scanner,
    "roller": _roller,
    "pages": lambda v: _num(_dig(v["health"], "counters", "pages_total")),
    "error": lambda v: _dig(v["health"], "last_error", "ts"),
    "version": lambda v: natural(v["version"]) if v["version"] else None,
}
#: the order a column sorts in when its heading is first pressed
FIRST_DESC = {"seen", "queue", "oldest", "temp", "roller", "pages", "error"}


@dataclass(frozen=True)
class Query:
    """What the reader asked for in the query string."""

    show: str = "all"
    q: str = ""
    sort: str = "attention"
    desc: bool = False
    group: str = ""

    @classmethod
    def parse(cls, args: Mapping[str, str], regions: bool) -> Query:
        show = args.get("show", "all")
        sort = args.get("sort", "attention")
        group = args.get("group", "")
        if group == "region" and not regions:
            group = ""
        return cls(
            show=show if show in SHOWS else "all",
            q=" ".join(str(args.get("q", "")).split())[:100],
            sort=sort if sort in SORTS else "attention",
            desc=args.get("dir") == "desc",
            group=group if group in GROUPS else "",
        )

    def args(self, **changes: Any) -> dict[str, str]:
        """The query string of this view with ``changes``, defaults left out."""
        values = {
            "show": self.show,
            "q": self.q,
            "sort": self.sort,
            "dir": "desc" if self.desc else "asc",
            "group": self.group,
        }
        values.update(
            {k: ("desc" if v else "asc") if k == "dir" else v for k, v in changes.items()}
        )
        if values["sort"] == "attention" and values["dir"] == "asc":
            values.pop("dir")
        defaults = {"show": "all", "q": "", "sort": "attention", "dir": "asc", "group": ""}
        return {k: str(v) for k, v in values.items() if defaults.get(k) != v}

    def sorted_by(self, column: str) -> dict[str, str]:
        """The link of a column heading: by that column, or the other way round."""
        if column == self.sort:
            return self.args(dir=not self.desc)
        return self.args(sort=column, dir=column in FIRST_DESC)


@dataclass
class Group:
    key: str
    vi: str
    en: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def attention(self) -> int:
        return sum(bool(r["attention"]) for r in self.rows)


@dataclass
class Board:
    query: Query
    rows: list[dict[str, Any]]
    groups: list[Group]
    tiles: dict[str, int]
    regions: bool
    total: int


def reasons(view: dict[str, Any]) -> list[str]:
    """Why a station needs action: kinds of :data:`REASONS`, in their order."""
    kinds = {a.kind for a in view["alerts"]}
    found = [k for k in REASONS[:-1] if k in kinds]
    if view["state"] == "lost" and "lost" not in found:
        found.insert(0, "lost")
    if kinds - set(REASONS):
        found.append("alert")
    return found


def rank(view: dict[str, Any]) -> int:
    """0 for the worst (critical), 3 for a station that needs nothing."""
    found = min((RANK.get(a.severity, 2) for a in view["alerts"]), default=3)
    return min(found, RANK["error"]) if view["state"] == "lost" else found


def _matches(view: dict[str, Any], show: str) -> bool:
    if show == "all":
        return True
    if show == "attention":
        return bool(view["attention"])
    if show in ("online", "offline", "lost"):
        return bool(view["state"] == show)
    if show == "alerts":
        return bool(view["alerts"])
    return show in view["attention"]


def _ordered(rows: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
    """Sorted by the query's column, missing values last whichever the
    direction, ties by station id."""
    read = SORTS[query.sort]
    rows = sorted(rows, key=lambda v: v["station_id"])
    present = [v for v in rows if read(v) is not None]
    present.sort(key=read, reverse=query.desc)  # stable: ties keep the id order
    return present + [v for v in rows if read(v) is None]


def build(fleet: Fleet, query: Query, now: datetime) -> Board:
    """The stations page: every station with its region and what it needs
    action for, filtered, searched, sorted and grouped as ``query`` says."""
    active = fleet.alerting.store.active_by_station()
    views = []
    for row in fleet.db.stations():
        view = fleet.view(row, now, active.get(row.station_id, []))
        view["region"] = fleet.regions.of(row.unit)
        view["attention"] = reasons(view)
        view["rank"] = rank(view)
        views.append(view)
    total = len(views)
    if query.q:
        views = [v for v in views if found(query.q, v["station_id"], v["unit"], v["region"])]
    tiles = {key: sum(_matches(v, key) for v in views) for key in SHOWS}
    rows = _ordered([v for v in views if _matches(v, query.show)], query)
    return Board(query, rows, _groups(rows, query.group), tiles, bool(fleet.regions), total)


def _groups(rows: list[dict[str, Any]], by: str) -> list[Group]:
    if not by:
        return [Group("", "", "", rows)]
    found: dict[str, Group] = {}
    for view in rows:
        name = view["unit"] if by == "unit" else view["region"]
        empty = NO_UNIT if by == "unit" else UNASSIGNED
        key = fold(name) if name else ""
        group = found.setdefault(key, Group(key, name or empty[0], name or empty[1]))
        group.rows.append(view)
    return sorted(found.values(), key=lambda g: (g.key == "", natural(g.vi)))
