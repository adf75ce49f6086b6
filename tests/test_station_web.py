"""The counter's web app without a browser: PIN, language, JSON answers, files."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from station.appliance.station import Station
from station.common.auth import hash_secret
from station.config import Config
from station.config.remote import Settings
from station.errors import ConfigError
from station.store import Store
from station.ui import Services, WebSettings, create_app
from tests.helpers.offline_station import offline_station
from tests.helpers.wait import until


@pytest.fixture
def station(tmp_path: Path, one_document_scans: Path) -> Iterator[Station]:
    """A station whose scanner holds one document: what these tests look at
    is one document's card, its fields and its file."""
    pin = hash_secret("2468", iterations=1000)
    st = offline_station(tmp_path / "data", one_document_scans, "st-web", pin_hash=pin)
    yield st
    st.store.close()


def _client(station: Station) -> FlaskClient:
    web = WebSettings(data_dir=station.store.data_dir)
    return create_app(web, Services(station=station)).test_client()


def _scanned(station: Station) -> str:
    """Scan the station's stack and wait until its batch is under review."""
    assert station.scan()
    batch: str = until(lambda: station.last_batch, 60, 0.1)
    until(lambda: station.store.batch(batch).state == "review", 300, 0.2)
    return batch


def _token(client: FlaskClient, path: str = "/") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found is not None
    return found.group(1)


def test_settings_need_the_pin(station: Station) -> None:
    client = _client(station)
    assert client.get("/settings").headers["Location"].endswith("/pin?next=/settings")
    token = _token(client, "/pin")
    wrong = client.post("/pin", data={"pin": "1111", "csrf_token": token})
    assert "Sai mã PIN" in wrong.get_data(as_text=True)
    right = client.post("/pin", data={"pin": "2468", "csrf_token": token})
    assert right.headers["Location"].endswith("/settings")
    page = client.get("/settings").get_data(as_text=True)
    assert "st-web" in page and "Nhật ký" in page


def test_vietnamese_first_english_on_request(station: Station) -> None:
    client = _client(station)
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in page and ">Quét văn bản đến</button>" in page
    client.set_cookie("lang", "en")
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and ">Scan incoming</button>" in page
    assert "Chờ gửi" not in page and "Queue" in page


def test_actions_answer_json_and_refuse_bad_input(station: Station) -> None:
    client = _client(station)
    token = _token(client)
    json_headers = {"Accept": "application/json"}
    missing = client.post("/doc/nothing/merge", data={"csrf_token": token}, headers=json_headers)
    assert missing.status_code == 404
    assert missing.json is not None and missing.json["ok"] is False and missing.json["error"]
    unknown = client.post("/scan", data={"csrf_token": token, "profile": "nope"},
                          headers=json_headers)  # fmt: skip
    assert unknown.status_code == 400 and unknown.json is not None
    assert unknown.json["code"] == "config"
    assert client.get("/api/batch/nothing").status_code == 404
    # files come only from the work folder
    assert client.get("/work/../store.sqlite3").status_code in (400, 404)
    assert client.get("/work/%2e%2e/store.sqlite3").status_code in (400, 404)


def test_exposed_counter_needs_a_password(station: Station) -> None:
    with pytest.raises(ConfigError):
        create_app(
            WebSettings(listen="0.0.0.0:8080", data_dir=station.store.data_dir),
            Services(station=station),
        )


