"""The station's configuration: one strict, documented ``station.toml``, a module a section.
Imports only station.common, station.errors and the wire module's remote keys.

Every key is described in its model; docs/config.md is the reader's version of the same.
Unknown keys, wrong types and impossible values are refused with the key, the
line in the file and the fix. Runtime state never goes into these objects: they
are frozen.
"""

from __future__ import annotations

from station.common.tomlconfig import key_lines
from station.config.base import (
    DEFAULT_PATH,
    DEFAULT_REGISTRATION,
    StationId,
    Strict,
    default_data_dir,
)
from station.config.loading import load, parse, read_secret
from station.config.model import Config
from station.config.pipeline import OcrSection, PipelineSection
from station.config.records import IncomingSection, SigningSection
from station.config.reference import markdown_reference
from station.config.scanner import PAGE_SIZES_MM, Profile, ScannerSection
from station.config.security import NETWORKS, SecuritySection
from station.config.station import StationSection
from station.config.ui import PinGroup, UiSection, host_name_or_address
from station.config.uplink import TelemetrySection, UplinkSection

__all__ = [
    "DEFAULT_PATH",
    "DEFAULT_REGISTRATION",
    "NETWORKS",
    "PAGE_SIZES_MM",
    "Config",
    "IncomingSection",
    "OcrSection",
    "PinGroup",
    "PipelineSection",
    "Profile",
    "ScannerSection",
    "SecuritySection",
    "SigningSection",
    "StationId",
    "StationSection",
    "Strict",
    "TelemetrySection",
    "UiSection",
    "UplinkSection",
    "default_data_dir",
    "host_name_or_address",
    "key_lines",
    "load",
    "markdown_reference",
    "parse",
    "read_secret",
]
