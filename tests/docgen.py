"""Realistic scans of Vietnamese administrative documents, with ground truth.

Documents follow Decree 30/2020 Phụ lục I (agency block, number and symbol,
national motto, dated place, type name, subject, body, signature block with a
red seal, recipients) and are drawn from pools of agencies, types and text, in
four fonts. Each page is then "scanned" as an ADF would deliver it:

- 200 or 300 dpi, colour;
- turned by a quarter (0/90/180/270, as when the stack went in sideways or upside
  down) and skewed by up to ±15°;
- on a grey or black scanner background with margins (the crop must find the
  paper), or on a white backing where the image is the paper;
- paper tone, uneven lighting, sensor noise, dust, sometimes a streak from dirt
  on the glass, and JPEG compression at quality 60-92;
- duplex backs: blank paper with faint mirrored bleed-through, dust and noise;
- sparse last pages: only the signature block, or a line or two and the block;
- the traits of real paper (:func:`real_paper`, docs/ocr.md#real-paper): the
  number and the day written by hand, received stamps with their own register
  numbers, e-signature boxes and e-seals, urgency stamps turned in the margin,
  routing notes in blue pen, the plain motto of old forms, subjects over two or
  three lines, and scans in black and white (1 bit) or at 100 dpi;
- agencies of two eras: today's (since 1 July 2025: regional procuracies and
  courts, merged provinces) dated from July 2025, and the old ones (districts,
  provinces merged since) dated 2018 to June 2025.

Everything is seeded: the same seed gives the same pages and the same truth.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from station.common.fonts import FONTS
from station.demo.samples import A4_MM, DocumentSpec, Layout, render_document
from station.demo.traits import Secrecy
from station.records.vocabulary import priority_of

#: Agencies as their headers print them: superior (plain caps), issuing agency
#: (bold caps; "\n" breaks its line where the agency breaks it), its name in
#: sentence case (Phụ lục II), abbreviation, place. "{P}"/"{p}" stand for a
#: province in capitals / as written, "{D}"/"{d}" for a district, "{n}" for the
#: number of a region. Two eras, nine kinds each (one is drawn per document):
#:
#: - today's (from 1 July 2025: 34 provinces, no district level; Resolution
#:   84/2025/UBTVQH15 made the district procuracies and courts regional ones,
#:   "… khu vực N"; the provincial civil-judgment enforcement offices are
#:   "Thi hành án dân sự tỉnh X" under the Ministry of Justice; the departments
#:   merged on 1 March 2025, "Sở Nông nghiệp và Môi trường");
#: - the old ones (2018 to June 2025): district procuracies and People's
#:   Committees, "Cục Thi hành án dân sự tỉnh", provinces merged since.
AGENCY_TEMPLATES: dict[str, tuple[tuple[str, str, str, str, str], ...]] = {
    "today": (
        ("VIỆN KIỂM SÁT NHÂN DÂN TỐI CAO", "VIỆN KIỂM SÁT NHÂN DÂN TỈNH {P}",
         "Viện kiểm sát nhân dân tỉnh {p}", "VKS", "{p}"),
        ("VIỆN KIỂM SÁT NHÂN DÂN TỈNH {P}", "VIỆN KIỂM SÁT NHÂN DÂN\nKHU VỰC {n}",
         "Viện kiểm sát nhân dân khu vực {n}", "VKS", "{p}"),
        ("BỘ TƯ PHÁP", "THI HÀNH ÁN DÂN SỰ TỈNH {P}", "Thi hành án dân sự tỉnh {p}", "THADS",
         "{p}"),
        ("TÒA ÁN NHÂN DÂN TỈNH {P}", "TÒA ÁN NHÂN DÂN\nKHU VỰC {n}",
         "Tòa án nhân dân khu vực {n}", "TA", "{p}"),
        ("BỘ CÔNG AN", "CÔNG AN TỈNH {P}", "Công an tỉnh {p}", "CAT", "{p}"),
        ("UBND TỈNH {P}", "SỞ TƯ PHÁP", "Sở Tư pháp", "STP", "{p}"),
        ("TÒA ÁN NHÂN DÂN TỐI CAO", "TÒA ÁN NHÂN DÂN TỈNH {P}", "Tòa án nhân dân tỉnh {p}", "TA",
         "{p}"),
        ("UBND TỈNH {P}", "SỞ NÔNG NGHIỆP\nVÀ MÔI TRƯỜNG", "Sở Nông nghiệp và Môi trường",
         "SNNMT", "{p}"),
        ("UBND TỈNH {P}", "SỞ NỘI VỤ", "Sở Nội vụ", "SNV", "{p}"),
    ),
    "old": (
        ("VIỆN KIỂM SÁT NHÂN DÂN TỐI CAO", "VIỆN KIỂM SÁT NHÂN DÂN TỈNH {P}",
         "Viện kiểm sát nhân dân tỉnh {p}", "VKS", "{p}"),
        ("VIỆN KIỂM SÁT NHÂN DÂN TỈNH THANH HÓA", "VIỆN KIỂM SÁT NHÂN DÂN HUYỆN {D}",
         "Viện kiểm sát nhân dân huyện {d}", "VKS", "{d}"),
        ("BỘ TƯ PHÁP", "CỤC THI HÀNH ÁN DÂN SỰ TỈNH {P}", "Cục Thi hành án dân sự tỉnh {p}",
         "CTHADS", "{p}"),
        ("TÒA ÁN NHÂN DÂN TỈNH THANH HÓA", "TÒA ÁN NHÂN DÂN HUYỆN {D}",
         "Tòa án nhân dân huyện {d}", "TA", "{d}"),
        ("BỘ CÔNG AN", "CÔNG AN TỈNH {P}", "Công an tỉnh {p}", "CAT", "{p}"),
        ("UBND TỈNH {P}", "SỞ TƯ PHÁP", "Sở Tư pháp", "STP", "{p}"),
        ("UBND TỈNH THANH HÓA", "UBND HUYỆN {D}", "UBND huyện {d}", "UBND", "{d}"),
        ("UBND TỈNH {P}", "SỞ TÀI NGUYÊN\nVÀ MÔI TRƯỜNG", "Sở Tài nguyên và Môi trường",
         "STNMT", "{p}"),
        ("CỤC THI HÀNH ÁN DÂN SỰ TỈNH THANH HÓA", "CHI CỤC THI HÀNH ÁN DÂN SỰ\nHUYỆN {D}",
         "Chi cục Thi hành án dân sự huyện {d}", "CCTHADS", "{d}"),
    ),
}  # fmt: skip
#: the provinces of each era: today's 34 include the merged ones under the
#: name they kept; the old ones include provinces merged since
PROVINCES = {
    "today": (
        "Thanh Hóa", "Tuyên Quang", "Lào Cai", "Phú Thọ", "Bắc Ninh", "Hưng Yên", "Gia Lai",
        "Lâm Đồng", "Đồng Tháp", "An Giang", "Nghệ An", "Ninh Bình", "Quảng Trị",
    ),
    "old": (
        "Thanh Hóa", "Hà Giang", "Yên Bái", "Bắc Giang", "Thái Bình", "Quảng Bình", "Bình Định",
        "Nghệ An", "Vĩnh Phúc",
    ),
}  # fmt: skip
#: districts of Thanh Hóa (until June 2025)
DISTRICTS = ("Đông Sơn", "Hoằng Hóa", "Quảng Xương", "Thọ Xuân")
#: the regional procuracies and courts are numbered within their province
REGIONS = range(1, 13)
#: the eras' dates (today's: up to the test's reference day, tests/test_fields.py)
ERAS = {
    "today": (date(2025, 7, 1), date(2026, 11, 24)),
    "old": (date(2018, 1, 1), date(2025, 6, 30)),
}


def agency(template: tuple[str, ...], province: str, district: str, region: int) -> tuple[str, ...]:
    """A template of :data:`AGENCY_TEMPLATES` filled in."""
    values = {"P": province.upper(), "p": province, "D": district.upper(), "d": district}
    return tuple(
        part.replace("{P}", values["P"]).replace("{p}", values["p"]).replace("{D}", values["D"])
        .replace("{d}", values["d"]).replace("{n}", str(region))
        for part in template
    )  # fmt: skip


#: every agency the generated documents may carry, both eras
AGENCIES = sorted(
    {
        agency(template, province, district, region)
        for era, templates in AGENCY_TEMPLATES.items()
        for template in templates
        for province in PROVINCES[era]
        for district in DISTRICTS
        for region in (1, 12)
    }
)

TYPES = [
    ("Quyết định", "QĐ"),
    ("Báo cáo", "BC"),
    ("Thông báo", "TB"),
    ("Kế hoạch", "KH"),
    ("Tờ trình", "TTr"),
    ("Giấy mời", "GM"),
    ("Biên bản", "BB"),
    ("Hướng dẫn", "HD"),
    ("Công văn", ""),
    ("Công văn", ""),
]

SUBJECTS = [
    "Về việc ban hành Quy chế công tác văn thư, lưu trữ",
    "Kết quả công tác kiểm sát quý III năm 2024",
    "Về việc tổ chức hội nghị sơ kết công tác 6 tháng đầu năm",
    "Phối hợp rà soát hồ sơ thi hành án dân sự còn tồn đọng",
    "Triển khai chuyển đổi số trong công tác văn thư, lưu trữ",
    "Về việc cử cán bộ tham gia lớp bồi dưỡng nghiệp vụ",
    "Kế hoạch kiểm tra việc chấp hành pháp luật tại trại tạm giam",
    "Đề nghị cung cấp tài liệu phục vụ công tác giải quyết án",
    # subjects over two or three lines, as real ones often are
    "Về việc tăng cường công tác kiểm sát việc tạm giữ, tạm giam và thi hành án hình sự"
    " trên địa bàn tỉnh năm 2025",
    "Kết luận của Viện trưởng tại cuộc họp giao ban công tác kiểm sát quý IV năm 2024 và"
    " nhiệm vụ trọng tâm trong thời gian tới",
]

SENTENCES = [
    "Căn cứ Luật Tổ chức Viện kiểm sát nhân dân ngày 24 tháng 11 năm 2014.",
    "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác văn thư.",
    "Thực hiện kế hoạch công tác năm 2024, đơn vị đề nghị các cơ quan liên quan phối hợp thực hiện.",
    "Trong kỳ báo cáo, đơn vị đã triển khai đồng bộ các mặt công tác, bảo đảm chỉ tiêu được giao.",
    "Thụ lý kiểm sát 27 tin báo về tội phạm, đã giải quyết 24 tin, đạt tỷ lệ 88,9 phần trăm.",
    "Đề nghị Thủ trưởng các đơn vị nghiêm túc triển khai thực hiện, báo cáo kết quả đúng thời hạn.",
    "Việc số hóa tài liệu phải bảo đảm tiêu chuẩn dữ liệu thông tin đầu vào theo quy định.",
    "Tiếp tục nâng cao chất lượng công tác thực hành quyền công tố và kiểm sát hoạt động tư pháp.",
    "Các cơ quan, đơn vị gửi văn bản về Văn phòng trước ngày 15 tháng 12 năm 2024 để tổng hợp.",
    "Quá trình thực hiện nếu có vướng mắc, đề nghị phản ánh kịp thời để được hướng dẫn, giải quyết.",
    "Thời gian: 08 giờ 00 phút, thứ Hai; địa điểm: Hội trường tầng 3, trụ sở cơ quan.",
    "Biên bản được lập thành 03 bản có giá trị pháp lý như nhau, mỗi bên giữ 01 bản.",
]

SIGNERS = [
    ("VIỆN TRƯỞNG", "Nguyễn Văn An"),
    ("KT. VIỆN TRƯỞNG", "Lê Thị Bình"),
    ("GIÁM ĐỐC", "Trần Quốc Cường"),
    ("CHÁNH VĂN PHÒNG", "Phạm Thu Hà"),
    ("CHỦ TỊCH", "Hoàng Minh Đức"),
    ("CỤC TRƯỞNG", "Đỗ Thị Lan"),
]


@dataclass(frozen=True)
class PageTruth:
    dpi: int
    skew_deg: float  # counter-clockwise, as docs/batch.md says
    orientation_deg: int  # 0/90/180/270 counter-clockwise from upright
    blank: bool
    background: str  # "grey", "black" or "white"
    paper_px: tuple[int, int]  # the paper's width and height, upright, in pixels
    kind: str  # "first", "middle", "last-sparse", "last", "back"
    doc_index: int
    fields: dict[str, Any] = field(default_factory=dict)
    #: part of the print fell outside the scan (a sheet skewed on a white
    #: backing as large as the paper): its text cannot be read back
    clipped: bool = False
    render: str = "grey"  # as :func:`scan` takes it


@dataclass(frozen=True)
class ScannedPage:
    jpeg: bytes  # the scanner's file: a JPEG, or a PNG for a bilevel render
    truth: PageTruth

    @property
    def suffix(self) -> str:
        """The file name's ending for :attr:`jpeg`: ".png" or ".jpg"."""
        return ".png" if self.jpeg.startswith(b"\x89PNG") else ".jpg"


