"""The whole ``station.toml``: one section per part of the station."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from station.config.base import (
    Strict,
)
from station.config.pipeline import OcrSection, PipelineSection
from station.config.records import IncomingSection, OutgoingSection, SigningSection
from station.config.scanner import Profile, ScannerSection
from station.config.security import SecuritySection
from station.config.station import StationSection
from station.config.ui import UiSection
from station.config.uplink import TelemetrySection, UplinkSection
from station.errors import ConfigError


class Config(Strict):
    station: StationSection = Field(default_factory=StationSection)
    scanner: ScannerSection = Field(default_factory=ScannerSection)
    pipeline: PipelineSection = Field(default_factory=PipelineSection)
    ocr: OcrSection = Field(default_factory=OcrSection)
    uplink: UplinkSection = Field(default_factory=UplinkSection)
    ui: UiSection = Field(default_factory=UiSection)
    telemetry: TelemetrySection = Field(default_factory=TelemetrySection)
    signing: SigningSection = Field(default_factory=SigningSection)
    incoming: IncomingSection = Field(default_factory=IncomingSection)
    outgoing: OutgoingSection = Field(default_factory=OutgoingSection)
    security: SecuritySection = Field(default_factory=SecuritySection)

    @model_validator(mode="after")
    def _secret_route(self) -> Config:
        if self.security.secret_topic_root and self.uplink.topic_mode != "station":
            raise PydanticCustomError(
                "config_key",
                "secret documents go under their own topic root ([security] "
                "secret_topic_root): topic_mode must be station",
                {"key": "uplink.topic_mode"},
            )
        return self

    def profile(self, name: str | None = None) -> Profile:
        key = name or self.scanner.default_profile
        try:
            return self.scanner.profiles[key]
        except KeyError:
            raise ConfigError(
                f"no scan profile named {key!r}; known: {', '.join(sorted(self.scanner.profiles))}",
                f"Không có cấu hình quét {key!r}; hiện có: "
                f"{', '.join(sorted(self.scanner.profiles))}",
            ) from None


# --------------------------------------------------------------------------- loading
