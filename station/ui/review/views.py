"""The counter: scan, review, send, and the station's diagnostics.

Every action is a plain form POST (it works without script); ``review.js``
sends the same forms with ``fetch`` and refreshes the documents from the
``/batch/ID/docs`` fragment when the station says something changed
(``/api/events``, server-sent events).
"""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)

from station import __version__
from station.appliance.station import Station
from station.barcodes.split import SECRECY_QUESTIONS
from station.common.auth import verify_secret
from station.common.clock import VIETNAM
from station.common.direction import WORDS as DIRECTION_WORDS
from station.errors import InputError, NotFound, StationError
from station.records.vocabulary import LIST_FIELDS, READING_CODES, SECRECY, URGENCY
from station.records.vocabulary import priority_marks as marks
from station.review.checks import NEEDED, NEEDED_OUTGOING, Unanswered, replacement
from station.review.drafts import UNDISMISSABLE
from station.review.fields import DATES, EDITABLE, SENT_ORDER, SENT_PART, TYPE_CHOICES, as_text
from station.ui import security
from station.ui.i18n import gettext, pick
from station.ui.review import crops, viewer
from station.ui.review import pin as guard
from station.ui.review.pin import group
from station.wire.payloads import RECEIPT_WORDS

blueprint = Blueprint("review", __name__)

#: what a form of a document's fields needs (the review's cards, the resend form)
_FIELD_FORM: dict[str, Any] = {
    "fields": EDITABLE,
    "type_choices": TYPE_CHOICES,
    "urgency": URGENCY,
    "marks": marks,
    "needed": NEEDED,
    "dates": DATES,
}


def station() -> Station:
    found: Station = current_app.extensions["station"]
    return found


def _wants_json() -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


def _done(target: str, **result: Any) -> Any:
    """A form's answer: JSON for the script, a redirect for a plain form."""
    if _wants_json():
        return jsonify({"ok": True, **result})
    return redirect(target)


@blueprint.app_context_processor
def common() -> dict[str, Any]:
    if "station" not in current_app.extensions:
        return {}
    return {
        "status": station().status(),
        "home_endpoint": "review.scan",
        "direction_words": DIRECTION_WORDS,
    }


# ------------------------------------------------------------------ scan


@blueprint.get("/")
def scan() -> str:
    return render_template("review/scan.html")


@blueprint.post("/direction")
@group("scan")
def direction() -> Any:
    """ "Văn bản đến" / "Văn bản đi": what the next batch is."""
    station().set_direction(request.form.get("direction", ""))
    return _done(url_for("review.scan"))


@blueprint.post("/batch/<batch_id>/direction")
@group("edit")
def batch_direction(batch_id: str) -> Any:
    """A batch under review is received documents, or sent ones, after all."""
    station().set_batch_direction(batch_id, request.form.get("direction", ""))
    return _done(_back(batch_id))


@blueprint.post("/scan")
@group("scan")
def press() -> Any:
    profile = request.form.get("profile") or None
    into = request.form.get("into") or None
    started = station().scan(profile, into=into)
    if not started:
        raise InputError("the scanner is busy", "máy quét đang bận")
    return _done(url_for("review.batch", batch_id=into) if into else url_for("review.scan"))


# ------------------------------------------------------------------ review


def _batch_view(batch_id: str) -> dict[str, Any]:
    st = station()
    batch = st.store.batch(batch_id)
    docs = st.review.documents(batch_id)
    pages = st.review.pages(batch_id)
    placed = {p.page_id for d in docs for p in d.pages}
    return {
        "batch": batch,
        "docs": docs,
        "loose": [p for p in pages if p.page_id not in placed and not p.deleted],
        "countdown": st.processor.countdown_left(batch_id),
        "editable": batch.state == "review",
        **_FIELD_FORM,
        **_sent_form(st, batch),
        "arrival": _scan_day(batch.created_at),
        "secrecy": SECRECY,
        "reading_codes": READING_CODES,
        "undismissable": UNDISMISSABLE,
        "secrecy_questions": SECRECY_QUESTIONS,
        "as_text": as_text,
        "list_fields": LIST_FIELDS,
        "confirming": batch.state == "confirmed" or st.processor.confirming(batch_id),
        # a connected station stops a secret document: "Văn bản mật…" instead of a picker
        "secret_stops": st.processor.secrets.connected,
        "undo": _undo(docs),
        # each field's crop of the page it was read from; none of a secret document
        "crops": {
            d.doc_id: crops.of_document(st.review.work, d)
            for d in docs
            if not batch.files_removed_at and not st.processor.secrets.withheld(d)
        },
        **_replacing(st, batch_id, docs),
    }


