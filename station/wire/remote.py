"""The fleet's remote commands: their names, and the settings the ``config`` command may set.

Both sides read this: the fleet offers exactly these commands and keys, and the
station runs exactly these (``station.uplink.commands``) and refuses any other
key (``station.config.remote``).
"""

from __future__ import annotations

#: the commands a station takes under ``cmd/{name}`` (docs/mqtt.md)
COMMANDS = ("ping", "reannounce", "config", "reset-counter")

#: "section.key" -> what it changes; nothing else can be set remotely (no
#: paths, no broker, no secrets, no station id)
REMOTE_KEYS: dict[str, str] = {
    "station.unit_name": "unit name printed on labels and reported to the fleet",
    "station.language": "language of the UI and messages",
    "station.min_free_mb": "free space floor in MiB",
    "scanner.default_profile": "profile of the scan button",
    "scanner.roller_limit": "sheets the feed rollers last",
    "pipeline.blank_sensitivity": "blank page sensitivity",
    "pipeline.separator_text": "separator sheet barcode text",
    "pipeline.auto_confirm_seconds": "auto-confirm countdown",
    "ocr.jobs": "Tesseract processes",
    "uplink.retention_hours": "hours a delivered copy is kept",
    "telemetry.interval_s": "seconds between health reports",
    "telemetry.disk_alert_percent": "disk.low threshold",
    "telemetry.upload_alert_minutes": "upload.failing threshold",
    "telemetry.backlog_alert_hours": "backlog.old threshold",
}
