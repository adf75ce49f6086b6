"""The clerk's review in the store: grouping, page changes, fields, labels."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from station.barcodes.decode import Rules
from station.config import DEFAULT_REGISTRATION
from station.errors import InputError
from station.review.drafts import Review
from station.review.fields import check_field
from station.store import Store

RULES = Rules.from_config(DEFAULT_REGISTRATION, "PATCHT")


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 60), "white").save(out, "JPEG")
    return out.getvalue()


def _batch(store: Store, review: Review, kinds: list[str]) -> tuple[str, list[int]]:
    """A reviewed batch whose pages are: "L<n>" a page labelled DEN-2026-00000n,
    "p" a plain page, "b" a blank back, "s" a separator."""
    batch = store.create_batch("folder:/x", "standard", "test")
    ids = []
    for n, kind in enumerate(kinds):
        page = store.add_page(
            batch.id, _jpeg(), ext="jpg", input_name=f"s{n}.jpg", frame=0, side="single",
            width=40, height=60, dpi=200,
        )  # fmt: skip
        codes = []
        if kind.startswith("L"):
            codes = [{"format": "Code128", "text": f"DEN-2026-{int(kind[1:]):06d}"}]
        elif kind == "s":
            codes = [{"format": "Code128", "text": "PATCHT"}]
        info = {
            "blank": kind == "b",
            "separator": kind == "s",
            "barcodes": codes,
            "registrations": [c["text"] for c in codes if c["text"] != "PATCHT"],
        }
        review.add_page(batch.id, page.id, info, clean=f"{batch.id}/p{page.id}.jpg")
        ids.append(page.id)
    review.regroup(batch.id, RULES)
    return batch.id, ids


@pytest.fixture
def review(data_dir: Path) -> Review:
    return Review(Store(data_dir))


def _layout(review: Review, batch: str) -> list[tuple[str | None, list[int]]]:
    return [(d.registration, [p.page_id for p in d.pages]) for d in review.documents(batch)]


def test_grouping_follows_the_barcode_rules(review: Review) -> None:
    batch, ids = _batch(review.store, review, ["L1", "b", "p", "b", "s", "b", "p", "L2", "p"])
    assert _layout(review, batch) == [
        ("DEN-2026-000001", [ids[0], ids[2]]),
        (None, [ids[6]]),
        ("DEN-2026-000002", [ids[7], ids[8]]),
    ]
    docs = review.documents(batch)
    assert [w["code"] for w in docs[1].warnings] == ["no_registration"]
    assert review.clean(docs[0]) and not review.clean(docs[1])
    assert all(d.stale for d in docs)
    assert docs[0].metadata["PageAmount"] == 2


def test_page_changes(review: Review) -> None:
    batch, ids = _batch(review.store, review, ["L1", "p", "p", "L2", "p"])
    first, second = (d.doc_id for d in review.documents(batch))
    # move the last page of the first document to the front of the second
    review.move_page(ids[2], second, 0)
    assert _layout(review, batch) == [
        ("DEN-2026-000001", [ids[0], ids[1]]),
        ("DEN-2026-000002", [ids[2], ids[3], ids[4]]),
    ]
    assert review.document(second).metadata["PageAmount"] == 3
    # split the second document at its last page: a new one without a label
    new = review.split_at(ids[4])
    assert new.registration is None and [w["code"] for w in new.warnings] == ["no_registration"]
    assert _layout(review, batch)[2] == (None, [ids[4]])
    # merge it back, then rotate and delete pages
    review.merge_next(second)
    assert _layout(review, batch)[1] == ("DEN-2026-000002", [ids[2], ids[3], ids[4]])
    assert review.rotate(ids[3], -1).rotation == 270
    assert review.rotate(ids[3], 2).rotation == 90
    review.delete_page(ids[1])
    assert _layout(review, batch)[0] == ("DEN-2026-000001", [ids[0]])
    # a document that loses its last page goes away
    review.delete_page(ids[0])
    assert [d.registration for d in review.documents(batch)] == ["DEN-2026-000002"]
    assert [d.seq for d in review.documents(batch)] == [1]
    assert first not in {d.doc_id for d in review.documents(batch)}
    with pytest.raises(InputError):
        review.split_at(ids[2])  # already the first page


def test_a_page_moved_to_the_end_goes_after_the_others(review: Review) -> None:
    """The screen's "cuối" (-1): after the last page, so the first page (and the
    header read from it) stays the document's own."""
    batch, ids = _batch(review.store, review, ["L1", "p", "L2", "p", "p"])
    first = review.documents(batch)[0].doc_id
    review.move_page(ids[4], first, -1)
    assert _layout(review, batch)[0] == ("DEN-2026-000001", [ids[0], ids[1], ids[4]])
    review.move_page(ids[3], first, 99)  # past the end: last as well
    assert _layout(review, batch) == [
        ("DEN-2026-000001", [ids[0], ids[1], ids[4], ids[3]]),
        ("DEN-2026-000002", [ids[2]]),
    ]
    review.move_page(ids[3], first, 1)
    assert _layout(review, batch)[0] == ("DEN-2026-000001", [ids[0], ids[3], ids[1], ids[4]])