def random_document(
    rng: random.Random, index: int, traits: random.Random | None = None
) -> tuple[DocumentSpec, dict[str, Any]]:
    """A document and its truth. ``rng`` draws what it always drew (the agency's
    kind, type, number, day, subject, body, signer, marks), so the pages drawn
    after it keep their stream; ``traits`` (by default one seeded from
    ``index``) draws the era, the province, district or region, and the year."""
    traits = traits or random.Random(f"document/{index}")
    era = "today" if traits.random() < 0.5 else "old"
    template = rng.choice(AGENCY_TEMPLATES[era])
    superior, organ, organ_name, agency_abbr, place = agency(
        template,
        traits.choice(PROVINCES[era]),
        traits.choice(DISTRICTS),
        traits.choice(REGIONS),
    )
    type_name, type_abbr = rng.choice(TYPES)
    number = rng.randint(1, 350)
    printed = f"{number:02d}"
    notation = f"{type_abbr}-{agency_abbr}" if type_abbr else f"{agency_abbr}-VP"
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    first, last = ERAS[era]
    years = [y for y in range(first.year, last.year + 1) if first <= date(y, month, day) <= last]
    issued = date(traits.choice(years), month, day)
    subject = rng.choice(SUBJECTS)
    # a công văn's subject follows "V/v" in lower case; the field keeps it as printed
    printed_subject = subject[0].lower() + subject[1:]
    if not type_abbr:
        subject = printed_subject
    pages = rng.choice([1, 1, 2, 2, 3])
    body = [
        " ".join(rng.sample(SENTENCES, rng.randint(1, 3))) for _ in range(rng.randint(3, 6) * pages)
    ]
    title, name = rng.choice(SIGNERS)
    marks = tuple(rng.sample(["KHẨN", "HỎA TỐC", "MẬT"], 1)) if rng.random() < 0.2 else ()
    spec = DocumentSpec(
        superior=superior,
        organ=organ,
        number=printed,
        notation=notation,
        place=place,
        issued=issued,
        type_name=type_name.upper() if type_abbr else "",
        subject=("V/v " + printed_subject) if not type_abbr else subject,
        body=body,
        signer_title=title,
        signer_name=name,
        registration=f"DEN-2024-{index + 1:06d}",
        pages=pages,
        marks=marks,
    )
    fields = {
        "TypeName": type_name,
        "CodeNumber": printed,
        "CodeNotation": notation,
        "IssuedDate": issued.isoformat(),
        "OrganName": organ_name,
        "Subject": subject,
        "PageAmount": pages,
        "Language": "vi",
        "Priority": priority_of(list(marks)),
        "body": body,
        "era": era,
    }
    return spec, fields