def _sent_form(st: Station, batch: Any) -> dict[str, Any]:
    """A batch of sent documents: its fields in their order (the signer and
    the recipients beside the header), what the Sổ đi needs, and the number
    offered to each document whose Số is empty ("Dùng số tiếp theo")."""
    if batch.direction != "outgoing":
        return {"sent_part": (), "next_numbers": {}}
    return {
        "fields": SENT_ORDER,
        "needed": NEEDED_OUTGOING,
        "sent_part": SENT_PART,
        "next_numbers": st.processor.next_numbers(batch.id) if batch.state == "review" else {},
    }


def _replacing(st: Station, batch_id: str, docs: list[Any]) -> dict[str, Any]:
    """ "Quét lại": the refused document one of this batch's documents
    replaces (``replacing``), and which document (``replacer``)."""
    rescan = st.store.outbox.rescan(batch_id=batch_id)
    doc = replacement(docs, rescan["registration"]) if rescan else None
    if rescan is None:  # confirmed: the document that went out as the replacement
        doc = next((d for d in docs if st.store.outbox.replaced(d.doc_id)), None)
        rescan = st.store.outbox.replaced(doc.doc_id) if doc else None
    return {"replacing": rescan, "replacer": doc.doc_id if doc else None}


def _undo(docs: list[Any]) -> dict[str, Any] | None:
    """A page just deleted (a plain form's redirect says which): offered back."""
    page, doc_id, at = (request.args.get(k, "") for k in ("undo", "doc", "at"))
    doc = next((d for d in docs if d.doc_id == doc_id), None)
    if not (page.isdigit() and at.isdigit()) or doc is None:
        return None
    return {"page": int(page), "doc": doc.doc_id, "seq": doc.seq, "position": int(at)}


def _scan_day(created_at: str) -> str:
    """The day a batch was scanned, in Vietnam: its documents' default Ngày đến."""
    return datetime.fromisoformat(created_at).astimezone(VIETNAM).date().isoformat()


@blueprint.get("/batch/<batch_id>")
def batch(batch_id: str) -> str:
    return render_template("review/batch.html", **_batch_view(batch_id))


@blueprint.get("/batch/<batch_id>/docs")
def docs_fragment(batch_id: str) -> str:
    return render_template("review/_docs.html", **_batch_view(batch_id))


@blueprint.post("/batch/<batch_id>/confirm")
@group("confirm")
def confirm(batch_id: str) -> Any:
    """ "Xác nhận và gửi", and "Vẫn gửi" (``despite``) after the question."""
    try:
        station().confirm(batch_id, despite=request.form.get("despite") == "1")
    except Unanswered as exc:
        return _ask(batch_id, [f.as_json() for f in exc.findings], can_send=True)
    except InputError as exc:
        if "findings" not in exc.detail:
            raise
        return _ask(batch_id, exc.detail["findings"], can_send=False)
    return _done(url_for("review.batch", batch_id=batch_id))


def _ask(batch_id: str, findings: list[dict[str, Any]], can_send: bool) -> Any:
    """The findings before sending (station/review/checks.py): the question
    "Vẫn gửi?", or what must be fixed first; 409 either way."""
    view = {**_batch_view(batch_id), "asking": findings, "can_send": can_send}
    if _wants_json():
        html = render_template("review/_ask.html", **view)
        body = {"ok": False, "code": "ask", "can_send": can_send, "findings": findings}
        return jsonify({**body, "html": html}), 409
    return render_template("review/batch.html", **view), 409


@blueprint.post("/batch/<batch_id>/stop")
@group("edit")
def stop_countdown(batch_id: str) -> Any:
    station().stop_countdown(batch_id)
    return _done(url_for("review.batch", batch_id=batch_id))


def _back(page_or_doc_batch: str) -> str:
    return url_for("review.batch", batch_id=page_or_doc_batch)


