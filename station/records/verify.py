"""Checking a PDF against the Decree 30/2020 digitization standard
(docs/decree30.md#digitized-copies).

Phụ lục I, Phần II, I.2 asks for PDF 1.4 or later, a colour image, at least
200 dpi and scale 100 % (the page is the paper's size); Circular 05/2025/TT-BNV
asks archives for two-layer PDF/A (image and text). Text is Unicode, NFC.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from station.errors import InputError

MIN_DPI = 200
#: Paper sizes in mm (portrait) a digitized page may have; ±3 mm is accepted.
PAPER_MM = {
    "A3": (297.0, 420.0),
    "A4": (210.0, 297.0),
    "A5": (148.0, 210.0),
    "Letter": (215.9, 279.4),
    "Legal": (215.9, 355.6),
}
PAPER_TOLERANCE_MM = 3.0
_RGB_SPACES = {"/DeviceRGB", "/CalRGB"}


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    #: what a failure means, in the clerk's words (Vietnamese, English)
    said: tuple[str, str] | None = field(default=None, repr=False, compare=False)


@dataclass
class Report:
    path: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def add(self, name: str, ok: bool, detail: str, said: tuple[str, str] | None = None) -> None:
        self.checks.append(Check(name, ok, detail, said))

    def problems(self) -> list[tuple[str, str]]:
        """The failed checks in the clerk's words, Vietnamese and English."""
        return [c.said or (c.detail, c.detail) for c in self.checks if not c.ok]

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "checks": [{k: v for k, v in asdict(c).items() if k != "said"} for c in self.checks],
        }


def _colour(image: Any) -> bool:
    """Whether an image XObject holds colour (RGB, or an ICC profile with 3 channels)."""
    import pikepdf

    space = image.get("/ColorSpace")
    if space is None:
        return False
    if isinstance(space, pikepdf.Array) and len(space) > 0:
        kind = str(space[0])
        if kind == "/ICCBased":
            return int(space[1].get("/N", 0)) == 3
        if kind == "/Indexed":
            return str(space[1]) in _RGB_SPACES or (
                str(space[1][0]) == "/ICCBased" and int(space[1][1].get("/N", 0)) == 3
            )
        return kind in _RGB_SPACES
    return str(space) in _RGB_SPACES


def _images(resources: Any, depth: int = 0) -> list[Any]:
    """Image XObjects on a page, inside form XObjects too."""
    found: list[Any] = []
    if resources is None or depth > 4 or "/XObject" not in resources:
        return found
    for _, xobject in resources["/XObject"].items():
        subtype = str(xobject.get("/Subtype", ""))
        if subtype == "/Image":
            found.append(xobject)
        elif subtype == "/Form":
            found.extend(_images(xobject.get("/Resources"), depth + 1))
    return found


def _paper(width_mm: float, height_mm: float) -> str | None:
    short, long = sorted((width_mm, height_mm))
    for name, (w, h) in PAPER_MM.items():
        if abs(short - w) <= PAPER_TOLERANCE_MM and abs(long - h) <= PAPER_TOLERANCE_MM:
            return name
    return None


