"""Hostile files in the folder source: PostScript under an image's name, decoders
that run too long or ask too much memory, symbolic links, names that forge log
lines. Real files, the real decoder child, a real store."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from station.capture.decoder import Decoder
from station.capture.folder import FolderSource
from station.capture.imageio import read_frames
from station.capture.session import capture_batch
from station.common.logsafe import printable
from station.config import Profile
from station.errors import InputError, InputNotFaithful, StorageError
from station.store import Store
from tests.helpers.pdf_inputs import empty_pdf, scan_pdf, text_pdf, xfa_pdf

PROFILE = Profile(source="adf-front", mode="color", resolution=200)

#: PostScript that never ends: Ghostscript (even -dSAFER) spins at 100 % CPU
EPS_LOOP = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n{ } loop\n"
#: PostScript that fails: Ghostscript exits 1 and Pillow raises CalledProcessError
EPS_FAILING = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n/foo bar baz\nshowpage\n"
#: a DOS EPS binary header in front of the PostScript
EPS_DOS = b"\xc5\xd0\xd3\xc6" + b"\x1e\x00\x00\x00" + b"\x00" * 22 + EPS_LOOP


def _png(path: Path, shade: int = 0, size: tuple[int, int] = (40, 30)) -> Path:
    Image.new("RGB", size, (shade, 100, 200)).save(path, "PNG")
    return path


def _hot(folder: Path, **options: object) -> FolderSource:
    """A hot source that has already watched ``folder`` for ten seconds."""
    source = FolderSource(folder, hot=True, settle_s=2.0, **options)  # type: ignore[arg-type]
    source.stable_files(now=time.monotonic() - 10)
    return source


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _gs_running() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text(encoding="utf-8").strip() == "gs":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


# --------------------------------------------------------------------------- PostScript


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("loop.png", EPS_LOOP),
        ("loop.jpg", EPS_LOOP),
        ("failing.png", EPS_FAILING),
        ("failing.jpg", EPS_FAILING),
        ("dos.tif", EPS_DOS),
        ("loop.pdf", EPS_LOOP),
    ],
)
def test_postscript_under_an_image_name_is_refused_by_its_content(
    tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    started = time.monotonic()
    with pytest.raises(InputError) as refused:
        list(read_frames(path, 200))
    assert time.monotonic() - started < 1.0  # refused at the first bytes, nothing decoded
    assert "PostScript" in refused.value.message_en and "PostScript" in refused.value.message_vi
    assert "not accepted" in refused.value.message_en
    assert "không được nhận" in refused.value.message_vi


def test_ghostscript_is_switched_off_for_every_pillow_caller(tmp_path: Path) -> None:
    """Even a direct Image.open in the station's process never starts Ghostscript."""
    path = tmp_path / "direct.png"
    path.write_bytes(EPS_FAILING)
    read_frames  # noqa: B018 - the module that switches Ghostscript off is imported
    with Image.open(path) as image, pytest.raises(OSError, match="Ghostscript"):
        image.load()


def test_postscript_in_a_hot_folder_goes_aside_and_capture_goes_on(
    tmp_path: Path, data_dir: Path
) -> None:
    """The loop and the failing EPS, named .png and .jpg, between good pages: both
    moved to .rejected with the reason, no Ghostscript, the good pages captured."""
    hot = tmp_path / "hot"
    hot.mkdir()
    _png(hot / "a1.png", shade=1)
    (hot / "a2.png").write_bytes(EPS_LOOP)
    (hot / "a3.jpg").write_bytes(EPS_FAILING)
    _png(hot / "a4.png", shade=4)
    source = _hot(hot)
    seen: list[list[int]] = []
    stop = threading.Event()

    def watch() -> None:  # Ghostscript would show in /proc while it runs
        while not stop.is_set():
            seen.append(_gs_running())
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.monotonic()
    try:
        with Store(data_dir) as store:
            result = capture_batch(store, source, "standard", PROFILE, trigger="hotfolder")
            events = store.events.since()
    finally:
        stop.set()
        watcher.join()
        source.close()
    assert time.monotonic() - started < 10
    assert [p.input for p in result.pages] == ["a1.png", "a4.png"]
    assert _names(hot / ".rejected") == [
        "a2.png",
        "a2.png.reason.txt",
        "a3.jpg",
        "a3.jpg.reason.txt",
    ]
    for name in ("a2.png", "a3.jpg"):
        reason = (hot / ".rejected" / f"{name}.reason.txt").read_text(encoding="utf-8")
        path = hot / name
        assert reason.startswith(f"{path}: không phải ảnh đọc được: nội dung là PostScript")
        assert f"/ {path}: not a readable image: its content is PostScript" in reason
    assert _names(hot / ".done") == ["a1.png", "a4.png"]
    assert seen and not any(seen)
    # the clerk is told of each file refused, Vietnamese first
    refused = [e for e in events if e.type == "capture.rejected"]
    assert [e.detail["file"] for e in refused] == ["a2.png", "a3.jpg"]
    assert refused[0].message_vi == (
        "Tệp bị từ chối, đã chuyển vào .rejected/a2.png: không phải ảnh đọc được: "
        "nội dung là PostScript, loại không được nhận (dùng PNG, JPEG, TIFF hoặc PDF)"
    )  # the reason without the file's whole path, which the clerk does not need
    assert str(hot) not in refused[1].message_en


