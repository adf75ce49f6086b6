"""The one wrapper around OCRmyPDF: cleaned page images into one searchable PDF/A-2b.

1. img2pdf puts the page images into a PDF without re-encoding them, each page
   the size of its image at its own resolution: the paper's size (scale 100 %),
   colour and resolution as scanned.
2. OCRmyPDF adds the text layer (Tesseract, ``vie`` and ``eng`` by default)
   and makes the file PDF/A-2b with its internal backend, which passes the
   JPEG images through unchanged and validates the result (Ghostscript would
   re-encode them). Tesseract runs with ``OMP_THREAD_LIMIT=1``; pages run in
   parallel (``jobs``). :func:`make_pdf` is called inside the station's OCR
   worker process (see :mod:`station.pipeline.document`) once per batch, on every kept
   page of it, and :func:`split_pdf` cuts the result into one PDF/A per
   document: Python, OCRmyPDF and its checks are paid once, not once per
   document, every core works until the last page, and a crash in OCR cannot
   take the station down.
3. :func:`page_words` reads the text layer back with each word's position,
   for the header fields (:mod:`station.ocr.header`).

The pages were deskewed and turned upright before; OCRmyPDF's ``--deskew`` and
``--rotate-pages`` are not used (see docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from station.common.fsutil import atomic_write
from station.errors import DependencyError, InputError, OcrError
from station.records.vocabulary import nfc

PLUGIN = "station.ocr.raster"


@dataclass(frozen=True)
class Word:
    """One recognised word; the box is in millimetres from the page's top left."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class PageWords:
    width_mm: float
    height_mm: float
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)


def make_pdf(
    pages: Sequence[Path],
    out: Path,
    *,
    languages: Sequence[str] = ("vie", "eng"),
    jobs: int = 1,
    title: str = "",
    keywords: Sequence[str] = (),
    timeout_s: int = 180,
) -> Path:
    """One searchable PDF/A-2b from page images (in order); written atomically."""
    import img2pdf

    try:
        import ocrmypdf
        from ocrmypdf.exceptions import ExitCodeException
    except ImportError as exc:  # pragma: no cover - a broken install
        raise DependencyError(
            f"ocrmypdf is not installed ({exc}). Fix: make setup",
            f"Chưa cài ocrmypdf ({exc}). Cách sửa: make setup",
        ) from exc
    if not pages:
        raise InputError("a document needs at least one page", "Văn bản cần ít nhất một trang")
    os.environ["OMP_THREAD_LIMIT"] = "1"
    logging.getLogger("ocrmypdf").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="scanstation-ocr-") as tmp:
        images_pdf = Path(tmp) / "images.pdf"
        try:
            images_pdf.write_bytes(img2pdf.convert([str(p) for p in pages]))
        except (img2pdf.ImageOpenError, OSError, ValueError) as exc:
            raise InputError(
                f"cannot put the pages into a PDF: {exc}", f"Không ghép được trang thành PDF: {exc}"
            ) from exc
        result = Path(tmp) / "ocr.pdf"
        # OCRmyPDF's API swaps sys.stderr for a buffer and leaves it there
        streams = sys.stdout, sys.stderr
        try:
            code = ocrmypdf.ocr(
                images_pdf,
                result,
                language=list(languages),
                output_type="pdfa-2",
                pdfa_backend="internal",
                optimize=0,
                jobs=max(1, jobs),
                use_threads=True,
                progress_bar=False,
                tesseract_timeout=timeout_s,
                title=nfc(title) or None,
                keywords=nfc(", ".join(keywords)) or None,
                plugins=[PLUGIN],
            )
        except ExitCodeException as exc:
            raise OcrError(
                f"OCR failed ({type(exc).__name__}): {exc}",
                f"Nhận dạng chữ thất bại ({type(exc).__name__}): {exc}",
            ) from exc
        finally:
            sys.stdout, sys.stderr = streams
        if int(code) != 0:
            raise OcrError(
                f"OCR failed (OCRmyPDF exit {int(code)})",
                f"Nhận dạng chữ thất bại (OCRmyPDF mã {int(code)})",
            )
        atomic_write(out, result.read_bytes(), mode=0o644)
    return out


def page_words(pdf_path: Path, index: int = 0) -> PageWords:
    """The words of one page's text layer, in reading order, with their boxes.

    Word boundaries are the spaces and line breaks of the text layer; every
    string is NFC.
    """
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(pdf_path))
    try:
        page = pdf[index]
        width_pt, height_pt = page.get_size()
        textpage = page.get_textpage()
        count = textpage.count_chars()
        text = textpage.get_text_range(0, count) if count else ""
        mm = 25.4 / 72.0
        words: list[Word] = []
        chars: list[str] = []
        box = [0.0, 0.0, 0.0, 0.0]
        for i in range(min(count, len(text))):
            char = text[i]
            if char.isspace():
                if chars:
                    words.append(Word(nfc("".join(chars)), *box))
                    chars = []
                continue
            left, bottom, right, top = textpage.get_charbox(i)
            x0, y0, x1, y1 = (
                left * mm,
                (height_pt - top) * mm,
                right * mm,
                (height_pt - bottom) * mm,
            )
            if chars:
                box = [min(box[0], x0), min(box[1], y0), max(box[2], x1), max(box[3], y1)]
            else:
                box = [x0, y0, x1, y1]
            chars.append(char)
        if chars:
            words.append(Word(nfc("".join(chars)), *box))
        textpage.close()
        page.close()
        return PageWords(width_pt * mm, height_pt * mm, tuple(words))
    finally:
        pdf.close()


def split_pdf(source: Path, parts: Sequence[tuple[int, int, Path, str]]) -> None:
    """Cut a PDF/A made by :func:`make_pdf` into documents: pages ``[start, stop)``
    into ``out`` titled ``title``, each a PDF/A-2b of its own (the output
    intent and XMP carried over, checked by :func:`station.records.xmp.write` after)."""
    import pikepdf
    import pikepdf.pdfa

    with pikepdf.open(source) as pdf:
        for start, stop, out, title in parts:
            part = pikepdf.new()
            part.pages.extend(pdf.pages[start:stop])
            for key in ("/OutputIntents", "/Metadata"):
                if key in pdf.Root:
                    value = pdf.Root[key]
                    if not value.is_indirect:
                        value = pdf.make_indirect(value)
                    part.Root[key] = part.copy_foreign(value)
            with part.open_metadata(set_pikepdf_as_editor=False, update_docinfo=True) as meta:
                meta["dc:title"] = nfc(title)
            tmp = out.with_name(f".{out.name}.tmp")
            part.save(tmp, **pikepdf.pdfa.resolve_save_kwargs("2b"))
            tmp.chmod(0o644)
            tmp.replace(out)
