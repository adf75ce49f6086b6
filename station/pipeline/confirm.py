"""A confirmed batch on its way out: register, XMP, signature, outbox.

:meth:`Confirmation.finalize` gives each document of a confirmed batch its
register entry (the Sổ đến for a received one, the Sổ đi for a sent one),
writes its final XMP, records it in the store, signs it (when ``[signing]``
is on) and queues it for delivery. A document that
cannot be signed is *held* (unless ``allow_unsigned``) and tried again every
:data:`HELD_RETRY_S` seconds, or at once when asked.

A document the agency's system refused (receipt 02) is answered the same way
out: :meth:`Confirmation.reissue` writes a corrected copy ("Gửi lại",
``Supersedes`` how ``update``), and the first document of the batch scanned
after "Quét lại" goes out with ``Supersedes`` how ``replace``.
"""

from __future__ import annotations

import logging
import shutil
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

from station.common.clock import VIETNAM
from station.common.hub import Hub
from station.config.remote import Settings
from station.errors import InputError, NotCompliant, NotFound, SigningError, StationError
from station.pipeline.document import pdf_warning
from station.records.outgoing_register import OutgoingRegister
from station.records.register import Entry, Register
from station.records.secret_register import secrecy_level
from station.records.signing import Signer, is_signed, unsign
from station.records.verify import verify
from station.review.checks import replacement
from station.review.drafts import Review, ReviewDoc
from station.store import OutboxItem, Store, now_iso

log = logging.getLogger("scanstation.pipeline")

#: how often documents waiting for their signature are tried again
HELD_RETRY_S = 60.0


