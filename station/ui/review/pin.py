"""The PIN in front of the counter's actions (``[ui] require_pin_for``).

Every view that changes or sends documents names its group with :func:`group`
(scan, edit, delete, confirm, export, settings). One ``before_request`` looks up
the group of the endpoint about to run and, when the config lists it, refuses
the request unless this browser entered the PIN in the last :data:`PIN_TTL`.
:func:`install` refuses to build an app with a POST route that has no group
and is not one of :data:`UNGUARDED`, so a new action cannot forget the PIN.
Wrong PINs are throttled like passwords (:mod:`station.ui.throttle`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar, get_args

from flask import Flask, current_app, jsonify, redirect, request, session, url_for

from station.config import PinGroup
from station.ui.throttle import Throttle

#: a PIN opens the guarded actions for this long
PIN_TTL = timedelta(minutes=10)
GROUPS: tuple[str, ...] = get_args(PinGroup)
#: POST routes that are not counter actions: they open or close a session
UNGUARDED = frozenset({"login", "logout", "review.pin"})
REFUSED = ("Cần nhập mã PIN cho thao tác này", "This action needs the PIN")

View = TypeVar("View", bound=Callable[..., Any])
_GROUP_OF: dict[Callable[..., Any], str] = {}


def group(name: PinGroup) -> Callable[[View], View]:
    """Mark a view as one of the actions ``require_pin_for`` can guard."""

    def mark(view: View) -> View:
        _GROUP_OF[view] = name
        return view

    return mark


def group_of(app: Flask, endpoint: str | None) -> str | None:
    view = app.view_functions.get(endpoint or "")
    return _GROUP_OF.get(view) if view is not None else None


def is_open() -> bool:
    until = session.get("pin_until")
    return isinstance(until, (int, float)) and until > time.time()


def open_for_a_while() -> None:
    session["pin_until"] = time.time() + PIN_TTL.total_seconds()


def wants_json() -> bool:
    return request.headers.get("Accept", "").startswith("application/json") or (
        request.path.startswith("/api/")
    )


def throttle() -> Throttle:
    found: Throttle = current_app.extensions["pin_throttle"]
    return found


def _ungrouped_posts(app: Flask) -> list[str]:
    return sorted(
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ())
        and rule.endpoint not in UNGUARDED
        and group_of(app, rule.endpoint) is None
    )


def install(app: Flask) -> None:
    """Guard the station UI's actions; after every blueprint is registered."""
    missing = _ungrouped_posts(app)
    if missing:
        raise RuntimeError(f"POST routes without a PIN group: {', '.join(missing)}")
    app.extensions["pin_throttle"] = Throttle()

    @app.before_request
    def need_pin() -> Any:
        name = group_of(app, request.endpoint)
        if name is None:
            return None
        ui = app.extensions["station"].settings.config.ui
        if not ui.pin_hash or name not in ui.require_pin_for or is_open():
            return None
        target = request.full_path.rstrip("?") if request.method == "GET" else "/"
        pin_url = url_for("review.pin", next=target)
        if wants_json():
            response = jsonify(
                {"ok": False, "error": " / ".join(REFUSED), "code": "pin", "pin_url": pin_url}
            )
            response.status_code = 403
            return response
        return redirect(pin_url)