def test_fields_and_labels(review: Review) -> None:
    batch, _ = _batch(review.store, review, ["p", "L2", "p"])
    unlabelled, labelled = review.documents(batch)
    assert review.set_field(unlabelled.doc_id, "CodeNumber", " 07 ") == "07"
    assert review.set_field(unlabelled.doc_id, "Subject", "Về việc  rà soát") == "Về việc rà soát"
    doc = review.document(unlabelled.doc_id)
    assert doc.edited == ["CodeNumber", "Subject"]
    # what OCR reads later does not overwrite the clerk's fields
    review.set_read(doc.doc_id, {"CodeNumber": "01", "OrganName": "Sở Tư pháp"}, "x.pdf", [])
    doc = review.document(doc.doc_id)
    assert doc.metadata["CodeNumber"] == "07" and doc.metadata["OrganName"] == "Sở Tư pháp"
    assert not doc.stale and doc.pdf == "x.pdf"
    with pytest.raises(InputError, match="DEN-2026-000123"):
        review.set_registration(doc.doc_id, "abc", DEFAULT_REGISTRATION)
    with pytest.raises(InputError, match="already used"):
        review.set_registration(doc.doc_id, "DEN-2026-000002", DEFAULT_REGISTRATION)
    assert review.set_registration(doc.doc_id, "den-2026-000009", DEFAULT_REGISTRATION) == (
        "DEN-2026-000009"
    )
    assert review.clean(review.document(doc.doc_id))
    review.add_warning(labelled.doc_id, {"code": "duplicate", "message": {"vi": "x", "en": "x"}})
    with pytest.raises(InputError):
        review.dismiss_warning(unlabelled.doc_id, "no_registration")
    review.dismiss_warning(labelled.doc_id, "duplicate")
    assert review.clean(review.document(labelled.doc_id))


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("TypeName", "Quyết định", "Quyết định"),
        ("TypeName", "Công văn", "Công văn"),
        ("TypeName", "Thư tình", InputError),
        ("CodeNumber", "0712", "0712"),
        ("CodeNumber", "7a", InputError),
        ("CodeNotation", "QĐ-VKS", "QĐ-VKS"),
        ("CodeNotation", "../etc", InputError),
        ("IssuedDate", "2026-03-06", "2026-03-06"),
        ("IssuedDate", "2027-01-01", InputError),
        ("IssuedDate", "06/03/2026", "2026-03-06"),  # as Vietnamese write a date
        ("IssuedDate", "6.3.2026", "2026-03-06"),
        ("IssuedDate", "31/02/2026", InputError),
        ("IssuedDate", "03/06", InputError),
        ("TypeName", "quyết định", "Quyết định"),  # the list's spelling, whatever the case
        ("Priority", "Mật, Hỏa tốc", "Mật, Hỏa tốc"),
        ("Priority", "Rất gấp", InputError),
        ("OrganName", "", None),
        ("Subject", "x" * 1001, InputError),
    ],
)
def test_field_checks(name: str, value: str, expected: object) -> None:
    today = date(2026, 11, 25)
    if expected is InputError:
        with pytest.raises(InputError):
            check_field(name, value, today)
    else:
        assert check_field(name, value, today) == expected


def test_the_station_names_every_earlier_document_with_the_same_header(review: Review) -> None:
    """docs/ocr.md "Duplicates": each earlier document of the batch is named,
    also after the clerk dismissed a warning and the batch is read again."""
    from station.common.hub import Hub
    from station.config import Config
    from station.config.remote import Settings
    from station.pipeline.live import Processor

    batch, _ = _batch(review.store, review, ["L1", "L2", "L3"])
    first, second, third = review.documents(batch)
    header = {"CodeNumber": "07", "CodeNotation": "CV-STP", "OrganName": "Sở Tư pháp"}
    for doc in (first, second, third):
        review.set_read(doc.doc_id, header, f"{doc.doc_id}.pdf", [])
    config = Config.model_validate({"station": {"data_dir": str(review.store.data_dir)}})
    processor = Processor(review.store, review, Settings(config), Hub())
    try:
        for _reading in range(2):
            processor._warn_duplicates(batch)
            named = [
                [
                    w["message"]["en"].split(": ", 1)[1]
                    for w in d.warnings
                    if w["code"] == "duplicate"
                ]
                for d in review.documents(batch)
            ]
            assert named == [[], ["DEN-2026-000001"], ["DEN-2026-000001, DEN-2026-000002"]]
            review.dismiss_warning(third.doc_id, "duplicate")
    finally:
        processor.close()


def test_fields_in_doubt_are_kept_with_their_readings_until_the_clerk_corrects_them(
    review: Review,
) -> None:
    """How each field was read is in the store beside the draft; a field the
    reader left empty or in doubt is to be checked until the clerk sets it."""
    batch, _ = _batch(review.store, review, ["L1"])
    (doc,) = review.documents(batch)
    assert doc.readings == {} and doc.to_check() == []
    readings = {
        "CodeNotation": {"confidence": 1.0, "box": [36.1, 43.7, 78.3, 49.3]},
        "CodeNumber": {
            "confidence": 0.0,
            "box": [42.8, 43.7, 56.1, 49.3],
            "code": "handwritten",
        },
        "Subject": {"confidence": 0.5, "code": "marks_disagree", "read": "công bỗ"},
    }
    review.set_read(doc.doc_id, {"CodeNotation": "TTr-UBND"}, "x.pdf", [], readings)
    doc = review.document(doc.doc_id)
    assert doc.readings == readings
    assert doc.to_check() == ["CodeNumber", "Subject"]
    review.set_field(doc.doc_id, "CodeNumber", "01")
    assert review.document(doc.doc_id).to_check() == ["Subject"]
