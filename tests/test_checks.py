"""What a batch is checked for before it is sent (station/review/checks.py)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from station.barcodes.split import warning
from station.common.clock import VIETNAM
from station.config import DEFAULT_REGISTRATION
from station.records.register import Register
from station.review.checks import before_confirming
from station.review.drafts import ReviewDoc
from station.store import Store

TODAY = date(2026, 11, 30)


def _meta(**more: Any) -> dict[str, Any]:
    return {
        "TypeName": "Công văn",
        "CodeNumber": "45",
        "CodeNotation": "VKS-VP",
        "IssuedDate": "2026-11-02",
        "OrganName": "Viện kiểm sát nhân dân khu vực 3",
        "Subject": "báo cáo kết quả công tác kiểm sát tháng 11 năm 2026",
        **more,
    }


def _doc(
    seq: int, label: str | None, warnings: list[dict[str, Any]] | None = None, **meta: Any
) -> ReviewDoc:
    return ReviewDoc(
        doc_id=f"b-{seq:03d}",
        batch_id="b",
        seq=seq,
        registration=label,
        metadata=_meta(**meta),
        edited=[],
        warnings=warnings or [],
        pdf=None,
        stale=False,
        pages=[],
    )


@pytest.fixture
def register(tmp_path: Path) -> Any:
    with Store(tmp_path / "data") as store:
        yield Register(store)


def _enter(register: Register, doc_id: str, number: int, year: int = 2026) -> None:
    label = f"DEN-{year}-{number:06d}"
    register.record(
        doc_id, "old", label, DEFAULT_REGISTRATION, _meta(), date(year, 11, 2),
        datetime(year, 11, 2, 9, 0, tzinfo=VIETNAM),
    )  # fmt: skip


def test_what_blocks_a_batch_and_what_is_asked(register: Register) -> None:
    """A label already in the Sổ đến, a label twice in the batch and no label
    block the batch; a standing warning, a label of another year, Số đến
    skipped and an empty field the register needs are asked about."""
    for number in range(1, 11):
        _enter(register, f"old-{number}", number)
    docs = [
        _doc(1, "DEN-2026-000010"),  # already entered, for another document
        _doc(2, "DEN-2026-000012"),
        _doc(3, "DEN-2026-000012"),  # the same label twice
        _doc(4, None),
        _doc(5, "DEN-2025-000900"),  # a label of last year
        _doc(6, "DEN-2026-000015", Subject=None),  # skips 13-14; no subject
        _doc(7, "DEN-2026-000016", [warning("duplicate", number="45", organ="VKS", others="x")]),
    ]
    found = before_confirming(docs, register, DEFAULT_REGISTRATION, TODAY)
    blocking = [(f.code, f.seq) for f in found if f.blocking]
    asked = [(f.code, f.seq) for f in found if not f.blocking]
    assert blocking == [
        ("registration_on_file", 1),
        ("registration_repeated", 2),
        ("registration_repeated", 3),
        ("no_registration", 4),
    ]
    assert sorted(asked, key=str) == sorted(
        [("wrong_year", 5), ("empty_fields", 6), ("duplicate", 7), ("gap", None), ("gap", None)],
        key=str,
    )
    messages = {f.vi for f in found}
    assert "Thiếu số đến 11/2026 (nhãn bị bỏ qua?)" in messages
    assert "Thiếu số đến 13-14/2026 (nhãn bị bỏ qua?)" in messages
    assert "Văn bản 6 còn trống: Trích yếu" in messages
    assert any(
        m.startswith("Văn bản 1: nhãn DEN-2026-000010 đã vào sổ đến ngày 02/11/2026")
        for m in messages
    )
    # every finding says it in both languages
    assert all(f.vi and f.en and f.vi != f.en for f in found)


def test_a_clean_batch_has_nothing_to_ask(register: Register) -> None:
    """The labels that follow the register's last one, every field there:
    nothing to ask. A station's first labels of a year may go on from a paper
    book (123 with nothing before it is no gap), but a hole between its own
    labels is."""
    assert (
        before_confirming([_doc(1, "DEN-2026-000123")], register, DEFAULT_REGISTRATION, TODAY) == []
    )
    _enter(register, "old-123", 123)
    docs = [_doc(1, "DEN-2026-000124"), _doc(2, "DEN-2026-000125")]
    assert before_confirming(docs, register, DEFAULT_REGISTRATION, TODAY) == []
    fresh = [_doc(1, "DEN-2027-000003"), _doc(2, "DEN-2027-000005")]
    found = before_confirming(fresh, register, DEFAULT_REGISTRATION, date(2027, 1, 4))
    assert [(f.code, f.vi) for f in found] == [("gap", "Thiếu số đến 4/2027 (nhãn bị bỏ qua?)")]
    # the day the clerk set as Ngày đến decides the year, not today
    late = [_doc(1, "DEN-2026-000124", ArrivalDate="2026-12-31")]
    assert before_confirming(late, register, DEFAULT_REGISTRATION, date(2027, 1, 2)) == []
    # a stack scanned after another still under review skips nothing
    later = [_doc(1, "DEN-2026-000127")]
    assert [f.code for f in before_confirming(later, register, DEFAULT_REGISTRATION, TODAY)] == [
        "gap"
    ]
    pending = ("DEN-2026-000125", "DEN-2026-000126")
    assert before_confirming(later, register, DEFAULT_REGISTRATION, TODAY, pending) == []


def test_a_pdf_that_fails_its_check_blocks_the_batch(register: Register) -> None:
    """The warning `pdf_check` (the document's PDF fails `scanstation verify`)
    is a blocking finding, with its message: no "Vẫn gửi" passes it."""
    from station.barcodes.split import warning

    failing = warning("pdf_check", vi="trang 2 không đúng khổ giấy (223×310 mm)",
                      en="page 2 is not a paper size (223×310 mm)")  # fmt: skip
    docs = [_doc(1, "DEN-2026-000123", [failing])]
    (found,) = before_confirming(docs, register, DEFAULT_REGISTRATION, TODAY)
    assert found.code == "pdf_check" and found.blocking and found.seq == 1
    assert found.vi == (
        "Văn bản 1: Tệp PDF chưa đạt chuẩn Nghị định 30: trang 2 không đúng khổ giấy (223×310 mm)."
        " Quét lại hoặc bỏ trang đó"
    )