def test_outbox_shows_delivery_receipts_and_later_statuses(
    station: Station, tmp_path: Path
) -> None:
    store = station.store
    for n in range(1, 4):
        pdf = tmp_path / f"d{n}.pdf"
        pdf.write_bytes(b"%PDF-1.7 " + bytes([n]) * 8000)  # two segments of 4 KiB
        store.outbox.enqueue(f"d{n}", pdf, {"Registration": f"DEN-2026-00000{n}"}, 4096)
    item = store.outbox.item("d2")
    store.outbox.set_state("d2", "announced")
    store.outbox.record_receipt("d2", "01", {"status": "01", "sha256": item.sha256})
    store.outbox.record_receipt("d2", "03", {"status": "03"})
    store.outbox.set_state("d3", "announced")
    store.outbox.ack_segment(store.outbox.item("d1").file_id, 0)
    client = _client(station)
    page = client.get("/outbox").get_data(as_text=True)
    rows = {m.group(1): m.group(2) for m in re.finditer(r'data-doc="(d\d)"(.*?)</tr>', page, re.S)}
    assert "Đang gửi 50 %" in rows["d1"] and "Gửi lại ngay" in rows["d1"]
    assert "Đã nhận" in rows["d2"] and "Đã vào sổ" in rows["d2"]
    assert "Đã gửi" in rows["d3"] and "Gửi lại ngay" not in rows["d3"]
    token = _token(client, "/outbox")
    sent = client.post("/outbox/d1/retry", data={"csrf_token": token},
                       headers={"Accept": "application/json"})  # fmt: skip
    assert sent.json == {"ok": True}


def test_signing_trouble_shows_on_the_counter(tmp_path: Path, sample_scans: Path) -> None:
    config = Config.model_validate(
        {
            "station": {"id": "st-sig", "data_dir": str(tmp_path / "data")},
            "scanner": {"device": f"folder:{sample_scans}"},
            "signing": {"enabled": True, "key_store": "pkcs12",
                        "pkcs12_file": str(tmp_path / "missing.p12")},
        }
    )  # fmt: skip
    store = Store(config.station.data_dir)
    station = Station(Settings(config), store, connect=False)
    try:
        pdf = tmp_path / "d.pdf"
        pdf.write_bytes(b"%PDF-1.7 not signed")
        assert station.processor.confirmation.sign("d", pdf) is False
        store.outbox.enqueue("d", pdf, {"Registration": "DEN-2026-000001"}, 4096, held=True)
        client = _client(station)
        page = client.get("/").get_data(as_text=True)
        assert "không ký được" in page and "1 văn bản đang chờ ký" in page
        assert "Chờ ký số" in client.get("/outbox").get_data(as_text=True)
        health = station.stats.snapshot()
        assert health["signing"] == {
            "enabled": True, "held": 1, "ok": False, "at": health["signing"]["at"],
            "error": health["signing"]["error"],
        }  # fmt: skip
        assert health["queue"]["held"] == 1 and health["queue"]["to_send"] == 1
    finally:
        store.close()


def test_the_session_key_is_private(station: Station) -> None:
    _client(station)
    key = station.store.data_dir / "web-secret.key"
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_bytes()) >= 32


def test_a_field_in_doubt_is_marked_for_checking_with_what_was_read(station: Station) -> None:
    """The review marks "cần kiểm tra" the fields the reader left empty, with
    what it read and why, until the clerk corrects them."""
    station.start()
    try:
        batch = _scanned(station)
        doc = station.review.documents(batch)[0]
        readings = {
            "CodeNumber": {"confidence": 0.0, "code": "handwritten"},
            "Subject": {"confidence": 0.5, "code": "marks_disagree", "read": "công bỗ"},
        }
        blank = {**doc.metadata, "CodeNumber": None, "Subject": None}
        station.review.set_read(doc.doc_id, blank, str(doc.pdf), [], readings)
        client = _client(station)

        def card(page: str) -> str:
            """The document's own card on the batch page."""
            return page.split(f'data-doc="{doc.doc_id}"', 1)[1].split("</article>", 1)[0]

        page = card(client.get(f"/batch/{batch}").get_data(as_text=True))
        assert page.count("cần kiểm tra") == 2
        assert "viết tay" in page and "Đọc được: «công bỗ» — các lần đọc khác nhau về dấu" in page
        # one tap puts what was read into the field, for the clerk to check and save
        assert 'class="use-read" data-for="Subject" data-value="công bỗ"' in page
        client.set_cookie("lang", "en")
        page = card(client.get(f"/batch/{batch}").get_data(as_text=True))
        assert "written by hand" in page and "check this" in page
        assert "Read: «công bỗ» — the readings disagree on a mark" in page
    finally:
        station.stop()


