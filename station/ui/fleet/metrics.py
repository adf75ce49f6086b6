"""The fleet in the Prometheus text exposition format (version 0.0.4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from station.central.fleet import STATES
from station.wire.payloads import MODELS, REASONS


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _get(health: dict[str, Any] | None, *path: str) -> float | None:
    value: Any = health
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _seconds(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        at = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


#: name, type, help, and where it is in a station's health report
FROM_HEALTH: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("queue_depth", "gauge", "Documents waiting for their receipt", ("queue", "depth")),
    ("queue_to_send", "gauge", "Documents not yet sent", ("queue", "to_send")),
    ("oldest_pending_seconds", "gauge", "Age of the oldest document without a receipt",
     ("queue", "oldest_pending_s")),
    ("disk_free_bytes", "gauge", "Free space on the station's data disk", ("disk", "free_bytes")),
    ("cpu_temperature_celsius", "gauge", "SoC temperature", ("cpu_temp_c",)),
    ("memory_rss_bytes", "gauge", "Resident memory of the station process",
     ("memory", "rss_bytes")),
    ("uptime_seconds", "gauge", "Seconds since the station process started", ("uptime_s",)),
    ("pages_total", "counter", "Pages captured since installation", ("counters", "pages_total")),
    ("sheets_since_roller", "gauge", "Sheets fed since the last roller change",
     ("counters", "sheets_since_roller")),
    ("roller_limit_sheets", "gauge", "Sheets the feed rollers last", ("counters", "roller_limit")),
]  # fmt: skip


def _ratio(view: dict[str, Any]) -> float | None:
    percent = _get(view["health"], "disk", "free_percent")
    return None if percent is None else percent / 100


#: name, type, help, how to read it from a station's view
GAUGES: list[tuple[str, str, str, Callable[[dict[str, Any]], float | None]]] = [
    *[
        (name, kind, text, lambda v, path=path: _get(v["health"], *path))
        for name, kind, text, path in FROM_HEALTH
    ],
    ("disk_free_ratio", "gauge", "Free share of the station's data disk", _ratio),
    ("last_seen_timestamp_seconds", "gauge", "When the station was last heard",
     lambda v: _seconds(v["last_seen"])),
    ("alerts", "gauge", "Active dashboard alerts", lambda v: float(len(v["alerts"]))),
    ("alerts_unacknowledged", "gauge", "Active dashboard alerts nobody has acknowledged",
     lambda v: float(sum(1 for a in v["alerts"] if not getattr(a, "acked_at", None)))),
]  # fmt: skip


def _family(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> list[str]:
    lines = [f"# HELP scanstation_{name} {help_text}", f"# TYPE scanstation_{name} {kind}"]
    return lines + [f"scanstation_{name}{{{labels}}} {value!r}" for labels, value in samples]


def _rejected(counts: dict[tuple[str, str], int]) -> list[str]:
    """Messages the fleet dropped, by topic and reason: every pair is listed
    (0 until one comes), and both labels come from fixed sets."""
    samples = [
        (f'topic="{kind}",reason="{reason}"', float(counts.get((kind, reason), 0)))
        for kind in MODELS
        for reason in REASONS
    ]
    lines = [
        "# HELP scanstation_fleet_payloads_rejected_total Station messages the fleet dropped"
        " because they do not fit their schema",
        "# TYPE scanstation_fleet_payloads_rejected_total counter",
    ]
    return lines + [
        f"scanstation_fleet_payloads_rejected_total{{{labels}}} {value!r}"
        for labels, value in samples
    ]


def _notifications(counts: dict[tuple[str, str], int]) -> list[str]:
    """The dashboard's own messages about alerts, by channel: waiting to be sent
    (or retried), and given up."""
    lines: list[str] = []
    for kind, text in (
        ("pending", "Alert notifications waiting to be sent or retried"),
        ("failed", "Alert notifications given up after their retries (kept 400 days)"),
    ):
        samples = [
            (f'channel="{_label(channel)}"', float(value))
            for (channel, which), value in sorted(counts.items())
            if which == kind
        ]
        lines += _family(f"fleet_notifications_{kind}", "gauge", text, samples)
    return lines


def exposition(
    views: list[dict[str, Any]],
    rejected: dict[tuple[str, str], int] | None = None,
    notifications: dict[tuple[str, str], int] | None = None,
) -> str:
    def station(view: dict[str, Any]) -> str:
        return f'station="{_label(view["station_id"])}"'

    lines = _family(
        "up",
        "gauge",
        "1 when the station's state is online",
        [(station(v), float(v["state"] == "online")) for v in views],
    )
    lines += _family(
        "state",
        "gauge",
        "The station's state (online, offline, lost)",
        [(f'{station(v)},state="{s}"', float(v["state"] == s)) for v in views for s in STATES],
    )
    for name, kind, help_text, read in GAUGES:
        samples = []
        for view in views:
            value = read(view)
            if value is not None:
                samples.append((f'{station(view)},unit="{_label(view["unit"])}"', value))
        lines += _family(name, kind, help_text, samples)
    lines += _rejected(rejected or {})
    lines += _notifications(notifications or {})
    return "\n".join(lines) + "\n"
