"""Commands with care: a confirmation screen before anything changes on a
station, and the log of every command (who, when, what, the station's answer),
per station and for the whole fleet, as a page, CSV and XLSX.

``ping``, ``reannounce`` and reading the settings (``config`` without a key)
change nothing and are sent at once. Resetting the roller counter and every
setting first show what exactly will change, in words ("Tên đơn vị / Unit
name: … → …"); only the screen's "Xác nhận" sends it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Response, redirect, render_template, request, url_for

from station.common.clock import VIETNAM
from station.common.spreadsheet import csv_bytes, xlsx_bytes
from station.errors import UsageError
from station.ui.fleet.people import MAX_NAME, operator, remembered, unnamed
from station.ui.fleet.views import _station_or_404, blueprint, fleet
from station.ui.i18n import gettext, pick
from station.wire.remote import COMMAND_LABELS, COMMANDS, REMOTE_SETTINGS, RemoteSetting

#: how long a command waits for the station's reply before the page returns
REPLY_WAIT_S = 5.0
#: commands of the log on one page, and at most in one export
PAGE = 100
MAX_EXPORT = 100_000
#: what the station page's settings form may send at most
MAX_VALUE = 500


@blueprint.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "remote_settings": REMOTE_SETTINGS,
        "command_labels": COMMAND_LABELS,
        "operator_name": remembered,
        "max_name": MAX_NAME,
        "args_text": args_text,
        "result_text": result_text,
    }


def args_text(name: str, args: dict[str, Any] | None) -> str:
    """A command's arguments in words: "Tên đơn vị / Unit name = …"."""
    if not args:
        return ""
    if name == "reset-counter":
        return "Bộ đếm trục cuốn / Roller counter" if args.get("counter") == "roller" else str(args)
    parts = []
    for key, value in args.items():
        setting = REMOTE_SETTINGS.get(key)
        label = setting.label if setting else key
        parts.append(f"{label} = {json.dumps(value, ensure_ascii=False)}")
    return "; ".join(parts)


