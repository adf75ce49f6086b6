"""The one wrapper around the ``tesseract`` command.

It probes the version and the installed languages once, runs orientation
detection (OSD) for the imaging step, and turns failures into the station's
errors. "No text found" is a result (None), not an error.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from station.errors import DependencyError

FIX = "sudo apt-get install -y tesseract-ocr tesseract-ocr-vie"
log = logging.getLogger(__name__)


def _run(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    if shutil.which("tesseract") is None:
        raise DependencyError(
            f"tesseract is not installed. Fix: {FIX}",
            f"Chưa cài tesseract. Cách sửa: {FIX}",
        )
    # one thread per process: parallelism comes from pages (docs/quality.md#targets)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    return subprocess.run(
        ["tesseract", *args], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


@functools.cache
def version() -> str:
    out = _run(["--version"])
    match = re.search(r"tesseract\s+v?([\d.]+)", out.stdout + out.stderr)
    return match.group(1) if match else "?"


@functools.cache
def languages() -> frozenset[str]:
    out = _run(["--list-langs"])
    return frozenset(line.strip() for line in out.stdout.splitlines()[1:] if line.strip())


def _tessdata() -> Path | None:
    """Where the installed models are (``tesseract --list-langs`` says)."""
    found = re.search(r'"([^"]+)"', _run(["--list-langs"]).stdout.splitlines()[0] or "")
    return Path(found.group(1)) if found else None


@functools.cache
def words(lang: str) -> frozenset[str]:
    """The words of a language model's own dictionary, lower case, NFC (for
    ``vie`` its syllables, about 4,100); empty when they cannot be read.

    They come out of the installed ``{lang}.traineddata`` (Debian's
    ``tesseract-ocr-{lang}``) with Tesseract's own ``combine_tessdata`` and
    ``dawg2wordlist``, once per process."""
    folder = _tessdata()
    model = folder / f"{lang}.traineddata" if folder else None
    tools = (shutil.which("combine_tessdata"), shutil.which("dawg2wordlist"))
    if model is None or not model.is_file() or not all(tools):
        log.warning("no word list for %s: the subject's syllables are not checked", lang)
        return frozenset()
    with tempfile.TemporaryDirectory(prefix="scanstation-words-") as tmp:
        base = Path(tmp) / lang
        dawg, charset, listing = (
            Path(f"{base}.lstm-word-dawg"),
            Path(f"{base}.lstm-unicharset"),
            Path(tmp) / "words.txt",
        )
        try:
            subprocess.run(
                [str(tools[0]), "-e", str(model), str(dawg), str(charset)],
                capture_output=True, timeout=30, check=True,
            )  # fmt: skip
            subprocess.run(
                [str(tools[1]), str(charset), str(dawg), str(listing)],
                capture_output=True, timeout=30, check=True,
            )  # fmt: skip
            text = listing.read_text(encoding="utf-8")
        except (OSError, subprocess.SubprocessError):
            log.warning("the word list of %s could not be read", lang)
            return frozenset()
    return frozenset(unicodedata.normalize("NFC", w).lower() for w in text.split())


@dataclass(frozen=True)
class Orientation:
    rotate: int  # degrees to turn the page clockwise to make it upright
    confidence: float


def detect_orientation(gray: NDArray[np.uint8], dpi: int) -> Orientation | None:
    """Tesseract's OSD on a page image; None when it finds too little text."""
    if "osd" not in languages():
        return None
    with tempfile.TemporaryDirectory(prefix="scanstation-osd-") as tmp:
        path = Path(tmp) / "page.png"
        cv2.imwrite(str(path), gray)
        try:
            out = _run([str(path), "stdout", "--psm", "0", "--dpi", str(dpi)])
        except subprocess.TimeoutExpired:
            return None
    rotate = re.search(r"Rotate:\s*(\d+)", out.stdout)
    confidence = re.search(r"Orientation confidence:\s*([\d.]+)", out.stdout)
    if out.returncode != 0 or not rotate or not confidence:
        return None
    return Orientation(int(rotate.group(1)), float(confidence.group(1)))


@dataclass(frozen=True)
class Mode:
    """How a small region is read: Tesseract's languages, page segmentation
    (6 a block, 7 one line) and, when set, the only characters it may answer."""

    langs: str
    psm: int
    only: str = ""

    def args(self, dpi: int) -> list[str]:
        args = ["-l", self.langs, "--psm", str(self.psm), "--dpi", str(dpi)]
        return [*args, "-c", f"tessedit_char_whitelist={self.only}"] if self.only else args


#: lines of Vietnamese print
TEXT = Mode("vie", 6)
#: one line of Vietnamese print
LINE = Mode("vie", 7)
#: the digits of a filled-in number or day (the English model reads lone digits best)
DIGITS = Mode("eng", 7, "0123456789")


def read_lines(gray: NDArray[np.uint8], dpi: int, mode: Mode = TEXT) -> list[str]:
    """The lines of print in a small image, top to bottom; empty lines dropped,
    [] when nothing is read."""
    with tempfile.TemporaryDirectory(prefix="scanstation-lines-") as tmp:
        path = Path(tmp) / "block.png"
        cv2.imwrite(str(path), gray)
        try:
            out = _run([str(path), "stdout", *mode.args(dpi)])
        except subprocess.TimeoutExpired:
            return []
    if out.returncode != 0:
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def read_line(gray: NDArray[np.uint8], dpi: int) -> str:
    """The text of one line of print; "" when none is read."""
    return " ".join(read_lines(gray, dpi, LINE))


def read_many(
    images: list[NDArray[np.uint8]], dpi: int, mode: Mode = TEXT
) -> list[list[str]] | None:
    """The lines of several small images in one Tesseract run (the model is
    loaded once): a list of lines per image, or None when the run fails."""
    if not images:
        return []
    with tempfile.TemporaryDirectory(prefix="scanstation-many-") as tmp:
        names = []
        for index, image in enumerate(images):
            path = Path(tmp) / f"{index:04d}.png"
            cv2.imwrite(str(path), image)
            names.append(str(path))
        listing = Path(tmp) / "images.txt"
        listing.write_text("\n".join(names) + "\n", encoding="utf-8")
        try:
            out = _run(
                [str(listing), "stdout", *mode.args(dpi)],
                timeout=60 + 10 * len(images),
            )
        except subprocess.TimeoutExpired:
            return None
    if out.returncode != 0:
        return None
    pages = out.stdout.split("\f")
    if len(pages) < len(images) or any(p.strip() for p in pages[len(images) :]):
        return None
    return [
        [line.strip() for line in page.splitlines() if line.strip()]
        for page in pages[: len(images)]
    ]
