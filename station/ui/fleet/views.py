"""The fleet dashboard: stations, a station's page, alerts, API, metrics (the
statistics are :mod:`station.ui.fleet.stats`)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from station.central.fleet import Fleet
from station.errors import NotFound, UsageError
from station.ui.fleet.metrics import exposition
from station.ui.i18n import gettext
from station.wire.remote import COMMANDS, REMOTE_KEYS

blueprint = Blueprint("fleet", __name__)

#: how long a command waits for the station's reply before the page returns
REPLY_WAIT_S = 5.0


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
    stations = fleet().overview()
    totals = {
        "all": len(stations),
        "online": sum(s["state"] == "online" for s in stations),
        "offline": sum(s["state"] == "offline" for s in stations),
        "lost": sum(s["state"] == "lost" for s in stations),
        "alerts": sum(bool(s["alerts"]) for s in stations),
    }
    return render_template("fleet/dashboard.html", stations=stations, totals=totals)


@blueprint.get("/station/<station_id>")
def station(station_id: str) -> str:
    view = _station_or_404(station_id)
    db = fleet().db
    return render_template(
        "fleet/station.html",
        s=view,
        events=db.events(station_id, limit=100),
        states=db.state_changes(station_id, limit=20),
        commands=db.commands(station_id, limit=20),
        remote_keys=REMOTE_KEYS,
    )


def _value(text: str) -> Any:
    """A setting typed in a form: a number, true/false, or text."""
    text = text.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


@blueprint.post("/station/<station_id>/command")
def command(station_id: str) -> Any:
    _station_or_404(station_id)
    name = request.form.get("name", "")
    if name not in COMMANDS:
        raise UsageError(f"unknown command {name!r}", f"không có lệnh {name!r}")
    args: dict[str, Any] = {}
    if name == "reset-counter":
        args = {"counter": "roller"}
    elif name == "config" and request.form.get("key"):
        key = request.form["key"]
        if key not in REMOTE_KEYS:
            raise UsageError(f"not a remote setting: {key}", f"không phải cấu hình từ xa: {key}")
        args = {key: _value(request.form.get("value", ""))}
    command_id = fleet().send(station_id, name, args)
    fleet().wait_reply(command_id, REPLY_WAIT_S)
    return redirect(url_for("fleet.station", station_id=station_id, sent=command_id) + "#commands")


@blueprint.get("/alerts")
def alerts() -> str:
    stations = [s for s in fleet().overview() if s["alerts"]]
    events = [e for e in fleet().db.events(limit=200) if e["severity"] in ("error", "warning")]
    return render_template("fleet/alerts.html", stations=stations, events=events[:100])


def _api_station(view: dict[str, Any]) -> dict[str, Any]:
    return {
        "station_id": view["station_id"],
        "state": view["state"],
        "since": view["since"],
        "last_seen": view["last_seen"],
        "unit": view["unit"],
        "version": view["version"],
        "health": view["health"],
        "alerts": [asdict(a) for a in view["alerts"]],
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
    text = exposition(fleet().overview(), fleet().rejected_counts())
    return Response(text, mimetype="text/plain; version=0.0.4; charset=utf-8")


@blueprint.app_template_filter("json")
def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
