"""[station]: who the station is and where it keeps its data."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from station.common.direction import Direction
from station.config.base import (
    StationId,
    Strict,
    default_data_dir,
)


class StationSection(Strict):
    id: StationId = Field(
        "station",
        description="Station id: 1-32 lowercase letters, digits or '-'. Equals the MQTT "
        "username and the TLS certificate CN.",
        json_schema_extra={"example": '"vks-thanhhoa-vt01"'},
    )
    unit_name: str = Field(
        "",
        max_length=200,
        description="The unit this counter belongs to, as printed on documents.",
        json_schema_extra={"example": '"Viện kiểm sát nhân dân tỉnh Thanh Hóa"'},
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the store (SQLite database and page spool) lives.",
        json_schema_extra={"example": '"/var/lib/scanstation"'},
    )
    language: Literal["vi", "en"] = Field("vi", description="Language of the UI and messages.")
    default_direction: Direction = Field(
        "incoming",
        description="What the scan screen has chosen at start, and what the scanner's "
        "button and the hot folder scan: incoming (văn bản đến) or outgoing (văn bản đi).",
    )
    min_free_mb: int = Field(
        500,
        ge=50,
        le=1_000_000,
        description="Free space floor in MiB: capture stops before the disk gets fuller.",
    )
    cancelled_retention_hours: int = Field(
        24,
        ge=0,
        le=24 * 365,
        description="Keep the files of a cancelled batch this long after it was cancelled; 0 "
        "removes them at the next round (see [uplink] retention_hours for delivered ones).",
    )
