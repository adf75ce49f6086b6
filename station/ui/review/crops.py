"""A field's crop: the place on the page it was read from, cut out for the form.

The review form shows, beside each field whose reading has a box
(docs/batch.md#readings), that box cut from the corrected page image of the
store: what the reader saw, so the clerk checks a field marked "cần kiểm tra"
against the paper without leaving the form. The page and the turn it had when
it was read are the page viewer's (:func:`viewer.read_from`); the box, in
millimetres of that turned page, gets :data:`MARGIN_MM` on every side (within
the page), and the crop is turned upright as it was read.

Its size follows from the box alone (:func:`plan`, which reads no more than
the image's header), so the form gives each ``<img>`` its width and height:
:data:`PX_PER_MM` pixels a millimetre (the page's own resolution when that is
less), made smaller still to at most :data:`MAX_HEIGHT` by :data:`MAX_WIDTH`
pixels. A page is decoded once for its crops (the last two are kept,
:class:`DecodedPages`), at the smallest JPEG scale that still has that
resolution.
"""

from __future__ import annotations

import hashlib
import io
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from station.review.drafts import ReviewDoc
from station.ui.review import viewer

#: the margin around a box, on every side, in millimetres of the paper
MARGIN_MM = 2.0
#: the crop's resolution: 6 pixels a millimetre (about 150 dpi), print of 13 pt
#: with its tone marks as large as the form's own text
PX_PER_MM = 6.0
#: the largest crop served (a signature block is made smaller to fit)
MAX_WIDTH, MAX_HEIGHT = 1200, 200
JPEG_QUALITY = 85

Rect = tuple[float, float, float, float]
_TRANSPOSE = {
    90: Image.Transpose.ROTATE_270,  # PIL turns counter-clockwise
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class Cut:
    """What to cut for one field, and the crop's size as served."""

    image: Path  #: the corrected page image (relative to the work folder)
    page_id: int
    #: the page number in its document, counting from 1
    page_number: int
    #: the crop in fractions of the page as read (left, top, width, height)
    rect: Rect
    #: the turn the page had when read: the crop is turned so, upright
    turn: int
    width: int
    height: int

    @property
    def key(self) -> str:
        """Changes with what the crop shows: its address and its ETag."""
        what = f"{self.image}|{self.page_id}|{self.turn}|{self.rect}|{self.width}x{self.height}"
        return hashlib.sha256(what.encode()).hexdigest()[:16]


def turned(rect: Rect, turn: int) -> Rect:
    """A rectangle in fractions of a page, on that page turned ``turn`` degrees
    clockwise (viewer.js does the same on the screen)."""
    left, top, width, height = rect
    match turn % 360:
        case 90:
            return (1 - top - height, left, height, width)
        case 180:
            return (1 - left - width, 1 - top - height, width, height)
        case 270:
            return (top, 1 - left - width, height, width)
    return rect


def plan(work: Path, doc: ReviewDoc, name: str) -> Cut | None:
    """The crop of field ``name``; None when it has no box, its page has no
    image (not made yet, or removed after retention) or the box is off the page."""
    found = viewer.read_from(doc, name)
    if found is None:
        return None
    page, turn, box = found
    geometry = viewer.page_geometry(work, page)
    if geometry is None:
        return None
    paper = viewer.paper_mm(geometry, turn)  # the page as read
    x0, y0 = max(0.0, box[0] - MARGIN_MM), max(0.0, box[1] - MARGIN_MM)
    x1, y1 = min(paper[0], box[2] + MARGIN_MM), min(paper[1], box[3] + MARGIN_MM)
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    resolution = min(PX_PER_MM, min(geometry[1]) / 25.4)
    scale = min(resolution, MAX_WIDTH / (x1 - x0), MAX_HEIGHT / (y1 - y0))
    left, top = round(x0 / paper[0], 5), round(y0 / paper[1], 5)
    width, height = round((x1 - x0) / paper[0], 5), round((y1 - y0) / paper[1], 5)
    return Cut(
        image=Path(str(page.clean)),
        page_id=page.page_id,
        page_number=doc.pages.index(page) + 1,
        rect=(left, top, width, height),
        turn=turn % 360,
        width=max(1, round((x1 - x0) * scale)),
        height=max(1, round((y1 - y0) * scale)),
    )


def of_document(work: Path, doc: ReviewDoc) -> dict[str, Cut]:
    """The crops of every field of a document read with a box."""
    cuts = {name: plan(work, doc, name) for name in doc.readings}
    return {name: cut for name, cut in cuts.items() if cut is not None}


class DecodedPages:
    """The last pages decoded for crops (the app keeps one): a form asks for a
    page's crops at once."""

    def __init__(self, keep: int = 2) -> None:
        self.keep = keep
        self.pages: OrderedDict[tuple[str, int, int], Image.Image] = OrderedDict()
        self.lock = threading.Lock()

    def cut(self, path: Path, rect: Rect, size: tuple[int, int]) -> Image.Image:
        """``rect`` (fractions of the image as stored) of the image at ``path``,
        made ``size`` pixels."""
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with self.lock:
            image = self.pages.get(key)
            if image is None:
                image = self._decode(path)
                self.pages[key] = image
                while len(self.pages) > self.keep:
                    self.pages.popitem(last=False)
            self.pages.move_to_end(key)
            left, top, width, height = rect
            box = (
                left * image.width,
                top * image.height,
                (left + width) * image.width,
                (top + height) * image.height,
            )
            return image.resize(size, Image.Resampling.LANCZOS, box=box)

    @staticmethod
    def _decode(path: Path) -> Image.Image:
        """The page at no less than :data:`PX_PER_MM`, what any crop needs."""
        with Image.open(path) as image:
            scale = PX_PER_MM * 25.4 / min(viewer.resolution(image))
            if scale < 1:  # a JPEG decoded at 1/2, 1/4 or 1/8 when that is enough
                image.draft(None, (math.ceil(image.width * scale), math.ceil(image.height * scale)))
            image.load()
            return image.convert("RGB") if image.mode not in ("L", "RGB") else image.copy()


def render(work: Path, cut: Cut, pages: DecodedPages) -> bytes:
    """The crop as a JPEG of ``cut.width`` × ``cut.height`` pixels, upright as read."""
    size = (cut.width, cut.height) if cut.turn % 180 == 0 else (cut.height, cut.width)
    piece = pages.cut(work / cut.image, turned(cut.rect, 360 - cut.turn), size)
    if cut.turn in _TRANSPOSE:
        piece = piece.transpose(_TRANSPOSE[cut.turn])
    out = io.BytesIO()
    piece.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()
