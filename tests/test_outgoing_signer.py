"""The signature block and "Nơi nhận" of sent documents (docs/ocr.md#the-signer-and-the-recipients):
read from real last pages through an outgoing batch into the Sổ đi and the
``doc/`` message, each value the page's or empty, never another; the seal's
ring never joins the position."""

from __future__ import annotations

import dataclasses
import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from station.ocr.closing import _items, _title, signer
from station.ocr.pdf import PageWords, Word

REAL = Path(__file__).parent / "data" / "realscans"


def test_a_position_is_a_known_title_line() -> None:
    for line in ("VIỆN TRƯỞNG", "PHÓ CHỦ TỊCH", "PHÓ CHÁNH VĂN PHÒNG", "KT. CHỦ TỊCH",
                 "TL. CHỦ TỊCH", "TUQ. GIÁM ĐỐC", "Q. CHỦ TỊCH", "K/T CHỦ TỊCH",
                 "TM. ỦY BAN NHÂN DÂN", "T/M UBND TỈNH", "T/M UBND THỊ XÃ CAO BẰNG"):  # fmt: skip
        assert _title(line) == "title", line
    # letters of the seal's ring read into the line, a word cut short under it,
    # an authority with nothing known after it: refused, not kept
    for line in ("VIỆN TRƯỞNG VN", "VN GIÁM ĐỐC", "KT. VIỆN TRƯỞNG IỆ", "KT. CHỦ TỊC",
                 "TM. VN", "TM. ỦY BAN NHÂN DÂN TỊC"):  # fmt: skip
        assert _title(line) == "spoilt", line
    for line in ("VN", "X/ VN", "Ệ RƯỞNG", "Nguyễn Văn An", "kết quả thực hiện"):
        assert _title(line) == "other", line


def test_an_item_whose_dash_was_lost_is_still_an_item() -> None:
    assert _items(["- Như trên;", "- Lãnh đạo đơn vị; Lưu: VT."]) == [
        "Như trên",
        "Lãnh đạo đơn vị",
        "Lưu: VT",
    ]
    # a wrapped item stays one
    assert _items(["- Văn phòng Đoàn ĐBQH", "và HĐND tỉnh;", "- Lưu: VT, NC(Vi16)."]) == [
        "Văn phòng Đoàn ĐBQH và HĐND tỉnh",
        "Lưu: VT, NC(Vi16)",
    ]