def result_text(result: Any, limit: int = 100) -> str:
    """A station's answer in short: the settings it read are counted, not listed."""
    if isinstance(result, dict) and isinstance(result.get("settings"), dict):
        return gettext("đã đọc %(n)s mục cấu hình", n=len(result["settings"]))
    text = json.dumps(result, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def typed(setting: RemoteSetting, text: str) -> Any:
    """A value typed in the form, as the setting's kind; UsageError saying what is wanted."""
    text = text.strip()
    if len(text) > MAX_VALUE:
        raise UsageError("the value is too long", "Giá trị quá dài")
    if setting.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise UsageError(
                f"{setting.en}: a whole number, please", f"{setting.vi}: cần một số nguyên"
            ) from None
    if setting.kind == "float":
        try:
            return float(text.replace(",", "."))
        except ValueError:
            raise UsageError(
                f"{setting.en}: a number, please", f"{setting.vi}: cần một số"
            ) from None
    if setting.kind == "choice" and text not in setting.choices:
        raise UsageError(
            f"{setting.en}: one of {', '.join(setting.choices)}",
            f"{setting.vi}: một trong {', '.join(setting.choices)}",
        )
    return text


def known_settings(station_id: str, health: dict[str, Any] | None) -> dict[str, Any]:
    """A station's settings as far as the dashboard knows them: its last answer to
    reading the settings, and what its last health report says."""
    known: dict[str, Any] = {}
    for command in fleet().db.commands(station_id, limit=200):
        result = (command.get("reply") or {}).get("result") or {}
        if (
            command["name"] == "config"
            and command["ok"]
            and isinstance(result.get("settings"), dict)
        ):
            known = {k: v for k, v in result["settings"].items() if k in REMOTE_SETTINGS}
            break
    health = health or {}
    if isinstance(health.get("unit"), str):
        known["station.unit_name"] = health["unit"]
    if isinstance(health.get("interval_s"), int):
        known["telemetry.interval_s"] = health["interval_s"]
    limit = (health.get("counters") or {}).get("roller_limit")
    if isinstance(limit, int):
        known["scanner.roller_limit"] = limit
    return known


def _changes(view: dict[str, Any], name: str, key: str, value: Any) -> list[dict[str, Any]]:
    """What the command changes, line by line: label, now, after."""
    health = view["health"] or {}
    if name == "reset-counter":
        counters = health.get("counters") or {}
        return [
            {
                "vi": "Số tờ từ lần thay trục cuốn",
                "en": "Sheets since the roller change",
                "key": "counters.sheets_since_roller",
                "now": counters.get("sheets_since_roller"),
                "after": 0,
            },
            {
                "vi": "Số trang từ lần thay trục cuốn",
                "en": "Pages since the roller change",
                "key": "counters.pages_since_roller",
                "now": counters.get("pages_since_roller"),
                "after": 0,
            },
        ]
    setting = REMOTE_SETTINGS[key]
    return [
        {
            "vi": setting.vi,
            "en": setting.en,
            "key": key,
            "now": known_settings(view["station_id"], health).get(key),
            "after": value,
            "unit": setting.unit,
        }
    ]


@blueprint.post("/station/<station_id>/command")
def command(station_id: str) -> Any:
    view = _station_or_404(station_id)
    name = request.form.get("name", "")
    if name not in COMMANDS:
        raise UsageError(f"unknown command {name!r}", f"không có lệnh {name!r}")
    args: dict[str, Any] = {}
    key = request.form.get("key", "")
    changes = name == "reset-counter" or (name == "config" and bool(key))
    raw = request.form.get("value", "")
    error = ""
    value: Any = None
    bad_value = False
    if name == "reset-counter":
        args = {"counter": "roller"}
    elif name == "config" and key:
        setting = REMOTE_SETTINGS.get(key)
        if setting is None:
            raise UsageError(f"not a remote setting: {key}", f"không phải cấu hình từ xa: {key}")
        try:
            value = typed(setting, raw)
            args = {key: value}
        except UsageError as exc:
            error = pick(exc.message_vi, exc.message_en)
            bad_value = True
    by = operator(request.form.get("by"))
    confirmed = request.form.get("confirmed") == "yes"
    if changes and (not confirmed or error or not by):
        if confirmed and not by and not error:
            error = gettext("Hãy nhập tên người gửi lệnh: nhật ký ghi lại ai đã gửi")
        return render_template(
            "fleet/confirm.html",
            s=view,
            name=name,
            key=key,
            raw=raw,
            changes=[] if bad_value else _changes(view, name, key, value),
            setting=REMOTE_SETTINGS.get(key),
            operator=by,
            error=error,
        ), (400 if error else 200)
    command_id = fleet().send(station_id, name, args, sent_by=by or unnamed())
    fleet().wait_reply(command_id, REPLY_WAIT_S)
    return redirect(url_for("fleet.station", station_id=station_id, sent=command_id) + "#commands")


# ---------------------------------------------------------------------- the log


def _station_filter() -> str | None:
    station_id = request.args.get("station", "")
    return station_id if station_id and fleet().db.station(station_id) else None


def _page() -> int:
    raw = request.args.get("page", "")
    return max(1, min(int(raw), 100_000)) if raw.isdigit() else 1


@blueprint.get("/commands")
def command_log() -> str:
    station_id = _station_filter()
    page = _page()
    db = fleet().db
    rows = db.commands(station_id, limit=PAGE, offset=(page - 1) * PAGE)
    pages = max(1, -(-db.command_count(station_id) // PAGE))
    return render_template(
        "fleet/commands.html",
        rows=rows,
        station_id=station_id,
        stations=[r.station_id for r in db.stations()],
        page=page,
        pages=pages,
    )


def _local(raw: str | None) -> str:
    if not raw:
        return ""
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        return raw
    return (
        (at if at.tzinfo else at.replace(tzinfo=UTC))
        .astimezone(VIETNAM)
        .strftime("%Y-%m-%d %H:%M:%S")
    )


def _outcome(row: dict[str, Any]) -> tuple[str, str]:
    """The answer's status and its detail, in words."""
    reply = row.get("reply")
    if reply is None:
        return "Chờ trả lời / Waiting", ""
    if row["ok"]:
        return "Xong / Done", json.dumps(reply.get("result"), ensure_ascii=False)
    error = reply.get("error") or {}
    message = error.get("message") or {}
    text = f"{message.get('vi', '')} / {message.get('en', '')}".strip(" /")
    return "Bị từ chối / Refused", text or str(error.get("code", ""))


HEADER = [
    "Thời gian gửi (giờ Việt Nam) / Sent (Vietnam time)",
    "Trạm / Station",
    "Người gửi / Sent by",
    "Lệnh / Command",
    "Tham số / Arguments",
    "Kết quả / Outcome",
    "Chi tiết / Detail",
    "Trả lời lúc / Answered",
    "Mã lệnh / Command id",
]


def _table() -> tuple[list[list[object]], str]:
    station_id = _station_filter()
    rows = fleet().db.commands(station_id, limit=MAX_EXPORT)
    table: list[list[object]] = [list(HEADER)]
    for row in rows:
        outcome, detail = _outcome(row)
        label = COMMAND_LABELS.get(row["name"], (row["name"], row["name"]))
        table.append(
            [
                _local(row["sent_at"]),
                row["station_id"],
                row.get("sent_by") or "",
                f"{label[0]} / {label[1]} ({row['name']})",
                args_text(row["name"], row["args"]),
                outcome,
                detail,
                _local(row.get("replied_at")),
                row["id"],
            ]
        )
    stamp = datetime.now(VIETNAM).strftime("%Y%m%d-%H%M")
    name = f"nhat-ky-lenh-{station_id + '-' if station_id else ''}{stamp}"
    return table, name


@blueprint.get("/commands.csv")
def command_log_csv() -> Response:
    table, name = _table()
    # arguments and answers come from people and stations: no cell becomes a formula
    return Response(
        csv_bytes(table),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@blueprint.get("/commands.xlsx")
def command_log_xlsx() -> Response:
    table, name = _table()
    return Response(
        xlsx_bytes([("Nhật ký lệnh", table)]),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )
