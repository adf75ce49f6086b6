"""The page viewer in Debian's chromium, on a running station with the sample
stack scanned and read: a thumbnail opens the page at its resolution, pages turn
by button, key and swipe, the page zooms by button, wheel and pinch, a field
shows the box it was read from where the reading says, Escape, ✕ and Back close
it, and a page moves to another document in two taps. Screenshots at 800×480
and 1280×800."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect

from station.demo.samples import write_sample_batch
from station.review.drafts import ReviewDoc, ReviewPage
from tests.helpers.broker import Mosquitto
from tests.helpers.browser import artifacts, chromium
from tests.helpers.wait import until
from tests.test_station_ui import Counter, _counter, _small_targets

pytestmark = pytest.mark.slow


@dataclass
class Reviewed:
    counter: Counter
    batch: str

    @property
    def url(self) -> str:
        return f"{self.counter.url}/batch/{self.batch}"

    def docs(self) -> list[ReviewDoc]:
        return self.counter.station.review.documents(self.batch)


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reviewed]:
    """A station that has scanned and read the sample stack, waiting for review."""
    samples = tmp_path_factory.mktemp("virtual-scanner")
    write_sample_batch(samples, dpi=200)
    broker = Mosquitto(tmp_path_factory.mktemp("broker"))
    broker.start()
    counter = _counter(broker, samples, tmp_path_factory.mktemp("station"), auto_confirm=0)
    try:
        assert counter.station.scan(None)
        until(lambda: counter.station.last_batch, 30, 0.2)
        batch = counter.station.last_batch
        assert batch is not None
        until(lambda: counter.store.batch(batch).state == "review", 180, 0.5)
        yield Reviewed(counter, batch)
    finally:
        counter.stop()
        broker.stop()


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=artifacts() / f"viewer-{name}.png")


def _open(context: BrowserContext, reviewed: Reviewed, doc: int, n: int) -> Page:
    page = context.new_page()
    page.goto(reviewed.url)
    expect(page.locator("article.doc")).to_have_count(3)
    page.locator("article.doc").nth(doc - 1).locator("figure.thumb img").nth(n - 1).click()
    expect(page.locator("#viewer")).to_be_visible()
    expect(page.locator("#viewer .viewer-img")).to_have_js_property("complete", True)
    return page


def _rect(page: Page, selector: str) -> dict[str, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return {"x": box["x"], "y": box["y"], "width": box["width"], "height": box["height"]}


def _image_mm(reviewed: Reviewed, page: ReviewPage) -> tuple[int, int, float, float]:
    """The page image's pixels and its size in millimetres (the paper)."""
    assert page.clean is not None
    with Image.open(reviewed.counter.station.review.work / page.clean) as image:
        dpi = image.info["dpi"]
        return image.width, image.height, image.width / dpi[0] * 25.4, image.height / dpi[1] * 25.4


def _expected(img: dict[str, float], box: list[float], mm: tuple[float, float]) -> dict[str, float]:
    """A reading's box in millimetres, as screen pixels over the image shown."""
    return {
        "x": img["x"] + box[0] / mm[0] * img["width"],
        "y": img["y"] + box[1] / mm[1] * img["height"],
        "width": (box[2] - box[0]) / mm[0] * img["width"],
        "height": (box[3] - box[1]) / mm[1] * img["height"],
    }


def _near(found: dict[str, float], wanted: dict[str, float], tolerance: float = 1.5) -> bool:
    return all(abs(found[k] - wanted[k]) <= tolerance for k in ("x", "y", "width", "height"))


def _scale(page: Page) -> float:
    return float(page.locator("#viewer").get_attribute("data-scale") or 0)