def test_a_field_filled_in_by_the_dictionary_is_checked_by_the_clerk(station: Station) -> None:
    """A field filled in with a tone mark the dictionary chose is marked "cần
    kiểm tra" with the reason; "Đã kiểm tra" takes the mark off as it is, and
    saves the other fields' edits with it."""
    station.start()
    try:
        batch = _scanned(station)
        doc = station.review.documents(batch)[0]
        subject = "Về việc bổ sung kinh phí"
        readings = {"Subject": {"confidence": 0.85, "code": "by_dictionary"}}
        station.review.set_read(
            doc.doc_id, {**doc.metadata, "Subject": subject}, str(doc.pdf), [], readings
        )
        client = _client(station)
        page = client.get(f"/batch/{batch}").get_data(as_text=True)
        card = page.split(f'data-doc="{doc.doc_id}"', 1)[1].split("</article>", 1)[0]
        assert "cần kiểm tra" in card and "dấu đã chọn theo từ điển, cần xem lại" in card
        assert '<button name="checked" value="Subject" class="field-checked">Đã kiểm tra' in card
        assert 'class="use-read" data-for="Subject"' not in card
        assert station.review.document(doc.doc_id).to_check() == ["Subject"]
        form = {"csrf_token": _token(client, f"/batch/{batch}"), "Subject": subject, "SignerName": "Lê Văn Tám",
                "checked": "Subject"}  # fmt: skip
        answer = client.post(f"/doc/{doc.doc_id}/fields", data=form)
        assert answer.status_code in (302, 303), answer.get_data(as_text=True)
        after = station.review.document(doc.doc_id)
        assert after.to_check() == [] and after.metadata["Subject"] == subject
        assert after.metadata["SignerName"] == "Lê Văn Tám"
    finally:
        station.stop()


def test_the_countdown_waits_for_every_field_not_only_the_header(station: Station) -> None:
    """A clean batch counts down only when no field of any document is marked
    "cần kiểm tra": a Nơi nhận in doubt holds it as a subject would."""
    from station.review.countdown import Countdown

    station.start()
    try:
        batch = _scanned(station)
        docs = station.review.documents(batch)
        assert docs and all(station.review.clean(d) for d in docs)
        countdown = Countdown(station.review, lambda: 10, lambda *a, **k: None)
        for d in docs:  # every field read surely
            station.review.set_read(d.doc_id, d.metadata, str(d.pdf), [], {})
        countdown.start(batch)
        assert batch in countdown.deadlines
        countdown.deadlines.clear()
        doubt = {"ToPlaces": {"confidence": 0.5, "code": "marks_disagree", "read": ["Như trên"]}}
        first = docs[0]
        station.review.set_read(first.doc_id, first.metadata, str(first.pdf), [], doubt)
        countdown.start(batch)
        assert batch not in countdown.deadlines
    finally:
        station.stop()


