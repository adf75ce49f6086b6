"""[scanner] and its profiles: which device, and how each button scans."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from station.config.base import (
    Strict,
)

SourceName = Literal["adf-duplex", "adf-front", "adf-back", "flatbed", "auto"]
ModeName = Literal["color", "gray", "lineart"]

PAGE_SIZES_MM: dict[str, tuple[float, float]] = {
    "A3": (297.0, 420.0),
    "A4": (210.0, 297.0),
    "A5": (148.0, 210.0),
    "Letter": (215.9, 279.4),
    "Legal": (215.9, 355.6),
}


class Profile(Strict):
    source: SourceName = Field(
        "adf-duplex",
        description="Paper source: adf-duplex, adf-front, adf-back, flatbed or auto; mapped "
        "onto each scanner's own source names.",
    )
    mode: ModeName = Field("color", description="Colour mode: color, gray or lineart.")
    resolution: int = Field(
        200, ge=75, le=1200, description="Resolution in dpi (Decree 30 asks for at least 200)."
    )
    page_size: Literal["A3", "A4", "A5", "Letter", "Legal", "max"] = Field(
        "max",
        description="Scan area: a paper size, or max for the whole area the scanner offers "
        "(the pipeline crops to the paper edge).",
    )
    max_pages: int = Field(
        1000, ge=1, le=100_000, description="Stop a batch after this many pages (a guard)."
    )
    file_format: Literal["jpeg", "png"] = Field(
        "jpeg",
        description="How captured pages are stored: jpeg (4:4:4, keeps up with fast duplex "
        "scanners) or png (lossless, about 20 times slower to encode and 9 times larger).",
    )
    jpeg_quality: int = Field(92, ge=70, le=100, description="JPEG quality of captured pages.")

    @property
    def paper_mm(self) -> tuple[float, float]:
        """The paper a page is cut to when its edge cannot be seen against the
        backing (docs/imaging.md#white-backing-and-overscan): the page size, or
        A4, Decree 30's paper, for ``max``."""
        return PAGE_SIZES_MM.get(self.page_size, PAGE_SIZES_MM["A4"])


def _default_profiles() -> dict[str, Profile]:
    return {
        "standard": Profile(source="adf-duplex", mode="color", resolution=200),
        "simplex": Profile(source="adf-front", mode="color", resolution=200),
        "archive": Profile(source="adf-duplex", mode="color", resolution=300),
        "flatbed": Profile(source="flatbed", mode="color", resolution=300, page_size="A4"),
    }


class ScannerSection(Strict):
    device: str = Field(
        "auto",
        min_length=1,
        max_length=512,
        description="Scanner to use: auto (the first SANE scanner found), a SANE device "
        "name or glob (fujitsu:*), or folder:PATH for a folder of images (add ?mode=hot to "
        "consume files as they arrive).",
        json_schema_extra={"example": '"fujitsu:*"'},
    )
    default_profile: str = Field(
        "standard", description="Profile used by the scan button and the GPIO button."
    )
    profiles: dict[str, Profile] = Field(
        default_factory=_default_profiles,
        description="Named scan profiles; a [scanner.profiles] table replaces the built-in ones.",
    )
    poll_buttons: bool = Field(
        True, description="Poll the scanner's own buttons (SANE sensor options)."
    )
    button_sensors: tuple[Annotated[str, Field(min_length=1, max_length=64)], ...] = Field(
        ("scan", "email", "copy", "pdf", "file", "ocr", "start", "button*"),
        description="Names (globs) of the scanner's sensor options that are buttons; other "
        "sensors such as cover-open or page-loaded never start a batch.",
    )
    button_poll_ms: int = Field(
        500, ge=100, le=10_000, description="How often the scanner's buttons are read, in ms."
    )
    gpio_pin: int | None = Field(
        None, ge=0, le=53, description="BCM number of a GPIO push button (none: no GPIO button)."
    )
    roller_limit: int = Field(
        200_000,
        ge=1000,
        le=10_000_000,
        description="Sheets the scanner's feed rollers last (see the scanner's manual); the "
        "fleet dashboard warns when the counter since the last roller change passes it.",
    )

    @field_validator("profiles")
    @classmethod
    def _profile_names(cls, value: dict[str, Profile]) -> dict[str, Profile]:
        if not value:
            raise ValueError("at least one profile is needed")
        for name in value:
            if not re.fullmatch(r"[a-z0-9_-]{1,32}", name):
                raise ValueError(f"profile name {name!r}: use 1-32 lowercase letters, digits, _ -")
        return value

    @model_validator(mode="after")
    def _default_exists(self) -> ScannerSection:
        if self.default_profile not in self.profiles:
            raise PydanticCustomError(
                "config_key",
                "{value!r} is not one of the profiles: {known}",
                {
                    "key": "default_profile",
                    "value": self.default_profile,
                    "known": ", ".join(sorted(self.profiles)),
                },
            )
        return self
