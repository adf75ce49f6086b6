"""Sổ đến and Sổ đi: the incoming and the outgoing register of a day, a month
or a year, what to check in them, the clerk's later columns, and the exports
(PDF like the paper register, CSV, XLSX); beside them the register of secret
documents received and the post register (Sổ gửi văn bản đi bưu điện)."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from station.common.clock import VIETNAM
from station.errors import InputError, StationError
from station.records import outgoing_register as sent
from station.records.register import COLUMNS, EDITABLE, Entry, day_text
from station.records.register_export import FORMATS, Book, Period, render
from station.records.secret_register import COLUMNS as SECRET_COLUMNS
from station.records.secret_register import LAYOUT as SECRET
from station.records.secret_register import SecretRegister
from station.ui.review.pin import group
from station.ui.review.views import station, station_error

blueprint = Blueprint("register", __name__)

#: the columns the clerk fills later; a card on a narrow screen leaves them out while empty
_LATER = ("recipient", "transfer_date", "received_by", "note")
_SENT_LATER = ("archive", "copies", "transfer_date", "received_by", "note")
#: how the exported file of each book besides the Sổ đến begins
_BOOKS = {"outgoing": "so-di", "post": "so-gui-buu-dien", "secret": "so-van-ban-mat-den"}

_MEDIA = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _today() -> date:
    return datetime.now(VIETNAM).date()


def _period() -> Period:
    """The period asked for: ``from`` and ``to`` (a day, a month or a year), or today."""
    first = request.args.get("from", "").strip() or _today().isoformat()
    last = request.args.get("to", "").strip() or None
    return Period.parse(first, last)  # a bad one is a UsageError: 400 with its message


def _book(period: Period) -> Book:
    st = station()
    register = st.register
    config = st.settings.config
    return Book(
        register.entries(period.start, period.end),
        register.flags(period.start, period.end),
        period,
        config.station.unit_name,
        config.incoming.keeper,
    )


def _shortcuts(today: date) -> list[tuple[str, str, str]]:
    """(which, from, to) for the usual periods: today, this month, this year."""
    month = Period.parse(f"{today:%Y-%m}")
    return [
        ("day", today.isoformat(), today.isoformat()),
        ("month", month.start.isoformat(), month.end.isoformat()),
        ("year", f"{today:%Y}-01-01", f"{today:%Y}-12-31"),
    ]


def _sent_book(period: Period) -> Book:
    st = station()
    register = st.outgoing
    config = st.settings.config
    return Book(
        register.entries(period.start, period.end),
        register.flags(period.start, period.end),
        period,
        config.station.unit_name,
        config.outgoing.keeper,
        layout=sent.LAYOUT,
    )


def _post_book(period: Period) -> Book:
    st = station()
    config = st.settings.config
    entries = st.outgoing.posted(period.start, period.end)
    unit, keeper = config.station.unit_name, config.outgoing.keeper
    return Book(entries, [], period, unit, keeper, layout=sent.POST_LAYOUT)


def _screen(which: str, period: Period, found: Book) -> dict[str, Any]:
    """What both registers' screens show: the switch, the period, the exports."""
    flagged: dict[str, list[str]] = {}
    for flag in found.flags:
        for doc_id in flag.doc_ids:
            flagged.setdefault(doc_id, []).append(flag.code)
    args = {"from": period.start.isoformat(), "to": period.end.isoformat()}
    return {
        "which": which,
        "endpoint": "register.book" if which == "incoming" else "register.outgoing",
        "book": found,
        "period": period,
        "flagged": flagged,
        "shortcuts": _shortcuts(_today()),
        "formats": FORMATS,
        "args": args,
        "export_args": {**args, **({"book": "outgoing"} if which == "outgoing" else {})},
        "today": _today().isoformat(),
        "saved": request.args.get("saved", ""),
        "day_text": day_text,
    }


@blueprint.get("/register")
def book() -> str:
    period = _period()
    return render_template(
        "register/book.html",
        **_screen("incoming", period, _book(period)),
        columns=COLUMNS,
        later=_LATER,
        secret_entries=SecretRegister(station().store).entries(period.start, period.end),
        secret_columns=SECRET_COLUMNS,
    )


