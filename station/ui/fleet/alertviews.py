"""The Cảnh báo page: active alerts (those nobody has acknowledged first) with
their "Đã biết" button, and the history; ``GET /api/alerts``."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, redirect, render_template, request, url_for

from station.central.rules import KIND_WORDS, SEVERITY_WORDS
from station.errors import NotFound
from station.ui.fleet.people import MAX_NAME, operator, remembered
from station.ui.fleet.views import blueprint, fleet
from station.ui.i18n import gettext

#: alerts of the history on one page
PAGE = 100
MAX_NOTE = 500


def _page() -> int:
    raw = request.args.get("page", "")
    return max(1, min(int(raw), 10_000)) if raw.isdigit() else 1


@blueprint.app_context_processor
def _words() -> dict[str, Any]:
    return {"kind_words": KIND_WORDS, "severity_words": SEVERITY_WORDS}


def _render(error: str = "", status: int = 200) -> tuple[str, int]:
    store = fleet().alerting.store
    page = _page()
    history = store.history(limit=PAGE, offset=(page - 1) * PAGE)
    pages = max(1, -(-store.count() // PAGE))
    states = {r.station_id: r.state for r in fleet().db.stations()}
    html = render_template(
        "fleet/alerts.html",
        active=store.active(),
        history=history,
        page=page,
        pages=pages,
        states=states,
        operator=remembered(),
        max_name=MAX_NAME,
        max_note=MAX_NOTE,
        error=error,
        done=request.args.get("done", ""),
    )
    return html, status


@blueprint.get("/alerts")
def alerts() -> tuple[str, int]:
    return _render()


@blueprint.post("/alerts/<int:alert_id>/ack")
def acknowledge(alert_id: int) -> Any:
    """ "Đã biết": who saw it, with an optional note."""
    by = operator(request.form.get("by"))
    if not by:
        return _render(
            gettext("Hãy nhập tên người xác nhận: nhật ký ghi lại ai đã biết cảnh báo"), 400
        )
    note = " ".join(request.form.get("note", "").split())[:MAX_NOTE]
    store = fleet().alerting.store
    if store.get(alert_id) is None:
        raise NotFound(f"no alert {alert_id}", f"không có cảnh báo {alert_id}")
    done = fleet().alerting.acknowledge(alert_id, by, note)
    if done is None:
        return _render(gettext("Cảnh báo này đã được xác nhận hoặc đã hết."), 409)
    return redirect(url_for("fleet.alerts", done=alert_id) + f"#alert-{alert_id}")


@blueprint.get("/api/alerts")
def api_alerts() -> Response:
    """Active alerts, and with ``?history=1`` the last 100 of the history too."""
    store = fleet().alerting.store
    body: dict[str, Any] = {"active": [a.as_json() for a in store.active()]}
    if request.args.get("history") == "1":
        body["history"] = [a.as_json() for a in store.history(limit=PAGE)]
    return jsonify(body)
