"""Vietnamese first, English switchable.

Text is written in Vietnamese in the templates and code, marked with ``_()``;
``translations/en.json`` maps every marked text to its English. A test checks
that every marked text has an English entry and that no entry is left over.
The language is the ``lang`` cookie, else the configured default.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from flask import current_app, g, request

from station.common.clock import VIETNAM

LANGUAGES = ("vi", "en")
CATALOGUES = Path(__file__).parent / "translations"


@cache
def catalogue(lang: str) -> dict[str, str]:
    if lang == "vi":
        return {}
    data: dict[str, str] = json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def language() -> str:
    """The reader's language, read once per request (a page of 500 stations asks
    for it some thousands of times)."""
    known: str | None = g.get("language")
    if known is not None:
        return known
    chosen = request.cookies.get("lang")
    if chosen not in LANGUAGES:
        default = current_app.config.get("DEFAULT_LANGUAGE", "vi")
        chosen = default if default in LANGUAGES else "vi"
    g.language = chosen
    return str(chosen)


def gettext(text: str, **values: Any) -> str:
    """``text`` in the reader's language, with ``%(name)s`` values filled in."""
    translated = catalogue(language()).get(text, text)
    return translated % values if values else translated


def pick(vi: str, en: str) -> str:
    """One of a pair the station already wrote in both languages."""
    return en if language() == "en" else vi


def number(value: float | int | None, digits: int = 0) -> str:
    """12.345,6 in Vietnamese, 12,345.6 in English; an en dash for none."""
    if value is None:
        return "–"
    text = f"{value:,.{digits}f}"
    if language() == "vi":
        text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    return text


def percent(value: float | None, digits: int = 1) -> str:
    """71,9 % in Vietnamese, 71.9% in English; an en dash for none."""
    if value is None:
        return "–"
    shown = number(value, digits)
    return f"{shown} %" if language() == "vi" else f"{shown}%"


def _utc(value: str) -> datetime | None:
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def when(value: str | None) -> str:
    """A UTC timestamp as Vietnam time: 25/11/2026 07:09."""
    at = _utc(value) if value else None
    if at is None:
        return value or "–"
    return at.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def ago(value: str | None, now: datetime | None = None) -> str:
    """How long ago, in words: "3 phút trước" / "3 min ago"."""
    at = _utc(value) if value else None
    if at is None:
        return value or "–"
    return duration(((now or datetime.now(UTC)) - at).total_seconds(), suffix=True)


def duration(seconds: float | None, suffix: bool = False) -> str:
    if seconds is None:
        return "–"
    seconds = max(0.0, seconds)
    if seconds < 60:
        text = gettext("%(n)s giây", n=int(seconds))
    elif seconds < 7200:
        text = gettext("%(n)s phút", n=int(seconds // 60))
    elif seconds < 172800:
        text = gettext("%(n)s giờ", n=int(seconds // 3600))
    else:
        text = gettext("%(n)s ngày", n=int(seconds // 86400))
    return gettext("%(t)s trước", t=text) if suffix else text
