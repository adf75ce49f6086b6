"""Reading page images safely: real PNG, JPEG, TIFF and PDF files written with PIL."""

from __future__ import annotations

import io
import itertools
import os
import struct
import time
import warnings
from pathlib import Path

import pytest
from PIL import Image

from station.capture.imageio import (
    MAX_PIXELS,
    PDF_MAX_DPI,
    EncodedFrame,
    capped_dpi,
    pdf_dpi,
    read_frames,
)
from station.errors import InputError
from tests.helpers.pdf_inputs import add_text, scan_pdf, text_pdf


def _page(size: tuple[int, int] = (320, 240), shade: int = 0) -> Image.Image:
    """An RGB test page with some structure (a gradient and a dark bar)."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.paste((shade, 40, 90), (10, 10, size[0] // 2, 30))
    return image


def _read(path: Path, default_dpi: int = 200, file_format: str = "jpeg") -> list[EncodedFrame]:
    return list(read_frames(path, default_dpi, file_format))


def _decode(frame: EncodedFrame) -> Image.Image:
    image = Image.open(io.BytesIO(frame.data))
    image.load()
    return image


# --------------------------------------------------------------------------- pass-through


@pytest.mark.parametrize(
    ("name", "fmt", "save_dpi", "expected_dpi", "ext"),
    [
        ("page.png", "PNG", (300, 300), 300, "png"),
        ("page.png", "PNG", None, 222, "png"),
        ("page.jpg", "JPEG", (150, 150), 150, "jpg"),
        ("page.JPEG", "JPEG", None, 222, "jpg"),
    ],
    ids=["png-dpi", "png-default", "jpeg-dpi", "jpeg-default-upper-suffix"],
)
def test_single_image_passes_through(
    tmp_path: Path,
    name: str,
    fmt: str,
    save_dpi: tuple[int, int] | None,
    expected_dpi: int,
    ext: str,
) -> None:
    path = tmp_path / name
    options: dict[str, object] = {"dpi": save_dpi} if save_dpi else {}
    _page((321, 243)).save(path, fmt, **options)
    frames = _read(path, default_dpi=222)
    assert len(frames) == 1
    frame = frames[0]
    assert frame.data == path.read_bytes()  # byte for byte: no second JPEG generation
    assert (frame.ext, frame.width, frame.height, frame.dpi) == (ext, 321, 243, expected_dpi)


def test_low_dpi_in_file_falls_back_to_default(tmp_path: Path) -> None:
    # JPEGs often say 72 or 1 dpi; anything under 50 is not a scan resolution
    path = tmp_path / "phone.jpg"
    _page().save(path, "JPEG", dpi=(1, 1))
    assert _read(path, default_dpi=200)[0].dpi == 200


def _three_page_tiff(folder: Path) -> tuple[Path, list[Image.Image]]:
    path = folder / "fax.tif"
    pages = [_page((200 + 20 * i, 150), shade=100 * i) for i in range(3)]
    pages[0].save(path, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_lzw")
    return path, pages


def test_multipage_tiff_becomes_png_frames(tmp_path: Path) -> None:
    path, pages = _three_page_tiff(tmp_path)
    frames = _read(path, default_dpi=200, file_format="png")
    assert [f.ext for f in frames] == ["png"] * 3
    assert [(f.width, f.height) for f in frames] == [(200, 150), (220, 150), (240, 150)]
    for frame, page in zip(frames, pages, strict=True):
        decoded = _decode(frame)
        assert decoded.format == "PNG"
        assert decoded.convert("RGB").tobytes() == page.tobytes()  # lossless


def test_multipage_tiff_default_is_jpeg(tmp_path: Path) -> None:
    path, pages = _three_page_tiff(tmp_path)
    frames = _read(path, default_dpi=200)
    assert [f.ext for f in frames] == ["jpg"] * 3
    for frame, page in zip(frames, pages, strict=True):
        decoded = _decode(frame)
        assert decoded.format == "JPEG" and decoded.size == page.size
        assert decoded.info["dpi"] == (200, 200)


def test_bilevel_tiff_frames_stay_png(tmp_path: Path) -> None:
    path = tmp_path / "lineart.tif"
    pages = [Image.new("1", (64, 48), i) for i in (0, 1)]
    pages[0].save(path, "TIFF", save_all=True, append_images=pages[1:], compression="group4")
    frames = _read(path, default_dpi=300)  # jpeg asked for, but lineart is lossless
    assert [f.ext for f in frames] == ["png", "png"]
    assert [_decode(f).tobytes() for f in frames] == [p.tobytes() for p in pages]


def test_tiff_dpi_from_file(tmp_path: Path) -> None:
    path = tmp_path / "scan.tiff"
    pages = [_page(), _page(shade=200)]
    pages[0].save(path, "TIFF", save_all=True, append_images=pages[1:], dpi=(300, 300))
    frames = _read(path, default_dpi=200, file_format="png")
    assert [f.dpi for f in frames] == [300, 300]


@pytest.mark.parametrize("file_format", ["png", "jpeg"])
def test_pdf_scan_pages_keep_their_own_resolution(tmp_path: Path, file_format: str) -> None:
    path = tmp_path / "letter.pdf"
    # 850x1100 px at 100 dpi: two Letter pages (8.5 x 11 in), each one image
    pages = [_page((850, 1100), shade=0), _page((850, 1100), shade=255)]
    pages[0].save(path, "PDF", resolution=100.0, save_all=True, append_images=pages[1:])
    frames = _read(path, default_dpi=150, file_format=file_format)
    assert len(frames) == 2
    for frame in frames:
        # below 200 dpi and still not raised to the profile's 150 or to 200: no pixels
        # made up; Pillow wrote each page as a JPEG, passed through as a JPEG file is
        assert frame.ext == "jpg" and frame.dpi == 100
        assert (frame.width, frame.height) == (850, 1100)
        assert _decode(frame).size == (frame.width, frame.height)
    # the pages differ (the bar's shade), so they were rendered one by one
    assert frames[0].data != frames[1].data


def _embedded_jpeg(path: Path) -> bytes:
    import pikepdf

    with pikepdf.open(path) as pdf:
        (image,) = pdf.pages[0].get_images(recursive=False).values()
        return bytes(image.read_raw_bytes())


def test_pdf_300_dpi_scan_is_taken_as_it_is(tmp_path: Path) -> None:
    path = scan_pdf(tmp_path / "scan300.pdf", (2480, 3508), 300)  # A4 at 300 dpi
    (frame,) = _read(path, default_dpi=200)
    assert (frame.ext, frame.width, frame.height, frame.dpi) == ("jpg", 2480, 3508, 300)
    assert frame.data == _embedded_jpeg(path)  # the scanner's JPEG, no second generation


def test_pdf_300_dpi_lossless_scan_is_rendered_at_300(tmp_path: Path) -> None:
    path = scan_pdf(tmp_path / "scan300.pdf", (1240, 1754), 300, fmt="PNG")  # A5 at 300 dpi
    (frame,) = _read(path, default_dpi=200, file_format="png")
    assert frame.dpi == 300
    assert abs(frame.width - 1240) <= 1 and abs(frame.height - 1754) <= 1
    assert _decode(frame).getpixel((5, 5)) == (255, 255, 255)


def test_pdf_2400_dpi_scan_is_reduced_to_600(tmp_path: Path) -> None:
    # a 2 x 1.5 inch card scanned at 2400 dpi (4800 x 3600 px)
    path = scan_pdf(tmp_path / "card.pdf", (4800, 3600), 2400)
    (frame,) = _read(path, default_dpi=200)
    assert frame.dpi == PDF_MAX_DPI == 600
    assert abs(frame.width - 1200) <= 1 and abs(frame.height - 900) <= 1


def test_pdf_user_unit_page_keeps_its_size(tmp_path: Path) -> None:
    # an A4 page at 200 dpi drawn in units of 10 points: its box says 59.5 x 84.2
    path = scan_pdf(tmp_path / "unit.pdf", (1654, 2339), 200, user_unit=10)
    (frame,) = _read(path, default_dpi=200)
    assert frame.dpi == 200
    assert abs(frame.width / frame.dpi * 25.4 - 210) < 1.5
    assert abs(frame.height / frame.dpi * 25.4 - 297) < 1.5


def test_pdf_user_unit_text_page_keeps_its_size(tmp_path: Path) -> None:
    import pikepdf

    path = text_pdf(tmp_path / "unit-text.pdf", 595 / 4, 842 / 4)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.pages[0].obj.UserUnit = 4
        pdf.save(path)
    (frame,) = _read(path, default_dpi=200)
    assert frame.dpi == 200
    assert abs(frame.width / 200 * 25.4 - 210) < 1.5 and abs(frame.height / 200 * 25.4 - 297) < 1.5


def test_pdf_rotate_90_page_comes_out_turned(tmp_path: Path) -> None:
    path = scan_pdf(tmp_path / "turned.pdf", (1654, 2339), 200, rotate=90)
    (frame,) = _read(path, default_dpi=200)
    assert frame.dpi == 200
    # shown landscape, as a viewer shows it
    assert abs(frame.width - 2339) <= 1 and abs(frame.height - 1654) <= 1
    # turned clockwise: the image's white left margin is now the top, and a row
    # across the middle crosses every line of "text"
    grey = _decode(frame).convert("L")
    top = grey.crop((0, 0, frame.width, 140))
    assert min(top.tobytes()) > 200
    middle = grey.crop((0, frame.height // 2, frame.width, frame.height // 2 + 1)).tobytes()
    row = [value < 128 for value in middle]
    assert sum(1 for a, b in itertools.pairwise(row) if b and not a) >= 15


def test_pdf_searchable_scan_is_still_taken_as_it_is(tmp_path: Path) -> None:
    path = scan_pdf(tmp_path / "searchable.pdf", (2480, 3508), 300)
    add_text(path, invisible=True)  # the scanner's OCR layer
    (frame,) = _read(path, default_dpi=200)
    assert (frame.width, frame.height, frame.dpi) == (2480, 3508, 300)
    assert frame.data == _embedded_jpeg(path)


def test_pdf_text_over_a_coarse_background_is_rendered_for_the_text(tmp_path: Path) -> None:
    # a born-digital page on a 96 dpi background picture: the text decides, not the picture
    path = scan_pdf(tmp_path / "letterhead.pdf", (794, 1123), 96)
    add_text(path, invisible=False)
    (frame,) = _read(path, default_dpi=200)
    assert frame.dpi == 200
    assert abs(frame.width - 1654) <= 1 and abs(frame.height - 2339) <= 1


def test_pdf_150_dpi_scan_is_not_upsampled(tmp_path: Path) -> None:
    path = scan_pdf(tmp_path / "scan150.pdf", (1240, 1754), 150)  # A4 at 150 dpi
    (frame,) = _read(path, default_dpi=300)
    assert (frame.width, frame.height, frame.dpi) == (1240, 1754, 150)


@pytest.mark.parametrize(("profile_dpi", "expected"), [(150, 200), (200, 200), (300, 300)])
def test_pdf_text_page_is_rendered_at_the_profile_resolution(
    tmp_path: Path, profile_dpi: int, expected: int
) -> None:
    path = text_pdf(tmp_path / "letter.pdf")  # A4, text and a frame, no image
    (frame,) = _read(path, default_dpi=profile_dpi)
    assert frame.dpi == expected
    assert abs(frame.width - 595 / 72 * expected) <= 1
    assert abs(frame.height - 842 / 72 * expected) <= 1


def test_pdf_resolution_rules() -> None:
    assert pdf_dpi(None, 150) == 200  # born-digital: never below Decree 30
    assert pdf_dpi(None, 1200) == 600
    assert pdf_dpi(299.97, 200) == 300  # a scan: its own
    assert pdf_dpi(150.2, 300) == 150  # not raised
    assert pdf_dpi(2400, 200) == 600
    assert pdf_dpi(96, 200, drawn=True) == 200  # text over a coarse picture
    assert pdf_dpi(400, 200, drawn=True) == 400  # the scan finer than the profile


def test_pdf_huge_page_is_capped_to_the_pixel_limit() -> None:
    # A0 (33.1 x 46.8 in) at 600 dpi is 558 MP: capped to fit 100 MP, still above 200 dpi
    dpi = capped_dpi(600, 33.11, 46.81)
    assert dpi is not None and 200 <= dpi < 600
    assert round(33.11 * dpi) * round(46.81 * dpi) <= MAX_PIXELS
    assert round(33.11 * (dpi + 1)) * round(46.81 * (dpi + 1)) > MAX_PIXELS  # no lower than needed
    assert capped_dpi(300, 8.27, 11.69) == 300  # A4 is left alone
    assert capped_dpi(120, 8.27, 11.69) == 120
    # a page that would need less than 200 dpi to fit is refused, not blurred
    assert capped_dpi(200, 500, 500) is None
    assert capped_dpi(150, 100, 100) is None  # 150 dpi, already below: not lowered either


# --------------------------------------------------------------------------- refusals


def _truncated_jpeg(folder: Path) -> Path:
    whole = folder / "whole.jpg"
    _page((800, 600)).save(whole, "JPEG", quality=90)
    data = whole.read_bytes()
    path = folder / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    return path


def _random_png(folder: Path) -> Path:
    path = folder / "noise.png"
    path.write_bytes(os.urandom(4096))
    return path


def _gif(folder: Path) -> Path:
    path = folder / "anim.gif"
    _page().save(path, "GIF")
    return path


def _bmp(folder: Path) -> Path:
    path = folder / "page.bmp"
    _page().save(path, "BMP")
    return path


def _garbage_pdf(folder: Path) -> Path:
    path = folder / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n" + os.urandom(2048))
    return path


def _empty_png(folder: Path) -> Path:
    path = folder / "empty.png"
    path.write_bytes(b"")
    return path


@pytest.fixture(scope="module")
def bomb_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """PNGs whose headers claim far more pixels than allowed (they compress to KiB)."""
    folder = tmp_path_factory.mktemp("bombs")
    # over twice the limit: PIL raises DecompressionBombError
    Image.new("1", (20_000, 20_000)).save(folder / "bomb.png")
    # between the limit and twice the limit: PIL would only warn
    side = int((MAX_PIXELS * 1.4) ** 0.5)
    Image.new("1", (side, side)).save(folder / "bomb-warn.png")
    return folder


def _pdf_huge_page(folder: Path) -> Path:
    # text on a page of 14 400 points in units of 2.5: 500 x 500 inches,
    # 100000x100000 px at 200 dpi, and the limit would take it to 20 dpi
    import pikepdf

    path = text_pdf(folder / "poster.pdf", 14_400, 14_400)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.pages[0].obj.UserUnit = 2.5
        pdf.save(path)
    return path


REFUSED = {
    "truncated-jpeg": (_truncated_jpeg, "truncated"),
    "random-bytes-png": (_random_png, "not a readable image"),
    "gif": (_gif, "unsupported file type"),
    "bmp": (_bmp, "unsupported file type"),
    "garbage-pdf": (_garbage_pdf, "not a readable PDF"),
    "empty-png": (_empty_png, "not a readable image"),
    "pdf-huge-page": (_pdf_huge_page, "larger than the limit"),
}


def _assert_refused(path: Path, fragment: str) -> InputError:
    started = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(InputError) as info:
            _read(path)
    elapsed = time.monotonic() - started
    assert [str(w.message) for w in caught] == []  # not even a warning on the way
    assert elapsed < 2.0, f"refusing {path.name} took {elapsed:.1f} s"
    error = info.value
    assert error.exit_code == 8 and error.code == "input"
    assert str(path) in error.message_en and str(path) in error.message_vi
    assert error.detail["path"] == str(path)
    assert fragment in error.message_en
    return error


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_file_refused(tmp_path: Path, case: str) -> None:
    make, fragment = REFUSED[case]
    _assert_refused(make(tmp_path), fragment)


@pytest.mark.parametrize("name", ["bomb.png", "bomb-warn.png"])
def test_decompression_bomb_refused(bomb_folder: Path, name: str) -> None:
    path = bomb_folder / name
    assert path.stat().st_size < 1024 * 1024  # tiny on disk, huge in memory
    width, height = struct.unpack(">II", path.read_bytes()[16:24])  # the IHDR chunk
    assert width * height > MAX_PIXELS
    _assert_refused(path, "larger than the limit")


def test_refusal_leaves_warning_filters_alone(bomb_folder: Path) -> None:
    before = list(warnings.filters)
    with pytest.raises(InputError):
        _read(bomb_folder / "bomb-warn.png")
    assert warnings.filters == before


def test_vietnamese_message(tmp_path: Path) -> None:
    error = _assert_refused(_gif(tmp_path), "unsupported file type")
    assert "không hỗ trợ loại tệp này" in error.message_vi
    assert error.user_message().startswith(f"{tmp_path / 'anim.gif'}: không hỗ trợ")
