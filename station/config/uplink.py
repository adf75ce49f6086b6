"""[uplink] and [telemetry]: delivery to the central side, and the station's reports."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from station.config.base import (
    Strict,
)


class UplinkSection(Strict):
    broker: str = Field(
        "mqtts://localhost:8883",
        description="Broker URL: mqtts://host:port (TLS) or mqtt://host:port (loopback or "
        "tests only).",
        json_schema_extra={"example": '"mqtts://mqtt.vks.thanhhoa.gov.vn:8883"'},
    )
    ca_file: Path | None = Field(None, description="CA certificate that signed the broker's.")
    cert_file: Path | None = Field(None, description="This station's client certificate.")
    key_file: Path | None = Field(None, description="This station's private key (mode 0600).")
    username: str | None = Field(
        None, max_length=64, description="MQTT username; defaults to the station id."
    )
    password_file: Path | None = Field(
        None,
        description="File holding the MQTT password (or set SCANSTATION_MQTT_PASSWORD); "
        "never put it on the command line.",
    )
    topic_mode: Literal["station", "emqx"] = Field(
        "station",
        description="File transfer topics: station (under the station's own root) or emqx "
        "($file-async/…, EMQX stores the files).",
    )
    segment_size: int = Field(
        262_144, ge=4096, le=16 * 1024 * 1024, description="File transfer segment size, bytes."
    )
    window: int = Field(8, ge=1, le=256, description="Segments in flight before waiting.")
    keepalive_s: int = Field(60, ge=5, le=3600, description="MQTT keep-alive, seconds.")
    retention_hours: int = Field(
        168,
        ge=0,
        le=24 * 365,
        description="Keep a batch's files (pages, thumbnails, PDFs) this long after the "
        "receipt 01 of its last document; 0 erases them at once.",
    )

    @field_validator("broker")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        return broker_url(value)


def broker_url(value: str) -> str:
    """A broker URL as ``[uplink] broker`` takes it, or a ValueError saying why not."""
    parts = urlsplit(value)
    if parts.scheme not in {"mqtt", "mqtts", "ws", "wss"}:
        raise ValueError("the URL must start with mqtts://, mqtt://, wss:// or ws://")
    if not parts.hostname:
        raise ValueError("the URL has no host")
    try:
        _ = parts.port
    except ValueError as exc:
        raise ValueError("the port is not a number from 1 to 65535") from exc
    if parts.username or parts.password:
        raise ValueError("no user or password in the URL: use username and password_file")
    return value


#: the counter's actions that ``[ui] require_pin_for`` can put behind the PIN


class TelemetrySection(Strict):
    interval_s: int = Field(60, ge=5, le=3600, description="Seconds between health reports.")
    disk_alert_percent: int = Field(
        10,
        ge=1,
        le=90,
        description="Report disk.low when less than this share (%) of the disk is free.",
    )
    upload_alert_minutes: int = Field(
        15,
        ge=1,
        le=1440,
        description="Report upload.failing when a document has waited this long to be sent.",
    )
    backlog_alert_hours: int = Field(
        8,
        ge=1,
        le=720,
        description="Report backlog.old when a document has waited this long for its receipt "
        "(Decree 30: delivered the same working day).",
    )
