"""`scanstation labels`: label and separator sheets that read back after print and scan."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageFilter

from station.barcodes.decode import read_zbar, read_zxing
from tests.helpers.cli import scanstation


def _labels(*args: str) -> subprocess.CompletedProcess[str]:
    return scanstation("labels", *args)


def _print_and_scan(pdf_path: Path, angle: float, seed: int) -> list[np.ndarray[Any, Any]]:
    """Each page as a 200 dpi colour scan of a print: blur, skew, noise, JPEG."""
    pdf = pdfium.PdfDocument(str(pdf_path))
    scans = []
    try:
        for index in range(len(pdf)):
            page = pdf[index].render(scale=200 / 72).to_pil().convert("RGB")
            page = page.filter(ImageFilter.GaussianBlur(0.7))
            page = page.rotate(
                angle, expand=True, fillcolor=(120, 120, 120), resample=Image.Resampling.BICUBIC
            )
            pixels = np.asarray(page).astype(np.int16)
            noise = np.random.default_rng(seed + index).normal(0, 5, pixels.shape).astype(np.int16)
            buf = io.BytesIO()
            Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8)).save(
                buf, "JPEG", quality=75
            )
            scan = cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_GRAYSCALE)
            assert scan is not None
            scans.append(scan)
    finally:
        pdf.close()
    return scans


def _read(scan: np.ndarray[Any, Any]) -> set[str]:
    return {c.text for c, _ in read_zxing(scan)} | {c.text for c in read_zbar(scan)}


@pytest.mark.parametrize(
    ("layout", "extra", "angle"),
    [
        ("a4-3x8", [], 1.5),
        ("a4-2x7", [], -2.0),
        ("a4-4x10", ["--qr"], 2.5),
        ("a4-3x7", ["--qr"], -1.0),
    ],
)
def test_label_sheet_reads_back(
    tmp_path: Path, layout: str, extra: list[str], angle: float
) -> None:
    out = tmp_path / "labels.pdf"
    proc = _labels(
        "--year",
        "2024",
        "--start",
        "120",
        "--count",
        "30",
        "--layout",
        layout,
        "--out",
        str(out),
        *extra,
    )
    assert proc.returncode == 0, proc.stderr
    assert "DEN-2024-000120 … DEN-2024-000149" in proc.stdout
    pdf = pdfium.PdfDocument(str(out))
    width, height = pdf[0].get_size()
    pdf.close()
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)  # A4 at 100 %
    read: set[str] = set()
    for scan in _print_and_scan(out, angle, 7):
        read |= _read(scan)
    assert {f"DEN-2024-{n:06d}" for n in range(120, 150)} <= read


def test_separator_sheet_reads_back(tmp_path: Path) -> None:
    out = tmp_path / "sep.pdf"
    proc = _labels("--separator", "--count", "2", "--out", str(out))
    assert proc.returncode == 0 and "2 trang phân cách" in proc.stdout
    scans = _print_and_scan(out, -4.0, 3)
    assert len(scans) == 2
    for scan in scans:
        assert _read(scan) == {"PATCHT"}


@pytest.mark.parametrize(
    "args",
    [
        ["--year", "2024", "--start", "1"],
        ["--year", "1999", "--start", "1", "--count", "3"],
        ["--year", "2024", "--start", "999999", "--count", "5"],
        ["--year", "2024", "--start", "1", "--count", "0"],
    ],
)
def test_bad_arguments(tmp_path: Path, args: list[str]) -> None:
    proc = _labels(*args, "--out", str(tmp_path / "x.pdf"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_labels_must_match_the_configured_pattern(tmp_path: Path) -> None:
    config = tmp_path / "station.toml"
    config.write_text(
        '[pipeline]\nregistration_pattern = "^VKS(?P<year>\\\\d{4})(?P<number>\\\\d{4})$"\n',
        encoding="utf-8",
    )
    proc = _labels(
        "--config",
        str(config),
        "--year",
        "2024",
        "--start",
        "1",
        "--count",
        "2",
        "--out",
        str(tmp_path / "x.pdf"),
    )
    assert proc.returncode == 2 and "registration_pattern" in proc.stderr