def test_a_pdf_that_fails_the_decree_30_check_never_leaves(tmp_path: Path) -> None:
    """Scanned at 150 dpi, every document's PDF fails `scanstation verify`
    (Decree 30 asks at least 200 dpi): each gets a warning naming the check and
    its pages, which cannot be dismissed; the batch cannot be confirmed (the
    "Vẫn gửi" answer does not pass it), the countdown does not start, and
    nothing reaches the outbox."""
    from station.demo.samples import write_sample_batch
    from station.errors import InputError, NotCompliant
    from station.review.countdown import Countdown

    low = tmp_path / "low"
    write_sample_batch(low, dpi=150)
    station = offline_station(tmp_path / "data", low, "st-low")
    station.start()
    try:
        batch = _scanned(station)
        docs = station.review.documents(batch)
        for doc in docs:
            (check,) = [w for w in doc.warnings if w["code"] == "pdf_check"]
            assert check["message"]["vi"].startswith("Tệp PDF chưa đạt chuẩn Nghị định 30: ")
            assert "trang 1 chỉ có 150 dpi, cần ít nhất 200 dpi" in check["message"]["vi"]
            assert "page 1 has only 150 dpi" in check["message"]["en"]
        findings = station.findings(batch)
        assert sum(f.code == "pdf_check" and f.blocking for f in findings) == len(docs)
        with pytest.raises(InputError):
            station.review.dismiss_warning(docs[0].doc_id, "pdf_check")
        with pytest.raises(InputError) as refused:
            station.confirm(batch, despite=True)
        assert "chỉ có 150 dpi" in refused.value.message_vi
        countdown = Countdown(station.review, lambda: 10, lambda *a, **k: None)
        countdown.start(batch)
        assert batch not in countdown.deadlines
        client = _client(station)
        page = client.get(f"/batch/{batch}").get_data(as_text=True)
        warned = page.split('data-code="pdf_check"', 1)[1].split("</div>", 1)[0]
        assert "chỉ có 150 dpi" in warned and "Đã kiểm tra" not in warned
        answer = client.post(
            f"/batch/{batch}/confirm",
            data={"csrf_token": _token(client, f"/batch/{batch}"), "despite": "1"},
            headers={"Accept": "application/json"},
        )
        assert answer.status_code in (400, 409), answer.get_data(as_text=True)
        assert station.store.outbox.items(("queued", "sent", "held")) == []
        assert station.store.batch(batch).state == "review"
        # nor does a confirmation that would get past the review's check
        with pytest.raises(NotCompliant):
            station.processor.confirmation.finalize(batch)
        assert station.store.outbox.items(("queued", "sent", "held")) == []
    finally:
        station.stop()
        station.store.close()


def test_a_final_file_that_fails_its_check_is_not_queued(station: Station) -> None:
    """The last check, after the register's XMP is written: a file broken
    since it was read (its page no longer a paper size) stops the
    confirmation, goes back to the review with the warning, and no document of
    the batch is queued."""
    import pikepdf

    from station.errors import NotCompliant

    station.start()
    try:
        batch = _scanned(station)
        docs = station.review.documents(batch)
        assert not any(w["code"] == "pdf_check" for d in docs for w in d.warnings)
        broken = station.review.work / str(docs[-1].pdf)
        with pikepdf.open(broken, allow_overwriting_input=True) as pdf:
            pdf.pages[0].mediabox = pikepdf.Array([0, 0, 510, 510])  # 180 × 180 mm
            pdf.save(broken)
        with pytest.raises(NotCompliant):
            station.processor.confirmation.finalize(batch)
        assert station.store.outbox.items(("queued", "sent", "held")) == []
        warned = station.review.document(docs[-1].doc_id).warnings
        assert any("không đúng khổ giấy (180×180 mm)" in w["message"]["vi"] for w in warned)
        assert any(f.code == "pdf_check" and f.blocking for f in station.findings(batch))
    finally:
        station.stop()


def _expected_crop(box: list[float], paper: tuple[float, float], dpi: float) -> tuple[int, int]:
    """A crop's size as docs/station-ui.md says: the box with 2 mm around it
    (within the page), 6 pixels a millimetre (the page's own when less), smaller
    still to fit 1200 × 200."""
    x0, y0 = max(0.0, box[0] - 2), max(0.0, box[1] - 2)
    x1, y1 = min(paper[0], box[2] + 2), min(paper[1], box[3] + 2)
    scale = min(6.0, dpi / 25.4, 1200 / (x1 - x0), 200 / (y1 - y0))
    return round((x1 - x0) * scale), round((y1 - y0) * scale)


