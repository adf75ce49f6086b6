"""The fleet dashboard: stations, a station's page, API, metrics (the
statistics are :mod:`station.ui.fleet.stats`; the alerts pages
:mod:`alertviews`; the commands, with their confirmation screens and their
log, :mod:`commandviews`; all on this blueprint)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
)

from station.central.board import SHOWS
from station.central.fleet import Fleet
from station.errors import NotFound
from station.ui.fleet import boardview, trends
from station.ui.fleet.metrics import exposition
from station.ui.i18n import gettext
from station.wire.remote import REMOTE_KEYS

blueprint = Blueprint("fleet", __name__)


def fleet() -> Fleet:
    found: Fleet = current_app.extensions["fleet"]
    return found


def _station_or_404(station_id: str) -> dict[str, Any]:
    row = fleet().db.station(station_id)
    if row is None:
        abort(404, description=gettext("Không có trạm này"))
    return fleet().view(row, datetime.now(UTC))


@blueprint.get("/")
def dashboard() -> str:
    board = boardview.current()
    return render_template(
        "fleet/dashboard.html",
        board=board,
        rows=boardview.rows(board),
        columns=boardview.columns(board.regions),
        shows=SHOWS,
    )


@blueprint.post("/api/board")
def api_board() -> Response:
    """The stations page's live update (``static/live.js``): the query string is
    the page's; the body ``{"have": {station: signature}}`` the rows it shows."""
    body = request.get_json(silent=True)
    have = body.get("have") if isinstance(body, dict) else None
    if not isinstance(have, dict):
        have = {}
    known = {str(k): str(v) for k, v in list(have.items())[:5000]}
    return jsonify(boardview.update(boardview.current(), known))


@blueprint.get("/station/<station_id>")
def station(station_id: str) -> str:
    view = _station_or_404(station_id)
    db = fleet().db
    now = datetime.now(UTC)
    span = trends.pick_span(request.args.get("range"))
    points = fleet().history.series(station_id, span, now)
    return render_template(
        "fleet/station.html",
        s=view,
        events=db.events(station_id, limit=100),
        states=db.state_changes(station_id, limit=20),
        commands=db.commands(station_id, limit=20),
        remote_keys=REMOTE_KEYS,
        trends=trends.station_trends(points, span, now),
        spans=trends.span_words(),
    )


def _api_station(view: dict[str, Any]) -> dict[str, Any]:
    return {
        "station_id": view["station_id"],
        "state": view["state"],
        "since": view["since"],
        "last_seen": view["last_seen"],
        "unit": view["unit"],
        "version": view["version"],
        "health": view["health"],
        "alerts": [a.as_json() for a in view["alerts"]],
    }


@blueprint.get("/api/stations")
def api_stations() -> Response:
    return jsonify([_api_station(v) for v in fleet().overview()])


@blueprint.get("/api/stations/<station_id>")
def api_station(station_id: str) -> Response:
    row = fleet().db.station(station_id)
    if row is None:
        raise NotFound(f"no station {station_id!r}", f"không có trạm {station_id!r}")
    body = _api_station(fleet().view(row, datetime.now(UTC)))
    body["events"] = fleet().db.events(station_id, limit=100)
    return jsonify(body)


@blueprint.get("/metrics")
def metrics() -> Response:
    text = exposition(
        fleet().overview(),
        fleet().rejected_counts(),
        fleet().alerting.store.notification_counts(),
    )
    return Response(text, mimetype="text/plain; version=0.0.4; charset=utf-8")


@blueprint.app_template_filter("json")
def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


@blueprint.app_template_global()
def live_words() -> dict[str, str]:
    """What ``static/live.js`` says, in the reader's language."""
    return boardview.words()


@blueprint.app_template_global()
def seen_ago(at: str | None) -> str:
    """When a station was last heard, to the minute."""
    return boardview.seen_ago(at)


# the routes of the alerts and the commands, on this blueprint
from station.ui.fleet import alertviews, commandviews  # noqa: E402

__all__ = ["alertviews", "blueprint", "commandviews", "fleet"]
