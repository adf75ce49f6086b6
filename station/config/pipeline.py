"""[pipeline] and [ocr]: blank pages, labels and separators, the countdown, OCR."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from station.config.base import (
    DEFAULT_REGISTRATION,
    Strict,
)

#: Smallest cleaning budget that can be configured: one page at the input limit.
MIN_CLEAN_MEMORY_MB = 512


class PipelineSection(Strict):
    blank_sensitivity: Literal["low", "medium", "high"] = Field(
        "medium",
        description="How readily a page is taken for blank: high drops more (faint pages "
        "too), low keeps more. A page with a signature or a few lines is never dropped.",
    )
    registration_pattern: str = Field(
        DEFAULT_REGISTRATION,
        description="Regular expression of a registration label, with named groups "
        "'year' and 'number' (the Số đến).",
    )
    separator_text: str = Field(
        "PATCHT",
        min_length=1,
        max_length=64,
        pattern=r"^[\x21-\x7e]+$",
        description="Barcode text of a separator sheet (printable ASCII, no spaces).",
    )
    outgoing_sheet: str = Field(
        "VANBANDI",
        min_length=1,
        max_length=64,
        pattern=r"^[\x21-\x7e]+$",
        description="Barcode text of a cover sheet that makes its batch outgoing (văn bản "
        "đi), whatever was chosen on the screen; dropped like a separator.",
    )
    incoming_sheet: str = Field(
        "VANBANDEN",
        min_length=1,
        max_length=64,
        pattern=r"^[\x21-\x7e]+$",
        description="Barcode text of a cover sheet that makes its batch incoming (văn bản "
        "đến); dropped like a separator.",
    )
    clean_memory_mb: int = Field(
        0,
        ge=0,
        le=1_048_576,
        description="Memory the page-cleaning workers may hold together, in MB; 0 takes 40 % "
        "of the machine's memory (MemTotal). Pages wait for room; a page over 24 MP is "
        "cleaned alone (docs/imaging.md#memory).",
    )
    auto_confirm_seconds: int = Field(
        10,
        ge=0,
        le=600,
        description=(
            "Countdown, per document, before a clean batch read surely is confirmed by "
            "itself (at most 900 s in all); 0 turns it off."
        ),
    )

    @field_validator("clean_memory_mb")
    @classmethod
    def _room_for_a_page(cls, value: int) -> int:
        if 0 < value < MIN_CLEAN_MEMORY_MB:
            raise ValueError(
                f"at least {MIN_CLEAN_MEMORY_MB} MB (a page at the input limit needs about "
                "500 MB to be cleaned), or 0 to take it from the machine's memory"
            )
        return value

    @field_validator("registration_pattern")
    @classmethod
    def _pattern_groups(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        missing = {"year", "number"} - set(compiled.groupindex)
        if missing:
            raise ValueError("the pattern needs the named groups (?P<year>…) and (?P<number>…)")
        return value

    @model_validator(mode="after")
    def _sheets_apart(self) -> PipelineSection:
        """A separator, a cover sheet and a label must never be taken for one another."""
        sheets = {
            "outgoing_sheet": self.outgoing_sheet,
            "incoming_sheet": self.incoming_sheet,
            "separator_text": self.separator_text,
        }
        # the key set in the file is the one named (the defaults differ)
        fields = type(self).model_fields
        named = sorted(sheets, key=lambda k: sheets[k] == fields[k].default)
        for key in named:
            text = sheets[key]
            others = [k for k, v in sheets.items() if v == text and k != key]
            if others or re.fullmatch(self.registration_pattern, text):
                raise PydanticCustomError(
                    "config_key",
                    f"{text!r} is also {others[0] if others else 'a registration label'}: "
                    "each sheet needs its own barcode text",
                    {"key": key},
                )
        return self


class OcrSection(Strict):
    languages: tuple[Annotated[str, Field(pattern=r"^[a-z_]{3,16}$")], ...] = Field(
        ("vie", "eng"),
        min_length=1,
        description="Tesseract languages, most likely first.",
    )
    jobs: int = Field(
        0,
        ge=0,
        le=64,
        description="Tesseract processes the station runs at once (pages in parallel); 0 uses "
        "all cores but one, so capture keeps a core.",
    )
    page_timeout_s: int = Field(
        180, ge=10, le=3600, description="Give up OCR of one page after this many seconds."
    )
    min_confidence: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description="A header field read with less confidence than this is left empty and "
        "marked for checking in the review (docs/ocr.md#confidence).",
    )