def test_a_page_opens_full_size_turns_and_zooms(reviewed: Reviewed) -> None:
    docs = reviewed.docs()
    first, second = docs[0].pages[0], docs[0].pages[1]
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
        page = _open(context, reviewed, 1, 1)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        viewer = page.locator("#viewer")
        img = page.locator("#viewer .viewer-img")
        # the page at its own resolution, not the thumbnail
        width, height, _, _ = _image_mm(reviewed, first)
        assert img.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [width, height]
        assert (img.get_attribute("src") or "").endswith(str(first.clean))
        expect(viewer.locator(".viewer-where")).to_contain_text("VB 1 · trang 1/2")
        # the document's fields beside the page, with their values
        expect(viewer.locator("button.f-CodeNumber .value")).to_have_text(
            str(docs[0].metadata["CodeNumber"])
        )
        _shot(page, "1280x800")

        # next and previous: buttons, arrow keys, a swipe
        viewer.locator("[data-act=next]").click()
        expect(viewer.locator(".viewer-where")).to_contain_text("VB 1 · trang 2/2")
        expect(img).to_have_attribute("src", f"/work/{second.clean}")
        viewer.locator("[data-act=prev]").click()
        expect(viewer.locator(".viewer-where")).to_contain_text("VB 1 · trang 1/2")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        expect(viewer.locator(".viewer-where")).to_contain_text("VB 2 · trang 1/1")
        expect(viewer.locator("button.f-Priority .value")).to_have_text(
            re.compile("khẩn", re.IGNORECASE)
        )  # both pickers of the form: secrecy (none) and urgency
        page.keyboard.press("ArrowLeft")
        expect(viewer.locator(".viewer-where")).to_contain_text("VB 1 · trang 2/2")
        stage = _rect(page, "#viewer .viewer-stage")
        middle = stage["y"] + stage["height"] / 2
        page.mouse.move(stage["x"] + stage["width"] * 0.8, middle)
        page.mouse.down()
        page.mouse.move(stage["x"] + stage["width"] * 0.2, middle, steps=6)
        page.mouse.up()
        expect(viewer.locator(".viewer-where")).to_contain_text("VB 2 · trang 1/1")
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowLeft")
        expect(viewer.locator(".viewer-where")).to_contain_text("VB 1 · trang 1/2")

        # zoom: the + button, the wheel, the − button back
        before = _rect(page, "#viewer .viewer-img")
        viewer.locator("[data-act=in]").click()
        after = _rect(page, "#viewer .viewer-img")
        assert after["width"] == pytest.approx(before["width"] * 1.5, rel=0.01)
        assert _scale(page) == pytest.approx(1.5, rel=0.01)
        _shot(page, "zoomed-1280x800")
        page.mouse.move(stage["x"] + stage["width"] / 2, middle)
        page.mouse.wheel(0, -300)
        expect(viewer).not_to_have_attribute("data-scale", "1.500")
        assert _scale(page) > 1.5
        # dragged when zoomed: the page pans, it does not turn
        shown = _rect(page, "#viewer .viewer-img")
        page.mouse.down()
        page.mouse.move(stage["x"] + stage["width"] / 2 - 120, middle + 40, steps=4)
        page.mouse.up()
        panned = _rect(page, "#viewer .viewer-img")
        assert panned["x"] == pytest.approx(shown["x"] - 120, abs=1)
        expect(viewer.locator(".viewer-where")).to_contain_text("VB 1 · trang 1/2")
        viewer.locator("[data-act=fit]").click()
        assert _scale(page) == 1
        assert _rect(page, "#viewer .viewer-img")["width"] == pytest.approx(before["width"])
        viewer.locator("[data-act=in]").click()
        viewer.locator("[data-act=out]").click()
        assert _scale(page) == pytest.approx(1)
        # a double tap zooms in there, another shows the whole page again
        page.mouse.dblclick(stage["x"] + stage["width"] / 2, middle)
        assert _scale(page) == pytest.approx(2.5)
        page.mouse.dblclick(stage["x"] + stage["width"] / 2, middle)
        assert _scale(page) == 1
        assert errors == []


