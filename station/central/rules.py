"""The alert rules: what is wrong with a station or a unit right now.

Pure functions of what the fleet knows (a station's row with its last state and
health, a unit's last document) and of ``fleet.toml`` (:mod:`fleetconfig`).
They say which conditions hold; :mod:`station.central.alerting` keeps them as
alerts with a history (raised, acknowledged, cleared, raised again).

Kinds (docs/fleet.md#alerts): ``lost``, ``offline``, ``silent``, ``temperature``,
``inactive``, ``disk``, ``backlog``, ``scanner``, ``roller``, ``signing`` and
``rejected`` for a station; ``unit_inactive`` for a unit; ``secret`` from an
event.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from station.central.fleetconfig import FleetSettings
from station.central.fleetdb import StationRow
from station.common.clock import VIETNAM
from station.wire.payloads import SCANNER_STATUS

#: the kinds worked out from a station's state and health, in the order shown
STATION_KINDS = (
    "lost", "offline", "silent", "disk", "backlog", "signing", "temperature", "scanner",
    "roller", "rejected", "inactive",
)  # fmt: skip
UNIT_KINDS = ("unit_inactive",)
#: raised by a station's event; they end when a person acknowledges them
EVENT_KINDS = ("secret",)
#: the secrecy levels (Law 117/2025/QH15) an alert may name; anything else is not repeated
SECRET_LEVELS = ("Mật", "Tối mật", "Tuyệt mật")

#: kind -> (Vietnamese, English) name, as the pages and the messages say it
KIND_WORDS: dict[str, tuple[str, str]] = {
    "lost": ("Mất kết nối", "Connection lost"),
    "offline": ("Trạm tắt", "Switched off"),
    "silent": ("Không báo cáo", "Silent"),
    "disk": ("Đĩa sắp đầy", "Disk nearly full"),
    "backlog": ("Tồn đọng", "Backlog"),
    "signing": ("Ký số", "Signing"),
    "temperature": ("Nhiệt độ CPU", "CPU temperature"),
    "scanner": ("Máy quét", "Scanner"),
    "roller": ("Trục cuốn giấy", "Feed rollers"),
    "rejected": ("Bị từ chối", "Refused"),
    "inactive": ("Không có văn bản", "No documents"),
    "unit_inactive": ("Đơn vị không số hóa", "Unit not digitizing"),
    "secret": ("Văn bản mật", "Secret document"),
}
SEVERITY_WORDS: dict[str, tuple[str, str]] = {
    "critical": ("Khẩn", "Critical"),
    "error": ("Lỗi", "Error"),
    "warning": ("Chú ý", "Warning"),
}


@dataclass(frozen=True)
class Alert:
    """A condition that holds now: its kind, how much it matters, what to say, its value."""

    kind: str
    severity: str
    vi: str
    en: str
    value: float | str | None = None


@dataclass(frozen=True)
class UnitFacts:
    """What the fleet knows of a unit's documents."""

    unit: str
    #: the last document any of its stations recorded (None: none known)
    last_document: datetime | None
    #: since when the fleet has known the unit (its first station's first report)
    known_since: datetime
    stations: tuple[str, ...] = field(default=())


def parse_time(value: object, now: datetime) -> datetime:
    """A station's timestamp, or ``now`` when it is missing, malformed or in the
    future (a clock not yet set must not hide a station)."""
    if isinstance(value, str) and len(value) <= 40:
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            return now
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        if at <= now + timedelta(minutes=5):
            return at.astimezone(UTC)
    return now


def _dig(data: dict[str, Any] | None, *path: str) -> Any:
    value: Any = data
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def duration(minutes: float) -> tuple[str, str]:
    """A span in Vietnamese and in English."""
    if minutes < 120:
        value, vi, en = f"{minutes:.0f}", "phút", "min"
    elif minutes < 48 * 60:
        value, vi, en = f"{minutes / 60:.1f}", "giờ", "h"
    else:
        value, vi, en = f"{minutes / 1440:.0f}", "ngày", "days"
    return f"{value} {vi}", f"{value} {en}"


def _local(at: datetime) -> str:
    return at.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y")


