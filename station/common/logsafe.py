"""Untrusted text made safe for one log line.

A file name (or a barcode, or a decoder's message) can hold a newline, a
carriage return or a terminal escape; written into a log as it is, it starts a
line of its own that looks like the station's. :func:`printable` escapes every
control and format character and keeps every other one, Vietnamese letters
included. Text already made printable comes back unchanged, so a message built
from escaped names can be passed through it again at the log line.
"""

from __future__ import annotations

import unicodedata

#: the longest text kept; the rest is cut off with an ellipsis
MAX_CHARS = 1000


def _escape(char: str) -> str:
    if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return char


def printable(text: object, limit: int = MAX_CHARS) -> str:
    """``text`` on one line, with control characters escaped (``\\n`` -> ``\\x0a``)."""
    value = str(text)
    if len(value) > limit:
        value = value[:limit] + "…"
    if value.isprintable():
        return value
    return "".join(_escape(char) for char in value)