#: the header fields written by hand when a document's number and day are
HANDWRITTEN_FIELDS = ("CodeNumber", "IssuedDate")
#: the scans' renders and their shares of documents (docs/ocr.md#real-paper)
RENDERS = (("bilevel", 0.1), ("100dpi", 0.08))
#: urgency stamps pressed in the margin
URGENCY_STAMPS = ("HỎA TỐC", "THƯỢNG KHẨN", "KHẨN")


def real_paper(
    spec: DocumentSpec, fields: dict[str, Any], traits: random.Random, family: str
) -> tuple[DocumentSpec, str]:
    """``spec`` with the traits of real paper drawn at realistic shares, and the
    render of its scan; the traits are listed in ``fields["traits"]`` and the
    truth follows them: a number and a day written by hand are for the clerk
    (None), a stamped urgency is the document's priority.

    Shares per document: number and day written by hand 25 %; a received stamp
    with its own register number 30 %; signed electronically (box and e-seal,
    only with a typed number) 15 %; an urgency stamp turned in the margin 8 %
    (when no urgency is printed); a routing note in blue pen 20 %; the plain
    motto of forms from before Decree 30, 35 % of the documents dated before
    July 2025; the scan in black and white 10 %, at 100 dpi 8 %."""
    import dataclasses

    names: list[str] = []
    changes: dict[str, Any] = {}
    if traits.random() < 0.25:
        changes["handwritten"] = True
        names.append("handwritten")
        for name in HANDWRITTEN_FIELDS:
            fields[name] = None
    if traits.random() < 0.3:
        changes["received"] = str(traits.randint(100, 4999))
        names.append("received")
    if traits.random() < 0.15 and "handwritten" not in names:
        changes["esigned"] = True
        names.append("esigned")
    if traits.random() < 0.08 and not spec.marks:
        stamp = traits.choice(URGENCY_STAMPS)
        changes["urgency_stamp"] = stamp
        fields["Priority"] = priority_of([stamp])
        names.append("urgency_stamp")
    if traits.random() < 0.2:
        changes["note"] = True
        names.append("note")
    if traits.random() < 0.35 and fields.get("era") == "old":
        changes["plain_motto"] = True
        names.append("plain_motto")
    draw, render = traits.random(), "grey"
    for name, share in RENDERS:
        if draw < share:
            render = name
            names.append(name)
            break
        draw -= share
    spec = dataclasses.replace(spec, **changes)
    if subject_lines(spec, family) > 1:
        names.append("multiline_subject")
    if "\n" in spec.organ:
        names.append("organ_two_lines")
    names.append(f"era_{fields.get('era', 'old')}")
    fields["traits"] = names
    fields["handwritten"] = [n for n in HANDWRITTEN_FIELDS if spec.handwritten]
    return spec, render


