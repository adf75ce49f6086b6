"""Page imaging: paper detection and crop, skew, orientation, blank pages (arrays in, out).
Imports only OpenCV, NumPy and the Tesseract wrapper; no store, network or UI.

:func:`preprocess` runs every step on one captured page:

1. an analysis copy at about 100 dpi (grey, and colour for the blank test);
2. :mod:`~station.imaging.paper`: the paper against a grey or black scanner
   background (none on a white backing: :mod:`~station.imaging.overscan` cuts
   an image larger than the profile's paper to it around the ink, once the
   skew and orientation are known);
3. :mod:`~station.imaging.skew`: the text lines' angle (±20°) and whether they
   run across or along the page, from projection profiles of the ink;
4. :mod:`~station.imaging.orientation`: upright or upside down, from the shape of
   the text lines (Vietnamese diacritics and ascenders stand above the x-height
   band far more than descenders below it), with Tesseract's OSD when that is
   not clear; the page is turned only on strong evidence, otherwise left as
   captured and marked unsure (:func:`~station.imaging.orientation.decide`);
5. :mod:`~station.imaging.blank`: ink that is neither bleed-through, dust nor a
   scanner streak;
6. one full-resolution warp that turns and crops the page, then a lossless
   quarter turn for the orientation. Colour and resolution are kept.

A page above :data:`~station.imaging.clean.FRUGAL_PIXELS` is never copied at
full scale: :func:`analyse` does steps 1-5 (their full-scale inputs reduced
first) and :func:`corrected_strips` gives step 6 a strip at a time
(docs/imaging.md#memory).
"""

from station.imaging.clean import (
    Analysis,
    Preprocessed,
    Turn,
    analyse,
    corrected_strips,
    large_page,
    preprocess,
)

__all__ = [
    "Analysis",
    "Preprocessed",
    "Turn",
    "analyse",
    "corrected_strips",
    "large_page",
    "preprocess",
]
