"""The fleet's remote commands: their names, and the settings the ``config`` command may set.

Both sides read this: the fleet offers exactly these commands and keys, and the
station runs exactly these (``station.uplink.commands``) and refuses any other
key (``station.config.remote``). The labels people read (the dashboard's
settings form, its confirmation screens and its command log) are here too, so
that a setting has one name everywhere: Vietnamese first, then English.
"""

from __future__ import annotations

from dataclasses import dataclass

#: the commands a station takes under ``cmd/{name}`` (docs/mqtt.md)
COMMANDS = ("ping", "reannounce", "config", "reset-counter")

#: command -> (Vietnamese, English), as the dashboard names it
COMMAND_LABELS: dict[str, tuple[str, str]] = {
    "ping": ("Kiểm tra kết nối", "Check the connection"),
    "reannounce": ("Yêu cầu báo cáo lại", "Ask for a new report"),
    "config": ("Cấu hình", "Settings"),
    "reset-counter": ("Đặt lại bộ đếm trục cuốn", "Reset the roller counter"),
}

#: the counters ``reset-counter`` may reset (``args.counter``)
RESETTABLE_LABELS: dict[str, tuple[str, str]] = {
    "roller": ("bộ đếm trục cuốn giấy", "the feed roller counter"),
}


@dataclass(frozen=True)
class RemoteSetting:
    """A setting the fleet may change: what it is for, its labels and its kind.

    ``kind`` says how the dashboard reads a typed value: ``text``, ``int``,
    ``float`` or ``choice`` (one of ``choices``); the station checks the value
    against its own config model all the same.
    """

    description: str
    vi: str
    en: str
    kind: str = "text"
    choices: tuple[str, ...] = ()
    unit: str = ""

    @property
    def label(self) -> str:
        """ "Tên đơn vị / Unit name": Vietnamese first."""
        return f"{self.vi} / {self.en}"


#: "section.key" -> the setting; nothing else can be set remotely (no paths,
#: no broker, no secrets, no station id)
REMOTE_SETTINGS: dict[str, RemoteSetting] = {
    "station.unit_name": RemoteSetting(
        "unit name printed on labels and reported to the fleet", "Tên đơn vị", "Unit name"
    ),
    "station.language": RemoteSetting(
        "language of the UI and messages", "Ngôn ngữ", "Language", "choice", ("vi", "en")
    ),
    "station.min_free_mb": RemoteSetting(
        "free space floor in MiB", "Dung lượng trống tối thiểu", "Free space floor", "int",
        unit="MiB",
    ),
    "scanner.default_profile": RemoteSetting(
        "profile of the scan button", "Chế độ quét của nút Quét", "Scan button profile"
    ),
    "scanner.roller_limit": RemoteSetting(
        "sheets the feed rollers last", "Tuổi thọ trục cuốn giấy", "Feed roller life", "int",
        unit="tờ / sheets",
    ),
    "pipeline.blank_sensitivity": RemoteSetting(
        "blank page sensitivity", "Độ nhạy bỏ trang trắng", "Blank page sensitivity", "choice",
        ("low", "medium", "high"),
    ),
    "pipeline.separator_text": RemoteSetting(
        "separator sheet barcode text", "Mã vạch tờ phân cách", "Separator sheet barcode"
    ),
    "pipeline.auto_confirm_seconds": RemoteSetting(
        "auto-confirm countdown", "Thời gian tự xác nhận", "Auto-confirm countdown", "int",
        unit="s",
    ),
    "ocr.jobs": RemoteSetting(
        "Tesseract processes", "Số tiến trình nhận dạng chữ", "OCR processes", "int"
    ),
    "uplink.retention_hours": RemoteSetting(
        "hours a delivered copy is kept", "Giữ bản đã gửi", "Keep delivered copies", "int",
        unit="giờ / h",
    ),
    "telemetry.interval_s": RemoteSetting(
        "seconds between health reports", "Chu kỳ báo cáo tình trạng", "Health report interval",
        "int", unit="s",
    ),
    "telemetry.disk_alert_percent": RemoteSetting(
        "disk.low threshold", "Ngưỡng báo đĩa sắp đầy", "Low disk threshold", "int", unit="%"
    ),
    "telemetry.upload_alert_minutes": RemoteSetting(
        "upload.failing threshold", "Ngưỡng báo gửi chậm", "Upload delay threshold", "int",
        unit="phút / min",
    ),
    "telemetry.backlog_alert_hours": RemoteSetting(
        "backlog.old threshold", "Ngưỡng báo chờ xác nhận lâu", "Receipt delay threshold", "int",
        unit="giờ / h",
    ),
}  # fmt: skip

#: "section.key" -> what it changes (the station's reading of the same list)
REMOTE_KEYS: dict[str, str] = {key: s.description for key, s in REMOTE_SETTINGS.items()}