def subject_lines(spec: DocumentSpec, family: str) -> int:
    """The lines the subject takes in the header (as :func:`render_document` sets it)."""
    from station.demo.samples import _Pen

    pen = _Pen(Image.new("RGB", (1, 1)), 200, family)
    if not spec.type_name:
        return len(pen.wrap(spec.subject, 78, 12))
    style = "regular" if spec.subject.isupper() else "bold"
    return len(pen.wrap(spec.subject, 150, 14, style))


def _noise(image: Image.Image, rng: random.Random, sigma: float) -> Image.Image:
    """Sensor noise: a random tile of Gaussian noise repeated over the page (fast)."""
    pixels = np.asarray(image, dtype=np.int16)
    tile = np.random.default_rng(rng.randrange(2**32)).normal(0, sigma, (509, 503, 3))
    reps = (-(-pixels.shape[0] // 509), -(-pixels.shape[1] // 503), 1)
    noise = np.tile(tile.astype(np.int16), reps)[: pixels.shape[0], : pixels.shape[1]]
    return Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))


def _dirt(page: Image.Image, rng: random.Random, dpi: int, streak: int | None) -> None:
    pen = ImageDraw.Draw(page)
    for _ in range(rng.randint(4, 14)):  # dust specks, at most ~0.3 mm
        x, y = rng.randrange(page.width), rng.randrange(page.height)
        r = rng.choice([0, 0, 1]) * dpi // 200
        shade = rng.randint(60, 160)
        pen.ellipse((x - r, y - r, x + r, y + r), fill=(shade, shade, shade))
    if streak is not None:  # dirt on the glass: a faint line along the feed
        shade = rng.randint(150, 200)
        pen.line((streak, 0, streak, page.height), fill=(shade, shade, shade), width=1)