# --------------------------------------------------------------------------- bounds


@pytest.fixture(scope="module")
def heavy_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """64 MP of RGB (under the pixel limit): about 0.3 s and 200 MB to decode."""
    path = tmp_path_factory.mktemp("heavy") / "heavy.png"
    Image.new("RGB", (8000, 8000), (200, 30, 30)).save(path, compress_level=1)
    return path


def test_a_decode_over_its_time_is_stopped_and_the_next_file_decodes(
    heavy_png: Path, tmp_path: Path
) -> None:
    decoder = Decoder()
    small = _png(tmp_path / "small.png")
    try:
        assert [f.width for f in decoder.frames(small, 200)] == [40]
        first = decoder.pid
        assert first is not None
        decoder.timeout_s = 0.1
        with pytest.raises(InputError, match=r"decoding took longer than 0\.1 s") as late:
            list(decoder.frames(heavy_png, 200))
        assert "giải mã lâu quá" in late.value.message_vi
        assert not Path(f"/proc/{first}").exists()  # killed and reaped, not left running
        decoder.timeout_s = 30
        assert [f.width for f in decoder.frames(small, 200)] == [40]  # a fresh child
        assert decoder.pid != first and decoder.started == 2
    finally:
        decoder.close()


def test_a_decode_over_its_memory_is_refused_and_the_next_file_decodes(
    heavy_png: Path, tmp_path: Path
) -> None:
    decoder = Decoder(memory_bytes=256 * 2**20)
    small = _png(tmp_path / "small.png")
    try:
        with pytest.raises(InputError, match="memory") as heavy:
            list(decoder.frames(heavy_png, 200))
        assert "heavy.png" in heavy.value.message_en and "bộ nhớ" in heavy.value.message_vi
        assert [f.width for f in decoder.frames(small, 200)] == [40]
    finally:
        decoder.close()
    # with the station's own limit the same file decodes
    roomy = Decoder()
    try:
        assert [(f.width, f.height) for f in roomy.frames(heavy_png, 200)] == [(8000, 8000)]
    finally:
        roomy.close()


def test_a_hot_folder_file_over_the_time_limit_goes_aside_and_capture_goes_on(
    heavy_png: Path, tmp_path: Path, data_dir: Path
) -> None:
    hot = tmp_path / "hot"
    hot.mkdir()
    (hot / "b1.png").write_bytes(heavy_png.read_bytes())
    _png(hot / "b2.png")
    source = _hot(hot, decoder=Decoder(timeout_s=0.1))
    try:
        with Store(data_dir) as store:
            result = capture_batch(store, source, "standard", PROFILE, trigger="hotfolder")
    finally:
        source.close()
    assert [p.input for p in result.pages] == ["b2.png"]
    reason = (hot / ".rejected" / "b1.png.reason.txt").read_text(encoding="utf-8")
    assert "giải mã lâu quá 0.1 giây" in reason and "decoding took longer than 0.1 s" in reason
    assert _names(hot / ".done") == ["b2.png"]


