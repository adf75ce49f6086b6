"""Text, date and time on the edXML wire: one copy of each rule for the writer
and the reader."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

#: Characters XML 1.0 cannot carry (controls other than tab and newline,
#: lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_DATES = (
    re.compile(r"(?P<y>\d{4})[/-](?P<m>\d{1,2})[/-](?P<d>\d{1,2})", re.ASCII),
    # one Bkav sample writes dd/MM/yyyy
    re.compile(r"(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})", re.ASCII),
)
_TIME = re.compile(r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?", re.ASCII)


def nfc(value: str) -> str:
    """NFC, as every text the station keeps."""
    return unicodedata.normalize("NFC", value)


def for_wire(value: str) -> str:
    """Text as the writer puts it in an element: NFC, line ends as ``\\n``,
    characters XML cannot carry (e.g. the form feed OCR leaves) as spaces, no
    blanks around (the reader strips them too)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _NOT_XML.sub(" ", nfc(value)).strip()


def format_date(value: date) -> str:
    """``yyyy/MM/dd``, as every official sample."""
    # not strftime: %Y gives fewer than four digits before the year 1000
    return f"{value.year:04d}/{value.month:02d}/{value.day:02d}"


def format_timestamp(value: datetime) -> str:
    """``yyyy/MM/dd HH:mm:ss`` in local wall time: the format carries no
    offset, so an aware time is turned into this machine's local time first."""
    if value.tzinfo is not None:
        value = value.astimezone().replace(tzinfo=None)
    return f"{format_date(value)} {value.hour:02d}:{value.minute:02d}:{value.second:02d}"


def parse_date(text: str) -> date | None:
    """``yyyy/MM/dd`` (also ``yyyy-MM-dd`` and ``dd/MM/yyyy``); empty: None.
    ValueError for anything else."""
    text = text.strip()
    if not text:
        return None
    for pattern in _DATES:
        found = pattern.fullmatch(text)
        if found:
            return date(int(found["y"]), int(found["m"]), int(found["d"]))
    raise ValueError(text)


def parse_timestamp(text: str) -> datetime:
    """``yyyy/MM/dd HH:mm:ss`` (the date part as :func:`parse_date` takes it,
    a ``T`` or a blank before the time, seconds optional). ValueError else."""
    text = text.strip()
    day_text, sep, time_text = text.replace("T", " ", 1).partition(" ")
    day = parse_date(day_text)
    if day is None:
        raise ValueError(text)
    if not sep:
        return datetime(day.year, day.month, day.day)
    found = _TIME.fullmatch(time_text.strip())
    if not found:
        raise ValueError(text)
    return datetime(
        day.year, day.month, day.day, int(found["H"]), int(found["M"]), int(found["S"] or 0)
    )