def back_of(front: Image.Image, rng: random.Random) -> Image.Image:
    """The blank back of a printed sheet: faint mirrored bleed-through, off-white paper."""
    ghost = ImageOps.mirror(front.convert("L")).filter(ImageFilter.GaussianBlur(2.5))
    strength = rng.uniform(10, 20)  # the printing shows through at 1/10 to 1/20
    paper = rng.randint(243, 252)
    lut = [round(paper - (255 - v) / strength) for v in range(256)]
    ghost = ghost.point(lut)
    return Image.merge("RGB", (ghost, ghost, ghost))


def scan(
    page: Image.Image,
    truth_kind: str,
    rng: random.Random,
    dpi: int,
    doc_index: int,
    fields: dict[str, Any],
    blank: bool,
    max_skew: float = 15.0,
    render: str = "grey",
    *,
    orientation: int | None = None,
    skew_deg: float | None = None,
    backing: str | None = None,
    overscan_mm: float = 0.0,
) -> ScannedPage:
    """Turn, skew, light and compress one clean page as an ADF scan would.

    ``render``: "grey" (a JPEG), "bilevel" (1 bit a pixel, thresholded as a
    scanner's black-and-white mode does, PNG) or "100dpi" (scanned at half the
    resolution and brought back up to ``dpi``, as an archive's old scans are).
    ``orientation``, ``skew_deg`` and ``backing`` fix what is otherwise drawn.
    ``overscan_mm``: on a white backing, a scan area larger than the paper: the
    whole skewed sheet with 30-100 % of this much white backing on each side."""
    paper_px = (page.width, page.height)
    drawn_orientation = rng.choice([0, 90, 180, 270])
    drawn_skew = round(rng.uniform(-max_skew, max_skew), 2)
    drawn_background = rng.choice(["grey", "grey", "black", "white"])
    orientation = drawn_orientation if orientation is None else orientation
    skew = drawn_skew if skew_deg is None else skew_deg
    background = drawn_background if backing is None else backing
    streak = rng.randrange(page.width) if rng.random() < 0.15 else None
    # paper tone and uneven lighting across the sheet
    tone = np.asarray(page, dtype=np.float32)
    gradient = np.linspace(rng.uniform(-6, 0), rng.uniform(0, 4), page.height)[:, None, None]
    page = Image.fromarray(np.clip(tone + gradient, 0, 255).astype(np.uint8))
    _dirt(page, rng, dpi, streak)
    turned = page.rotate(orientation, expand=True)
    clipped = False
    if background == "white" and overscan_mm > 0:
        fill = (250, 250, 250)
        skewed = turned.rotate(skew, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)
        margins = [round(rng.uniform(0.3, 1.0) * overscan_mm / 25.4 * dpi) for _ in range(4)]
        scanned = Image.new(
            "RGB",
            (skewed.width + margins[0] + margins[2], skewed.height + margins[1] + margins[3]),
            fill,
        )
        scanned.paste(skewed, (margins[0], margins[1]))
    elif background == "white":
        clipped = _clipped(turned, skew)
        fill = (250, 250, 250)
        scanned = turned.rotate(
            skew, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=fill
        )
    else:
        level = rng.randint(85, 150) if background == "grey" else rng.randint(15, 40)
        fill = (level, level, level + rng.randint(-5, 5))
        skewed = turned.rotate(skew, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)
        margins = [round(rng.uniform(4, 14) / 25.4 * dpi) for _ in range(4)]
        scanned = Image.new(
            "RGB",
            (skewed.width + margins[0] + margins[2], skewed.height + margins[1] + margins[3]),
            fill,
        )
        scanned.paste(skewed, (margins[0], margins[1]))
    scanned = _noise(scanned, rng, rng.uniform(1.5, 4.0))
    buf = io.BytesIO()
    if render == "100dpi":
        low = scanned.resize((scanned.width // 2, scanned.height // 2), Image.Resampling.BOX)
        scanned = low.resize(scanned.size, Image.Resampling.BICUBIC)
    if render == "bilevel":
        level = rng.randint(120, 160)
        bilevel = scanned.convert("L").point(lambda v: 255 if v > level else 0).convert("1")
        bilevel.save(buf, "PNG", dpi=(dpi, dpi))
    else:
        scanned.save(buf, "JPEG", quality=rng.randint(60, 92), dpi=(dpi, dpi))
    truth = PageTruth(
        dpi=dpi,
        skew_deg=skew,
        orientation_deg=orientation,
        blank=blank,
        background=background,
        paper_px=paper_px,
        kind=truth_kind,
        doc_index=doc_index,
        fields=fields,
        clipped=clipped,
        render=render,
    )
    return ScannedPage(buf.getvalue(), truth)


def _clipped(page: Image.Image, angle: float) -> bool:
    """Whether turning ``page`` by ``angle`` in its own frame cuts off print."""
    ink = np.asarray(page.convert("L")) < 160
    rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
    if not len(rows):
        return False
    w, h = page.size
    cx, cy = w / 2, h / 2
    a = np.radians(angle)
    for x in (cols[0], cols[-1]):
        for y in (rows[0], rows[-1]):
            # PIL turns counter-clockwise on screen (y down)
            nx = cx + (x - cx) * np.cos(a) + (y - cy) * np.sin(a)
            ny = cy - (x - cx) * np.sin(a) + (y - cy) * np.cos(a)
            if not (0 <= nx < w and 0 <= ny < h):
                return True
    return False


def closing_truth(spec: DocumentSpec) -> dict[str, Any]:
    """The closing fields a generated last page prints (render_document draws
    the signature block and the same three-line "Nơi nhận")."""
    competence = spec.signer_title if spec.signer_title.startswith("KT.") else None
    return {
        "SignerCompetence": competence,
        "SignerPosition": None if competence else spec.signer_title,
        "SignerName": spec.signer_name,
        "ToPlaces": ["Như trên", "Lãnh đạo đơn vị", "Lưu: VT"],
    }


def generate_suite(count: int, seed: int = 30, traits: bool = True) -> list[ScannedPage]:
    """At least ``count`` scanned page sides from whole documents, backs included.

    With ``traits`` the documents carry the traits of real paper
    (:func:`real_paper`), drawn from a generator of their own seeded from
    ``(seed, index)``: the pages' geometry (turn, skew, backing) is the same
    stream with or without them. Without, every page is a clean grey scan."""
    rng = random.Random(seed)
    families = sorted(FONTS)
    pages: list[ScannedPage] = []
    index = 0
    while len(pages) < count:
        drawn = random.Random(f"{seed}/{index}")
        spec, fields = random_document(rng, index, drawn)
        family = families[index % len(families)]
        render = "grey"
        if traits:
            spec, render = real_paper(spec, fields, drawn, family)
        dpi = rng.choice([200, 200, 300])
        sparse = spec.pages > 1 and rng.random() < 0.6
        layout = Layout(
            family=family,
            size_pt=rng.choice([13.0, 13.5, 14.0]),
            left_mm=rng.uniform(30, 35),
            right_mm=rng.uniform(15, 20),
            spacing=rng.uniform(1.15, 1.5),
            tail=rng.choice([0, 1]) if sparse else None,
        )
        printed: list[str] = []
        clean = render_document(spec, dpi, layout, printed)
        fields["printed"] = printed  # the body as it fits on the pages
        # a scanner's black-and-white mode: the paper fills the image (white backing)
        how: dict[str, Any] = {"render": render}
        if render == "bilevel":
            how["backing"] = "white"
        for number, page in enumerate(clean):
            if number == 0:
                kind = "first"
            elif number == len(clean) - 1:
                kind = "last-sparse" if sparse else "last"
            else:
                kind = "middle"
            pages.append(scan(page, kind, rng, dpi, index, fields, blank=False, **how))
            if rng.random() < 0.7:  # printed single-sided, scanned duplex
                back = back_of(page, rng)
                pages.append(scan(back, "back", rng, dpi, index, fields, blank=True, **how))
        index += 1
    return pages


def paper_a4_px(dpi: int) -> tuple[int, int]:
    return round(A4_MM[0] / 25.4 * dpi), round(A4_MM[1] / 25.4 * dpi)


def angle_error(measured: float, truth: float) -> float:
    return abs((measured - truth + 180.0) % 360.0 - 180.0)


def _chunk(args: tuple[int, int, bool]) -> list[ScannedPage]:
    count, seed, traits = args
    return generate_suite(count, seed, traits)


def generate_suite_parallel(
    count: int, seed: int = 30, workers: int = 2, traits: bool = True
) -> list[ScannedPage]:
    """:func:`generate_suite` split over processes: each part has its own seed."""
    from concurrent.futures import ProcessPoolExecutor

    per = -(-count // workers)
    with ProcessPoolExecutor(workers) as pool:
        parts = pool.map(_chunk, [(per, seed * 1000 + k, traits) for k in range(workers)])
        return [page for part in parts for page in part]


# --------------------------------------------------------------------------- stacks


@dataclass(frozen=True)
class ExpectedDocument:
    registration: str | None
    pages: int  # pages kept (blank backs and separators dropped)


def _sticker(image: Image.Image, dpi: int) -> Image.Image:
    """A 600 dpi sticker as it looks printed and scanned at ``dpi``."""
    scale = dpi / 600
    small = image.convert("L").resize(
        (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS
    )
    return small.convert("RGB")


def stick(
    page: Image.Image, sticker: Image.Image, corner: str, angle: float, rng: random.Random, dpi: int
) -> None:
    """Stick a label on a page near a corner, turned a little as a hand sticks it."""
    turned = sticker.convert("RGBA").rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
    margin = round(rng.uniform(8, 15) / 25.4 * dpi)
    x = margin if corner.endswith("left") else page.width - turned.width - margin
    y = margin if corner.startswith("top") else page.height - turned.height - margin
    page.paste(turned, (x, y), turned)


def distractor(page: Image.Image, kind: str, rng: random.Random, dpi: int) -> str:
    """A code printed by the issuing agency: a QR to its portal, or an EAN-13."""
    from station.barcodes.labels import code_image

    if kind == "qr":
        text = f"https://congbao.thanhhoa.gov.vn/vb?id={rng.randint(10000, 99999)}"
        image = code_image(text, "qr", max(3, dpi // 50))
    else:
        digits = "893" + "".join(str(rng.randint(0, 9)) for _ in range(9))
        check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
        text = digits + str(check)
        import zxingcpp

        symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.EAN13)
        image = Image.fromarray(np.array(symbol.to_image(scale=max(2, dpi // 90)))).convert("L")
        image = image.resize((image.width, round(dpi * 0.6)))
    # bottom centre: never under a label, which goes in a corner
    x = (page.width - image.width) // 2
    y = page.height - image.height - round(22 / 25.4 * dpi)
    page.paste(image.convert("RGB"), (x, y))
    return text


def generate_stack(
    documents: int, seed: int = 4, max_skew: float = 10.0, dpi: int = 200, first: int = 0
) -> tuple[list[ScannedPage], list[ExpectedDocument], dict[str, int]]:
    """A batch as the clerk feeds it: labels in Code 128 and QR in every corner,
    separator sheets, agency QR codes and EAN numbers, duplex backs."""
    from station.barcodes.labels import draw_label, registration_text, separator_sheet

    rng = random.Random(seed)
    families = sorted(FONTS)
    pages: list[ScannedPage] = []
    expected: list[ExpectedDocument] = []
    counts = {"labels": 0, "separators": 0, "distractors": 0}
    corners = ["top-left", "top-right", "bottom-left", "bottom-right"]
    sep_image = _sticker(separator_sheet(), dpi)

    def feed(image: Image.Image, kind: str, index: int, blank: bool) -> None:
        pages.append(scan(image, kind, rng, dpi, index, {}, blank, max_skew))

    for index in range(first, first + documents):
        spec, _fields = random_document(rng, index)
        spec = DocumentSpec(**{**spec.__dict__, "registration": None})
        labelled = index % 11 != 5  # now and then a document comes without a label
        if index > 0 and (not labelled or rng.random() < 0.3):
            feed(sep_image.copy(), "separator", index, False)
            counts["separators"] += 1
            if rng.random() < 0.8:
                feed(back_of(sep_image, rng), "back", index, True)
        layout = Layout(family=families[index % len(families)], size_pt=13.0)
        clean = render_document(spec, dpi, layout)
        registration = registration_text(2024, 500 + index) if labelled else None
        if registration:
            kind = "qr" if index % 3 == 0 else "code128"
            size = (48.5, 25.4) if kind == "qr" else (70.0, 37.0)
            sticker = _sticker(draw_label(registration, "VKSND tỉnh Thanh Hóa", size, kind), dpi)
            stick(clean[0], sticker, corners[index % 4], rng.uniform(-5, 5), rng, dpi)
            counts["labels"] += 1
        if rng.random() < 0.35:
            distractor(clean[0], "qr" if rng.random() < 0.6 else "ean", rng, dpi)
            counts["distractors"] += 1
        for number, page in enumerate(clean):
            feed(page, "first" if number == 0 else "middle", index, False)
            if rng.random() < 0.6:
                feed(back_of(page, rng), "back", index, True)
        expected.append(ExpectedDocument(registration, len(clean)))
    return pages, expected, counts


def _stack_part(
    args: tuple[int, int, int],
) -> tuple[list[ScannedPage], list[ExpectedDocument], dict[str, int]]:
    documents, seed, first = args
    return generate_stack(documents, seed=seed, first=first)


def generate_stack_parallel(
    documents: int, seed: int = 4, workers: int = 2
) -> tuple[list[ScannedPage], list[ExpectedDocument], dict[str, int]]:
    """:func:`generate_stack` in parts over processes; each part starts with a separator
    sheet or a labelled document, so the parts join into one valid stack."""
    from concurrent.futures import ProcessPoolExecutor

    per = -(-documents // workers)
    jobs = [(min(per, documents - k * per), seed * 100 + k, k * per) for k in range(workers)]
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(_stack_part, [j for j in jobs if j[0] > 0]))
    pages = [p for part in parts for p in part[0]]
    expected = [e for part in parts for e in part[1]]
    counts = {key: sum(part[2][key] for part in parts) for key in parts[0][2]}
    return pages, expected, counts


# ------------------------------------------------------------------ secrecy marks


@dataclass(frozen=True)
class MarkVariant:
    """One way a secrecy mark reaches the station (docs/ocr.md#secrecy-mark)."""

    name: str
    mark: Secrecy
    render: str = "grey"  # as :func:`scan` takes it
    dpi: int = 200


#: the secrecy marks measured (tests/test_secrecy.py, bench/secrecy.py); the
#: level of each is set when the page is made. A faded red stamp on a bilevel
#: scan is not among them: the scanner's threshold turns it into paper.
MARK_VARIANTS = (
    MarkVariant("red boxed", Secrecy()),
    MarkVariant("red unboxed", Secrecy(boxed=False)),
    MarkVariant("black boxed", Secrecy(ink="black")),
    MarkVariant("black unboxed", Secrecy(ink="black", boxed=False)),
    MarkVariant("turned +30", Secrecy(angle=30)),
    MarkVariant("turned -30", Secrecy(angle=-30)),
    MarkVariant("black turned +15", Secrecy(ink="black", boxed=False, angle=15)),
    MarkVariant("faded", Secrecy(faded=True)),
    MarkVariant("faded black turned", Secrecy(ink="black", faded=True, angle=-12)),
    MarkVariant("covered", Secrecy(covered=True)),
    MarkVariant("covered faded", Secrecy(covered=True, faded=True, boxed=False)),
    MarkVariant("bilevel", Secrecy(), "bilevel"),
    MarkVariant("bilevel black turned", Secrecy(ink="black", boxed=False, angle=-20), "bilevel"),
    MarkVariant("bilevel covered", Secrecy(covered=True), "bilevel"),
    MarkVariant("100 dpi", Secrecy(), dpi=100),
    MarkVariant("150 dpi", Secrecy(boxed=False), dpi=150),
    MarkVariant("300 dpi turned", Secrecy(angle=20), dpi=300),
    MarkVariant("scanned at 100 dpi", Secrecy(angle=-10), "100dpi"),
    MarkVariant("printed", Secrecy(how="printed", boxed=False)),
    MarkVariant("printed bilevel", Secrecy(how="printed", boxed=False), "bilevel"),
    MarkVariant("handwritten", Secrecy(how="handwritten")),
    MarkVariant("handwritten black bilevel", Secrecy(how="handwritten", ink="black"), "bilevel"),
)


def marked_page(
    mark: Secrecy | None,
    *,
    seed: int = 1,
    dpi: int = 200,
    render: str = "grey",
    **traits: Any,
) -> Any:
    """Page 1 of a generated document with ``mark`` under its number (None: no
    mark) and other ``traits`` of :class:`DocumentSpec`, scanned level on a
    white backing as the station's pipeline hands it on: a BGR image."""
    import dataclasses

    import cv2

    rng = random.Random(seed)
    spec, _fields = random_document(rng, seed)
    spec = dataclasses.replace(spec, secrecy=mark, pages=1, marks=(), **traits)
    families = sorted(FONTS)
    clean = render_document(spec, dpi, Layout(family=families[seed % len(families)]))[0]
    scanned = scan(
        clean, "first", rng, dpi, 0, {}, blank=False, orientation=0,
        skew_deg=round(rng.uniform(-0.5, 0.5), 2), backing="white", render=render,
    )  # fmt: skip
    return cv2.imdecode(np.frombuffer(scanned.jpeg, np.uint8), cv2.IMREAD_COLOR)


def stamped_scan(path: Any, mark: Secrecy, under_mm: tuple[float, float], seed: int = 1) -> Any:
    """A real scanned page (an image file at 200 dpi) with ``mark`` pressed on it,
    its top 2 mm under ``under_mm`` (the centre of the "Số: …" line and its
    bottom, in mm), saved as JPEG as a scanner saves it: a BGR image."""
    import cv2

    from station.demo.samples import _Pen
    from station.demo.traits import secrecy_mark

    with Image.open(path) as opened:
        page = opened.convert("RGB")
    secrecy_mark(_Pen(page, 200), (under_mm[0], under_mm[1] + 2), mark, random.Random(seed))
    buf = io.BytesIO()
    page.save(buf, format="JPEG", quality=85, dpi=(200, 200))
    return cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_COLOR)