@blueprint.post("/page/<int:page_id>/delete")
@group("delete")
def delete_page(page_id: int) -> Any:
    st = station()
    page = st.review.page(page_id)
    doc = st.review.document(str(page.doc_id)) if page.doc_id else None
    pages = [p.page_id for p in doc.pages] if doc else []
    position = pages.index(page_id) + 1 if page_id in pages else 0
    st.delete_page(page_id)
    if doc is None:
        return _done(_back(page.batch_id))
    # "Hoàn tác": the page back where it was (a deleted page is only set aside)
    undo = {"page": page_id, "doc": doc.doc_id, "seq": doc.seq, "position": position}
    if _wants_json():
        return jsonify({"ok": True, "undo_html": render_template("review/_undo.html", undo=undo)})
    back: dict[str, Any] = {"undo": page_id, "doc": doc.doc_id, "at": position}
    return redirect(url_for("review.batch", batch_id=page.batch_id, **back))


@blueprint.post("/page/<int:page_id>/<action>")
@group("edit")
def page_action(page_id: int, action: str) -> Any:
    st = station()
    page = st.review.page(page_id)
    if action == "rotate":
        st.rotate(page_id, 1 if request.form.get("way", "right") == "right" else -1)
    elif action == "split":
        st.split_at(page_id)
    elif action == "move":
        target = request.form.get("doc", "")
        index = request.form.get("index", "")
        doc = st.review.document(target or str(page.doc_id))
        at = int(index) if index.lstrip("-").isdigit() else len(doc.pages)
        st.move_page(page_id, doc.doc_id, at)
    else:
        raise InputError(f"unknown page action {action!r}", f"không có thao tác {action!r}")
    return _done(_back(page.batch_id))


@blueprint.post("/doc/<doc_id>/merge")
@group("edit")
def merge(doc_id: str) -> Any:
    doc = station().merge_next(doc_id)
    return _done(_back(doc.batch_id))


@blueprint.post("/doc/<doc_id>/fields")
@group("edit")
def fields(doc_id: str) -> Any:
    """Save what the clerk changed; each field is checked, errors come back by field."""
    st = station()
    doc = st.review.document(doc_id)
    errors: dict[str, str] = {}
    registration = request.form.get("registration", "").strip()
    if registration and registration != (doc.registration or ""):
        try:
            st.set_registration(doc_id, registration)
        except InputError as exc:
            errors["registration"] = pick(exc.message_vi, exc.message_en)
    scan_day = _scan_day(st.store.batch(doc.batch_id).created_at)
    for name in EDITABLE:
        if name not in request.form:
            continue
        # Độ mật and Độ khẩn are two pickers of one field
        values = request.form.getlist(name)
        value = ", ".join(v for v in values if v.strip()) if name == "Priority" else values[0]
        current = doc.metadata.get(name)
        if name == "ArrivalDate" and current is None:
            current = scan_day  # the form shows the default: unchanged unless typed over
        if value.strip() == as_text(name, current).strip():
            continue
        try:
            st.set_field(doc_id, name, value)
        except InputError as exc:
            errors[name] = pick(exc.message_vi, exc.message_en)
    # "Đã kiểm tra": a field filled in but marked for checking, found right as it is
    for name in request.form.getlist("checked"):
        kept = doc.metadata.get(name)
        if name in EDITABLE and name not in errors and kept is not None:
            st.set_field(doc_id, name, as_text(name, kept))
    if errors:
        if _wants_json():
            return jsonify({"ok": False, "errors": errors}), 400
        raise InputError("; ".join(errors.values()))
    # a plain form comes back at the document, "Đã lưu" beside its button
    return _done(url_for("review.batch", batch_id=doc.batch_id, saved=doc_id) + f"#doc-{doc_id}")


@blueprint.post("/doc/<doc_id>/dismiss")
@group("edit")
def dismiss(doc_id: str) -> Any:
    doc = station().review.document(doc_id)
    station().dismiss_warning(doc_id, request.form.get("code", ""))
    return _done(_back(doc.batch_id))


@blueprint.post("/doc/<doc_id>/secret")
@group("edit")
def secret(doc_id: str) -> Any:
    """ "Văn bản mật": on a connected station the document is stopped and erased."""
    doc = station().review.document(doc_id)
    station().mark_secret(doc_id, request.form.get("level", ""))
    return _done(_back(doc.batch_id))