def alerts_of(
    row: StationRow,
    settings: FleetSettings,
    now: datetime,
    active: Collection[str] = (),
) -> list[Alert]:
    """The conditions of one station, by ``settings.rules``; ``active`` are the
    kinds already raised (the temperature clears a few degrees lower)."""
    rules = settings.rules
    found: list[Alert] = []

    def add(kind: str, vi: str, en: str, value: float | str | None = None) -> None:
        rule = rules.of(kind)
        if rule.enabled:
            found.append(Alert(kind, getattr(rule, "severity", "warning"), vi, en, value))

    since = parse_time(row.since, now) if row.since else parse_time(row.last_seen, now)
    if row.state == "lost":
        add(
            "lost",
            f"Trạm mất kết nối từ {_local(since)}",
            f"Station lost its connection at {_local(since)} (Vietnam time)",
            since.isoformat(),
        )
    elif row.state == "offline":
        off = rules.offline
        down_s = (
            settings.calendar.working_seconds(since, now)
            if off.working_hours_only
            else (now - since).total_seconds()
        )
        if down_s >= off.minutes * 60:
            vi, en = duration((now - since).total_seconds() / 60)
            add("offline", f"Trạm đã tắt {vi}", f"Station switched off for {en}", since.isoformat())
    health = row.health
    interval = _number(_dig(health, "interval_s")) or 60.0
    seen_ago = (now - parse_time(row.last_seen, now)).total_seconds()
    if row.state == "online" and seen_ago > max(rules.silent.intervals * interval, 180):
        vi, en = duration(seen_ago / 60)
        add("silent", f"Không nhận được báo cáo {vi}", f"No report for {en}", round(seen_ago))
    if health is None:
        return found
    _health_alerts(add, health, settings, now, parse_time(row.health_at, now), active)
    _inactive(add, row, health, settings, now)
    order = {kind: n for n, kind in enumerate(STATION_KINDS)}
    return sorted(found, key=lambda a: order.get(a.kind, 99))


def _health_alerts(
    add: Any,
    health: dict[str, Any],
    settings: FleetSettings,
    now: datetime,
    health_at: datetime,
    active: Collection[str],
) -> None:
    rules = settings.rules
    health_age = (now - health_at).total_seconds()
    pending = _number(_dig(health, "queue", "oldest_pending_s"))
    depth = _number(_dig(health, "queue", "depth")) or 0
    hours = (pending + health_age) / 3600 if pending is not None else 0.0
    if hours > rules.backlog.oldest_hours or depth >= rules.backlog.depth:
        add(
            "backlog",
            f"{depth:.0f} văn bản chưa có xác nhận đã nhận, lâu nhất {hours:.1f} giờ",
            f"{depth:.0f} documents without a receipt, the oldest for {hours:.1f} h",
            depth,
        )
    refused = _number(_dig(health, "queue", "rejected"))
    if refused:
        add(
            "rejected",
            f"{refused:.0f} văn bản bị hệ thống quản lý văn bản từ chối, chưa gửi lại",
            f"{refused:.0f} documents refused by the document system, not answered yet",
            refused,
        )
    percent = _number(_dig(health, "disk", "free_percent"))
    free = _number(_dig(health, "disk", "free_bytes"))
    low_percent = percent is not None and percent < rules.disk.free_percent
    low_bytes = free is not None and free < rules.disk.free_mb * 2**20
    if low_percent or low_bytes:
        mib = f"{free / 2**20:,.0f}".replace(",", ".") if free is not None else "?"
        shown = f"{percent:.1f}" if percent is not None else "?"
        add(
            "disk",
            f"Đĩa sắp đầy: còn trống {shown} % ({mib} MiB)",
            f"Disk almost full: {shown} % ({mib} MiB) free",
            percent,
        )
    temp = _number(health.get("cpu_temp_c"))
    warm = rules.temperature
    if temp is not None and (
        temp >= warm.warn_c or ("temperature" in active and temp >= warm.warn_c - warm.hysteresis_c)
    ):
        add(
            "temperature",
            f"CPU nóng: {temp:.1f} °C (ngưỡng {warm.warn_c:g} °C)",
            f"CPU hot: {temp:.1f} °C (limit {warm.warn_c:g} °C)",
            temp,
        )
    sheets = _number(_dig(health, "counters", "sheets_since_roller"))
    limit = _number(_dig(health, "counters", "roller_limit"))
    if sheets is not None and limit and sheets >= limit:
        add(
            "roller",
            f"Cần thay trục cuốn giấy: {sheets:,.0f} / {limit:,.0f} tờ".replace(",", "."),
            f"Replace the feed rollers: {sheets:,.0f} / {limit:,.0f} sheets",
            sheets,
        )
    if _dig(health, "signing", "enabled"):
        held = _number(_dig(health, "signing", "held")) or 0
        if _dig(health, "signing", "ok") is False:
            add(
                "signing",
                f"Không ký số được: {held:.0f} văn bản chờ ký",
                f"Signing fails: {held:.0f} documents wait for their signature",
                held,
            )
        elif held >= rules.signing.held:
            add(
                "signing",
                f"{held:.0f} văn bản đang chờ ký số",
                f"{held:.0f} documents wait for their signature",
                held,
            )
    status = _dig(health, "scanner", "status")
    if status in rules.scanner.statuses:
        text = _dig(health, "scanner", "status_text") or {}
        words = SCANNER_STATUS.get(str(status), (str(status), str(status)))
        add(
            "scanner",
            f"Máy quét: {text.get('vi') or words[0]}",
            f"Scanner: {text.get('en') or words[1]}",
            str(status),
        )


