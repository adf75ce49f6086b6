"""`scanstation process`: the offline pipeline and batch.json (docs/batch.md)."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import img2pdf
import pytest
from PIL import Image

from station.demo.samples import SAMPLE_DOCUMENTS, render_document, sample_label
from tests.docgen import back_of
from tests.helpers.cli import scanstation
from tests.helpers.pdf_inputs import empty_pdf, xfa_pdf

PAGE_KEYS = {
    "input",
    "index",
    "skew_deg",
    "orientation_deg",
    "blank",
    "separator",
    "barcodes",
    "dpi",
    "low_resolution",
    "secrecy",
    "doc_id",
    "secret",
}


def _scan(page: Image.Image, angle: float, turn: int = 0) -> Image.Image:
    turned = page.rotate(turn, expand=True).rotate(angle, expand=True, fillcolor=(100, 100, 100))
    canvas = Image.new("RGB", (turned.width + 60, turned.height + 60), (100, 100, 100))
    canvas.paste(turned, (30, 30))
    return canvas


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    import random

    folder = tmp_path_factory.mktemp("inputs")
    first, second = render_document(SAMPLE_DOCUMENTS[0], 200)
    jpeg = folder / "scan_1.jpg"
    _scan(first, 6.0).save(jpeg, "JPEG", quality=85, dpi=(200, 200))
    # a two-frame TIFF: the back (blank) and the second page upside down
    tiff = folder / "scan_2.tif"
    frames = [_scan(back_of(first, random.Random(1)), -2.0), _scan(second, -3.5, 180)]
    frames[0].save(tiff, save_all=True, append_images=frames[1:], dpi=(200, 200))
    pdf = folder / "scan_3.pdf"
    _scan(render_document(SAMPLE_DOCUMENTS[1], 200)[0], 0.0, 90).save(pdf, "PDF", resolution=200)
    return [jpeg, tiff, pdf]


def _process(*args: str) -> subprocess.CompletedProcess[str]:
    return scanstation("process", *args)


def test_batch_json_has_every_frame(inputs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _process(*map(str, inputs), "--out", str(out), "--no-ocr", "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    batch = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert set(batch) == {"batch_id", "direction", "pages", "documents"}
    pages = batch["pages"]
    assert [(p["input"], p["index"]) for p in pages] == [
        ("scan_1.jpg", 0),
        ("scan_2.tif", 0),
        ("scan_2.tif", 1),
        ("scan_3.pdf", 0),
    ]
    for page in pages:
        assert set(page) == PAGE_KEYS and page["secret"] is False
        assert isinstance(page["skew_deg"], float) and page["orientation_deg"] in (0, 90, 180, 270)
        assert page["separator"] is False
    assert abs(pages[0]["skew_deg"] - 6.0) < 0.2 and pages[0]["orientation_deg"] == 0
    assert pages[1]["blank"] is True
    assert abs(pages[2]["skew_deg"] + 3.5) < 0.2 and pages[2]["orientation_deg"] == 180
    assert pages[3]["orientation_deg"] == 90 and not pages[3]["blank"]
    # the sample documents carry their registration labels on the first page
    first, second = batch["documents"]
    assert first["registration"] == sample_label(123) and first["warnings"] == []
    assert first["pages"] == [
        {"input": "scan_1.jpg", "index": 0},
        {"input": "scan_2.tif", "index": 1},
    ]
    assert second["registration"] == sample_label(124)
    assert second["pages"] == [{"input": "scan_3.pdf", "index": 0}]
    assert [p["doc_id"] for p in pages] == [
        first["doc_id"],
        None,
        first["doc_id"],
        second["doc_id"],
    ]
    assert pages[0]["barcodes"] == [{"format": "Code128", "text": sample_label(123)}]
    # the corrected pages: upright A4 at the input resolution, colour kept
    for position in (1, 3, 4):
        with Image.open(out / "pages" / f"p{position:04d}.jpg") as image:
            assert image.mode == "RGB"
            assert abs(image.width - 1654) <= 8 and abs(image.height - 2339) <= 8
            assert round(image.info["dpi"][0]) == 200
    assert "4 trang / pages, 3 giữ lại / kept, 2 văn bản / documents" in proc.stdout
    assert sample_label(124) in proc.stdout


def test_corrupt_input_is_refused_and_nothing_written(inputs: list[Path], tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    data = inputs[0].read_bytes()
    broken.write_bytes(data[: len(data) // 3])
    out = tmp_path / "out"
    proc = _process(str(inputs[0]), str(broken), "--out", str(out), "--no-ocr")
    assert proc.returncode == 8
    assert "broken.jpg" in proc.stderr and "Traceback" not in proc.stderr
    assert not (out / "batch.json").exists()


def test_missing_input(tmp_path: Path) -> None:
    proc = _process(str(tmp_path / "nope.png"), "--out", str(tmp_path / "o"), "--no-ocr")
    assert proc.returncode == 8 and "nope.png" in proc.stderr


def test_out_is_required(tmp_path: Path) -> None:
    proc = _process(str(tmp_path / "x.png"))
    assert proc.returncode == 2 and "--out" in proc.stderr


def test_jpeg_bytes_of_truncated_file_do_not_decode() -> None:
    # guard for the test above: a third of a JPEG is not a readable image
    data = io.BytesIO()
    Image.new("RGB", (400, 400), "white").save(data, "JPEG")
    with pytest.raises(OSError):
        Image.open(io.BytesIO(data.getvalue()[:200])).load()


@pytest.mark.slow
def test_ocr_writes_one_pdfa_per_document(inputs: list[Path], tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    from station.records.verify import verify

    out = tmp_path / "out"
    proc = _process(str(inputs[0]), str(inputs[1]), "--out", str(out), "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    batch = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    (doc,) = batch["documents"]
    assert doc["pdf"] == f"{doc['doc_id']}.pdf"
    pdf_path = out / doc["pdf"]
    report = verify(pdf_path)
    assert report.ok, report.as_json()
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        assert len(pdf) == 2  # the blank back is not in the document
        page = pdf[0].get_textpage()
        text = page.get_text_range()
        page.close()
    finally:
        pdf.close()
    assert "Thanh Hóa" in text and "QUYẾT ĐỊNH" in text
    assert f"PDF/A: {pdf_path}" in proc.stdout
    # a list is kept only when both readings agree on every word
    assert doc["metadata"].pop("ToPlaces") in (None, ["Như trên", "Lãnh đạo đơn vị", "Lưu: VT"])
    assert doc["metadata"] == {
        "TypeName": "Quyết định",
        "CodeNumber": "45",
        "CodeNotation": "QĐ-VKS",
        "IssuedDate": "2024-03-06",
        "OrganName": "Viện kiểm sát nhân dân tỉnh Thanh Hóa",
        "Subject": "Về việc ban hành Quy chế công tác văn thư, lưu trữ",
        "PageAmount": 2,
        "Language": "vi",
        "Priority": None,
        # the closing of the last page (docs/ocr.md#the-signer-and-the-recipients)
        "SignerCompetence": None,
        "SignerPosition": "VIỆN TRƯỞNG",
        "SignerName": "Nguyễn Văn An",
        "Addressees": None,
    }
    assert doc["warnings"] == []


@pytest.mark.slow
def test_duplicate_of_a_document_on_file_is_warned(tmp_path: Path) -> None:
    """docs/decree30.md#duplicates: number + symbol + issuing agency already on file (in the
    station's store, or earlier in the batch) gives a warning; nothing is dropped."""
    from dataclasses import replace

    from station.store import Store

    data = tmp_path / "data"
    with Store(data) as store:
        store.add_document(
            "old-001",
            "old",
            "DEN-2023-000050",
            "old-001.pdf",
            {"CodeNumber": "07", "CodeNotation": "STP-VP", "OrganName": "Sở Tư pháp"},
        )
    config = tmp_path / "station.toml"
    config.write_text(f'[station]\ndata_dir = "{data}"\n', encoding="utf-8")
    scans = []
    for number, registration in enumerate((sample_label(124), sample_label(125))):
        spec = replace(SAMPLE_DOCUMENTS[1], registration=registration)
        path = tmp_path / f"scan_{number}.jpg"
        _scan(render_document(spec, 200)[0], 1.5).save(path, "JPEG", quality=88, dpi=(200, 200))
        scans.append(str(path))
    out = tmp_path / "out"
    proc = _process(*scans, "--out", str(out), "--config", str(config), "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    first, second = json.loads((out / "batch.json").read_text(encoding="utf-8"))["documents"]
    assert first["metadata"]["CodeNumber"] == "07"
    assert first["metadata"]["OrganName"] == "Sở Tư pháp"
    assert first["metadata"]["Priority"] == "Khẩn" and first["metadata"]["TypeName"] == "Công văn"
    assert [w["code"] for w in first["warnings"]] == ["duplicate"]
    assert "DEN-2023-000050" in first["warnings"][0]["message"]["en"]
    others = second["warnings"][0]["message"]["vi"]
    assert "DEN-2023-000050" in others and sample_label(124) in others
    assert "Văn bản số 07/STP-VP của Sở Tư pháp đã có trong hệ thống" in proc.stdout
    # both are recorded for the next batch
    with Store(data) as store:
        meta = first["metadata"]
        assert len(store.same_documents(meta)) == 3


def test_a_pdf_that_fails_the_decree_30_check_is_warned_in_batch_json(tmp_path: Path) -> None:
    """A sheet that is no paper size (cut square, 180 × 180 mm, scanned on a
    grey backing so its edges are found): the PDF is written, and the document's
    warning `pdf_check` names the check and the page in the clerk's words."""
    first = render_document(SAMPLE_DOCUMENTS[0], 200)[0]
    square = first.crop((0, 0, 1417, 1417))  # 180 mm at 200 dpi, the header kept
    scan = tmp_path / "square.jpg"
    _scan(square, 0.0).save(scan, "JPEG", quality=90, dpi=(200, 200))
    out = tmp_path / "out"
    proc = _process(str(scan), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    (doc,) = json.loads((out / "batch.json").read_text(encoding="utf-8"))["documents"]
    assert (out / doc["pdf"]).is_file()
    (check,) = [w for w in doc["warnings"] if w["code"] == "pdf_check"]
    assert "trang 1 không đúng khổ giấy (180×180 mm)" in check["message"]["vi"], check
    assert "page 1 is not a paper size (180×180 mm)" in check["message"]["en"], check


def test_a_pdf_scan_below_200_dpi_is_kept_and_flagged(tmp_path: Path) -> None:
    """A 150 dpi scan is cleaned at 150 dpi (not made up to 200) and its page is
    flagged; the 300 dpi scan before it keeps its 300 dpi."""
    first, second = render_document(SAMPLE_DOCUMENTS[0], 300)
    fine = tmp_path / "fine.pdf"
    buffer = io.BytesIO()
    first.save(buffer, "JPEG", quality=90, dpi=(300, 300))
    fine.write_bytes(img2pdf.convert(buffer.getvalue()))
    coarse = tmp_path / "coarse.pdf"
    buffer = io.BytesIO()
    second.resize((second.width // 2, second.height // 2)).save(buffer, "JPEG", dpi=(150, 150))
    coarse.write_bytes(img2pdf.convert(buffer.getvalue()))
    out = tmp_path / "out"
    proc = _process(str(fine), str(coarse), "--out", str(out), "--no-ocr", "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    batch = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    (document,) = batch["documents"]
    assert document["pages"] == [
        {"input": "fine.pdf", "index": 0},
        {"input": "coarse.pdf", "index": 0},
    ]
    assert [(p["dpi"], p["low_resolution"]) for p in batch["pages"]] == [(300, False), (150, True)]
    for position, dpi in ((1, 300), (2, 150)):
        with Image.open(out / "pages" / f"p{position:04d}.jpg") as image:
            assert round(image.info["dpi"][0]) == dpi
            assert abs(image.width / dpi * 25.4 - 210) < 3  # A4, cropped to the paper


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (xfa_pdf, "là biểu mẫu XFA động"),
        (empty_pdf, "không trang nào có nội dung"),
    ],
    ids=["xfa", "empty"],
)
def test_a_pdf_that_cannot_be_rendered_faithfully_is_refused(
    tmp_path: Path, make: Callable[[Path], Path], words: str
) -> None:
    path = make(tmp_path / "form.pdf")
    out = tmp_path / "out"
    proc = _process(str(path), "--out", str(out), "--no-ocr")
    assert proc.returncode == 8
    assert words in proc.stderr and "form.pdf" in proc.stderr and "Traceback" not in proc.stderr
    assert not (out / "batch.json").exists()