@blueprint.post("/secret/<int:entry_id>/seen")
@group("edit")
def secret_seen(entry_id: int) -> Any:
    """The clerk has read the notice of a stopped secret document."""
    station().secret_seen(entry_id, request.form.get("author", ""))
    return _done(security.local_target(request.form.get("next"), url_for("review.scan")))


# ------------------------------------------------------------------ outbox


@blueprint.get("/outbox")
def outbox() -> str:
    return render_template("review/outbox.html", rows=station().outbox(), words=RECEIPT_WORDS)


def _resend_view(doc_id: str, **given: Any) -> dict[str, Any]:
    """The resend form of a refused document: its fields as kept in the
    outbox, or as the clerk typed them (``values``), with errors by field."""
    item = station().store.outbox.item(doc_id)
    values = given.pop("values", None) or {
        name: as_text(name, item.metadata.get(name)) for name in EDITABLE
    }
    return {
        "item": item,
        "rejection": station().store.outbox.rejection(doc_id) or {},
        "values": values,
        **_FIELD_FORM,
        "list_fields": LIST_FIELDS,
        "errors": {},
        "error": None,
        "words": RECEIPT_WORDS,
        **given,
    }


def _typed_fields() -> dict[str, str]:
    """The header fields of a posted form as typed; Độ mật and Độ khẩn are two
    pickers of one field."""
    typed = {}
    for name in EDITABLE:
        if name in request.form:
            values = request.form.getlist(name)
            typed[name] = (
                ", ".join(v for v in values if v.strip()) if name == "Priority" else values[0]
            )
    return typed


@blueprint.get("/outbox/<doc_id>/resend")
def resend_form(doc_id: str) -> str:
    """ "Gửi lại": the refused document's fields, for the clerk to correct."""
    station().store.outbox.answerable(doc_id)
    return render_template("review/resend.html", **_resend_view(doc_id))


@blueprint.post("/outbox/<doc_id>/resend")
@group("confirm")
def resend(doc_id: str) -> Any:
    """The corrected document goes out as a new one; on a refusal the form
    comes back as typed, with what is wrong beside each field."""
    typed = _typed_fields()
    try:
        copy = station().resend(doc_id, typed)
    except StationError as exc:
        errors = {name: pick(e["vi"], e["en"]) for name, e in exc.detail.get("errors", {}).items()}
        message = pick(exc.message_vi, exc.message_en)
        if errors:
            message = gettext("Thông tin chưa đúng: sửa các trường tô màu bên dưới.")
        if _wants_json():
            return jsonify({"ok": False, "error": message, "errors": errors, "code": exc.code}), 400
        view = _resend_view(doc_id, values=typed, errors=errors, error=message)
        return render_template("review/resend.html", **view), 400
    return _done(url_for("review.outbox") + f"#doc-{doc_id}", doc_id=copy.doc_id)


@blueprint.post("/outbox/<doc_id>/rescan")
@group("scan")
def rescan(doc_id: str) -> Any:
    """ "Quét lại": the next batch scanned replaces the refused document; the
    clerk goes to the scan screen with the paper."""
    station().plan_rescan(doc_id)
    return _done(url_for("review.scan"))


@blueprint.post("/rescan/<doc_id>/cancel")
@group("scan")
def cancel_rescan(doc_id: str) -> Any:
    station().cancel_rescan(doc_id)
    return _done(security.local_target(request.form.get("next"), url_for("review.scan")))


@blueprint.post("/outbox/<doc_id>/retry")
@group("confirm")
def retry(doc_id: str) -> Any:
    station().retry(doc_id)
    return _done(url_for("review.outbox"))


# ------------------------------------------------------------------ settings (PIN)


@blueprint.route("/pin", methods=["GET", "POST"])
def pin() -> Any:
    """The PIN, throttled per client; it opens the guarded actions for a while."""
    stored = station().settings.config.ui.pin_hash
    target = security.local_target(request.args.get("next"), url_for("review.settings"))
    error = None
    if request.method == "POST":
        who = security.client()
        wait = guard.throttle().wait(who)
        if not wait:
            if stored and verify_secret(request.form.get("pin", ""), stored):
                guard.throttle().succeeded(who)
                guard.open_for_a_while()
                return redirect(target)
            wait = guard.throttle().failed(who)
        if wait:
            return security.too_many(wait, "review/pin.html", has_pin=bool(stored), target=target)
        error = gettext("Sai mã PIN")
    return render_template("review/pin.html", error=error, has_pin=bool(stored), target=target)


