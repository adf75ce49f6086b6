"""The fleet dashboard's own settings: ``fleet.toml`` (docs/fleet.md#configuration).

``scanstation fleet --config FILE`` reads it: the alert rules and their
thresholds, the agency's working calendar, when and how people are told
(quiet hours, grouping), and the two channels, e-mail (SMTP) and a webhook.
Strict like ``station.toml``: an unknown key, a wrong type or an impossible
value is refused with the line and the fix. Secrets (the SMTP password, the
webhook's signing key) are read from files named here, never from the file
itself or the command line.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from station.common.clock import VIETNAM
from station.common.tomlconfig import parse_toml
from station.errors import ConfigError

#: how much an alert matters; quiet hours hold all but ``critical``
Severity = Literal["critical", "error", "warning"]
SEVERITIES: tuple[str, ...] = ("critical", "error", "warning")
#: the transitions of an alert that can be sent
Transition = Literal["raise", "reraise", "clear"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_CLOCK = r"([01][0-9]|2[0-3]):[0-5][0-9]"
#: "22:00-06:00": from, to (Vietnam time); the span may pass midnight
Span = Annotated[str, Field(pattern=rf"^{_CLOCK}-{_CLOCK}$")]
Address = Annotated[str, Field(pattern=r"^[^@\s<>,;\"]{1,64}@[^@\s<>,;\"]{1,190}$")]


def span_times(text: str) -> tuple[time, time]:
    start, end = text.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def in_span(text: str, moment: time) -> bool:
    """Whether a time of day is inside ``"HH:MM-HH:MM"`` (which may pass midnight)."""
    start, end = span_times(text)
    if start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


# ---------------------------------------------------------------------- rules


class _Rule(_Strict):
    enabled: bool = Field(True, description="false: the alert is never raised.")
    notify: bool = Field(
        True, description="false: the alert shows on the dashboard but is not sent."
    )


class LostRule(_Rule):
    """The broker published the station's last will: its connection broke."""

    severity: Severity = Field("error", description="critical, error or warning.")


class OfflineRule(_Rule):
    """The station was switched off (a clean stop) for too long."""

    severity: Severity = Field("warning", description="critical, error or warning.")
    minutes: int = Field(
        15, ge=1, le=10_000, description="Minutes switched off before the alert is raised."
    )
    working_hours_only: bool = Field(
        True,
        description="Count only minutes inside [calendar] working_hours on working days "
        "(a counter switched off at night is no alert).",
    )


class SilentRule(_Rule):
    """The station says it is online but its reports stopped coming."""

    severity: Severity = Field("warning", description="critical, error or warning.")
    intervals: int = Field(
        3, ge=2, le=100, description="Report intervals without a word (at least 3 minutes)."
    )


class TemperatureRule(_Rule):
    """The CPU is too hot (a Raspberry Pi slows itself down from 80 °C)."""

    severity: Severity = Field("warning", description="critical, error or warning.")
    warn_c: float = Field(80.0, ge=30, le=120, description="Raised at this CPU temperature (°C).")
    hysteresis_c: float = Field(
        5.0, ge=0, le=30, description="Cleared only this many degrees below warn_c."
    )


class InactiveRule(_Rule):
    """A station that is on but makes no documents on working days."""

    severity: Severity = Field("warning", description="critical, error or warning.")
    working_days: int = Field(
        3,
        ge=1,
        le=60,
        description="Whole working days without a document before the alert, raised on the "
        "next working day.",
    )


class UnitInactiveRule(_Rule):
    """A unit none of whose stations made a document for months."""

    severity: Severity = Field("warning", description="critical, error or warning.")
    months: int = Field(3, ge=1, le=24, description="Months without a document in the unit.")


class DiskRule(_Rule):
    """The station's data disk is nearly full (capture stops at the station's floor)."""

    severity: Severity = Field("error", description="critical, error or warning.")
    free_percent: float = Field(10.0, ge=0, le=90, description="Raised below this % free.")
    free_mb: int = Field(1024, ge=0, le=10_000_000, description="Raised below this many MiB free.")


class BacklogRule(_Rule):
    """Documents waiting for their receipt: too many, or for too long."""

    severity: Severity = Field("error", description="critical, error or warning.")
    depth: int = Field(100, ge=1, le=1_000_000, description="Raised at this many documents.")
    oldest_hours: float = Field(
        8.0, gt=0, le=24 * 60, description="Raised when the oldest waited this many hours."
    )


class ScannerRule(_Rule):
    """The scanner reports a fault."""

    severity: Severity = Field("warning", description="critical, error or warning.")
    statuses: tuple[Literal["jammed", "cover_open", "offline", "error", "no_paper"], ...] = Field(
        ("jammed", "cover_open", "offline", "error"),
        description="Scanner statuses that raise it (jammed, cover_open, offline, error, "
        "no_paper).",
    )


class RollerRule(_Rule):
    """The feed rollers reached the sheets they last ([scanner] roller_limit on the station)."""

    severity: Severity = Field("warning", description="critical, error or warning.")


