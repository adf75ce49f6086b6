"""The one rule for a document already on file (docs/decree30.md#duplicates).

A document whose number + symbol + issuing agency match one earlier in the
same batch, or one in the station's store from another batch, gets the
warning ``duplicate`` naming every earlier one. Used by ``scanstation
process`` and by the station alike; each records its documents in the store
after the warnings are made (``process`` at once, the station when the clerk
confirms), so a document never names itself or a later one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from station.pipeline.batch import Warning
from station.store import Store, duplicate_key


class Filed(Protocol):
    """A document of a batch, as the rule sees it."""

    @property
    def doc_id(self) -> str: ...
    @property
    def registration(self) -> str | None: ...
    @property
    def metadata(self) -> dict[str, Any]: ...


def duplicate_warnings(
    docs: Sequence[Filed], batch_id: str, store: Store | None
) -> list[Warning | None]:
    """Per document of the batch, in order: its ``duplicate`` warning, or None."""
    seen: list[tuple[str, str]] = []  # (key, name) of the documents before
    found: list[Warning | None] = []
    for doc in docs:
        key = duplicate_key(doc.metadata)
        if key is None:
            found.append(None)
            continue
        earlier = [name for other, name in seen if other == key]
        if store is not None:
            # this batch's own documents are on record already when a run or a
            # confirmation is taken up again: they count by their order above
            earlier += [
                d["registration"] or d["id"]
                for d in store.same_documents(doc.metadata)
                if d["batch_id"] != batch_id
            ]
        seen.append((key, doc.registration or doc.doc_id))
        if not earlier:
            found.append(None)
            continue
        meta = doc.metadata
        found.append(
            Warning.of(
                "duplicate",
                number=f"{meta['CodeNumber']}/{meta['CodeNotation']}",
                organ=str(meta["OrganName"]),
                others=", ".join(earlier),
            )
        )
    return found