def test_two_fingers_pinch_and_one_pans(reviewed: Reviewed) -> None:
    with chromium() as browser:
        context = browser.new_context(
            viewport={"width": 800, "height": 480}, locale="vi-VN", has_touch=True
        )
        page = _open(context, reviewed, 3, 1)
        cdp = context.new_cdp_session(page)
        stage = _rect(page, "#viewer .viewer-stage")
        cx, cy = stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 5  # the header

        def touch(kind: str, points: list[tuple[float, float]]) -> None:
            cdp.send(
                "Input.dispatchTouchEvent",
                {
                    "type": kind,
                    "touchPoints": [{"x": x, "y": y, "id": n} for n, (x, y) in enumerate(points)],
                },
            )

        touch("touchStart", [(cx - 30, cy), (cx + 30, cy)])
        for step in range(1, 7):
            touch("touchMove", [(cx - 30 - 10 * step, cy), (cx + 30 + 10 * step, cy)])
        touch("touchEnd", [])
        assert _scale(page) == pytest.approx(3.0, rel=0.05)  # 60 px apart, then 180
        _shot(page, "zoomed-800x480")
        shown = _rect(page, "#viewer .viewer-img")
        touch("touchStart", [(cx, cy)])
        for step in range(1, 5):
            touch("touchMove", [(cx, cy - 10 * step)])
        touch("touchEnd", [])
        panned = _rect(page, "#viewer .viewer-img")
        assert panned["y"] - shown["y"] == pytest.approx(-40, abs=1)
        expect(page.locator("#viewer .viewer-where")).to_contain_text("VB 3 · trang 1/3")
        # zoomed out again, a finger's swipe turns the page
        page.locator("#viewer [data-act=fit]").click()
        assert _scale(page) == 1
        touch("touchStart", [(cx + 150, cy)])
        for step in range(1, 6):
            touch("touchMove", [(cx + 150 - 60 * step, cy)])
        touch("touchEnd", [])
        expect(page.locator("#viewer .viewer-where")).to_contain_text("VB 3 · trang 2/3")


@pytest.mark.parametrize("size", [(1280, 800), (800, 480)])
def test_a_field_shows_the_box_it_was_read_from(reviewed: Reviewed, size: tuple[int, int]) -> None:
    tag = f"{size[0]}x{size[1]}"
    doc = reviewed.docs()[2]  # three pages: "Nơi nhận" and the signer are on the last
    with chromium() as browser:
        context = browser.new_context(
            viewport={"width": size[0], "height": size[1]}, locale="vi-VN"
        )
        page = _open(context, reviewed, 3, 1)
        viewer = page.locator("#viewer")
        _shot(page, f"plain-{tag}")
        for name, on in (("ToPlaces", -1), ("CodeNumber", 0), ("Subject", 0)):
            box = doc.readings[name]["box"]
            viewer.locator(f"button.f-{name}").click()
            expect(viewer.locator(".viewer-box")).to_be_visible()
            expect(viewer.locator(".viewer-where")).to_contain_text(
                f"VB 3 · trang {len(doc.pages) if on else 1}/{len(doc.pages)}"
            )
            expect(viewer.locator(".viewer-img")).to_have_attribute(
                "src", f"/work/{doc.pages[on].clean}"
            )
            expect(viewer.locator(".viewer-img")).to_have_js_property("complete", True)
            _, _, w_mm, h_mm = _image_mm(reviewed, doc.pages[on])
            # zoomed onto the box, which lies where the reading says on the page
            assert _scale(page) > 1
            until(
                lambda box=box, w=w_mm, h=h_mm: _near(  # type: ignore[misc]
                    _rect(page, "#viewer .viewer-box"),
                    _expected(_rect(page, "#viewer .viewer-img"), box, (w, h)),
                ),
                5,
                0.1,
            )
            highlight = _rect(page, "#viewer .viewer-box")
            stage = _rect(page, "#viewer .viewer-stage")
            assert stage["x"] <= highlight["x"] and highlight["x"] + highlight["width"] <= (
                stage["x"] + stage["width"] + 1
            )
            expect(viewer.locator(f"button.f-{name}")).to_have_attribute("aria-pressed", "true")
            if name == "Subject":
                _shot(page, f"field-{tag}")
        # the fields and every control in reach of a finger; ✕ on the screen
        assert _small_targets(page) == []
        close = _rect(page, "#viewer [data-act=close]")
        assert close["x"] >= 0 and close["y"] >= 0
        assert close["x"] + close["width"] <= size[0] and close["y"] + close["height"] <= size[1]
        viewer.locator("[data-act=in]").click()
        assert _small_targets(page) == []


