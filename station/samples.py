"""Sample Vietnamese administrative documents for the virtual scanner of the demo.

Pages are laid out as Decree 30/2020 Phụ lục I describes (agency block top left,
national motto and dated place top right, type name and subject centred, body,
signature block), rendered in a Times-compatible serif, then "scanned": a small
skew, a grey scanner background around the paper, and JPEG compression. The
first page of each document carries a registration label (Code 128), one
document is preceded by a separator sheet (``PATCHT``), and duplex backs are
blank with a little bleed-through.
"""

from __future__ import annotations

import io
import random
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/liberation"),
)
A4_MM = (210.0, 297.0)


@cache
def font(style: str, size_px: int) -> ImageFont.FreeTypeFont:
    """Liberation Serif (metric-compatible with Times New Roman) in a style."""
    name = {"regular": "Regular", "bold": "Bold", "italic": "Italic", "bolditalic": "BoldItalic"}
    for folder in FONT_DIRS:
        path = folder / f"LiberationSerif-{name[style]}.ttf"
        if path.exists():
            return ImageFont.truetype(str(path), size_px)
    raise FileNotFoundError("Liberation Serif not found: sudo apt-get install fonts-liberation2")


@dataclass(frozen=True)
class DocumentSpec:
    superior: str
    organ: str
    number: str
    notation: str
    place: str
    issued: date
    type_name: str  # "QUYẾT ĐỊNH"; empty for a công văn
    subject: str
    body: Sequence[str]
    signer_title: str
    signer_name: str
    registration: str | None = None
    pages: int = 1
    marks: Sequence[str] = field(default_factory=tuple)


SAMPLE_DOCUMENTS: tuple[DocumentSpec, ...] = (
    DocumentSpec(
        superior="VIỆN KIỂM SÁT NHÂN DÂN TỐI CAO",
        organ="VIỆN KIỂM SÁT NHÂN DÂN TỈNH THANH HÓA",
        number="45",
        notation="QĐ-VKS",
        place="Thanh Hóa",
        issued=date(2024, 3, 6),
        type_name="QUYẾT ĐỊNH",
        subject="Về việc ban hành Quy chế công tác văn thư, lưu trữ",
        body=(
            "Căn cứ Luật Tổ chức Viện kiểm sát nhân dân năm 2014;",
            "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ "
            "về công tác văn thư;",
            "Theo đề nghị của Chánh Văn phòng Viện kiểm sát nhân dân tỉnh Thanh Hóa.",
            "Điều 1. Ban hành kèm theo Quyết định này Quy chế công tác văn thư, lưu trữ "
            "của Viện kiểm sát nhân dân tỉnh Thanh Hóa.",
            "Điều 2. Quyết định này có hiệu lực kể từ ngày ký. Chánh Văn phòng, Trưởng các "
            "phòng nghiệp vụ và Viện trưởng Viện kiểm sát nhân dân cấp huyện chịu trách "
            "nhiệm thi hành Quyết định này.",
        ),
        signer_title="VIỆN TRƯỞNG",
        signer_name="Nguyễn Văn An",
        registration="DEN-2024-000123",
        pages=2,
    ),
    DocumentSpec(
        superior="UBND TỈNH THANH HÓA",
        organ="SỞ TƯ PHÁP",
        number="07",
        notation="STP-VP",
        place="Thanh Hóa",
        issued=date(2024, 2, 19),
        type_name="",
        subject="V/v phối hợp rà soát hồ sơ thi hành án năm 2024",
        body=(
            "Kính gửi: Viện kiểm sát nhân dân tỉnh Thanh Hóa.",
            "Thực hiện kế hoạch công tác năm 2024, Sở Tư pháp đề nghị Viện kiểm sát nhân "
            "dân tỉnh phối hợp rà soát các hồ sơ thi hành án dân sự còn tồn đọng, tổng hợp "
            "kết quả và gửi về Sở trước ngày 15 tháng 4 năm 2024.",
            "Trân trọng cảm ơn sự phối hợp của Quý cơ quan.",
        ),
        signer_title="GIÁM ĐỐC",
        signer_name="Lê Thị Bình",
        registration="DEN-2024-000124",
        marks=("KHẨN",),
    ),
    DocumentSpec(
        superior="VIỆN KIỂM SÁT NHÂN DÂN TỈNH THANH HÓA",
        organ="VIỆN KIỂM SÁT NHÂN DÂN HUYỆN ĐÔNG SƠN",
        number="112",
        notation="BC-VKS",
        place="Đông Sơn",
        issued=date(2024, 9, 30),
        type_name="BÁO CÁO",
        subject="Kết quả công tác kiểm sát quý III năm 2024",
        body=(
            "I. TÌNH HÌNH CHUNG",
            "Trong quý III năm 2024, Viện kiểm sát nhân dân huyện Đông Sơn đã triển khai "
            "đồng bộ các mặt công tác, bảo đảm chỉ tiêu, nhiệm vụ được giao.",
            "II. KẾT QUẢ CÔNG TÁC",
            "1. Thụ lý kiểm sát 27 tin báo về tội phạm, giải quyết 24 tin, đạt 88,9%.",
            "2. Kiểm sát điều tra 19 vụ án hình sự, truy tố đúng thời hạn 100%.",
            "III. PHƯƠNG HƯỚNG QUÝ IV",
            "Tiếp tục nâng cao chất lượng công tác thực hành quyền công tố và kiểm sát "
            "hoạt động tư pháp, đẩy mạnh chuyển đổi số trong công tác văn thư.",
        ),
        signer_title="VIỆN TRƯỞNG",
        signer_name="Trần Quốc Cường",
        registration="DEN-2024-000125",
        pages=3,
    ),
)