@blueprint.get("/register/outgoing")
def outgoing() -> str:
    """Sổ đi, and the post register under it when ``[outgoing] by_post``."""
    period = _period()
    by_post = station().settings.config.outgoing.by_post
    return render_template(
        "register/outgoing.html",
        **_screen("outgoing", period, _sent_book(period)),
        columns=sent.COLUMNS,
        later=_SENT_LATER,
        by_post=by_post,
        post=_post_book(period) if by_post else None,
        post_columns=sent.POST_COLUMNS,
    )


@blueprint.post("/register/<doc_id>")
@group("edit")
def update(doc_id: str) -> Any:
    changes = {key: request.form[key] for key in EDITABLE if key in request.form}
    try:
        entry = station().update_register(doc_id, changes)
    except StationError as exc:  # refused: JSON for the script, the error page for a plain form
        return station_error(exc)
    return _saved("register.book", doc_id, entry.to_json())


@blueprint.post("/register/outgoing/<doc_id>")
@group("edit")
def update_outgoing(doc_id: str) -> Any:
    changes = {key: request.form.getlist(key)[-1] for key in sent.EDITABLE if key in request.form}
    try:
        entry = station().update_outgoing(doc_id, changes)
    except StationError as exc:
        return station_error(exc)
    return _saved("register.outgoing", doc_id, entry.to_json())


def _saved(endpoint: str, doc_id: str, entry: dict[str, Any]) -> Any:
    """Back to the same row, marked "Đã lưu": the page a plain form lands on,
    and the page the script takes the saved row from."""
    back = {"from": request.form.get("from", ""), "to": request.form.get("to", "")}
    query: dict[str, Any] = {key: value for key, value in back.items() if value}
    target = url_for(endpoint, **query, saved=doc_id, _anchor=f"entry-{doc_id}")
    if request.headers.get("Accept", "").startswith("application/json"):
        return jsonify({"ok": True, "entry": entry, "next": target})
    return redirect(target)


@blueprint.get("/register/export")
@group("export")
def export() -> Response:
    fmt = request.args.get("format", "pdf")
    if fmt not in FORMATS:
        raise InputError(f"format is one of {', '.join(FORMATS)}", "định dạng là pdf, csv, xlsx")
    period = _period()
    which = "secret" if request.args.get("secret") else request.args.get("book", "incoming")
    if which == "secret":  # the register of secret documents
        st = station()
        config = st.settings.config
        book = Book(SecretRegister(st.store).entries(period.start, period.end), [], period,
                    config.station.unit_name, config.incoming.keeper, layout=SECRET)  # fmt: skip
    elif which == "outgoing":
        book = _sent_book(period)
    elif which == "post":
        book = _post_book(period)
    elif which == "incoming":
        book = _book(period)
    else:
        raise InputError(
            "book is incoming, outgoing, post or secret", "sổ là incoming, outgoing, post, secret"
        )
    prefix = _BOOKS.get(which, "so-den")
    data = render(book, fmt)
    name = f"{prefix}_{period.start:%Y%m%d}-{period.end:%Y%m%d}.{fmt}"
    return send_file(io.BytesIO(data), mimetype=_MEDIA[fmt], as_attachment=True, download_name=name)


@blueprint.get("/api/register")
def api() -> Response:
    """The entries and flags of the Sổ đến, or (``book=outgoing``) of the Sổ đi."""
    period = _period()
    which = request.args.get("book", "incoming")
    if which not in ("incoming", "outgoing"):
        raise InputError("book is incoming or outgoing", "sổ là incoming hoặc outgoing")
    found = _sent_book(period) if which == "outgoing" else _book(period)
    return jsonify(
        {
            "book": which,
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "entries": [e.to_json() for e in found.entries],
            "flags": [
                {
                    "code": f.code,
                    "year": f.year,
                    "numbers": list(f.numbers),
                    "doc_ids": list(f.doc_ids),
                    "message": {"vi": f.message_vi, "en": f.message_en},
                }
                for f in found.flags
            ],
        }
    )


def marks(entry: Entry | sent.OutgoingEntry) -> list[tuple[str, str]]:
    """(mark, css class) for the urgency and secrecy marks shown beside a row."""
    return [(m, "urgent") for m in entry.urgency] + [(m, "secret") for m in entry.secrecy]


blueprint.add_app_template_global(marks, "register_marks")