def test_escape_close_and_back_close_it(reviewed: Reviewed) -> None:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 800, "height": 480}, locale="vi-VN")
        page = context.new_page()
        page.goto(reviewed.url)
        # what the form shows, saved or not
        subject = page.locator("article.doc").first.locator('textarea[name="Subject"]')
        subject.fill("Về việc sửa chưa lưu")
        page.locator("article.doc").first.locator("figure.thumb img").first.click()
        expect(page.locator("#viewer button.f-Subject .value")).to_have_text("Về việc sửa chưa lưu")
        address = page.url
        page.keyboard.press("Escape")
        expect(page.locator("#viewer")).to_be_hidden()
        assert page.url == address
        page.locator("article.doc").first.locator("figure.thumb img").first.click()
        expect(page.locator("#viewer")).to_be_visible()
        page.locator("#viewer [data-act=close]").click()
        expect(page.locator("#viewer")).to_be_hidden()
        page.locator("article.doc").first.locator("figure.thumb img").first.click()
        expect(page.locator("#viewer")).to_be_visible()
        page.go_back()
        expect(page.locator("#viewer")).to_be_hidden()
        assert page.url == address  # still the batch: Back closed the viewer only
        # a field to correct: the viewer closes on the form's field
        page.locator("article.doc").first.locator("figure.thumb img").first.click()
        page.locator("#viewer button.f-CodeNumber").click()
        page.locator("#viewer .viewer-chosen button").click()
        expect(page.locator("#viewer")).to_be_hidden()
        focused = page.locator("article.doc").first.locator('input[name="CodeNumber"]')
        expect(focused).to_be_focused()
        assert page.url == address
        # from the keyboard: each page's ⤢ button opens it, Escape gives the focus back
        opener = page.locator("article.doc").first.locator("button.open-page").first
        opener.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#viewer")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.locator("#viewer")).to_be_hidden()
        expect(opener).to_be_focused()
        # the caption still opens the page's actions
        page.locator("article.doc").first.locator("figure.thumb .caption").first.click()
        expect(page.locator("article.doc details.page[open] .page-actions")).to_be_visible()
        expect(page.locator("#viewer")).to_be_hidden()


def test_a_page_moves_to_another_document_in_two_taps(reviewed: Reviewed) -> None:
    docs = reviewed.docs()
    moved = docs[0].pages[-1]
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 800, "height": 480}, locale="vi-VN")
        page = context.new_page()
        page.goto(reviewed.url)
        taps = 0

        def tap(locator: Any) -> None:
            nonlocal taps
            taps += 1
            locator.click()

        tap(page.locator(f'figure.thumb[data-page="{moved.page_id}"] img'))
        tap(page.locator("#viewer .viewer-targets button", has_text="Chuyển sang VB 2"))
        assert taps <= 3
        until(lambda: reviewed.counter.station.review.page(moved.page_id).doc_id == docs[1].doc_id)
        after = reviewed.docs()
        assert [p.page_id for p in after[1].pages][-1] == moved.page_id  # last in VB 2
        assert moved.page_id not in [p.page_id for p in after[0].pages]
        # the screen follows: the viewer still shows the page, now in VB 2
        expect(page.locator("#viewer .viewer-where")).to_contain_text("VB 2 · trang 2/2")
        expect(page.locator("#viewer .viewer-status")).to_contain_text("VB 2")
        expect(page.locator("article.doc").nth(1).locator("figure.thumb")).to_have_count(2)