class _Pen:
    """Draws text on a page with sizes given in points at a resolution."""

    def __init__(self, image: Image.Image, dpi: int) -> None:
        self.draw = ImageDraw.Draw(image)
        self.dpi = dpi
        self.width = image.width

    def px(self, mm: float) -> int:
        return round(mm / 25.4 * self.dpi)

    def text(
        self,
        xy_mm: tuple[float, float],
        text: str,
        *,
        size_pt: float = 13,
        style: str = "regular",
        anchor: str = "la",
        fill: tuple[int, int, int] = (20, 20, 20),
        underline: bool = False,
    ) -> int:
        """Draw one line; returns its height in pixels."""
        f = font(style, round(size_pt / 72 * self.dpi))
        x, y = self.px(xy_mm[0]), self.px(xy_mm[1])
        self.draw.text((x, y), text, font=f, fill=fill, anchor=anchor)
        left, top, right, bottom = self.draw.textbbox((x, y), text, font=f, anchor=anchor)
        if underline:
            mid = (left + right) // 2
            length = (right - left) // 3
            self.draw.line((mid - length, bottom + 4, mid + length, bottom + 4), fill=fill, width=2)
        return int(bottom - top)


def _label(text: str, dpi: int) -> Image.Image:
    import numpy as np
    import zxingcpp

    module_px = max(2, round(dpi / 100))
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128)
    code = Image.fromarray(np.array(barcode.to_image(scale=module_px))).convert("RGB")
    code = code.resize((code.width, round(dpi * 0.35)))
    label = Image.new("RGB", (code.width + 20, code.height + round(dpi * 0.2)), "white")
    label.paste(code, (10, 6))
    pen = ImageDraw.Draw(label)
    pen.text(
        (label.width // 2, code.height + 10),
        text,
        font=font("regular", round(9 / 72 * dpi)),
        fill="black",
        anchor="ma",
    )
    return ImageOps.expand(label, border=2, fill=(120, 120, 120))


def render_document(spec: DocumentSpec, dpi: int = 200) -> list[Image.Image]:
    """The clean pages of a document (no scan effects)."""
    width, height = round(A4_MM[0] / 25.4 * dpi), round(A4_MM[1] / 25.4 * dpi)
    pages = []
    paragraphs = list(spec.body)
    per_page = max(1, -(-len(paragraphs) // spec.pages))
    for number in range(spec.pages):
        page = Image.new("RGB", (width, height), (252, 251, 247))
        pen = _Pen(page, dpi)
        y = 20.0
        if number == 0:
            y = _header(pen, spec)
        else:
            pen.text((105, 12), str(number + 1), size_pt=13, anchor="ma")
        chunk = paragraphs[number * per_page : (number + 1) * per_page]
        for paragraph in chunk:
            for line in textwrap.wrap(paragraph, width=78):
                y += pen.text((30, y), line, size_pt=13) / dpi * 25.4 + 2.2
            y += 2.5
        if number == spec.pages - 1:
            pen.text((150, y + 8), spec.signer_title, size_pt=13, style="bold", anchor="ma")
            pen.draw.ellipse(
                (pen.px(128), pen.px(y + 16), pen.px(160), pen.px(y + 48)),
                outline=(200, 30, 30),
                width=max(2, dpi // 60),
            )
            pen.text((150, y + 52), spec.signer_name, size_pt=13, style="bold", anchor="ma")
        if number == 0 and spec.registration:
            label = _label(spec.registration, dpi)
            page.paste(
                label, (width - label.width - pen.px(15), height - label.height - pen.px(15))
            )
        pages.append(page)
    return pages


def _header(pen: _Pen, spec: DocumentSpec) -> float:
    """Agency block (left, 72 mm wide) and national motto block (right), as Phụ lục I."""
    y = 15.0
    for line in textwrap.wrap(spec.superior, width=30):
        pen.text((45, y), line, size_pt=12, anchor="ma")
        y += 6.0
    organ = textwrap.wrap(spec.organ, width=28)
    for index, line in enumerate(organ):
        pen.text(
            (45, y), line, size_pt=12, style="bold", anchor="ma", underline=index == len(organ) - 1
        )
        y += 6.0
    y += 3.0
    pen.text((45, y), f"Số: {spec.number}/{spec.notation}", size_pt=13, anchor="ma")
    pen.text((140, 15), "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size_pt=12, style="bold", anchor="ma")
    pen.text(
        (140, 21),
        "Độc lập - Tự do - Hạnh phúc",
        size_pt=13,
        style="bold",
        anchor="ma",
        underline=True,
    )
    day = f"{spec.issued.day:02d}"
    month = f"{spec.issued.month:02d}" if spec.issued.month < 3 else str(spec.issued.month)
    pen.text(
        (140, 30),
        f"{spec.place}, ngày {day} tháng {month} năm {spec.issued.year}",
        size_pt=13,
        style="italic",
        anchor="ma",
    )
    y += 7
    if not spec.type_name:  # công văn: "V/v …" under the number, at most two lines
        for line in textwrap.wrap(spec.subject, width=40):
            pen.text((45, y), line, size_pt=12, anchor="ma")
            y += 5.5
    for index, mark in enumerate(spec.marks):
        pen.text(
            (140, 38 + index * 8), mark, size_pt=14, style="bold", fill=(200, 30, 30), anchor="ma"
        )
    if spec.type_name:
        y = max(y, 46.0)
        pen.text((105, y), spec.type_name, size_pt=14, style="bold", anchor="ma")
        pen.text((105, y + 8), spec.subject, size_pt=14, style="bold", anchor="ma")
        return y + 22
    return max(y + 8, 50.0)


def separator_sheet(text: str = "PATCHT", dpi: int = 200) -> Image.Image:
    width, height = round(A4_MM[0] / 25.4 * dpi), round(A4_MM[1] / 25.4 * dpi)
    page = Image.new("RGB", (width, height), "white")
    pen = _Pen(page, dpi)
    pen.text((105, 40), "TRANG PHÂN CÁCH / SEPARATOR SHEET", size_pt=20, style="bold", anchor="ma")
    label = _label(text, dpi * 2)
    page.paste(label, ((width - label.width) // 2, (height - label.height) // 2))
    return page


def blank_back(front: Image.Image, rng: random.Random) -> Image.Image:
    """The back of a page: blank paper, faint mirrored bleed-through, a little dust."""
    ghost = ImageOps.mirror(front.convert("L")).filter(ImageFilter.GaussianBlur(3))
    ghost = ghost.point(lambda v: 255 - (255 - v) // 12)
    back = Image.merge("RGB", (ghost, ghost, ghost))
    pen = ImageDraw.Draw(back)
    for _ in range(rng.randint(3, 9)):
        x, y = rng.randrange(back.width), rng.randrange(back.height)
        pen.point((x, y), fill=(90, 90, 90))
    return back


def scan_effects(page: Image.Image, rng: random.Random, dpi: int) -> Image.Image:
    """A scanner's view: skew up to ±2°, a grey background margin, slight noise."""
    angle = rng.uniform(-2.0, 2.0)
    margin = round(dpi * 0.15)
    background = (rng.randint(90, 140),) * 3
    canvas = Image.new("RGB", (page.width + 2 * margin, page.height + 2 * margin), background)
    turned = page.rotate(
        angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=background
    )
    canvas.paste(turned, ((canvas.width - turned.width) // 2, (canvas.height - turned.height) // 2))
    return canvas


def write_sample_batch(folder: Path, dpi: int = 200, seed: int = 2024) -> list[Path]:
    """Write the demo's sample batch as scan_0001.jpg … in scanner (duplex) order."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    sheets: list[Image.Image] = []
    for index, spec in enumerate(SAMPLE_DOCUMENTS):
        if index == len(SAMPLE_DOCUMENTS) - 1:
            sep = separator_sheet(dpi=dpi)
            sheets += [sep, blank_back(sep, rng)]
        for page in render_document(spec, dpi):
            sheets += [page, blank_back(page, rng)]
    written = []
    for number, sheet in enumerate(sheets, start=1):
        scanned = scan_effects(sheet, rng, dpi)
        buf = io.BytesIO()
        scanned.save(buf, format="JPEG", quality=88, dpi=(dpi, dpi))
        path = folder / f"scan_{number:04d}.jpg"
        path.write_bytes(buf.getvalue())
        written.append(path)
    return written