class SigningRule(_Rule):
    """Signing fails, or documents pile up waiting for their signature."""

    severity: Severity = Field("error", description="critical, error or warning.")
    held: int = Field(
        10, ge=1, le=100_000, description="Raised when this many documents wait to be signed."
    )


class RejectedRule(_Rule):
    """The agency's system refused documents the clerk has not answered."""

    severity: Severity = Field("warning", description="critical, error or warning.")


class SecretRule(_Rule):
    """A document marked secret was stopped at a connected station (secret.detected)."""

    severity: Severity = Field("critical", description="critical, error or warning.")


class Rules(_Strict):
    """Every alert rule; each may be switched off, its severity and thresholds set."""

    lost: LostRule = Field(default_factory=LostRule)
    offline: OfflineRule = Field(default_factory=OfflineRule)
    silent: SilentRule = Field(default_factory=SilentRule)
    temperature: TemperatureRule = Field(default_factory=TemperatureRule)
    inactive: InactiveRule = Field(default_factory=InactiveRule)
    unit_inactive: UnitInactiveRule = Field(default_factory=UnitInactiveRule)
    disk: DiskRule = Field(default_factory=DiskRule)
    backlog: BacklogRule = Field(default_factory=BacklogRule)
    scanner: ScannerRule = Field(default_factory=ScannerRule)
    roller: RollerRule = Field(default_factory=RollerRule)
    signing: SigningRule = Field(default_factory=SigningRule)
    rejected: RejectedRule = Field(default_factory=RejectedRule)
    secret: SecretRule = Field(default_factory=SecretRule)

    def of(self, kind: str) -> _Rule:
        rule: _Rule = getattr(self, kind)
        return rule


# ---------------------------------------------------------------------- calendar


class Calendar(_Strict):
    """The agency's working week, in Vietnam time."""

    working_days: tuple[Weekday, ...] = Field(
        ("mon", "tue", "wed", "thu", "fri"), description="Days of the working week."
    )
    working_hours: Span = Field(
        "07:30-17:00",
        description="Working hours, HH:MM-HH:MM Vietnam time.",
        json_schema_extra={"example": '"07:30-17:00"'},
    )
    holidays: tuple[date, ...] = Field(
        (),
        description="Days off that fall on working days (Tết, 30/4, 1/5, 2/9 …), as TOML dates.",
        json_schema_extra={"example": "[2027-02-05, 2027-02-08]"},
    )
    extra_working_days: tuple[date, ...] = Field(
        (),
        description="Days worked outside the working week (ngày làm bù), as TOML dates.",
    )

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        return WEEKDAYS[day.weekday()] in self.working_days and day not in self.holidays

    def working_days_after(self, day: date, count: int) -> list[date]:
        """The next ``count`` working days after ``day`` (none after 400 days)."""
        found: list[date] = []
        probe = day
        for _ in range(400):
            if len(found) >= count:
                break
            probe += timedelta(days=1)
            if self.is_working_day(probe):
                found.append(probe)
        return found

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds of working hours between two moments (at most 60 days are counted)."""
        if end <= start:
            return 0.0
        start = max(start, end - timedelta(days=60))
        open_at, close_at = span_times(self.working_hours)
        total = 0.0
        day = start.astimezone(VIETNAM).date()
        last = end.astimezone(VIETNAM).date()
        while day <= last:
            if self.is_working_day(day):
                spans = (
                    [(open_at, close_at)]
                    if open_at < close_at
                    else [(time(0), close_at), (open_at, time.max)]
                )
                for begin, finish in spans:
                    lo = max(start, datetime.combine(day, begin, VIETNAM))
                    hi = min(end, datetime.combine(day, finish, VIETNAM))
                    total += max(0.0, (hi - lo).total_seconds())
            day += timedelta(days=1)
        return total


# ---------------------------------------------------------------------- notify


class Notify(_Strict):
    """What is sent, and when."""

    send_on: tuple[Transition, ...] = Field(
        ("raise", "reraise", "clear"),
        description="Which changes are sent: raise (a new alert), reraise (it came back "
        "after it cleared), clear (it ended).",
    )
    quiet_hours: str = Field(
        "22:00-06:00",
        pattern=rf"^({_CLOCK}-{_CLOCK})?$",
        description="HH:MM-HH:MM, Vietnam time, when only critical alerts are sent at once; "
        'the rest wait and go as one digest when the quiet hours end. "" for none.',
        json_schema_extra={"example": '"22:00-06:00"'},
    )
    group_seconds: float = Field(
        20.0,
        ge=0,
        le=600,
        description="Changes within this many seconds go out in one message (the loss of "
        "many stations at once is one message).",
    )
    dashboard_url: str = Field(
        "",
        max_length=300,
        pattern=r"^(https?://\S+)?$",
        description="The dashboard's address, for the link in every message.",
        json_schema_extra={"example": '"https://giamsat.vks.thanhhoa.gov.vn/"'},
    )


class EmailChannel(_Strict):
    """Alerts by e-mail through the agency's mail server."""

    host: str = Field(
        min_length=1,
        max_length=253,
        description="The SMTP server's host name.",
        json_schema_extra={"example": '"mail.vks.thanhhoa.gov.vn"'},
    )
    port: int | None = Field(
        None, ge=1, le=65535, description="Its port (default 587 with starttls, 465 with ssl)."
    )
    security: Literal["starttls", "ssl", "none"] = Field(
        "starttls",
        description="starttls (port 587), ssl (SMTPS, port 465) or none (a relay on this "
        "machine only).",
    )
    username: str = Field("", max_length=200, description="The login; empty: no login.")
    password_file: Path | None = Field(
        None,
        description="A file holding the login's password (first line), readable only by the "
        "dashboard's user.",
        json_schema_extra={"example": '"/etc/scanstation-fleet/smtp-password"'},
    )
    sender: Address = Field(
        description="The From address.",
        json_schema_extra={"example": '"giamsat@vks.thanhhoa.gov.vn"'},
    )
    to: tuple[Address, ...] = Field(
        min_length=1,
        max_length=50,
        description="Who gets the alerts.",
        json_schema_extra={"example": '["quantri@vks.thanhhoa.gov.vn"]'},
    )
    ca_file: Path | None = Field(
        None, description="A CA certificate for the server, when it is not in the system's."
    )
    timeout_s: float = Field(20.0, gt=0, le=300, description="Seconds to wait for the server.")
    retries: int = Field(5, ge=0, le=50, description="Further attempts after a failure.")
    backoff_s: float = Field(
        30.0, gt=0, le=3600, description="Wait before the first retry; doubled each time."
    )

    @model_validator(mode="after")
    def _login(self) -> EmailChannel:
        if bool(self.username) != (self.password_file is not None):
            raise ValueError("username and password_file go together: set both or neither")
        return self

    @property
    def the_port(self) -> int:
        if self.port is not None:
            return self.port
        return {"starttls": 587, "ssl": 465, "none": 25}[self.security]


