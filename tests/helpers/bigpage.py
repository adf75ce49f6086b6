"""A page at the station's input limit (about 98.8 megapixels), for memory checks.

A generated 300-dpi scan (grey background, skewed text) is enlarged to just
under :data:`station.capture.imageio.MAX_PIXELS`, as a high-resolution scan of an
A4 page would be (about 940 dpi), and written as a colour JPEG with its
resolution recorded.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import cv2
import numpy as np

from station.demo.samples import render_document
from tests.docgen import random_document, scan

#: Pixels of the big page: just under the input limit (MAX_PIXELS, 100 MP).
BIG_PIXELS = 98_800_000


def write_big_page(path: Path, seed: int = 7, pixels: int = BIG_PIXELS) -> int:
    """Write the page as a JPEG at ``path``; returns its resolution in dpi."""
    rng = random.Random(seed)
    spec, fields = random_document(rng, 0)
    first = render_document(spec, dpi=300)[0]
    page = scan(first, "first", rng, 300, 0, fields, blank=False, max_skew=4.0)
    while page.truth.background == "white":  # the paper's edge must show
        page = scan(first, "first", rng, 300, 0, fields, blank=False, max_skew=4.0)
    small = cv2.imdecode(np.frombuffer(page.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert small is not None
    factor = math.sqrt(pixels / (small.shape[0] * small.shape[1]))
    size = (int(small.shape[1] * factor), int(small.shape[0] * factor))
    big = cv2.resize(small, size, interpolation=cv2.INTER_LINEAR)
    dpi = round(300 * factor)
    ok, data = cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    del big
    path.write_bytes(_with_density(data.tobytes(), dpi))
    return dpi


def _with_density(jpeg: bytes, dpi: int) -> bytes:
    """The JPEG with its JFIF header saying ``dpi`` (OpenCV writes no resolution)."""
    assert jpeg[2:4] == b"\xff\xe0" and jpeg[6:11] == b"JFIF\x00"
    density = bytes([1]) + dpi.to_bytes(2, "big") * 2
    return jpeg[:13] + density + jpeg[18:]