def verify(path: Path) -> Report:
    """Check one PDF; refuses files that are not PDFs with InputError."""
    import pikepdf
    import pypdfium2 as pdfium

    report = Report(str(path))
    try:
        pdf = pikepdf.open(path)
    except (pikepdf.PdfError, OSError) as exc:
        raise InputError(
            f"{path}: not a readable PDF ({exc})", f"{path}: không phải tệp PDF đọc được ({exc})"
        ) from None
    with pdf:
        version = pdf.pdf_version
        major, minor = (int(p) for p in version.split(".")[:2])
        report.add("pdf-version", (major, minor) >= (1, 4), f"PDF {version} (1.4 or later)",
                   (f"tệp là PDF {version}, cần 1.4 trở lên", f"the file is PDF {version}, "
                    "1.4 or later is needed"))  # fmt: skip
        meta = pdf.open_metadata()
        part = meta.get("pdfaid:part")
        conformance = meta.get("pdfaid:conformance")
        report.add(
            "pdf-a",
            part in ("2", "3") and conformance in ("B", "U", "A"),
            f"PDF/A-{part}{(conformance or '').lower()}" if part else "no PDF/A identification",
            ("tệp không phải PDF/A", "the file is not PDF/A"),
        )
        if part == "2":
            from station.records.xmp import pdfa_problems

            problems = pdfa_problems(path)
            report.add(
                "pdf-a-rules",
                not problems,
                "PDF/A-2b rules (pikepdf validator): "
                + ("; ".join(problems[:3]) if problems else "no violation"),
                ("tệp PDF/A sai quy tắc PDF/A-2b", "the PDF/A breaks a PDF/A-2b rule"),
            )
        for number, page in enumerate(pdf.pages, start=1):
            box = [float(v) for v in page.mediabox]
            width_mm = (box[2] - box[0]) / 72 * 25.4
            height_mm = (box[3] - box[1]) / 72 * 25.4
            images = _images(page.get("/Resources"))
            if not images:
                report.add(f"page-{number}-image", False, "no page image (not a scan)",
                           (f"trang {number} không có ảnh quét", f"page {number} has no "
                            "scanned image"))  # fmt: skip
                continue
            main = max(images, key=lambda im: int(im.get("/Width", 0)) * int(im.get("/Height", 0)))
            px_w, px_h = int(main.get("/Width", 0)), int(main.get("/Height", 0))
            dpi = min(px_w / (width_mm / 25.4), px_h / (height_mm / 25.4))
            report.add(
                f"page-{number}-colour",
                _colour(main),
                f"image colour space {main.get('/ColorSpace')}",
                (f"trang {number} không phải ảnh màu", f"page {number} is not a colour image"),
            )
            report.add(
                f"page-{number}-resolution",
                dpi >= MIN_DPI - 1,
                f"{dpi:.0f} dpi (at least {MIN_DPI})",
                (f"trang {number} chỉ có {dpi:.0f} dpi, cần ít nhất {MIN_DPI} dpi",
                 f"page {number} has only {dpi:.0f} dpi, at least {MIN_DPI} are needed"),
            )  # fmt: skip
            paper = _paper(width_mm, height_mm)
            fills = abs(width_mm / height_mm - px_w / px_h) < 0.02
            size = f"{width_mm:.0f}×{height_mm:.0f} mm"
            report.add(
                f"page-{number}-scale",
                paper is not None and fills,
                f"page {size}"
                + (f" ({paper})" if paper else " (not a paper size)")
                + ("" if fills else ", image does not fill the page"),
                (f"trang {number} không đúng khổ giấy ({size})",
                 f"page {number} is not a paper size ({size})") if paper is None else
                (f"trang {number}: ảnh không phủ kín trang", f"page {number}: the image does "
                 "not fill the page"),
            )  # fmt: skip
    document = pdfium.PdfDocument(str(path))
    total = 0
    try:
        for index in range(len(document)):
            textpage = document[index].get_textpage()
            text = textpage.get_text_range()
            textpage.close()
            words = len(text.split())
            total += words
            # a page of a picture (a photo, a map) has no words: only a document
            # without any fails (below)
            report.add(f"page-{index + 1}-text", True, f"text layer: {words} words")
            if words:
                report.add(
                    f"page-{index + 1}-nfc",
                    unicodedata.is_normalized("NFC", text),
                    "text is Unicode NFC (TCVN 6909:2001)",
                    (f"chữ ở trang {index + 1} không theo chuẩn Unicode NFC",
                     f"the text of page {index + 1} is not Unicode NFC"),
                )  # fmt: skip
    finally:
        document.close()
    report.add("text-layer", total > 0, f"text layer: {total} words in all",
               ("văn bản không có lớp chữ (không đọc được chữ nào)",
                "the document has no text layer (no word read)"))  # fmt: skip
    return report