def _inactive(
    add: Any, row: StationRow, health: dict[str, Any], settings: FleetSettings, now: datetime
) -> None:
    """No document for N whole working days on a station that was on after them.

    The alert comes at the start of the next working day (never on a day off),
    and stays until a document is made: a station switched off for the weekend
    keeps it."""
    if "last_document_at" not in health:
        return  # a station older than the field: nothing to go by
    rule = settings.rules.inactive
    raw = health.get("last_document_at")
    last = parse_time(raw, now) if raw else parse_time(row.first_seen, now)
    days = settings.calendar.working_days_after(
        last.astimezone(VIETNAM).date(), rule.working_days + 1
    )
    if len(days) <= rule.working_days:
        return
    today = now.astimezone(VIETNAM).date()
    heard = parse_time(row.last_seen, now).astimezone(VIETNAM).date()
    if today >= days[rule.working_days] and heard >= days[rule.working_days - 1]:
        since = last.astimezone(VIETNAM).strftime("%d/%m/%Y")
        add(
            "inactive",
            f"Không có văn bản nào từ {since} ({rule.working_days} ngày làm việc trở lên)",
            f"No document since {since} ({rule.working_days} working days or more)",
            last.isoformat() if raw else None,
        )


def _add_months(at: datetime, months: int) -> datetime:
    month = at.month - 1 + months
    year, month = at.year + month // 12, month % 12 + 1
    day = min(
        at.day, [31, 29 if year % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    )
    return at.replace(year=year, month=month, day=day)


def unit_alerts(unit: UnitFacts, settings: FleetSettings, now: datetime) -> list[Alert]:
    """A unit none of whose stations made a document for ``months`` months."""
    rule = settings.rules.unit_inactive
    if not rule.enabled or not unit.unit:
        return []
    since = unit.last_document or unit.known_since
    if now < _add_months(since, rule.months):
        return []
    when = since.astimezone(VIETNAM).strftime("%m/%Y")
    return [
        Alert(
            "unit_inactive",
            rule.severity,
            f"Đơn vị không có văn bản nào được số hóa từ {when} ({rule.months} tháng trở lên)",
            f"The unit digitized no document since {when} ({rule.months} months or more)",
            since.isoformat(),
        )
    ]


def secret_alert(settings: FleetSettings, level: object) -> Alert | None:
    """The alert for a ``secret.detected`` event: the level, if it is one of
    the law's, and nothing else of the document."""
    rule = settings.rules.secret
    if not rule.enabled:
        return None
    named = level if isinstance(level, str) and level in SECRET_LEVELS else None
    vi = "Phát hiện văn bản mật" + (f" (độ {named})" if named else "")
    en = "A secret document was found" + (f" ({named})" if named else "")
    return Alert(
        "secret",
        rule.severity,
        f"{vi}: đã dừng và xoá khỏi trạm, cần xử lý theo quy định bảo vệ bí mật nhà nước",
        f"{en}: stopped and erased from the station; handle it by the state secrets rules",
        named,
    )
