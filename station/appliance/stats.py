"""The station's one stats snapshot: the ``health`` topic, the UI and ``/api/stats``.

:meth:`Stats.snapshot` reads the store, the disk, the machine and the scanner
state into one JSON-ready dict (docs/mqtt.md, ``health``); :func:`conditions`
turns a snapshot into the problems the station reports as events.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from station import __version__
from station.common.clock import VIETNAM
from station.config.remote import Settings
from station.errors import StationError
from station.store import Store, now_iso
from station.wire.payloads import SCANNER_STATUS

#: an error's code -> the scanner status it leaves behind
_STATUS_OF_ERROR = {
    "scanner.jam": "jammed",
    "scanner.cover_open": "cover_open",
    "scanner.no_paper": "no_paper",
    "scanner.busy": "busy",
    "scanner.not_found": "offline",
    "scanner.unplugged": "offline",
}

#: counters reset together by the ``reset-counter`` command
RESETTABLE = {"roller": ("pages_since_roller", "sheets_since_roller")}


@dataclass
class ScannerState:
    """What the capture side last knew about the scanner (thread-safe)."""

    model: str = ""
    device: str = ""
    status: str = "unknown"

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def set(self, status: str, *, model: str | None = None, device: str | None = None) -> None:
        if status not in SCANNER_STATUS:
            raise ValueError(f"unknown scanner status {status!r}")
        with self._lock:
            self.status = status
            if model is not None:
                self.model = model
            if device is not None:
                self.device = device

    def failed(self, error: StationError) -> None:
        """Record the status a capture error leaves the scanner in."""
        self.set(_STATUS_OF_ERROR.get(error.code, "error"))

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            vi, en = SCANNER_STATUS[self.status]
            return {
                "model": self.model,
                "device": self.device,
                "status": self.status,
                "status_text": {"vi": vi, "en": en},
            }


def cpu_temperature(root: Path = Path("/sys/class/thermal")) -> float | None:
    """The SoC temperature in °C (a Raspberry Pi's cpu-thermal zone), or None."""
    zones = sorted(root.glob("thermal_zone*"))
    preferred = [z for z in zones if _read(z / "type") in {"cpu-thermal", "x86_pkg_temp"}]
    for zone in preferred or zones:
        raw = _read(zone / "temp")
        if raw and raw.lstrip("-").isdigit():
            return round(int(raw) / 1000, 1)
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def memory() -> dict[str, int | None]:
    """This process's resident memory and the machine's available and total memory."""
    info: dict[str, int] = {}
    for path, keys in (
        (Path("/proc/self/status"), ("VmRSS",)),
        (Path("/proc/meminfo"), ("MemAvailable", "MemTotal")),
    ):
        for line in _read(path).splitlines():
            name, _, rest = line.partition(":")
            if name in keys and rest.split():
                info[name] = int(rest.split()[0]) * 1024
    return {
        "rss_bytes": info.get("VmRSS"),
        "available_bytes": info.get("MemAvailable"),
        "total_bytes": info.get("MemTotal"),
    }


def _months_back(now: datetime, count: int) -> str:
    year, month = now.year, now.month - (count - 1)
    while month < 1:
        month += 12
        year -= 1
    return f"{year:04d}-{month:02d}"


def _age_s(iso: str | None, now: datetime) -> float | None:
    if iso is None:
        return None
    return round(max(0.0, (now - datetime.fromisoformat(iso)).total_seconds()), 1)


class Stats:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        scanner: ScannerState | None = None,
        *,
        boot: int = 0,
        connected: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.scanner = scanner or ScannerState()
        self.boot = boot
        self.connected = connected
        self.started = time.monotonic()
        #: the signing desk's state (set by the station that signs)
        self.signing: Callable[[], dict[str, Any]] | None = None

    def snapshot(self) -> dict[str, Any]:
        config = self.settings.config
        now = datetime.now(UTC)
        outbox = self.store.outbox.summary()
        counts = outbox["counts"]
        try:
            usage = shutil.disk_usage(self.store.data_dir)
            disk: dict[str, Any] = {
                "free_bytes": usage.free,
                "total_bytes": usage.total,
                "free_percent": round(100 * usage.free / usage.total, 1) if usage.total else None,
                "floor_bytes": config.station.min_free_mb * 1024 * 1024,
            }
        except OSError:
            disk = {"free_bytes": None, "total_bytes": None, "free_percent": None}
        counters = self.store.counters()
        last = self.store.events.last("error")
        return {
            "station_id": config.station.id,
            "unit": config.station.unit_name,
            "version": __version__,
            "boot": self.boot,
            "ts": now_iso(),
            "uptime_s": round(time.monotonic() - self.started),
            "interval_s": config.telemetry.interval_s,
            "broker_connected": self.connected.is_set() if self.connected else None,
            "queue": {
                "depth": sum(counts.values()),
                "to_send": counts["held"] + counts["queued"] + counts["sent"],
                "held": counts["held"],
                "awaiting_receipt": counts["announced"],
                "oldest_pending_s": _age_s(outbox["oldest"], now),
                "oldest_unsent_s": _age_s(outbox["oldest_unsent"], now),
                "rejected": len(self.store.outbox.unanswered()),
            },
            "disk": disk,
            "cpu_temp_c": cpu_temperature(),
            "memory": memory(),
            "scanner": self.scanner.as_dict(),
            "counters": {
                "pages_total": counters.get("pages_total", 0),
                "pages_since_roller": counters.get("pages_since_roller", 0),
                "sheets_total": counters.get("sheets_total", 0),
                "sheets_since_roller": counters.get("sheets_since_roller", 0),
                "roller_limit": config.scanner.roller_limit,
            },
            "digitized": self.store.digitized_by_month(_months_back(now.astimezone(VIETNAM), 13)),
            "last_document_at": self.store.last_document_at(),
            "signing": self.signing() if self.signing else {"enabled": config.signing.enabled},
            "network": config.security.network,
            "last_error": (
                {
                    "type": last.type,
                    "ts": last.ts,
                    "message": {"vi": last.message_vi, "en": last.message_en},
                }
                if last
                else None
            ),
        }


@dataclass(frozen=True)
class Condition:
    """A problem the station reports as an event when it starts and when it ends."""

    type: str
    message_vi: str
    message_en: str
    detail: dict[str, Any]


def conditions(snapshot: dict[str, Any], settings: Settings) -> list[Condition]:
    """The problems a snapshot shows, by the ``[telemetry]`` thresholds."""
    limits = settings.config.telemetry
    found = []
    disk = snapshot["disk"]
    free, floor, percent = disk.get("free_bytes"), disk.get("floor_bytes"), disk["free_percent"]
    if percent is not None and (percent < limits.disk_alert_percent or free < 2 * floor):
        found.append(
            Condition(
                "disk.low",
                f"Đĩa sắp đầy: còn {percent:.1f} % ({free // 2**20} MiB)",
                f"Disk almost full: {percent:.1f} % ({free // 2**20} MiB) free",
                {"free_bytes": free, "free_percent": percent},
            )
        )
    queue = snapshot["queue"]
    unsent = queue["oldest_unsent_s"]
    if unsent is not None and unsent > limits.upload_alert_minutes * 60:
        found.append(
            Condition(
                "upload.failing",
                f"Chưa gửi được văn bản: {queue['to_send']} văn bản chờ gửi, lâu nhất "
                f"{unsent / 60:.0f} phút",
                f"Upload failing: {queue['to_send']} documents waiting, the oldest for "
                f"{unsent / 60:.0f} min",
                {"to_send": queue["to_send"], "oldest_unsent_s": unsent},
            )
        )
    pending = queue["oldest_pending_s"]
    if pending is not None and pending > limits.backlog_alert_hours * 3600:
        found.append(
            Condition(
                "backlog.old",
                f"Văn bản chờ xác nhận đã nhận quá lâu: {queue['depth']} văn bản, lâu nhất "
                f"{pending / 3600:.1f} giờ",
                f"Backlog too old: {queue['depth']} documents without a receipt, the oldest "
                f"for {pending / 3600:.1f} h",
                {"depth": queue["depth"], "oldest_pending_s": pending},
            )
        )
    return found