def test_a_fields_crop_is_the_place_on_the_page_it_was_read_from(station: Station) -> None:
    """``GET /doc/ID/crop/NAME.jpg``: the field's box cut from the corrected page
    image, with its margin, at the documented size (a signature block made
    smaller), the same pixels as the page there and not those beside; cached by
    its key; 404 for a field read from no place, an unknown field or document,
    and for any path that tries to leave them. The form shows it beside a field
    marked "cần kiểm tra", with its caption and alt text in the screen's language."""
    from io import BytesIO

    from PIL import Image, ImageChops, ImageStat

    station.start()
    try:
        batch = _scanned(station)
        doc = station.review.documents(batch)[0]
        page = doc.pages[0]
        assert page.clean is not None and page.rotation == 0
        with Image.open(station.review.work / page.clean) as image:
            scan = image.convert("L")
            dpi = float(image.info["dpi"][0])
        paper = (scan.width / dpi * 25.4, scan.height / dpi * 25.4)
        client = _client(station)

        def crop(name: str, **headers: str) -> Any:
            return client.get(f"/doc/{doc.doc_id}/crop/{name}.jpg", headers=headers)

        def by_hand(box: list[float], size: tuple[int, int], down_mm: float = 0) -> Any:
            """The same place cut from the page image here, ``down_mm`` lower."""
            x0, y0 = max(0.0, box[0] - 2), max(0.0, box[1] - 2 + down_mm)
            x1, y1 = min(paper[0], box[2] + 2), min(paper[1], box[3] + 2 + down_mm)
            left, top, right, bottom = (v * dpi / 25.4 for v in (x0, y0, x1, y1))
            return scan.resize(size, Image.Resampling.LANCZOS, box=(left, top, right, bottom))

        def matches(name: str, box: list[float]) -> None:
            """The crop is the documented size and the page's pixels at the box."""
            answer = crop(name)
            assert answer.status_code == 200 and answer.mimetype == "image/jpeg", name
            got = Image.open(BytesIO(answer.data)).convert("L")
            wanted = _expected_crop(box, paper, dpi)
            assert got.size == wanted, name
            same = ImageStat.Stat(ImageChops.difference(got, by_hand(box, wanted)))
            beside = ImageStat.Stat(ImageChops.difference(got, by_hand(box, wanted, down_mm=8)))
            assert same.mean[0] < 8 and beside.mean[0] > same.mean[0] + 8, (
                name,
                same.mean,
                beside.mean,
            )

        for name in ("CodeNumber", "Subject", "OrganName"):  # one line, two
            matches(name, doc.readings[name]["box"])
        # a print line at 6 px/mm
        assert Image.open(BytesIO(crop("CodeNumber").data)).height < 80

        # cached by its key: the address the form gives, the ETag, 304 when unchanged
        first = crop("Subject")
        key = first.headers["ETag"].strip('"')
        assert first.headers["Cache-Control"] in (
            "private, max-age=86400",
            "max-age=86400, private",
        )
        again = crop("Subject", **{"If-None-Match": f'"{key}"'})
        assert again.status_code == 304 and again.data == b""

        # a field in doubt read from no place (handwriting), one in doubt with its box
        readings = {
            **doc.readings,
            "CodeNumber": {"confidence": 0.0, "code": "handwritten"},
            "Subject": {**doc.readings["Subject"], "confidence": 0.5,
                        "code": "marks_disagree", "read": "Về việc ban hành Quy chế công tác văn thư"},
        }  # fmt: skip
        # and a box as tall as a signature block: made smaller, to 200 px high
        readings["ToPlaces"] = {"confidence": 1.0, "box": [30.0, 62.0, 190.0, 126.0]}
        blank = {**doc.metadata, "CodeNumber": None, "Subject": None}
        station.review.set_read(doc.doc_id, blank, str(doc.pdf), [], readings)
        matches("ToPlaces", readings["ToPlaces"]["box"])
        assert Image.open(BytesIO(crop("ToPlaces").data)).size == (482, 200)  # 164 × 68 mm
        assert crop("CodeNumber").status_code == 404
        for wrong in (
            f"/doc/{doc.doc_id}/crop/ArrivalDate.jpg",  # never read from the page
            f"/doc/{doc.doc_id}/crop/Nothing.jpg",
            f"/doc/{doc.doc_id}-999/crop/Subject.jpg",
            f"/doc/{doc.doc_id}/crop/..%2F..%2Fstore.sqlite3.jpg",
            f"/doc/{doc.doc_id}/crop/..%2f..%2fweb-secret.key",
            f"/doc/..%2F{batch}%2F{doc.doc_id}/crop/Subject.jpg",
            "/doc/%2e%2e/crop/Subject.jpg",
            f"/doc/{doc.doc_id}/crop/../../../store.sqlite3",
            f"/doc/{doc.doc_id}/crop/Subject.jpg/..%2F..%2F..%2Fstore.sqlite3",
        ):
            answer = client.get(wrong)
            assert answer.status_code == 404, wrong
            assert answer.mimetype != "image/jpeg" and b"SQLite" not in answer.data, wrong

        card = client.get(f"/batch/{batch}").get_data(as_text=True)
        card = card.split(f'data-doc="{doc.doc_id}"', 1)[1].split("</article>", 1)[0]
        subject = card.split('<label class="f-Subject', 1)[1].split("</label>", 1)[0]
        assert "check" in subject.split('"', 1)[0] and "cần kiểm tra" in subject
        shown = re.search(r'<img src="([^"]+)" width="(\d+)" height="(\d+)" alt="([^"]+)"', subject)
        assert shown is not None
        src, width, height, alt = shown.groups()
        wanted = _expected_crop(readings["Subject"]["box"], paper, dpi)
        assert (int(width), int(height)) == wanted
        assert alt == "Ô «Trích yếu» như đã đọc trên trang 1"
        assert "Đọc từ trang" in subject and 'loading="lazy"' not in subject
        assert client.get(src.replace("&amp;", "&")).status_code == 200
        assert src.endswith(f"?v={crop('Subject').headers['ETag'].strip(chr(34))}")
        # no box, no crop: the handwritten number has its mark and no picture
        number = card.split('<label class="f-CodeNumber', 1)[1].split("</label>", 1)[0]
        assert "cần kiểm tra" in number and "crop-open" not in number
        client.set_cookie("lang", "en")
        card = client.get(f"/batch/{batch}").get_data(as_text=True)
        assert "Read from the page" in card and 'alt="«Subject» as read on page 1"' in card

        # the page turned by the clerk after it was read: the crop is what was read
        before = crop("Subject")
        station.rotate(page.page_id, 1)  # a quarter turn clockwise
        assert station.review.document(doc.doc_id).stale
        assert crop("Subject").headers["ETag"] == before.headers["ETag"]
        # then read again: the box is on the page as turned, the crop upright as read
        x0, y0, x1, y1 = readings["Subject"]["box"]
        on_turned = [paper[1] - y1, x0, paper[1] - y0, x1]
        again_read = {**readings, "Subject": {**readings["Subject"], "box": on_turned}}
        station.review.set_read(doc.doc_id, blank, str(doc.pdf), [], again_read)
        answer = crop("Subject")
        assert answer.headers["ETag"] != before.headers["ETag"]
        got = Image.open(BytesIO(answer.data)).convert("L")
        assert got.size == _expected_crop(on_turned, (paper[1], paper[0]), dpi)
        stored = got.transpose(Image.Transpose.ROTATE_90)  # a quarter turn back: as stored
        same = ImageStat.Stat(ImageChops.difference(stored, by_hand([x0, y0, x1, y1], stored.size)))
        assert same.mean[0] < 8, same.mean

        # a page image outside the work folder is never served, whatever the store says
        outside = station.store.data_dir / "outside.jpg"
        outside.write_bytes((station.review.work / page.clean).read_bytes())
        with station.store.transaction() as db:
            db.execute("UPDATE review_pages SET clean = ? WHERE page_id = ?",
                       ("../outside.jpg", page.page_id))  # fmt: skip
        assert crop("Subject").status_code == 404
    finally:
        station.stop()
