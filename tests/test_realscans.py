"""The real-scans scorer (bench/realscans.py): its comparison on hand-made cases, and
the station on five real pages (tests/data/realscans) with today's figures as the floor:
the header reader may only get better on real paper."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from bench.realscans import compare, normalise, score, score_document

DATA = Path(__file__).parent / "data" / "realscans"

#: measured on tests/data/realscans (docs/benchmarks.md#real-scans); raise them as the
#: reader improves, never lower them
PRINTED_EXACT_FLOOR = 22
PRINTED_WRONG_CEILING = 0
HANDWRITTEN_WRONG_CEILING = 0


def test_exact_empty_and_wrong() -> None:
    assert compare("Quyết định", "Quyết định") == "exact"
    assert compare(None, "Quyết định") == "empty"
    assert compare("", "Quyết định") == "empty"
    assert compare("Nghị quyết", "Quyết định") == "wrong"
    assert compare("07", None) == "wrong"  # a value where the page has none
    assert compare(None, None) == "exact"


def test_nfc_and_whitespace_are_the_only_foldings() -> None:
    decomposed = unicodedata.normalize("NFD", "Ủy ban nhân dân tỉnh Quảng Ngãi")
    assert decomposed != "Ủy ban nhân dân tỉnh Quảng Ngãi"
    assert compare(decomposed, "Ủy ban nhân dân tỉnh Quảng Ngãi") == "exact"
    # lines are joined with single spaces
    assert compare("Về việc miễn nhiệm\n  chức danh ", "Về việc miễn nhiệm chức danh") == "exact"
    # case, spelling as printed, a tone mark and the "Về việc" of a subject all count
    assert compare("Góp ý dự thảo", "góp ý dự thảo") == "wrong"
    assert compare("Ủy ban nhân dân tỉnh Quảng Ngãi", "Uỷ ban nhân dân tỉnh Quảng Ngãi") == "wrong"
    assert compare("Nhâm Dằn", "Nhâm Dần") == "wrong"
    assert compare("miễn nhiệm chức danh", "Về việc miễn nhiệm chức danh") == "wrong"
    assert compare("V/v góp ý dự thảo", "góp ý dự thảo") == "wrong"
    assert normalise(["Như trên", " ", "Lưu: VT"]) == ["Như trên", "Lưu: VT"]


def test_a_document_is_scored_by_group() -> None:
    doc = {
        "id": "X",
        "fields": {
            "TypeName": "Công văn",
            "CodeNumber": "299",
            "CodeNotation": "UBND-TTHC",
            "IssuedDate": "2025-01-15",
            "OrganName": "Ủy ban nhân dân tỉnh Quảng Ngãi",
            "Subject": "công bố Danh mục TTHC",
            "SubjectAsPrinted": "V/v công bố Danh mục TTHC",
            "SuperiorOrgan": None,
            "SignerName": "Trần Hoàng Tuấn",
            "ToPlaces": ["Như trên", "Lưu: VT"],
        },
        "handwritten": ["CodeNumber", "IssuedDate"],
    }
    found = {
        "TypeName": "Công văn",
        "CodeNumber": "899",
        "CodeNotation": "UBND-TTHC",
        "IssuedDate": None,
        "OrganName": None,
        "Subject": "công bố Danh mục  TTHC",
        "PageAmount": 2,
        "Language": "vi",
        "Priority": "Hỏa tốc",
    }
    fields = score_document(doc, found)["fields"]
    assert {n: (f["group"], f["outcome"]) for n, f in fields.items()} == {
        "TypeName": ("printed", "exact"),
        "CodeNumber": ("handwritten", "wrong"),
        "CodeNotation": ("printed", "exact"),
        "IssuedDate": ("handwritten", "empty"),
        "OrganName": ("printed", "empty"),
        "Subject": ("printed", "exact"),
    }
    # what the station does not read is never exact, and absent truth is not counted
    assert score_document(doc, found)["not_read"] == ["SignerName", "ToPlaces"]
    # no document made: every field empty
    nothing = score_document(doc, None)["fields"]
    assert {f["outcome"] for f in nothing.values()} == {"empty"}


@pytest.mark.slow
def test_the_station_on_real_pages_does_no_worse_than_today() -> None:
    result = score(DATA, quiet=True)
    printed, handwritten = result["printed"], result["handwritten"]
    assert result["documents"] == 5 and printed["total"] == 24 and handwritten["total"] == 6
    assert all(row["documents_made"] == 1 for row in result["rows"])
    assert printed["exact"] >= PRINTED_EXACT_FLOOR, result["per_field"]
    assert printed["wrong"] <= PRINTED_WRONG_CEILING, result["per_field"]
    assert handwritten["wrong"] <= HANDWRITTEN_WRONG_CEILING, result["per_field"]
    assert result["not_read"]["total"] <= 8  # fields the station does not read yet
