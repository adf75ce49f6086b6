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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from station.common.fonts import font
from station.demo.traits import (
    Secrecy,
    esign_box,
    press_stamp,
    received_stamp,
    routing_note,
    secrecy_mark,
    write_digits,
)

A4_MM = (210.0, 297.0)


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
    #: the number and the day written into blanks of the print by hand
    handwritten: bool = False
    #: the number and the day typed into the blanks by the signing system, in a
    #: font of their own standing above the line (born-digital documents)
    typed_in: bool = False
    #: a received stamp over the header, with this register number of its office
    received: str | None = None
    #: signed electronically: the signing software's blue box and a red e-seal over the header
    esigned: bool = False
    #: a secrecy mark under the number (stamped, printed or written by hand)
    secrecy: Secrecy | None = None
    #: an urgency stamp ("HỎA TỐC") in an arrow frame, turned, in the left margin
    urgency_stamp: str | None = None
    #: a reader's note in blue pen under the number (routing: "Chuyển P. TH")
    note: bool = False
    #: the national motto in regular weight, as forms printed before Decree 30 set it
    plain_motto: bool = False


#: the sample labels are this year's, as a station's labels are: a label of
#: another year is a finding before sending (station/review/checks.py)
LABEL_YEAR = date.today().year


def sample_label(number: int) -> str:
    return f"DEN-{LABEL_YEAR}-{number:06d}"


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
        registration=sample_label(123),
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
        registration=sample_label(124),
        marks=("KHẨN",),
    ),
    DocumentSpec(
        superior="VIỆN KIỂM SÁT NHÂN DÂN TỈNH THANH HÓA",
        # a regional procuracy: the district level ended on 1 July 2025
        organ="VIỆN KIỂM SÁT NHÂN DÂN\nKHU VỰC 3",
        number="112",
        notation="BC-VKS",
        place="Thanh Hóa",
        issued=date(2025, 9, 30),
        type_name="BÁO CÁO",
        subject="Kết quả công tác kiểm sát quý III năm 2025",
        body=(
            "I. TÌNH HÌNH CHUNG",
            "Trong quý III năm 2025, Viện kiểm sát nhân dân khu vực 3 đã triển khai "
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
        registration=sample_label(125),
        pages=3,
    ),
)


@dataclass(frozen=True)
class Layout:
    """How a document is set: font, size, margins (Phụ lục I: 13-14 pt, left 30-35 mm)."""

    family: str = "liberation-serif"
    size_pt: float = 13.0
    left_mm: float = 30.0
    right_mm: float = 18.0
    top_mm: float = 20.0
    spacing: float = 1.25  # line pitch as a multiple of the font size
    #: paragraphs on the last page (None: spread evenly); 0 leaves only the
    #: signature block there, as on many real last pages
    tail: int | None = None


class _Pen:
    """Draws text on a page with positions in mm and sizes in points."""

    def __init__(self, image: Image.Image, dpi: int, family: str = "liberation-serif") -> None:
        self.image = image
        self.draw = ImageDraw.Draw(image)
        self.dpi = dpi
        self.family = family
        self.width = image.width

    def px(self, mm: float) -> int:
        return round(mm / 25.4 * self.dpi)

    def font(self, size_pt: float, style: str = "regular") -> ImageFont.FreeTypeFont:
        return font(style, round(size_pt / 72 * self.dpi), self.family)

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
        f = self.font(size_pt, style)
        x, y = self.px(xy_mm[0]), self.px(xy_mm[1])
        self.draw.text((x, y), text, font=f, fill=fill, anchor=anchor)
        left, top, right, bottom = self.draw.textbbox((x, y), text, font=f, anchor=anchor)
        if underline:
            mid = (left + right) // 2
            length = (right - left) // 3
            self.draw.line((mid - length, bottom + 4, mid + length, bottom + 4), fill=fill, width=2)
        return int(bottom - top)

    def wrap(self, text: str, width_mm: float, size_pt: float, style: str = "regular") -> list[str]:
        """Split text into lines that fit ``width_mm`` in this font."""
        f = self.font(size_pt, style)
        limit = self.px(width_mm)
        lines: list[str] = []
        current = ""
        for word in text.split():
            trial = f"{current} {word}".strip()
            if current and f.getlength(trial) > limit:
                lines.append(current)
                current = word
            else:
                current = trial
        if current:
            lines.append(current)
        return lines