def test_a_page_s_actions_stay_open_through_a_refresh(reviewed: Reviewed) -> None:
    """The screen refreshes whenever the station says something about the batch;
    the page's actions the clerk has open, and what was chosen in them, stay."""
    docs = reviewed.docs()
    figure = f'figure.thumb[data-page="{docs[2].pages[-1].page_id}"]'
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
        page = context.new_page()
        page.goto(reviewed.url)
        expect(page.locator("article.doc")).to_have_count(3)
        page.locator(f"{figure} summary .caption").click()
        target = page.locator(f"{figure} form.move select[name=doc]")
        target.select_option(str(docs[0].doc_id))
        page.evaluate("document.querySelector('#batch article.doc').dataset.before = '1'")
        reviewed.counter.station.hub.publish("batch", batch=reviewed.batch)
        # the documents were drawn anew...
        expect(page.locator("article.doc[data-before]")).to_have_count(0, timeout=10_000)
        expect(page.locator("article.doc")).to_have_count(3)
        # ...and the sheet is open as it was, with the clerk's choice
        expect(page.locator(f"{figure} details.page")).to_have_attribute("open", "")
        expect(page.locator(f"{figure} form.move select[name=doc]")).to_be_visible()
        expect(page.locator(f"{figure} form.move select[name=doc]")).to_have_value(
            str(docs[0].doc_id)
        )
        expect(page.locator("details.page[open]")).to_have_count(1)


def test_the_boxes_are_on_the_page_they_were_read_from_and_turn_with_it(
    reviewed: Reviewed,
) -> None:
    doc = reviewed.docs()[2]
    first, last = doc.pages[0], doc.pages[-1]

    def boxes() -> Any:
        url = f"{reviewed.counter.url}/doc/{doc.doc_id}/boxes"
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback
            return json.load(answer)

    found = boxes()
    box = doc.readings["CodeNumber"]["box"]
    assert found["fields"]["CodeNumber"] == {"page": first.page_id, "box": box}
    assert found["fields"]["SignerName"]["page"] == last.page_id  # the closing: the last page
    assert found["fields"]["ToPlaces"]["page"] == last.page_id
    assert "Priority" not in found["fields"]  # read, but from no place on the page
    _, _, w_mm, h_mm = _image_mm(reviewed, first)
    assert 205 < w_mm < 215 and 292 < h_mm < 302  # A4, as scanned
    size = [pytest.approx(w_mm, abs=0.01), pytest.approx(h_mm, abs=0.01)]
    assert found["pages"][str(first.page_id)] == {"mm": size, "turn": 0}
    # turned by the clerk after it was read: the box is where it was on the paper
    reviewed.counter.station.rotate(first.page_id, 1)
    try:
        assert boxes()["pages"][str(first.page_id)] == {"mm": size, "turn": 0}
        with chromium() as browser:
            context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
            page = _open(context, reviewed, 3, 1)
            expect(page.locator("#viewer .viewer-img")).to_have_attribute(
                "src", f"/work/{first.clean}"
            )
            page.locator("#viewer button.f-CodeNumber").click()
            expect(page.locator("#viewer .viewer-box")).to_be_visible()
            img = _rect(page, "#viewer .viewer-img")  # the turned picture's frame
            assert img["width"] > img["height"]
            # a quarter turn clockwise: x from the bottom edge, y from the left
            left, top = 1 - box[3] / h_mm, box[0] / w_mm
            wanted = {
                "x": img["x"] + left * img["width"],
                "y": img["y"] + top * img["height"],
                "width": (box[3] - box[1]) / h_mm * img["width"],
                "height": (box[2] - box[0]) / w_mm * img["height"],
            }
            assert _near(_rect(page, "#viewer .viewer-box"), wanted)
            _shot(page, "turned-field-1280x800")
    finally:
        reviewed.counter.station.rotate(first.page_id, -1)


