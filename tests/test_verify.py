"""`scanstation verify`: PDFs against the Decree 30 digitization standard."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import img2pdf
import pikepdf
import pytest

from station.demo.samples import SAMPLE_DOCUMENTS, render_document
from station.errors import InputError
from station.records.verify import verify
from tests.helpers.cli import scanstation


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pdfs")
    page = render_document(SAMPLE_DOCUMENTS[1], 200)[0]
    made: dict[str, Path] = {}

    def image_pdf(name: str, image: object, dpi: int) -> Path:
        jpeg = folder / f"{name}.jpg"
        image.save(jpeg, "JPEG", quality=90, dpi=(dpi, dpi))  # type: ignore[attr-defined]
        pdf = folder / f"{name}.pdf"
        pdf.write_bytes(img2pdf.convert(str(jpeg)))
        made[name] = pdf
        return jpeg

    colour = image_pdf("plain", page, 200)
    image_pdf("grey", page.convert("L"), 200)
    image_pdf("low", page.resize((page.width * 3 // 4, page.height * 3 // 4)), 150)
    # an A4 image on a page of no paper size: not at scale 100 %
    wide = folder / "stretched.pdf"
    layout = img2pdf.get_layout_fun((img2pdf.mm_to_pt(230), img2pdf.mm_to_pt(330)))
    wide.write_bytes(img2pdf.convert(str(colour), layout_fun=layout))
    made["stretched"] = wide
    good = folder / "good.pdf"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "ocrmypdf"),
            "-l",
            "vie+eng",
            "--output-type",
            "pdfa-2",
            "-q",
            str(colour),
            str(good),
        ],
        check=True,
        capture_output=True,
    )
    made["good"] = good
    return made


def _failed(path: Path) -> set[str]:
    return {c.name for c in verify(path).checks if not c.ok}


def test_ocrmypdf_pdfa_passes(pdfs: dict[str, Path]) -> None:
    report = verify(pdfs["good"])
    assert report.ok, report.as_json()
    names = {c.name for c in report.checks}
    assert {
        "pdf-version",
        "pdf-a",
        "page-1-colour",
        "page-1-resolution",
        "page-1-scale",
        "page-1-text",
        "page-1-nfc",
        "text-layer",
    } <= names


def test_each_rule_fails_on_its_own(pdfs: dict[str, Path]) -> None:
    assert _failed(pdfs["plain"]) == {"pdf-version", "pdf-a", "text-layer"}
    assert _failed(pdfs["grey"]) == {"pdf-version", "pdf-a", "text-layer", "page-1-colour"}
    assert _failed(pdfs["low"]) == {"pdf-version", "pdf-a", "text-layer", "page-1-resolution"}
    assert "page-1-scale" in _failed(pdfs["stretched"])
    # each failure in the clerk's words too
    said = dict(verify(pdfs["low"]).problems())
    assert any(vi.startswith("trang 1 chỉ có") and "200 dpi" in vi for vi in said), said
    assert "văn bản không có lớp chữ (không đọc được chữ nào)" in said


def test_version_below_1_4_fails(pdfs: dict[str, Path], tmp_path: Path) -> None:
    old = tmp_path / "old.pdf"
    with pikepdf.open(pdfs["good"]) as pdf:
        pdf.save(old, force_version="1.3")
    assert "pdf-version" in _failed(old)


def test_cli_exit_codes_and_json(pdfs: dict[str, Path], tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return scanstation("verify", *args)

    good = run(str(pdfs["good"]))
    assert good.returncode == 0 and "ĐẠT / PASS" in good.stdout
    bad = run(str(pdfs["good"]), str(pdfs["grey"]), "--json")
    assert bad.returncode == 10
    reports = json.loads(bad.stdout)
    assert [r["ok"] for r in reports] == [True, False]
    text = run(str(pdfs["grey"]))
    assert text.returncode == 10 and "KHÔNG ĐẠT / FAIL" in text.stdout
    assert "chưa đạt chuẩn" in text.stderr and "Traceback" not in text.stderr
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.7\nnot really")
    broken = run(str(junk))
    assert broken.returncode == 8 and "junk.pdf" in broken.stderr


def test_not_a_pdf_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "x.pdf"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(InputError):
        verify(path)