class _Block:
    """The signature block's lines as the second reading gives them."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def read(self, x0: float, y0: float, x1: float, y1: float) -> list[str]:
        return list(self.lines)


def _signed(lines: list[str]) -> dict[str, Any]:
    page = PageWords(210.0, 297.0, (Word("Nơi", 30, 200, 38, 205), Word("nhận:", 39, 200, 50, 205)))
    found = signer(page, _Block(lines))  # type: ignore[arg-type]
    return {name: value for name, (value, _reading) in found.items()}


def test_the_seals_ring_never_joins_the_position_or_the_name() -> None:
    assert _signed(["KT. VIỆN TRƯỞNG", "PHÓ VIỆN TRƯỞNG", "vN/", "Lê Thị Bình"]) == {
        "SignerCompetence": "KT. VIỆN TRƯỞNG",
        "SignerPosition": "PHÓ VIỆN TRƯỞNG",
        "SignerName": "Lê Thị Bình",
    }
    # the authority's dot misread: as Phụ lục I prints it
    assert _signed(["KT: VIỆN TRƯỞNG", "PHÓ VIỆN TRƯỞNG"])["SignerCompetence"] == "KT. VIỆN TRƯỞNG"
    assert _signed(["T/M UBND TỈNH", "K/T CHỦ TỊCH", "PHÓ CHỦ TỊCH"])["SignerCompetence"] == (
        "T/M UBND TỈNH K/T CHỦ TỊCH"
    )
    # the ring's letters read as a line of their own under the position: not a title
    assert _signed(["VIỆN TRƯỞNG", "VN", "Nguyễn Văn An"])["SignerPosition"] == "VIỆN TRƯỞNG"
    # read into the position's line: the block is refused, the name with it
    assert _signed(["VIỆN TRƯỞNG VN", "Nguyễn Văn An"]) == {"SignerPosition": None}
    assert _signed(["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊC", "PHÓ CHỦ TỊCH", "Trần Phước Hiền"]) == {
        "SignerPosition": None
    }
    # a line in capitals over the titles that is none of them (the authority
    # under the seal) would leave the authority short: refused
    assert _signed(["ỦY BAN NHÂN DÂ", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Trần Phước Hiền"]) == {
        "SignerPosition": None
    }
    # a name with a letter of the ring after it is no name
    assert "SignerName" not in _signed(["GIÁM ĐỐC", "Trần Quốc Cường N"])


def _truth() -> dict[str, dict[str, Any]]:
    truth = json.loads((REAL / "truth.json").read_text(encoding="utf-8"))
    return {doc["id"]: doc for doc in truth["documents"] if "SignerPosition" in doc["fields"]}


@pytest.mark.slow
def test_real_signature_blocks_go_through_an_outgoing_batch_into_the_register(
    tmp_path: Path,
) -> None:
    """The committed real pages whose signature block and "Nơi nhận" are on
    them, scanned as a stack of sent documents (a separator sheet between
    them): each signer field and list is the truth or empty, never another
    value, and what was read is in the Sổ đi's row and the ``doc/`` message."""
    from station.appliance.station import Station
    from station.config import Config
    from station.config.remote import Settings
    from station.demo.samples import separator_sheet
    from station.records.outgoing_register import recipients_of, signer_of
    from station.store import Store
    from tests.helpers.wait import until

    docs = _truth()
    assert len(docs) >= 2  # B01 and G02
    scans = tmp_path / "scans"
    scans.mkdir()
    for number, doc in enumerate(docs.values()):
        if number:
            separator_sheet().save(scans / f"scan_{2 * number:04d}.png", dpi=(200, 200))
        for page in doc["files"]:
            shutil.copy(REAL / page, scans / f"scan_{2 * number + 1:04d}.jpg")
    config = Config.model_validate(
        {
            "station": {
                "id": "st-out",
                "data_dir": str(tmp_path / "data"),
                "default_direction": "outgoing",
            },
            "scanner": {"device": f"folder:{scans}"},
        }
    )
    station = Station(Settings(config), Store(config.station.data_dir), connect=False)
    station.start()
    try:
        assert station.scan()
        batch: str = until(lambda: station.last_batch, 60, 0.1)
        until(lambda: station.store.batch(batch).state == "review", 600, 0.2)
        until(lambda: not station.processor.batches[batch].reading, 600, 0.2)
        assert station.store.batch(batch).direction == "outgoing"
        read = station.review.documents(batch)
        assert len(read) == len(docs)
        exact = 0
        for made, truth in zip(read, docs.values(), strict=True):
            meta, fields = made.metadata, truth["fields"]
            position = " ".join(
                meta[k] for k in ("SignerCompetence", "SignerPosition") if meta.get(k)
            )
            found = {
                "SignerPosition": position if meta.get("SignerPosition") else None,
                "SignerName": meta.get("SignerName"),
                "ToPlaces": meta.get("ToPlaces"),
            }
            for name, value in found.items():
                assert value in (None, fields[name]), (truth["id"], name, value, fields[name])
                exact += value is not None
        station.confirm(batch, despite=True)
        until(lambda: station.store.batch(batch).state == "done", 300, 0.2)
        register = station.outgoing
        for made in read:
            # the doc/ message is the outbox item's metadata with the file's id and checksum
            meta = station.store.outbox.item(made.doc_id).metadata
            assert meta["Direction"] == "outgoing"
            for name in ("SignerCompetence", "SignerPosition", "SignerName", "ToPlaces"):
                assert meta.get(name) == made.metadata.get(name), name
            entry = register.entry(made.doc_id)
            assert entry.signer == signer_of(made.metadata)
            assert (entry.recipients, entry.archive) == recipients_of(made.metadata)
            if made.metadata.get("SignerPosition"):
                assert made.metadata["SignerPosition"] in entry.signer
    finally:
        station.stop()
        station.store.close()
    # on these two pages today: B01's authority and position (the seal lies over the
    # name); raise as the reader improves
    assert exact >= 1


@pytest.mark.slow
def test_generated_outgoing_pages_with_the_seal_over_the_block(tmp_path: Path) -> None:
    """Generated sent documents, one page each, the red seal (its ring lettered
    with the agency's name) over the signature block, scanned in colour, in
    grey and in black and white: the position and the name are the printed ones
    or empty."""
    from station.common.fonts import FONTS
    from station.config import Config
    from station.demo.samples import Layout, render_document, separator_sheet
    from station.pipeline.offline import process_inputs
    from tests.docgen import closing_truth, random_document, scan

    rng = random.Random(3)
    families = sorted(FONTS)
    inputs: list[Path] = []
    specs = []
    for index in range(6):
        spec, fields = random_document(rng, index)
        spec = dataclasses.replace(spec, registration=None, pages=1, body=spec.body[:3])
        if index:
            sheet = tmp_path / f"sep_{index}.png"
            separator_sheet().save(sheet, dpi=(200, 200))
            inputs.append(sheet)
        page = render_document(spec, 200, Layout(family=families[index % len(families)]))[0]
        render = ("grey", "bilevel", "100dpi")[index % 3]
        scanned = scan(page, "last", rng, 200, index, fields, blank=False, max_skew=2.0,
                       render=render, orientation=0)  # fmt: skip
        path = tmp_path / f"page_{index}{'.png' if render == 'bilevel' else '.jpg'}"
        path.write_bytes(scanned.jpeg)
        inputs.append(path)
        specs.append(spec)
    config = Config.model_validate({"station": {"data_dir": str(tmp_path / "data")}})
    batch = process_inputs(inputs, tmp_path / "out", config, jobs=2, ocr=True, direction="outgoing")
    assert len(batch["documents"]) == len(specs)
    exact = 0
    for doc, spec in zip(batch["documents"], specs, strict=True):
        meta = doc["metadata"]
        expected = closing_truth(spec)
        for name, value in expected.items():
            assert meta[name] in (None, value), (name, meta[name], value)
            exact += value is not None and meta[name] == value
    assert exact >= 8