@pytest.mark.parametrize(("size", "n"), [((1280, 800), 1), ((800, 480), 2)])
def test_a_field_to_check_shows_the_crop_it_was_read_from(
    reviewed: Reviewed, size: tuple[int, int], n: int
) -> None:
    """A field marked "cần kiểm tra" shows, beside it on the wide screen and
    under it on the small one, the place on the page it was read from, captioned
    "Đọc từ trang"; the crop stays, as read, while the clerk corrects the field
    and after it is saved; a tap on it opens the page viewer zoomed onto that
    place, and Escape comes back to it. (A document of its own at each size: a
    field once saved is the clerk's, never marked again.)"""
    tag = f"{size[0]}x{size[1]}"
    station = reviewed.counter.station
    doc = reviewed.docs()[n - 1]
    subject = str(doc.metadata["Subject"])
    readings = {
        **doc.readings,
        "Subject": {**doc.readings["Subject"], "confidence": 0.5, "code": "marks_disagree",
                    "read": subject.replace("ệ", "ể")},
    }  # fmt: skip
    station.review.set_read(
        doc.doc_id, {**doc.metadata, "Subject": None}, str(doc.pdf), doc.warnings, readings
    )
    try:
        with chromium() as browser:
            context = browser.new_context(
                viewport={"width": size[0], "height": size[1]}, locale="vi-VN"
            )
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(reviewed.url)
            field = page.locator("article.doc").nth(n - 1).locator("label.f-Subject")

            def textarea_of(label: Any) -> Any:
                return label.locator('textarea[name="Subject"]')

            expect(field.locator(".check-badge")).to_have_text("cần kiểm tra")
            crop = field.locator("button.crop-open img")
            field.scroll_into_view_if_needed()
            expect(crop).to_have_js_property("complete", True)
            expect(crop).to_have_attribute("alt", "Ô «Trích yếu» như đã đọc trên trang 1")
            expect(field.locator(".crop-caption")).to_have_text("Đọc từ trang")
            natural = crop.evaluate("i => [i.naturalWidth, i.naturalHeight]")
            assert natural == [int(crop.get_attribute(k) or 0) for k in ("width", "height")]
            assert natural[0] > 300  # the whole subject, at its own size
            shown, typed = (
                _rect(page, "#doc-" + doc.doc_id + " label.f-Subject .crop img"),
                (_rect(page, "#doc-" + doc.doc_id + ' label.f-Subject textarea[name="Subject"]')),
            )
            if size[0] >= 1000:  # beside the field, level with it
                assert shown["x"] >= typed["x"] + typed["width"]
                assert shown["y"] < typed["y"] + typed["height"]
            else:  # under it
                assert shown["y"] >= typed["y"] + typed["height"]
            assert shown["x"] >= 0 and shown["x"] + shown["width"] <= size[0]
            # the print at its size, or nearly: at least 4.5 pixels a millimetre
            assert shown["width"] >= 0.75 * natural[0]
            # the field is named by its title and its mark, not by the picture
            name = page.evaluate(
                "id => document.getElementById(id).textContent", f"l-{doc.doc_id}-Subject"
            )
            expect(textarea_of(field)).to_have_accessible_name(f"{name} cần kiểm tra")
            page.screenshot(path=artifacts() / f"crop-{tag}.png")
            source = crop.get_attribute("src")

            # corrected: the crop stays as read; saved, it is still there
            textarea = textarea_of(field)
            textarea.fill(subject)
            expect(crop).to_be_visible()
            field.locator("..").locator("button.save").click()
            until(lambda: "Subject" in station.review.document(doc.doc_id).edited, 10, 0.1)
            expect(field.locator(".check-badge")).to_have_count(0)
            expect(field.locator("button.crop-open img")).to_have_attribute("src", source or "")
            expect(field.locator(".crop-caption")).to_have_text("Đọc từ trang")

            # a tap on the crop: the page viewer, zoomed onto the place
            field.locator("button.crop-open").click()
            viewer = page.locator("#viewer")
            expect(viewer).to_be_visible()
            expect(viewer.locator("button.f-Subject")).to_have_attribute("aria-pressed", "true")
            expect(viewer.locator(".viewer-box")).to_be_visible()
            expect(viewer.locator(".viewer-where")).to_contain_text(
                f"VB {n} · trang 1/{len(doc.pages)}"
            )
            until(lambda: _scale(page) > 1, 5, 0.1)
            page.screenshot(path=artifacts() / f"crop-viewer-{tag}.png")
            page.keyboard.press("Escape")
            expect(viewer).to_be_hidden()
            expect(field.locator("button.crop-open")).to_be_focused()
            assert errors == []
    finally:
        if station.review.document(doc.doc_id).metadata.get("Subject") != subject:
            station.set_field(doc.doc_id, "Subject", subject)
        assert station.review.document(doc.doc_id).metadata["Subject"] == subject