def _label(text: str, dpi: int) -> Image.Image:
    """A printed registration sticker as a scanner at ``dpi`` sees it."""
    from station.barcodes.labels import PRINT_DPI, draw_label

    sticker = draw_label(text, "", (70.0, 37.0))
    size = (round(sticker.width * dpi / PRINT_DPI), round(sticker.height * dpi / PRINT_DPI))
    label = sticker.resize(size, Image.Resampling.LANCZOS).convert("RGB")
    return ImageOps.expand(label, border=2, fill=(150, 150, 150))


def _seal(pen: _Pen, center_mm: tuple[float, float], organ: str) -> None:
    """A round red seal: two rings, the agency's name around, a star in the middle.
    Stamp ink is translucent: the print under it stays dark."""
    import math

    from PIL import ImageChops

    overlay = Image.new("RGB", pen.image.size, (255, 255, 255))
    draw = ImageDraw.Draw(overlay)
    cx, cy = pen.px(center_mm[0]), pen.px(center_mm[1])
    red = (205, 35, 40)
    for radius_mm, width in ((17.0, 3), (12.5, 2)):
        r = pen.px(radius_mm)
        draw.ellipse(
            (cx - r, cy - r, cx + r, cy + r), outline=red, width=max(2, width * pen.dpi // 150)
        )
    r = pen.px(5)
    star = []
    for k in range(10):
        radius = r if k % 2 == 0 else r * 0.4
        a = math.pi / 2 + k * math.pi / 5
        star.append((cx + radius * math.cos(a), cy - radius * math.sin(a)))
    draw.polygon(star, fill=red)
    f = pen.font(6.5, "bold")
    letters = organ[:34]
    for k, letter in enumerate(letters):
        a = math.pi * (1.15 - 1.3 * k / max(1, len(letters) - 1))
        x = cx + pen.px(14.8) * math.cos(a)
        y = cy - pen.px(14.8) * math.sin(a)
        draw.text((x, y), letter, font=f, fill=red, anchor="mm")
    pen.image.paste(ImageChops.darker(pen.image, overlay))


def _signature(pen: _Pen, xy_mm: tuple[float, float]) -> None:
    """A hand signature: a few connected loops in blue-black ink."""
    import math

    x0, y0 = pen.px(xy_mm[0]), pen.px(xy_mm[1])
    points = []
    for k in range(120):
        t = k / 119
        x = x0 + pen.px(38) * t
        y = y0 + pen.px(4) * math.sin(t * 9.0) + pen.px(2.5) * math.sin(t * 23.0)
        points.append((x, y))
    pen.draw.line(points, fill=(25, 35, 110), width=max(2, pen.dpi // 90), joint="curve")


def _signature_block(pen: _Pen, spec: DocumentSpec, layout: Layout, y: float) -> float:
    size = layout.size_pt
    x = 150.0
    pen.text((x, y + 4), spec.signer_title, size_pt=size, style="bold", anchor="ma")
    _signature(pen, (x - 20, y + 18))
    _seal(pen, (x - 12, y + 22), spec.organ.replace("\n", " "))
    pen.text((x, y + 42), spec.signer_name, size_pt=size, style="bold", anchor="ma")
    # recipients, bottom left of the signature block (Phụ lục I)
    pen.text((layout.left_mm, y + 4), "Nơi nhận:", size_pt=12, style="bold")
    for k, line in enumerate(("- Như trên;", "- Lãnh đạo đơn vị;", "- Lưu: VT.")):
        pen.text((layout.left_mm, y + 10 + 5 * k), line, size_pt=11)
    return y + 50


def _pages_of(paragraphs: list[str], pages: int, tail: int | None) -> list[list[str]]:
    """Paragraphs per page: spread evenly, or ``tail`` of them on the last page."""
    if pages == 1:
        return [paragraphs]
    if tail is not None:
        tail = min(tail, len(paragraphs))
        head = paragraphs[: len(paragraphs) - tail]
        last = paragraphs[len(paragraphs) - tail :]
        per = max(1, -(-len(head) // (pages - 1)))
        return [head[k * per : (k + 1) * per] for k in range(pages - 1)] + [last]
    per = max(1, -(-len(paragraphs) // pages))
    return [paragraphs[k * per : (k + 1) * per] for k in range(pages)]


def render_document(
    spec: DocumentSpec,
    dpi: int = 200,
    layout: Layout | None = None,
    printed: list[str] | None = None,
) -> list[Image.Image]:
    """The clean pages of a document (no scan effects). Body lines that would
    run into the bottom margin are left out; ``printed`` receives the body
    lines that were drawn, in order."""
    layout = layout or Layout()
    width, height = round(A4_MM[0] / 25.4 * dpi), round(A4_MM[1] / 25.4 * dpi)
    text_width = A4_MM[0] - layout.left_mm - layout.right_mm
    pitch = layout.size_pt * layout.spacing * 25.4 / 72
    pages = []
    for number, chunk in enumerate(_pages_of(list(spec.body), spec.pages, layout.tail)):
        page = Image.new("RGB", (width, height), (252, 251, 247))
        pen = _Pen(page, dpi, layout.family)
        y = layout.top_mm
        if number == 0:
            y = _header(pen, spec)
        else:
            pen.text((105, 10), str(number + 1), size_pt=layout.size_pt, anchor="ma")
        for paragraph in chunk:
            lines = pen.wrap(paragraph, text_width - 10, layout.size_pt)
            for k, line in enumerate(lines):
                if y + pitch > A4_MM[1] - 15:
                    break
                pen.text((layout.left_mm + (10 if k == 0 else 0), y), line, size_pt=layout.size_pt)
                if printed is not None:
                    printed.append(line)
                y += pitch
            y += pitch * 0.4
        if number == spec.pages - 1:
            _signature_block(pen, spec, layout, y + 2)
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
    # the agency block is at most about 80 mm wide, centred 45 mm from the edge
    for line in pen.wrap(spec.superior, 78, 12):
        pen.text((45, y), line, size_pt=12, anchor="ma")
        y += 6.0
    # "\n" in a name breaks its line where the agency breaks it ("… NHÂN DÂN / KHU VỰC 3")
    organ = [line for part in spec.organ.split("\n") for line in pen.wrap(part, 78, 12, "bold")]
    for index, line in enumerate(organ):
        pen.text(
            (45, y), line, size_pt=12, style="bold", anchor="ma", underline=index == len(organ) - 1
        )
        y += 6.0
    y += 3.0
    hand = random.Random(f"{spec.number}/{spec.notation}/{spec.issued}")
    if spec.handwritten or spec.typed_in:
        parts = ("Số: ", f"/{spec.notation}")
        _filled_in(pen, (45, y), parts, spec.number, 13, "regular", hand, spec.typed_in)
    else:
        pen.text((45, y), f"Số: {spec.number}/{spec.notation}", size_pt=13, anchor="ma")
    motto = "regular" if spec.plain_motto else "bold"
    pen.text((140, 15), "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size_pt=12, style=motto, anchor="ma")
    pen.text(
        (140, 21),
        "Độc lập - Tự do - Hạnh phúc",
        size_pt=13,
        style=motto,
        anchor="ma",
        underline=True,
    )
    day = f"{spec.issued.day:02d}"
    month = f"{spec.issued.month:02d}" if spec.issued.month < 3 else str(spec.issued.month)
    if spec.handwritten or spec.typed_in:
        parts = (f"{spec.place}, ngày ", f" tháng {month} năm {spec.issued.year}")
        _filled_in(pen, (140, 30), parts, day, 13, "italic", hand, spec.typed_in)
    else:
        pen.text(
            (140, 30),
            f"{spec.place}, ngày {day} tháng {month} năm {spec.issued.year}",
            size_pt=13,
            style="italic",
            anchor="ma",
        )
    y += 7
    if spec.secrecy is not None:
        # under the number and symbol (Phụ lục I), the subject of a công văn below it
        y += secrecy_mark(pen, (45, y), spec.secrecy, hand) + 2
    if not spec.type_name:  # công văn: "V/v …" under the number
        for line in pen.wrap(spec.subject, 78, 12):
            pen.text((45, y), line, size_pt=12, anchor="ma")
            y += 5.5
    for index, mark in enumerate(spec.marks):
        pen.text(
            (140, 38 + index * 8), mark, size_pt=14, style="bold", fill=(200, 30, 30), anchor="ma"
        )
    if spec.note:
        routing_note(pen, (14, max(y, 46.0) - 4), hand)
    if spec.urgency_stamp:
        press_stamp(pen, (30, max(y, 46.0) + 22), spec.urgency_stamp, hand, frame="arrow", angle=35)
    if spec.esigned:
        name = spec.organ.replace("\n", " ")
        esign_box(pen, (150, 3), name, spec.issued)
        _seal(pen, (160, 14), name)  # the e-seal, composited over the motto
    if spec.received:
        # pressed by the receiving office in the left margin under the header,
        # over the first lines of the body
        received_stamp(pen, (3, max(y, 46.0) + 16), spec.received, "21/3/24", hand)
    if spec.type_name:
        y = max(y, 46.0)
        pen.text((105, y), spec.type_name, size_pt=14, style="bold", anchor="ma")
        # the subject centred over as many lines as it takes; a legal normative
        # document's name is printed in plain capitals
        style = "regular" if spec.subject.isupper() else "bold"
        lines = pen.wrap(spec.subject, 150, 14, style)
        for index, line in enumerate(lines):
            pen.text((105, y + 8 + 6.5 * index), line, size_pt=14, style=style, anchor="ma")
        return y + 15.5 + 6.5 * len(lines)
    return max(y + 8, 50.0)


def _filled_in(
    pen: _Pen,
    centre_mm: tuple[float, float],
    parts: tuple[str, str],
    value: str,
    size_pt: float,
    style: str,
    rng: random.Random,
    typed: bool = False,
) -> None:
    """A printed line with a blank between ``parts``, centred on ``centre_mm``,
    and ``value`` written into the blank by hand, or ``typed`` by the signing
    system: in a font of its own, as tall as the print or a little less, raised
    above the line."""
    f = pen.font(size_pt, style)
    # a hand needs room; the signing system fills in its value, a space or less around it
    small = pen.font(size_pt * rng.uniform(0.88, 1.0), style)
    shift = pen.px(rng.uniform(-1.2, 0.3)) if typed else pen.px(1.5)
    width = pen.draw.textlength(value, font=small) + pen.px(rng.uniform(0.3, 2.0))
    blank = shift + width if typed else pen.px(4.5 * len(value) + 3)
    before, after = (pen.draw.textlength(part, font=f) for part in parts)
    left = pen.px(centre_mm[0]) - (before + blank + after) / 2
    top = pen.px(centre_mm[1])
    pen.draw.text((left, top), parts[0], font=f, fill=(20, 20, 20))
    pen.draw.text((left + before + blank, top), parts[1], font=f, fill=(20, 20, 20))
    ascent, _ = f.getmetrics()
    cap = pen.draw.textbbox((0, 0), "0", font=f, anchor="ls")
    if typed:
        baseline = top + ascent + cap[1] * rng.uniform(0.15, 0.25)  # cap[1] < 0: up
        pen.draw.text(
            (left + before + shift, baseline), value, font=small, fill=(20, 20, 20), anchor="ls"
        )
        return
    write_digits(pen.draw, value, left + before + pen.px(1.5), top + ascent, -cap[1], rng)


def separator_sheet(text: str = "PATCHT", dpi: int = 200) -> Image.Image:
    from station.barcodes import labels

    return labels.separator_sheet(text, dpi).convert("RGB")


def cover_sheet(direction: str, text: str, dpi: int = 200) -> Image.Image:
    """A cover sheet on top of a stack (docs/outgoing.md#cover-sheets)."""
    from station.barcodes import labels

    return labels.cover_sheet(direction, text, dpi).convert("RGB")


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