@blueprint.get("/settings")
@group("settings")
def settings() -> Any:
    st = station()
    config = st.settings.config
    return render_template(
        "review/settings.html",
        stats=st.stats.snapshot(),
        config=config,
        logs=list(st.logs.lines)[-120:],
        events=st.store.events.since(since_id=max(0, st.store.events.last_id() - 30), limit=30),
        version=__version__,
        has_pin=bool(config.ui.pin_hash),
    )


# ------------------------------------------------------------------ files and API


@blueprint.get("/work/<path:relative>")
def work_file(relative: str) -> Response:
    return send_file(station().work_file(relative), max_age=3600)


@blueprint.get("/doc/<doc_id>/boxes")
def boxes(doc_id: str) -> Response:
    """Where each field was read, for the page viewer (station/ui/review/viewer.py)."""
    st = station()
    return jsonify(viewer.boxes(st.review.work, st.review.document(doc_id)))


@blueprint.get("/doc/<doc_id>/crop/<name>.jpg")
def crop(doc_id: str, name: str) -> Response:
    """A field's crop of the page it was read from (station/ui/review/crops.py):
    only of a document of the store, never of a secret one. Its address carries
    ``?v=`` its key, which is also its ETag: a browser keeps it until the
    document is read again."""
    st = station()
    doc = st.review.document(doc_id)
    cut = None if st.processor.secrets.withheld(doc) else crops.plan(st.review.work, doc, name)
    if cut is None:
        raise NotFound(f"no crop of {name!r} for this document", f"không có ảnh cắt của ô {name!r}")
    st.work_file(str(cut.image))  # under the work folder, and still there
    if request.if_none_match.contains(cut.key):
        response = Response(status=304)
    else:
        pages = current_app.extensions.setdefault("crops", crops.DecodedPages())
        response = Response(crops.render(st.review.work, cut, pages), mimetype="image/jpeg")
    response.set_etag(cut.key)
    response.cache_control.private = True
    response.cache_control.max_age = 86400
    return response


@blueprint.get("/api/stats")
def api_stats() -> Response:
    return jsonify(station().stats.snapshot())


@blueprint.get("/api/status")
def api_status() -> Response:
    return jsonify(station().status())


@blueprint.get("/api/batch/<batch_id>")
def api_batch(batch_id: str) -> Response:
    view = _batch_view(batch_id)
    return jsonify(
        {
            "batch_id": batch_id,
            "state": view["batch"].state,
            "countdown": view["countdown"],
            "documents": [
                {
                    "doc_id": d.doc_id,
                    "registration": d.registration,
                    "metadata": d.metadata,
                    "warnings": d.warnings,
                    "pages": [p.page_id for p in d.pages],
                }
                for d in view["docs"]
            ],
        }
    )


@blueprint.get("/api/events")
def api_events() -> Response:
    slots = current_app.extensions["streams"]
    if not slots.take():
        response = jsonify(
            {
                "ok": False,
                "error": "Quá nhiều màn hình đang mở / Too many live screens open",
                "code": "busy",
            }
        )
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return response
    hub = station().hub
    box = hub.subscribe()

    def stream() -> Iterator[str]:
        yield "retry: 2000\n\n"
        while True:
            try:
                kind, data = box.get(timeout=15)
            except queue.Empty:
                yield ": keep-alive\n\n"
                continue
            yield f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"

    response = Response(
        stream_with_context(stream()),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )

    def closed() -> None:  # whether or not the stream ever started
        hub.unsubscribe(box)
        slots.give_back()

    response.call_on_close(closed)
    return response


@blueprint.errorhandler(StationError)
def station_error(exc: StationError) -> Any:
    """A refused action: JSON for the script, the error page for a plain form."""
    status = 404 if exc.exit_code == 9 else 400
    if _wants_json() or request.path.startswith("/api/"):
        message = pick(exc.message_vi, exc.message_en)
        return jsonify({"ok": False, "error": message, "code": exc.code}), status
    message = pick(exc.message_vi, exc.message_en)
    return render_template("error.html", status=status, message=message), status
