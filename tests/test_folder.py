"""Folder source: replay and hot-folder modes over real files, and capture into a store."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from station.capture import Frame, open_source
from station.capture.folder import FolderSource, natural_key
from station.capture.session import capture_batch
from station.config import Profile
from station.errors import ConfigError, DeviceNotFound, InputError, NoDocuments, PaperJam
from station.store import Store
from tests.helpers.pdf_inputs import scan_pdf, text_pdf

PROFILE = Profile(source="adf-front", mode="color", resolution=200)


def _png(path: Path, shade: int = 0, size: tuple[int, int] = (40, 30)) -> Path:
    Image.new("RGB", size, (shade, 100, 200)).save(path, "PNG", dpi=(300, 300))
    return path


def _tiff(path: Path, pages: int) -> Path:
    frames = [Image.new("L", (30, 20), 40 * i) for i in range(pages)]
    frames[0].save(path, "TIFF", save_all=True, append_images=frames[1:])
    return path


def _frames(source: FolderSource) -> list[Frame]:
    return list(source.frames(PROFILE, threading.Event()))


def _hot(folder: Path, settle: float = 2.0) -> FolderSource:
    """A hot source that has already watched ``folder`` for ten seconds."""
    source = FolderSource(folder, hot=True, settle_s=settle)
    source.stable_files(now=time.monotonic() - 10)
    return source


def _visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


# --------------------------------------------------------------------------- replay


def test_natural_name_order(tmp_path: Path) -> None:
    for name in ["scan_10.png", "scan_2.png", "Scan_3.png", "scan_1.png", "scan_02b.png"]:
        _png(tmp_path / name)
    names = [f.input_name for f in _frames(FolderSource(tmp_path))]
    assert names == ["scan_1.png", "scan_2.png", "scan_02b.png", "Scan_3.png", "scan_10.png"]
    assert sorted(["p10", "p9", "p100"], key=natural_key) == ["p9", "p10", "p100"]


def test_replay_leaves_files_and_rereads_them(tmp_path: Path) -> None:
    _png(tmp_path / "a1.png", shade=10)
    _tiff(tmp_path / "a2.tif", pages=2)
    (tmp_path / "notes.txt").write_text("not a page", encoding="utf-8")
    source = FolderSource(tmp_path)
    first, second = _frames(source), _frames(source)
    assert [(f.input_name, f.frame) for f in first] == [("a1.png", 0), ("a2.tif", 0), ("a2.tif", 1)]
    assert first == second
    assert first[0].data == (tmp_path / "a1.png").read_bytes()
    assert first[0].dpi == 300 and first[0].side == "single"
    assert _visible(tmp_path) == ["a1.png", "a2.tif", "notes.txt"]
    assert not (tmp_path / ".done").exists()


def test_replay_stops_on_a_bad_file(tmp_path: Path) -> None:
    _png(tmp_path / "p1.png")
    (tmp_path / "p2.png").write_bytes(b"not a png at all")
    frames = FolderSource(tmp_path).frames(PROFILE, threading.Event())
    assert next(frames).input_name == "p1.png"
    with pytest.raises(InputError, match=r"p2\.png"):
        next(frames)
    assert (tmp_path / "p2.png").exists()  # replay never moves files


def test_stop_event_ends_after_current_file(tmp_path: Path) -> None:
    for i in range(3):
        _png(tmp_path / f"s{i}.png")
    stop = threading.Event()
    taken = []
    for frame in FolderSource(tmp_path).frames(PROFILE, stop):
        taken.append(frame.input_name)
        stop.set()
    assert taken == ["s0.png"]


# --------------------------------------------------------------------------- device names


def test_from_device_replay() -> None:
    source = FolderSource.from_device("folder:/srv/scans")
    assert (source.path, source.hot, source.settle_s) == (Path("/srv/scans"), False, 2.0)
    assert source.name == "folder:/srv/scans"


def test_from_device_hot_with_settle() -> None:
    source = FolderSource.from_device("folder:/srv/in?mode=hot&settle=0.5")
    assert (source.path, source.hot, source.settle_s) == (Path("/srv/in"), True, 0.5)
    assert source.name == "folder:/srv/in?mode=hot"


def test_from_device_expands_home() -> None:
    assert FolderSource.from_device("folder:~/scans").path == Path.home() / "scans"


@pytest.mark.parametrize(
    "device",
    [
        "folder:/x?bogus=1",
        "folder:/x?mode=cold",
        "folder:/x?mode=hot&settle=soon",
        "folder:",
    ],
)
def test_from_device_refuses(device: str) -> None:
    with pytest.raises(ConfigError) as info:
        FolderSource.from_device(device)
    assert info.value.exit_code == 3


@pytest.mark.parametrize("device", ["folder:/x?mode", "folder:/x?mode=hot&settle=nan"])
def test_from_device_refuses_malformed_query(device: str) -> None:
    with pytest.raises(ConfigError) as info:
        FolderSource.from_device(device)
    assert info.value.exit_code == 3


def test_open_source_picks_folder(tmp_path: Path) -> None:
    source = open_source(f"folder:{tmp_path}?mode=hot&settle=1")
    assert isinstance(source, FolderSource)
    assert source.hot and source.settle_s == 1.0 and source.path == tmp_path


def test_missing_folder(tmp_path: Path) -> None:
    source = FolderSource(tmp_path / "gone")
    with pytest.raises(DeviceNotFound, match="gone") as info:
        _frames(source)
    assert info.value.exit_code == 5
    assert info.value.detail["device"] == source.name


@pytest.mark.parametrize("hot", [False, True])
def test_empty_folder(tmp_path: Path, hot: bool) -> None:
    (tmp_path / "readme.txt").write_text("x", encoding="utf-8")
    _png(tmp_path / ".hidden.png")
    with pytest.raises(NoDocuments) as info:
        _frames(_hot(tmp_path) if hot else FolderSource(tmp_path))
    assert info.value.exit_code == 6
    assert "Không có ảnh trang nào" in info.value.user_message()


# --------------------------------------------------------------------------- hot folder


def test_hot_waits_for_stable_files(tmp_path: Path) -> None:
    source = FolderSource(tmp_path, hot=True, settle_s=2.0)
    page = _png(tmp_path / "in_1.png")
    assert source.stable_files(now=100.0) == []  # first sight
    assert source.stable_files(now=101.5) == []  # not settled yet
    assert source.stable_files(now=102.0) == [page]
    with page.open("ab") as grow:  # still being written: the clock starts again
        grow.write(b"\0" * 10)
    assert source.stable_files(now=103.0) == []
    assert source.stable_files(now=104.9) == []
    assert source.stable_files(now=105.0) == [page]
    st = page.stat()
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # touched
    assert source.stable_files(now=106.0) == []
    assert source.stable_files(now=108.0) == [page]


def test_hot_ignores_partial_hidden_and_empty_files(tmp_path: Path) -> None:
    source = FolderSource(tmp_path, hot=True, settle_s=0.5)
    _png(tmp_path / ".scan_1.png")
    _png(tmp_path / "scan_2.png.part")
    _png(tmp_path / "scan_3.jpg.crdownload")
    (tmp_path / "scan_4.png").write_bytes(b"")
    good = _png(tmp_path / "scan_5.png")
    source.stable_files(now=10.0)
    assert source.stable_files(now=20.0) == [good]
    (tmp_path / "scan_2.png.part").rename(tmp_path / "scan_2.png")  # upload finished
    source.stable_files(now=21.0)
    assert source.stable_files(now=22.0) == [tmp_path / "scan_2.png", good]
    assert source.pending()


def test_hot_moves_files_to_done_after_their_frames(tmp_path: Path) -> None:
    _tiff(tmp_path / "b1.tif", pages=2)
    _png(tmp_path / "b2.png")
    (tmp_path / ".done").mkdir()
    _png(tmp_path / ".done" / "b2.png")  # an older file of the same name
    frames = _hot(tmp_path).frames(PROFILE, threading.Event())
    first = next(frames)
    assert (first.input_name, first.frame) == ("b1.tif", 0)
    next(frames)
    assert (tmp_path / "b1.tif").exists()  # the consumer may still be storing frame 1
    assert next(frames).input_name == "b2.png"
    assert not (tmp_path / "b1.tif").exists()
    assert (tmp_path / ".done" / "b1.tif").exists()
    assert list(frames) == []
    assert _visible(tmp_path) == []
    assert _visible(tmp_path / ".done") == ["b1.tif", "b2.1.png", "b2.png"]


def test_hot_rejects_corrupt_file_and_goes_on(tmp_path: Path, data_dir: Path) -> None:
    _png(tmp_path / "c1.png", shade=1)
    (tmp_path / "c2.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    _png(tmp_path / "c3.png", shade=3)
    rejected: list[tuple[Path, InputError]] = []
    source = _hot(tmp_path)
    source.on_reject = lambda path, error: rejected.append((path, error))
    with Store(data_dir) as store:
        result = capture_batch(store, source, "standard", PROFILE, trigger="hotfolder")
    assert result.batch.state == "captured"
    assert [p.input for p in result.pages] == ["c1.png", "c3.png"]
    target = tmp_path / ".rejected" / "c2.jpg"
    assert target.read_bytes().startswith(b"\xff\xd8")
    reason = target.with_name("c2.jpg.reason.txt").read_text(encoding="utf-8")
    assert "c2.jpg" in reason and "ảnh hỏng hoặc bị cắt cụt" in reason
    assert [(p, e.exit_code) for p, e in rejected] == [(target, 8)]
    assert _visible(tmp_path / ".done") == ["c1.png", "c3.png"]
    assert _visible(tmp_path) == []


def test_hot_file_read_again_after_a_crash_is_not_stored_twice(
    tmp_path: Path, data_dir: Path
) -> None:
    """Killed after a file's frames were stored but before it moved to .done: the
    next batch finds the file again, skips the frames it holds, keeps the rest."""
    _tiff(tmp_path / "d1.tif", pages=3)
    _png(tmp_path / "d2.png")
    with Store(data_dir) as store:
        stop = threading.Event()
        frames = _hot(tmp_path).frames(PROFILE, stop)
        # the crash: two frames of d1.tif stored, nothing moved yet
        batch = store.create_batch("folder", "standard", "hotfolder")
        for frame in (next(frames), next(frames)):
            store.add_page(
                batch.id, frame.data, ext=frame.ext, input_name=frame.input_name,
                frame=frame.frame, side=frame.side, width=frame.width, height=frame.height,
                dpi=frame.dpi, source=frame.source,
            )  # fmt: skip
        getattr(frames, "close")()  # noqa: B009 - the source's generator, cut short
        assert (tmp_path / "d1.tif").exists()
        again = capture_batch(store, _hot(tmp_path), "standard", PROFILE, trigger="hotfolder")
        assert [(p.input, p.frame) for p in again.pages] == [("d1.tif", 2), ("d2.png", 0)]
        stored = [(p.input, p.frame) for b in store.batches() for p in store.pages(b.id)]
        assert sorted(stored) == [("d1.tif", 0), ("d1.tif", 1), ("d1.tif", 2), ("d2.png", 0)]
    assert _visible(tmp_path / ".done") == ["d1.tif", "d2.png"]


def test_a_file_read_again_with_every_frame_stored_leaves_no_batch(
    tmp_path: Path, data_dir: Path
) -> None:
    """Killed after a file's last frame was stored, before it moved to .done: the
    next batch finds nothing new and is closed, not left waiting."""
    _png(tmp_path / "d1.png")
    with Store(data_dir) as store:
        first = capture_batch(store, _hot(tmp_path), "standard", PROFILE, trigger="hotfolder")
        (tmp_path / ".done" / "d1.png").replace(tmp_path / "d1.png")  # as if never moved
        again = capture_batch(store, _hot(tmp_path), "standard", PROFILE, trigger="hotfolder")
        assert again.pages == [] and again.batch.state == "cancelled"
        assert [b.state for b in store.batches()] == [first.batch.state, "cancelled"]
        assert len(store.pages(first.batch.id)) == 1
    assert _visible(tmp_path / ".done") == ["d1.png"]


def test_a_jam_marker_stops_the_batch_and_the_next_goes_on_after_it(
    tmp_path: Path, data_dir: Path
) -> None:
    """The virtual scanner's jam: pages before it are kept, the batch stops with
    the jam, and the next batch takes the pages after it."""
    _png(tmp_path / "a1.png")
    (tmp_path / "a2.jam").write_bytes(b"")  # an empty marker is taken too
    _png(tmp_path / "a3.png", shade=9)
    with Store(data_dir) as store:
        with pytest.raises(PaperJam) as jam:
            capture_batch(store, _hot(tmp_path), "standard", PROFILE, trigger="hotfolder")
        assert "a2.jam" in jam.value.message_en and jam.value.code == "scanner.jam"
        first = store.batches()[0]
        assert first.state == "interrupted" and first.error_code == "scanner.jam"
        assert [p.input for p in store.pages(first.id)] == ["a1.png"]
        after = capture_batch(store, _hot(tmp_path), "standard", PROFILE, trigger="hotfolder")
        assert [p.input for p in after.pages] == ["a3.png"]
    assert _visible(tmp_path / ".done") == ["a1.png", "a2.jam", "a3.png"]


def test_hot_folder_with_only_a_rejected_file(tmp_path: Path, data_dir: Path) -> None:
    (tmp_path / "bad.png").write_bytes(b"garbage")
    with Store(data_dir) as store:
        with pytest.raises(NoDocuments):
            capture_batch(store, _hot(tmp_path), "standard", PROFILE)
        assert [b.state for b in store.batches()] == ["cancelled"]
    assert (tmp_path / ".rejected" / "bad.png").exists()


def test_hot_one_shot_takes_old_files(tmp_path: Path) -> None:
    page = _png(tmp_path / "old.png")
    hour_ago = time.time() - 3600
    os.utime(page, (hour_ago, hour_ago))
    source = FolderSource(tmp_path, hot=True, settle_s=2.0)
    assert [f.input_name for f in _frames(source)] == ["old.png"]


def test_pdf_pages_come_at_their_scan_resolution(tmp_path: Path) -> None:
    """What a network scanner's "scan to folder" writes: each PDF's page at its
    image's resolution (300 kept, 2400 reduced to 600, 150 not raised), a text
    page at the profile's 200 dpi; not every page at the profile's 200 dpi."""
    scan_pdf(tmp_path / "s1.pdf", (2480, 3508), 300)
    scan_pdf(tmp_path / "s2.pdf", (4800, 3600), 2400)
    scan_pdf(tmp_path / "s3.pdf", (1240, 1754), 150)
    text_pdf(tmp_path / "s4.pdf")
    source = FolderSource(tmp_path)
    try:
        frames = _frames(source)
    finally:
        source.close()
    expected = [
        ("s1.pdf", 300, 2480, 3508),
        ("s2.pdf", 600, 1200, 900),
        ("s3.pdf", 150, 1240, 1754),
        ("s4.pdf", 200, 1654, 2339),
    ]
    assert [(f.input_name, f.dpi) for f in frames] == [e[:2] for e in expected]
    for frame, (_, _, width, height) in zip(frames, expected, strict=True):
        # a rendered page may gain the last pixel's fraction (PDFium rounds up)
        assert abs(frame.width - width) <= 1 and abs(frame.height - height) <= 1


# --------------------------------------------------------------------------- end to end


def test_capture_sample_batch_into_store(sample_scans: Path, data_dir: Path) -> None:
    files = sorted(sample_scans.glob("scan_*.jpg"), key=lambda p: natural_key(p.name))
    assert len(files) >= 10
    seen: list[int] = []
    with Store(data_dir) as store:
        result = capture_batch(
            store,
            FolderSource(sample_scans),
            "standard",
            Profile(resolution=150),
            on_page=lambda page: seen.append(page.seq),
        )
        assert result.batch.state == "captured"
        assert store.batch(result.batch.id).state == "captured"
        assert result.batch.device == f"folder:{sample_scans}"
        assert seen == list(range(1, len(files) + 1))
        assert [p.input for p in result.pages] == [f.name for f in files]
        for page, file in zip(result.pages, files, strict=True):
            data = file.read_bytes()
            assert page.sha256 == hashlib.sha256(data).hexdigest()
            assert store.page_path(page).read_bytes() == data
            with Image.open(io.BytesIO(data)) as image:
                own = round(image.info["dpi"][0])  # the file's own, not the profile's
            assert (page.size, page.dpi, page.frame) == (len(data), own, 0)
            assert page.path.endswith(f"p{page.seq:05d}.jpg")
        assert store.verify_pages(result.batch.id) == []
    assert _visible(sample_scans) == [f.name for f in files]  # replay leaves them