def test_a_stop_during_a_long_decode_ends_the_child_and_keeps_the_file(
    heavy_png: Path, tmp_path: Path
) -> None:
    hot = tmp_path / "hot"
    hot.mkdir()
    (hot / "c1.png").write_bytes(heavy_png.read_bytes())
    source = _hot(hot)
    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()
    started = time.monotonic()
    try:
        assert list(source.frames(PROFILE, stop)) == []
    finally:
        source.close()
    assert time.monotonic() - started < 2
    assert source.decoder.pid is None
    assert _names(hot) == ["c1.png"]  # neither done nor rejected: the next batch takes it


# --------------------------------------------------------------------------- links


def test_a_symbolic_link_in_the_hot_folder_is_not_followed(tmp_path: Path, data_dir: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = _png(outside / "secret.png", shade=77)
    hot = tmp_path / "hot"
    hot.mkdir()
    (hot / "d1.png").symlink_to(secret)
    _png(hot / "d2.png")
    source = _hot(hot)
    try:
        with Store(data_dir) as store:
            result = capture_batch(store, source, "standard", PROFILE, trigger="hotfolder")
            stored = [store.page_path(p).read_bytes() for p in result.pages]
    finally:
        source.close()
    assert [p.input for p in result.pages] == ["d2.png"]
    assert secret.read_bytes() not in stored
    moved = hot / ".rejected" / "d1.png"
    assert moved.is_symlink() and secret.exists()  # the link moved aside, not its target
    reason = (hot / ".rejected" / "d1.png.reason.txt").read_text(encoding="utf-8")
    assert "liên kết tượng trưng" in reason and "symbolic link" in reason


def test_a_symbolic_link_in_a_replay_folder_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = _png(tmp_path / "secret.png", shade=77)
    folder = tmp_path / "replay"
    folder.mkdir()
    (folder / "e1.png").symlink_to(secret)
    _png(folder / "e2.png")
    source = FolderSource(folder)
    with caplog.at_level(logging.WARNING, logger="station.capture.folder"):
        try:
            frames = list(source.frames(PROFILE, threading.Event()))
        finally:
            source.close()
    assert [f.input_name for f in frames] == ["e2.png"]
    assert any("e1.png: a symbolic link" in r.getMessage() for r in caplog.records)


def test_a_link_swapped_in_after_the_listing_is_not_read(tmp_path: Path) -> None:
    """The decoder opens without following links, whatever the listing saw."""
    secret = _png(tmp_path / "secret.png")
    link = tmp_path / "swapped.png"
    link.symlink_to(secret)
    with pytest.raises(InputError, match="symbolic link"):
        list(read_frames(link, 200, follow_symlinks=False))
    decoder = Decoder()
    try:
        with pytest.raises(InputError, match="symbolic link"):
            list(decoder.frames(link, 200))
    finally:
        decoder.close()


def test_links_planted_for_the_moves_are_not_followed(tmp_path: Path, data_dir: Path) -> None:
    """A reason file planted as a link is not written through, and a .done that is
    a link is refused rather than followed."""
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    hot = tmp_path / "hot"
    (hot / ".rejected").mkdir(parents=True)
    (hot / ".rejected" / "f1.png.reason.txt").symlink_to(victim)
    (hot / "f1.png").write_bytes(b"garbage")
    (hot / ".done").symlink_to(outside)
    _png(hot / "f2.png")
    source = _hot(hot)
    try:
        with Store(data_dir) as store, pytest.raises(StorageError, match="not a folder"):
            capture_batch(store, source, "standard", PROFILE, trigger="hotfolder")
    finally:
        source.close()
    assert victim.read_text(encoding="utf-8") == "keep me"
    assert _names(outside) == ["victim.txt"]
    assert (hot / ".rejected" / "f1.1.png").exists()  # beside the planted name
    assert "f1.png" in (hot / ".rejected" / "f1.1.png.reason.txt").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- log lines


FORGED = "evil\n2026-01-01 08:00:00 INFO scanstation.station: all pages delivered\r.png"


def test_a_file_name_cannot_forge_a_log_line(
    tmp_path: Path, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hot = tmp_path / "hot"
    hot.mkdir()
    (hot / FORGED).write_bytes(b"not an image")
    same = _png(hot / "g1.png")
    with Store(data_dir) as store:
        with caplog.at_level(logging.INFO):
            capture_batch(store, _hot(hot), "standard", PROFILE, trigger="hotfolder")
            # the same bytes again under the forged name: logged as already stored
            (hot / FORGED).write_bytes((hot / ".done" / "g1.png").read_bytes())
            del same
            capture_batch(store, _hot(hot), "standard", PROFILE, trigger="hotfolder")
        events = store.events.since()
    texts = [caplog.handler.format(r) for r in caplog.records]
    about = [t for t in texts if "evil" in t]
    assert len(about) >= 2  # the refusal and the duplicate
    for text in texts:
        assert "\n" not in text and "\r" not in text
    assert all("evil\\x0a2026-01-01 08:00:00 INFO" in t for t in about)
    assert all("\\x0d.png" in t for t in about)
    for event in events:
        assert "\n" not in event.message_en and "\n" not in event.message_vi
    assert printable(FORGED).count("\\x0a") == 1


def test_printable_keeps_vietnamese_and_escapes_controls() -> None:
    assert printable("Công văn số 45.png") == "Công văn số 45.png"
    assert printable("a\nb\x1b[31mc\u2028d\u200be") == "a\\x0ab\\x1b[31mc\\u2028d\\u200be"
    assert printable(printable("x\ny")) == printable("x\ny")  # escaping twice changes nothing
    assert printable("n" * 2000).endswith("…") and len(printable("n" * 2000)) == 1001
    assert os.sep not in printable("plain")


# --------------------------------------------------------------------------- PDFs not faithful


def test_pdfs_that_cannot_be_rendered_faithfully_go_aside_with_the_reason(
    tmp_path: Path, data_dir: Path
) -> None:
    """A dynamic XFA form (with or without /NeedsRendering) and a PDF of empty
    pages are refused by the decoder child with their own code, moved to
    .rejected with the reason, and the pages around them are captured."""
    hot = tmp_path / "hot"
    hot.mkdir()
    _png(hot / "a1.png", shade=1)
    xfa_pdf(hot / "a2.pdf")
    xfa_pdf(hot / "a3.pdf", needs_rendering=False)
    empty_pdf(hot / "a4.pdf")
    scan_pdf(hot / "a5.pdf", (1240, 1754), 300)
    rejected: list[tuple[Path, InputError]] = []
    source = _hot(hot, on_reject=lambda path, error: rejected.append((path, error)))
    try:
        with Store(data_dir) as store:
            result = capture_batch(store, source, "standard", PROFILE, trigger="hotfolder")
            events = store.events.since()
    finally:
        source.close()
    assert [p.input for p in result.pages] == ["a1.png", "a5.pdf"]
    assert _names(hot / ".done") == ["a1.png", "a5.pdf"]
    assert _names(hot / ".rejected") == [
        "a2.pdf",
        "a2.pdf.reason.txt",
        "a3.pdf",
        "a3.pdf.reason.txt",
        "a4.pdf",
        "a4.pdf.reason.txt",
    ]
    assert [type(e) for _, e in rejected] == [InputNotFaithful] * 3
    assert {(e.code, e.exit_code) for _, e in rejected} == {("input.not_faithful", 8)}
    for name in ("a2.pdf", "a3.pdf"):
        reason = (hot / ".rejected" / f"{name}.reason.txt").read_text(encoding="utf-8")
        assert reason.startswith(f"{hot / name}: là biểu mẫu XFA động")
        assert "/ " + f"{hot / name}: a dynamic XFA form" in reason
    reason = (hot / ".rejected" / "a4.pdf.reason.txt").read_text(encoding="utf-8")
    assert reason.startswith(f"{hot / 'a4.pdf'}: không trang nào có nội dung")
    assert "no page has anything on it" in reason
    refused = [e for e in events if e.type == "capture.rejected"]
    assert [e.detail["file"] for e in refused] == ["a2.pdf", "a3.pdf", "a4.pdf"]


def test_a_pdf_with_one_written_page_among_empty_ones_is_read(tmp_path: Path) -> None:
    import pikepdf

    path = empty_pdf(tmp_path / "mixed.pdf", pages=2)
    with (
        pikepdf.open(path, allow_overwriting_input=True) as pdf,
        pikepdf.open(text_pdf(tmp_path / "text.pdf")) as text,
    ):
        pdf.pages.append(text.pages[0])
        pdf.save(path)
    frames = list(read_frames(path, 200))
    assert [(f.width, f.height, f.dpi) for f in frames] == [(1653, 2339, 200)] * 3