class WebhookChannel(_Strict):
    """Alerts as JSON posted to an address (a chat bridge, a ticket system)."""

    url: str = Field(
        max_length=500,
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        description="Where the JSON is posted (https, or http on a trusted network).",
        json_schema_extra={"example": '"https://chat.vks.thanhhoa.gov.vn/hooks/giam-sat"'},
    )
    secret_file: Path | None = Field(
        None,
        description="A file holding the signing key (first line): every post then carries "
        "X-Scanstation-Signature: sha256=HMAC-SHA256(key, body) in hex.",
        json_schema_extra={"example": '"/etc/scanstation-fleet/webhook-secret"'},
    )
    ca_file: Path | None = Field(
        None, description="A CA certificate for an https address not in the system's CAs."
    )
    timeout_s: float = Field(10.0, gt=0, le=120, description="Seconds to wait for an answer.")
    retries: int = Field(5, ge=0, le=50, description="Further attempts after a failure.")
    backoff_s: float = Field(
        10.0, gt=0, le=3600, description="Wait before the first retry; doubled each time."
    )


class FleetSettings(_Strict):
    rules: Rules = Field(default_factory=Rules)
    calendar: Calendar = Field(default_factory=Calendar)
    notify: Notify = Field(default_factory=Notify)
    email: EmailChannel | None = None
    webhook: WebhookChannel | None = None

    def is_quiet(self, moment: datetime) -> bool:
        hours = self.notify.quiet_hours
        return bool(hours) and in_span(hours, moment.astimezone(VIETNAM).time())

    def quiet_end(self, moment: datetime) -> datetime | None:
        """When the quiet hours around ``moment`` end (None outside them)."""
        if not self.is_quiet(moment):
            return None
        _, end = span_times(self.notify.quiet_hours)
        local = moment.astimezone(VIETNAM)
        at = datetime.combine(local.date(), end, VIETNAM)
        return at if at > local else at + timedelta(days=1)


def load_fleet(path: Path) -> FleetSettings:
    """``fleet.toml`` validated; ConfigError naming the line and the fix."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the fleet config {path}: {exc}. Fix: see docs/fleet.md",
            f"Không đọc được cấu hình giám sát {path}: {exc}. Cách sửa: xem docs/fleet.md",
        ) from None
    return parse_toml(text, FleetSettings, str(path))


def read_secret_file(path: Path, what: str) -> str:
    """The first line of a secret file, refused when every user may read it.
    The secret is never part of a message or a log line."""
    try:
        if path.stat().st_mode & 0o004:
            raise ConfigError(
                f"{path} ({what}) can be read by every user: chmod 600 {path}",
                f"Mọi người dùng đều đọc được {path} ({what}): chạy chmod 600 {path}",
            )
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read {what} from {path}: {exc.__class__.__name__}",
            f"Không đọc được {what} từ {path}: {exc.__class__.__name__}",
        ) from None
    secret = lines[0].strip() if lines else ""
    if not secret or re.search(r"[\r\n\0]", secret):
        raise ConfigError(
            f"{path} ({what}) is empty: write the secret on its first line",
            f"{path} ({what}) trống: ghi bí mật vào dòng đầu",
        )
    return secret
