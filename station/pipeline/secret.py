"""Secret documents on a connected station: stopped, erased, registered apart.

Law 117/2025/QH15 on State Secrets forbids keeping or sending a document marked
Mật, Tối mật or Tuyệt mật on a device connected to the Internet or any network
beyond an independent LAN (docs/security.md#state-secrets). On a station with
``[security] network = "connected"`` a document found secret — its mark read
on a page, or the clerk's "Văn bản mật" — is therefore never read, signed or
queued. :meth:`SecretDesk.stop`:

1. enters it in the register of secret documents (Sổ đăng ký văn bản mật đến,
   :mod:`station.records.secret_register`): its own Số đến, Ngày đến, độ mật,
   the issuing agency when it was read, and "Xử lý ngoài trạm" (entered first:
   a stop cut off by a power cut is finished at the next start,
   :meth:`SecretDesk.finish_interrupted`);
2. erases its pages — captured, corrected, thumbnails, turned copies — its
   PDF and, when its pages came from a hot folder, the original files in
   ``.done/`` (each file overwritten, then removed:
   :mod:`station.store.originals`), deletes its rows (overwritten too:
   ``secure_delete``), and empties the database's write-ahead log (tried again
   later when another process holds it: :meth:`Store.scrub`);
3. raises ``secret.detected`` with the độ mật only, and tells the screens,
   which show the clerk what to do with the paper until the clerk has seen it.

On any station, a document that is or may be secret (:meth:`SecretDesk.withheld`)
has nothing cut from its pages for the screen (a field's crop): on an
independent LAN too, where it stays, a cut-out is one more copy of it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from station.common.clock import VIETNAM
from station.common.hub import Hub
from station.config.remote import Settings
from station.pipeline.page import marked
from station.records.secret_register import SecretEntry, SecretRegister, secrecy_level
from station.review.drafts import Review, ReviewDoc
from station.store import Store
from station.store.originals import Originals

log = logging.getLogger("scanstation.pipeline")


class SecretDesk:
    def __init__(
        self,
        store: Store,
        review: Review,
        settings: Settings,
        hub: Hub,
        originals: Originals | None = None,
    ) -> None:
        self.store = store
        self.review = review
        self.settings = settings
        self.hub = hub
        #: the hot folder's originals, when pages come from one
        self.originals = originals

    @property
    def connected(self) -> bool:
        """Whether secret documents must be stopped here (not an independent LAN)."""
        return self.settings.config.security.network == "connected"

    def _erase(self, doc_id: str) -> None:
        page_ids = self.review.erase_document(doc_id)
        sources = self.store.sources_of(page_ids)
        self.store.erase_pages(page_ids)
        if self.originals is not None:
            self.originals.erase_secret(sources)
        self.store.scrub()

    def finish_interrupted(self) -> int:
        """Stops that a crash or a power cut cut off — entered in the register,
        not yet erased — are finished at start: the document is erased now.
        Returns how many were."""
        left = SecretRegister(self.store).still_in_review()
        for doc_id in left:
            log.warning("a secret document's erasure was cut off: erased now")
            self._erase(doc_id)
        return len(left)

    def withheld(self, doc: ReviewDoc) -> bool:
        """Whether the document is or may be secret: a secrecy mark read on one
        of its pages or in its Priority (read, or chosen by the clerk), a mark
        on a page the clerk has not yet said is none, or its entry in the
        register of secret documents (a stop not finished)."""
        on_page, unsure = marked(p.info.get("secrecy") for p in doc.pages)
        in_header = secrecy_level(doc.metadata.get("Priority"))
        return bool(on_page or unsure or in_header) or SecretRegister(self.store).registered(
            doc.doc_id
        )

    def stopped_in(self, batch_id: str) -> bool:
        """Whether a secret document was stopped in this batch: it is not
        confirmed by the countdown, the clerk confirms the rest."""
        return bool(SecretRegister(self.store).of_batch(batch_id))

    def stop(self, doc_id: str, level: str, found_by: str) -> SecretEntry:
        """Register, erase and announce a secret document (see the module)."""
        doc = self.review.document(doc_id)
        batch = self.store.batch(doc.batch_id)
        arrival = datetime.fromisoformat(batch.created_at).astimezone(VIETNAM).date()
        entry = SecretRegister(self.store).record(
            level,
            arrival,
            batch_id=doc.batch_id,
            doc_id=doc_id,
            found_by=found_by,
            author=str(doc.metadata.get("OrganName") or ""),
            label=doc.registration,
            registered_at=datetime.now(VIETNAM),
        )
        self._erase(doc_id)
        log.warning("a document marked %s was stopped and erased (secret no. %d)", level,
                    entry.number)  # fmt: skip
        self.store.events.add(
            "secret.detected",
            "warning",
            f"Văn bản mật ({level}) đã dừng và xoá khỏi trạm; xử lý ngoài trạm",
            f"A secret document ({level}) was stopped and erased from the station; "
            "handled off the station",
            {"level": level},
        )
        self.hub.publish("secret", batch=doc.batch_id, level=level, number=entry.number)
        return entry
