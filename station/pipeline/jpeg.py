"""A JPEG written strip by strip, for pages too large to hold twice.

Each strip (a whole number of 8-pixel block rows, full width) is encoded by the
same encoder and settings as a whole page (:func:`station.pipeline.page.encode`:
baseline, 4:4:4, the standard Huffman tables). A baseline JPEG with a restart
interval of one strip's blocks decodes exactly as these strips one after the
other: at a restart marker the encoder starts afresh (DC predictions at zero,
the bit stream padded to a byte), as it does at the start of a strip. So the
page is the first strip's headers with the page's height, a DRI segment, and
the strips' entropy-coded data joined by RST0…RST7 markers.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import cv2
from PIL import Image

from station.imaging.arrays import Pixels

#: Block rows of a 4:4:4 or grey JPEG: strips are whole multiples of it.
BLOCK = 8
#: Largest restart interval a DRI segment holds, in blocks.
MAX_INTERVAL = 0xFFFF

_SOF0, _DHT, _SOS, _DRI, _EOI = 0xC0, 0xC4, 0xDA, 0xDD, 0xD9


def strip_rows(width: int, wanted: int = 256) -> int:
    """Rows of a strip of a ``width``-pixel page: a multiple of 8, about ``wanted``,
    and few enough blocks for one restart interval."""
    blocks_per_row = -(-width // BLOCK)
    most = max(1, MAX_INTERVAL // blocks_per_row)
    return BLOCK * max(1, min(wanted // BLOCK, most))


def _encoded(strip: Pixels, dpi: int, quality: int) -> bytes:
    pixels = cv2.cvtColor(strip, cv2.COLOR_BGR2RGB) if strip.ndim == 3 else strip
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=quality, subsampling=0, dpi=(dpi, dpi))
    return buf.getvalue()


def _split(data: bytes) -> tuple[bytes, bytes, bytes]:
    """A baseline JPEG's headers (up to its scan), its SOS segment and its
    entropy-coded data (up to EOI)."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("not a JPEG marker")
        marker = data[pos + 1]
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker == _SOS:
            end = pos + 2 + length
            if data[-2:] != bytes([0xFF, _EOI]):
                raise ValueError("a JPEG strip without its end marker")
            return data[:pos], data[pos:end], data[end:-2]
        if 0xC1 <= marker <= 0xCF and marker not in (_DHT, 0xC8, 0xCC):
            raise ValueError("only baseline JPEG strips can be joined")
        pos += 2 + length
    raise ValueError("a JPEG without a scan")


def _with_height(headers: bytes, height: int) -> bytes:
    pos = 2
    while pos + 4 <= len(headers):
        length = int.from_bytes(headers[pos + 2 : pos + 4], "big")
        if headers[pos + 1] == _SOF0:
            at = pos + 5  # marker, length (2), precision (1), then the height
            return headers[:at] + height.to_bytes(2, "big") + headers[at + 2 :]
        pos += 2 + length
    raise ValueError("a JPEG strip without a baseline frame header")


def encode_strips(strips: Iterable[Pixels], height: int, dpi: int, quality: int = 92) -> bytes:
    """One JPEG of ``height`` rows from ``strips`` (BGR or grey, top to bottom,
    all of the same width and, but the last, of the same multiple of 8 rows)."""
    out = io.BytesIO()
    headers = b""
    rows = 0
    for index, strip in enumerate(strips):
        head, sos, scan = _split(_encoded(strip, dpi, quality))
        if index == 0:
            rows = int(strip.shape[0])
            if rows % BLOCK and rows < height:
                raise ValueError("a strip must be a whole number of block rows")
            blocks = -(-int(strip.shape[1]) // BLOCK) * (rows // BLOCK or 1)
            if blocks > MAX_INTERVAL:
                raise ValueError("a strip holds too many blocks for one restart interval")
            headers = _with_height(head, height)
            dri = bytes([0xFF, _DRI, 0, 4]) + blocks.to_bytes(2, "big")
            out.write(headers + dri + sos)
        else:
            if _with_height(head, height) != headers:
                raise ValueError("JPEG strips encoded with different tables cannot be joined")
            out.write(bytes([0xFF, 0xD0 + (index - 1) % 8]))
        out.write(scan)
    out.write(bytes([0xFF, _EOI]))
    return out.getvalue()
