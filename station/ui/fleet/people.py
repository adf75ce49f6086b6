"""Who did it: the name written on an acknowledgement and on every command.

The dashboard has one sign-in password, not accounts, so the person types
their name on the form ("Người thực hiện"); it is remembered for the rest of
the session and filled in on the next form. A script that signs in with HTTP
Basic is its Basic user name. A command that changes nothing (ping, a new
report, reading the settings) sent before any name was given is logged with
the client's address instead.
"""

from __future__ import annotations

import re

from flask import request, session

#: the longest name kept
MAX_NAME = 80
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def remembered() -> str:
    """The name to fill in: the one given earlier in this session, or the Basic user."""
    name = session.get("operator")
    if isinstance(name, str) and name:
        return name
    auth = request.authorization
    return (auth.username or "") if auth is not None else ""


def unnamed() -> str:
    """Who sent a command that needs no confirmation when no name is known: the
    client's address, in brackets."""
    return f"({request.remote_addr or '?'})"


def operator(raw: str | None) -> str:
    """The name given on a form, remembered for the session ("" when there is none)."""
    name = _CONTROL.sub(" ", (raw or "").strip())[:MAX_NAME].strip() or remembered()
    if name:
        session["operator"] = name
    return name