class Confirmation:
    def __init__(self, store: Store, review: Review, settings: Settings, hub: Hub) -> None:
        self.store = store
        self.review = review
        self.settings = settings
        self.hub = hub
        self._signing: dict[str, Any] = {}
        self._held_at = time.monotonic()

    def finalize(self, review_batch: str) -> None:
        """Final XMP, the documents on record, and each one queued for delivery."""
        from station.records import xmp

        config = self.settings.config
        docs = self.review.documents(review_batch)
        failing = [d.seq for d in docs if any(w["code"] == "pdf_check" for w in d.warnings)]
        if failing:  # the review's check stops this before; never queued all the same
            raise NotCompliant(
                f"batch {review_batch}: the PDF of document(s) {failing} fails the Decree 30 check",
                f"lô {review_batch}: tệp PDF của văn bản {failing} chưa đạt chuẩn Nghị định 30",
            )
        secret = [d.seq for d in docs if secrecy_level(d.metadata.get("Priority"))]
        if secret and config.security.network == "connected":  # stopped before this; never sent
            raise NotCompliant(
                f"batch {review_batch}: document(s) {secret} are secret and never leave a "
                "connected station",
                f"lô {review_batch}: văn bản {secret} là văn bản mật, không được gửi từ trạm "
                "nối mạng",
            )
        register = Register(self.store, config.incoming.holidays)
        outgoing = OutgoingRegister(self.store, config.outgoing.numbering)
        direction = self.store.batch(review_batch).direction
        answers = self._replacing(review_batch, docs)
        ready: list[tuple[ReviewDoc, Path, dict[str, Any], bool]] = []
        for doc in docs:
            if self.store.outbox.has(doc.doc_id):
                # queued before a restart cut this confirmation off: its file is
                # final (perhaps already sent) and is never written again
                continue
            pdf = self.review.work / str(doc.pdf)
            replaces = answers.get(doc.doc_id, {}).get("doc_id", "")
            entered: dict[str, Any] = {}
            if direction == "incoming":  # the Sổ đến: its Số đến and Ngày đến
                entry = self._register(register, review_batch, doc, replaces)
                entered = {
                    "ArrivalNumber": entry.number,
                    "ArrivalDate": entry.arrival_date.isoformat(),
                }
            else:  # the Sổ đi, under the document's own number
                self._register_sent(outgoing, review_batch, doc, replaces)
            values = {
                **doc.metadata,
                **entered,
                "Direction": direction,
                "Registration": doc.registration,
                "BatchId": review_batch,
                "DocId": doc.doc_id,
                "StationId": config.station.id,
            }
            if doc.doc_id in answers:
                values["Supersedes"] = answers[doc.doc_id]
            signed = is_signed(pdf)  # signed just before a restart: the XMP is written too
            if not signed:
                xmp.write(pdf, values)
                self._checked(doc, pdf)
            ready.append((doc, pdf, values, signed))
        # every final file passed its check: on record, signed and queued
        for capture_batch in self.review.capture_batches(review_batch):
            self.store.advance_batch(capture_batch, "confirmed")
        for doc, pdf, values, signed in ready:
            self.store.add_document(doc.doc_id, review_batch, doc.registration, str(pdf),
                                    {**doc.metadata, "Direction": direction})  # fmt: skip
            # a certified copy where the office wants one ([signing] directions)
            wanted = direction in config.signing.directions
            held = False if signed or not wanted else not self.sign(doc.doc_id, pdf)
            # the receiver files documents by the month they were confirmed here
            created = datetime.now(VIETNAM).isoformat(timespec="seconds")
            # an independent LAN's secret document goes to its own receiver only
            marked = secrecy_level(doc.metadata.get("Priority")) is not None
            self.store.outbox.enqueue(
                doc.doc_id,
                pdf,
                {**values, "created_at": created},
                config.uplink.segment_size,
                held=held,
                route="secret" if marked else "",
            )
        for capture_batch in self.review.capture_batches(review_batch):
            self.store.advance_batch(capture_batch, "done")

    def _replacing(self, review_batch: str, docs: list[ReviewDoc]) -> dict[str, dict[str, str]]:
        """ "Quét lại": the batch scanned after it replaces a refused document
        with its document under that label, else its first
        (:func:`~station.review.checks.replacement`; ``Supersedes`` how
        ``replace``). A secret document never goes to the agency's system: the
        rescan then waits for the next batch."""
        rescan = self.store.outbox.rescan(batch_id=review_batch)
        doc = replacement(docs, rescan["registration"]) if rescan else None
        if rescan is None or doc is None or self.store.outbox.has(doc.doc_id):
            return {}
        try:
            self.store.outbox.answerable(rescan["doc_id"])
        except InputError:  # answered meanwhile ("Gửi lại")
            self.store.outbox.cancel_rescan(rescan["doc_id"])
            return {}
        if secrecy_level(doc.metadata.get("Priority")):
            self.store.outbox.unbind_rescan(review_batch)
            return {}
        reason = str(rescan["rejection"].get("description") or "")
        return {doc.doc_id: {"doc_id": rescan["doc_id"], "how": "replace", "reason": reason}}

    def reissue(self, item: OutboxItem, changes: dict[str, Any], doc_id: str) -> OutboxItem:
        """ "Gửi lại": a refused document's corrected copy under ``doc_id``:
        its file copied beside it, the XMP written as at confirmation, checked,
        signed again, recorded and queued with ``Supersedes`` how ``update``.
        Nothing is queued (and no file left) when a step fails."""
        from station.records import xmp

        config = self.settings.config
        rejection = self.store.outbox.rejection(item.doc_id) or {}
        created = datetime.now(VIETNAM).isoformat(timespec="seconds")
        values = {
            **item.metadata,
            **changes,
            "DocId": doc_id,
            "Supersedes": {
                "doc_id": item.doc_id,
                "how": "update",
                "reason": str(rejection.get("description") or ""),
            },
            "created_at": created,
        }
        target = item.path.with_name(f"{doc_id}.pdf")
        part = target.with_name(f".{target.name}.part")
        try:
            shutil.copyfile(item.path, part)
            unsign(part)  # the copy changes: the old signature would no longer hold
            xmp.write(part, values)
            problems = verify(part).problems()
            if problems:
                warned = pdf_warning(problems)
                raise NotCompliant(
                    f"{target.name}: the corrected PDF fails its check: {warned['message']['en']}",
                    f"{target.name}: tệp PDF đã sửa chưa đạt chuẩn: {warned['message']['vi']}",
                )
            part.replace(target)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        batch_id = str(item.metadata.get("BatchId") or "")
        registration = item.metadata.get("Registration")
        kept = {k: v for k, v in values.items() if k not in ("Supersedes", "created_at")}
        # the register's entry of the paper (its own, or the one it kept) follows the correction
        register = Register(self.store, config.incoming.holidays)
        try:
            entry: Entry | None = register.entry(item.doc_id)
        except NotFound:
            entry = register.holding(str(registration)) if registration else None
        if entry is not None and entry.registration == registration:
            register.correct(entry.doc_id, kept)
        sent = self._sent_entry(item)
        if sent is not None:
            OutgoingRegister(self.store, config.outgoing.numbering).correct(sent, kept)
        # on record with its batch: the batch's files stay until it is received too
        self.store.add_document(doc_id, batch_id, registration, str(target), kept)
        held = not self.sign(doc_id, target)
        return self.store.outbox.enqueue(
            doc_id, target, values, config.uplink.segment_size, held=held
        )

    def _checked(self, doc: ReviewDoc, pdf: Path) -> None:
        """The final file (the register's XMP written) checked as ``scanstation
        verify`` does: a failure goes back to the review and stops the confirmation."""
        problems = verify(pdf).problems()
        if not problems:
            return
        warned = pdf_warning(problems)
        self.review.add_warning(doc.doc_id, warned)
        raise NotCompliant(
            f"{pdf.name}: the final PDF fails its check: {warned['message']['en']}",
            f"{pdf.name}: tệp PDF cuối chưa đạt chuẩn: {warned['message']['vi']}",
        )

    def _register(
        self, register: Register, review_batch: str, doc: ReviewDoc, replaces: str = ""
    ) -> Entry:
        """The document's register entry (made once: a confirmation taken up again
        after a restart finds it). Ngày đến is the day it was scanned unless the
        clerk set it in the review. A rescan of a refused document under its
        label keeps that document's entry: one paper, one Số đến."""
        try:
            return register.entry(doc.doc_id)
        except NotFound:
            pass
        if replaces:
            try:
                earlier = register.entry(replaces)
            except NotFound:
                pass
            else:
                if earlier.registration == doc.registration:
                    return register.correct(earlier.doc_id, doc.metadata)
        given = doc.metadata.get("ArrivalDate")
        if given:
            arrival = date.fromisoformat(str(given))
        else:
            created = datetime.fromisoformat(self.store.batch(review_batch).created_at)
            arrival = created.astimezone(VIETNAM).date()
        return register.record(
            doc.doc_id,
            review_batch,
            str(doc.registration),
            self.settings.config.pipeline.registration_pattern,
            doc.metadata,
            arrival,
            datetime.now(VIETNAM),
        )

    def _register_sent(
        self, outgoing: OutgoingRegister, review_batch: str, doc: ReviewDoc, replaces: str = ""
    ) -> None:
        """A sent document's entry in the Sổ đi (made once: a confirmation
        taken up again after a restart finds it). A rescan of a refused sent
        document keeps that document's entry: one paper, one line."""
        if outgoing.has(doc.doc_id):
            return
        if replaces and outgoing.has(replaces):
            outgoing.correct(replaces, doc.metadata)
            return
        outgoing.record(doc.doc_id, review_batch, doc.metadata, datetime.now(VIETNAM))

    def _sent_entry(self, item: OutboxItem) -> str | None:
        """The Sổ đi entry of a refused sent document: its own, or the one of
        the document it answered, back along the answers."""
        outgoing = OutgoingRegister(self.store)
        seen: set[str] = set()
        current: OutboxItem | None = item
        while current is not None and current.doc_id not in seen:
            if current.metadata.get("Direction") != "outgoing":
                return None
            if outgoing.has(current.doc_id):
                return current.doc_id
            seen.add(current.doc_id)
            earlier = (current.metadata.get("Supersedes") or {}).get("doc_id")
            try:
                current = self.store.outbox.item(str(earlier)) if earlier else None
            except NotFound:
                return None
        return None

    # ------------------------------------------------------------------ signing

    def _signer(self) -> Signer | None:
        section = self.settings.config.signing
        if not section.enabled:
            return None
        return Signer(section, self.settings.config.station.unit_name, self.store.data_dir)

    def sign(self, doc_id: str, pdf: Path) -> bool:
        """Sign a confirmed document (when signing is on): True when it may go out."""
        signer = self._signer()
        if signer is None:
            return True
        try:
            signer.sign(pdf, pdf)
        except SigningError as exc:
            allowed = self.settings.config.signing.allow_unsigned
            log.warning("%s not signed: %s", doc_id, exc.message_en)
            self._signing = {"ok": False, "at": now_iso(), "error": exc.to_json()}
            _signing_event(self.store, exc, doc_id, allowed)
            self.hub.publish("error", error=exc.to_json())
            return allowed
        self._signing = {"ok": True, "at": now_iso()}
        return True

    def check_signing(self) -> None:
        """Open the signing key without signing, so the screens say whether it works."""
        signer = self._signer()
        if signer is None:
            return
        found = signer.check()
        self._signing = {
            "ok": found["ok"],
            "at": now_iso(),
            **({"subject": found["subject"]} if found["ok"] else {"error": found["error"]}),
        }

    def release_held(self) -> None:
        """Documents waiting for their signature: sign and release them."""
        self._held_at = time.monotonic()
        for item in self.store.outbox.items(("held",)):
            if self.sign(item.doc_id, item.path) and self._signing.get("ok"):
                self.store.outbox.release(item.doc_id)
                self.hub.publish("outbox")
            else:
                return

    def retry_held(self) -> None:
        """Every :data:`HELD_RETRY_S`: the held documents are tried again."""
        now = time.monotonic()
        if now - self._held_at > HELD_RETRY_S and self.settings.config.signing.enabled:
            self._held_at = now
            if self.store.outbox.summary()["counts"]["held"]:
                self.release_held()

    def signing_status(self) -> dict[str, Any]:
        section = self.settings.config.signing
        held = self.store.outbox.summary()["counts"]["held"]
        return {"enabled": section.enabled, "held": held, **self._signing}


def _signing_event(store: Store, error: StationError, doc_id: str, unsigned: bool) -> None:
    store.events.add(
        "signing.failed",
        "error",
        error.message_vi,
        error.message_en,
        {"doc_id": doc_id, "sent_unsigned": unsigned},
    )
