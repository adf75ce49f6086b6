"""The page viewer's data: where on which page each header field was read.

A reading's box is in millimetres from the top left of the page it was read
from (docs/batch.md#readings): page 1, or the last page for "Nơi nhận" and the
signature block, turned as the clerk had turned it then. The screen draws it
over that page's image in proportion, so it needs the page's size in
millimetres as read (the PDF page is the paper: the image's pixels over its
resolution) and the turn it had: the turn it has now when the document was read
since its pages last changed, else none (the first reading, before the clerk
could turn anything; a page turned, then read again when more pages were
scanned into the batch, then turned again, is the case this gets wrong).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from station.records.vocabulary import LAST_PAGE_FIELDS
from station.review.drafts import ReviewDoc, ReviewPage

#: the resolution of a page image that does not say its own (as the PDF step assumes)
DEFAULT_DPI = 200

#: a page image's pixels (width, height) and its resolution (dots an inch, across and down)
Geometry = tuple[tuple[int, int], tuple[float, float]]


def resolution(image: Image.Image) -> tuple[float, float]:
    """An image's dots an inch, across and down, as it says (else :data:`DEFAULT_DPI`)."""
    dpi = image.info.get("dpi") or (DEFAULT_DPI, DEFAULT_DPI)
    return float(dpi[0]) or DEFAULT_DPI, float(dpi[1]) or DEFAULT_DPI


def page_geometry(work: Path, page: ReviewPage) -> Geometry | None:
    """The page image's pixels and resolution (dots an inch) as stored, from its
    header; None without its image (not made, or removed after retention) or
    when it is not one."""
    if page.clean is None or not (work / page.clean).is_file():
        return None
    try:
        with Image.open(work / page.clean) as image:
            return (image.width, image.height), resolution(image)
    except (OSError, ValueError):  # not an image, or not one PIL reads
        return None


def paper_mm(geometry: Geometry, turn: int) -> tuple[float, float]:
    """The paper of a page image in millimetres (its pixels over its
    resolution), turned ``turn`` degrees."""
    (width_px, height_px), dpi = geometry
    width, height = width_px / dpi[0] * 25.4, height_px / dpi[1] * 25.4
    return (height, width) if turn % 180 else (width, height)


def page_mm(work: Path, page: ReviewPage, turn: int) -> list[float] | None:
    """The page's width and height in millimetres, turned ``turn`` degrees;
    None without its image."""
    geometry = page_geometry(work, page)
    if geometry is None:
        return None
    return [round(v, 2) for v in paper_mm(geometry, turn)]


def read_from(doc: ReviewDoc, name: str) -> tuple[ReviewPage, int, list[float]] | None:
    """Where field ``name`` was read: the page (the first, or the last for the
    closing fields), the turn it had then and the box in millimetres of that
    page so turned; None for a field read from no place on a page."""
    box = (doc.readings.get(name) or {}).get("box")
    if not box or not doc.pages:
        return None
    page = doc.pages[-1] if name in LAST_PAGE_FIELDS else doc.pages[0]
    return page, 0 if doc.stale else page.rotation, [float(v) for v in box]


def boxes(work: Path, doc: ReviewDoc) -> dict[str, Any]:
    """Each field's box and the page it is on, with those pages' size and turn as read."""
    fields: dict[str, Any] = {}
    pages: dict[str, Any] = {}
    for name in doc.readings:
        found = read_from(doc, name)
        if found is None:
            continue
        page, turn, box = found
        key = str(page.page_id)
        if key not in pages:
            size = page_mm(work, page, turn)
            pages[key] = {"mm": size, "turn": turn} if size else None
        if pages[key] is not None:
            fields[name] = {"page": page.page_id, "box": box}
    return {"doc": doc.doc_id, "fields": fields, "pages": pages}
