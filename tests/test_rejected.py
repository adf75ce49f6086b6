"""A document the agency's system refuses (receipt 02), with a real station, a
real mosquitto and the receiver: the refusal shown with its reason, answered by
"Gửi lại" (a corrected copy, ``Supersedes`` how update) or "Quét lại" (the next
scan replaces it, ``Supersedes`` how replace); in the browser, with screenshots
at 800×480 and 1280×800."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from station.appliance.station import Station
from station.central.receiver import Receiver
from station.config import Config
from station.config.remote import Settings
from station.records import xmp
from station.store import Store
from station.store.outbox import revision_id
from station.ui import Services, WebSettings, create_app
from station.ui.app import WebServer
from station.wire import topics
from station.wire.mqtt import Connection
from tests.helpers.axe import axe, failing
from tests.helpers.broker import Mosquitto, free_port
from tests.helpers.browser import artifacts, chromium, small_targets
from tests.helpers.wait import until

STATION = "vks-th-tc01"
REASON = "Sai trích yếu: thiếu năm 2024"
DMS = "Văn phòng VKSND tỉnh Thanh Hóa"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    server = Mosquitto(tmp_path_factory.mktemp("broker"))
    server.start()
    yield server
    server.stop()


@dataclass
class Desk:
    """The station at work, the receiver, and a stand-in for the DMS's statuses."""

    station: Station
    store: Store
    out: Path
    receiver: Connection
    dms: Connection
    server: WebServer | None = None

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        self.station.stop()
        self.receiver.stop()
        self.dms.stop()
        self.store.close()

    def client(self) -> FlaskClient:
        web = WebSettings(data_dir=self.store.data_dir)
        return create_app(web, Services(station=self.station)).test_client()

    def refuse(self, doc_id: str, **body: Any) -> None:
        """The DMS's 02 as the central side publishes it (docs/mqtt.md)."""
        payload = {
            "status": "02",
            "sha256": self.store.outbox.item(doc_id).sha256,
            "at": "2026-11-30T03:15:00+00:00",
            "description": REASON,
            "from": DMS,
            "staff": "Nguyễn Thị Hoa",
            **body,
        }
        self.publish(doc_id, payload)

    def publish(self, doc_id: str, payload: dict[str, Any]) -> None:
        topic = topics.receipt(STATION, doc_id)
        self.dms.publish(topic, json.dumps(payload, ensure_ascii=False).encode(), qos=1)

    def scanned(self) -> str:
        """Scan the stack and wait until the new batch is under review."""
        before = {b.id for b in self.store.batches()}
        assert until(lambda: self.station.scan(), 30, 0.2)
        batch: str = until(
            lambda: next((b.id for b in self.store.batches() if b.id not in before), None), 60, 0.1
        )
        until(lambda: self.store.batch(batch).state == "review", 300, 0.2)
        until(lambda: all(d.pdf and not d.stale for d in self.station.review.documents(batch)),
              300, 0.2)  # fmt: skip
        return batch

    def delivered(self, batch: str) -> list[str]:
        """Confirm the batch and wait for the receiver's 01 of each document."""
        self.station.confirm(batch, despite=True)
        docs = [d.doc_id for d in self.station.review.documents(batch)]
        until(lambda: all(self._received(d) for d in docs), 120, 0.2)
        return docs

    def _received(self, doc_id: str) -> bool:
        return self.store.outbox.has(doc_id) and self.store.outbox.item(doc_id).status == "01"

    def central_metadata(self, doc_id: str) -> dict[str, Any]:
        found: list[Path] = until(lambda: list(self.out.glob(f"{STATION}/*/*/{doc_id}.json")), 60)
        data: dict[str, Any] = json.loads(found[0].read_text(encoding="utf-8"))
        return data


def _desk(
    broker: Mosquitto, scans: Path, folder: Path, web: bool = False, **more: dict[str, Any]
) -> Desk:
    config = Config.model_validate(
        {
            "station": {"id": STATION, "data_dir": str(folder / "data")},
            "scanner": {"device": f"folder:{scans}"},
            "pipeline": {"auto_confirm_seconds": 0},
            "uplink": {"broker": broker.url, "segment_size": 65536},
            "ocr": {"jobs": 1},
            **more,
        }
    )
    out = folder / "central"
    receiver = Connection(broker.url, f"central-{folder.name}", clean_start=True)
    Receiver(receiver, out)
    receiver.start()
    dms = Connection(broker.url, f"dms-{folder.name}", clean_start=True)
    dms.start()
    assert receiver.connected.wait(10) and dms.connected.wait(10)
    store = Store(config.station.data_dir, owner=True)
    station = Station(Settings(config), store)
    server = None
    if web:
        settings = WebSettings(listen=f"127.0.0.1:{free_port()}", data_dir=config.station.data_dir)
        server = WebServer(create_app(settings, Services(station=station)), settings)
    station.start()
    if server is not None:
        server.start()
    return Desk(station, store, out, receiver, dms, server)


@pytest.fixture
def desk(broker: Mosquitto, one_document_scans: Path, tmp_path: Path) -> Iterator[Desk]:
    running = _desk(broker, one_document_scans, tmp_path)
    yield running
    running.stop()


def _token(client: FlaskClient, path: str = "/") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found is not None
    return found.group(1)


def _refusal(page: str, doc_id: str) -> str:
    """The red notice under a refused document's row on the outbox screen."""
    return page.split(f'data-refused="{doc_id}"', 1)[1].split("</tr>", 1)[0]


def test_a_revision_id_stays_a_doc_id_and_sorts_after_the_original() -> None:
    assert revision_id("20261130T101500-ab12-001", 1) == "20261130T101500-ab12-001-r01"
    assert revision_id("20261130T101500-ab12-001-r01", 2) == "20261130T101500-ab12-001-r02"
    assert revision_id("20261130T101500-ab12-001", 1) > "20261130T101500-ab12-001"
    assert revision_id("20261130T101500-ab12-001", 1) < "20261130T101500-ab12-002"
    long = revision_id("x" * 80, 3)
    assert len(long) == 80 and topics.SAFE_ID.fullmatch(long) and long.endswith("-r03")


def test_a_refusal_is_shown_and_answered_by_a_corrected_copy(desk: Desk) -> None:
    """Gửi lại: the 02 with its reason and who refused, a wrong field refused
    with the clerk's edit kept, then the corrected copy under a new doc id
    with Supersedes update; statuses for other documents are ignored."""
    (doc,) = desk.delivered(desk.scanned())
    client = desk.client()
    assert "bị từ chối" not in client.get("/").get_data(as_text=True)

    # statuses that name nothing the station sent, or another file, change nothing
    desk.publish("no-such-doc", {"status": "02", "sha256": "0" * 64, "description": "x"})
    desk.refuse(doc, sha256="1" * 64)
    time.sleep(1.0)
    assert desk.store.outbox.item(doc).status == "01"
    assert not desk.store.outbox.has("no-such-doc")
    assert desk.store.events.last_of(["delivery.rejected"]) == {}

    desk.refuse(doc)
    until(lambda: desk.store.outbox.item(doc).status == "02", 30)
    rejected = until(
        lambda: desk.store.events.last_of(["delivery.rejected"]).get("delivery.rejected"), 10
    )
    assert rejected.severity == "warning" and rejected.detail["reason"] == REASON
    assert rejected.detail["doc_id"] == doc and DMS in rejected.message_vi
    status = desk.store.events.last_of(["delivery.status"])["delivery.status"]
    assert status.severity == "info" and status.detail["status"] == "02"
    assert desk.station.stats.snapshot()["queue"]["rejected"] == 1

    page = client.get("/outbox").get_data(as_text=True)
    notice = _refusal(page, doc)
    assert "Bị từ chối" in notice and REASON in notice and DMS in notice
    assert "Nguyễn Thị Hoa" in notice and "Gửi lại" in notice and "Quét lại" in notice
    home = client.get("/").get_data(as_text=True)
    assert "1 văn bản bị từ chối" in home and 'id="refused-count"' in home
    english = desk.client()
    english.set_cookie("lang", "en")
    notice = _refusal(english.get("/outbox").get_data(as_text=True), doc)
    assert "Rejected" in notice and "Reason:" in notice and "Refused by:" in notice
    assert "Send again" in notice and "Scan again" in notice and "Bị từ chối" not in notice

    form = client.get(f"/outbox/{doc}/resend").get_data(as_text=True)
    number = desk.store.outbox.item(doc).metadata["CodeNumber"]
    assert REASON in form and f'name="CodeNumber" value="{number}"' in form
    token = _token(client, f"/outbox/{doc}/resend")
    subject = "Phối hợp rà soát hồ sơ thi hành án dân sự năm 2024"
    # a wrong number: refused beside its field, the clerk's corrections kept, nothing sent
    bad = client.post(
        f"/outbox/{doc}/resend",
        data={"csrf_token": token, "CodeNumber": "7a", "Subject": subject},
    )
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "chữ số" in text and subject in text and 'value="7a"' in text
    assert [i.doc_id for i in desk.store.outbox.items(("queued", "sent"))] == []

    good = client.post(
        f"/outbox/{doc}/resend",
        data={"csrf_token": token, "CodeNumber": number, "Subject": subject},
        headers={"Accept": "application/json"},
    )
    assert good.status_code == 200 and good.json is not None
    copy = good.json["doc_id"]
    assert copy == f"{doc}-r01" and copy > doc
    old = desk.store.outbox.item(doc)
    assert old.answered_by == copy and old.answer == "update"
    # the doc/{doc_id} payload: the corrected field and what it answers
    meta = desk.central_metadata(copy)
    assert meta["Supersedes"] == {"doc_id": doc, "how": "update", "reason": REASON}
    assert meta["Subject"] == subject and meta["DocId"] == copy
    assert xmp.read(desk.store.outbox.item(copy).path)["Subject"] == subject
    # one paper, one Số đến: its register entry follows the correction
    assert subject in desk.station.register.entry(doc).summary
    until(lambda: desk.store.outbox.item(copy).status == "01", 60)
    # answered: the home screen no longer warns; the outbox says how
    assert "bị từ chối" not in client.get("/").get_data(as_text=True)
    assert f"Đã gửi lại thành {copy}" in _refusal(client.get("/outbox").get_data(as_text=True), doc)
    # answered once only
    again = client.post(f"/outbox/{doc}/resend", data={"csrf_token": token, "Subject": subject})
    assert again.status_code == 400 and not desk.store.outbox.has(revision_id(doc, 2))


def test_quet_lai_marks_the_next_batch_and_it_replaces_the_refused_document(desk: Desk) -> None:
    """Quét lại: recorded in the store, cancelled and asked again on the scan
    screen; the next batch's first document carries the notice and goes out
    with Supersedes replace."""
    (doc,) = desk.delivered(desk.scanned())
    desk.refuse(doc, staff="")
    until(lambda: desk.store.outbox.item(doc).status == "02", 30)
    client = desk.client()
    token = _token(client, "/outbox")
    asked = client.post(f"/outbox/{doc}/rescan", data={"csrf_token": token})
    assert asked.status_code == 302 and asked.headers["Location"].endswith("/")
    home = client.get("/").get_data(as_text=True)
    assert 'id="rescan-banner"' in home and "Quét lại văn bản bị từ chối" in home
    # in the store: another process (or the station after a restart) reads it
    other = Store(desk.store.data_dir)
    try:
        assert other.outbox.rescan(waiting=True) is not None
    finally:
        other.close()
    client.post(f"/rescan/{doc}/cancel", data={"csrf_token": token, "next": "/"})
    assert desk.store.outbox.rescan(waiting=True) is None
    assert 'id="rescan-banner"' not in client.get("/").get_data(as_text=True)
    assert desk.store.outbox.item(doc).answered_by is None  # still to be answered
    client.post(f"/outbox/{doc}/rescan", data={"csrf_token": token})

    batch = desk.scanned()
    first = desk.station.review.documents(batch)[0].doc_id
    review = client.get(f"/batch/{batch}").get_data(as_text=True)
    card = review.split(f'data-doc="{first}"', 1)[1].split("</article>", 1)[0]
    assert f'data-replaces="{doc}"' in card and "Thay thế văn bản bị từ chối" in card
    assert REASON in card and "Hủy thay thế" in card
    assert 'id="rescan-banner"' not in client.get("/").get_data(as_text=True)

    (replacement,) = desk.delivered(batch)
    meta = desk.central_metadata(replacement)
    assert meta["Supersedes"] == {"doc_id": doc, "how": "replace", "reason": REASON}
    old = desk.store.outbox.item(doc)
    assert old.answered_by == replacement and old.answer == "replace"
    assert desk.store.outbox.rescan_state(doc) == "done"
    # the same label: the refused document's register entry, not a second one
    label = old.metadata["Registration"]
    rows = desk.store.query("SELECT doc_id FROM register WHERE registration = ?", (label,))
    assert [r["doc_id"] for r in rows] == [doc]
    outbox = client.get("/outbox").get_data(as_text=True)
    assert f"Đã quét lại thành {replacement}" in _refusal(outbox, doc)


def test_a_secret_document_never_answers_a_refusal(
    broker: Mosquitto, one_document_scans: Path, tmp_path: Path
) -> None:
    """On an independent LAN a document marked secret goes to its own root only:
    it never carries Supersedes, and the rescan waits for the next scan."""
    lan = {"network": "independent_lan", "secret_topic_root": "vks-mat/v1"}
    desk = _desk(broker, one_document_scans, tmp_path, security=lan)
    try:
        (doc,) = desk.delivered(desk.scanned())
        desk.refuse(doc)
        until(lambda: desk.store.outbox.item(doc).status == "02", 30)
        desk.station.plan_rescan(doc)
        batch = desk.scanned()
        (again,) = desk.station.review.documents(batch)
        desk.station.mark_secret(again.doc_id, "Mật")
        desk.station.confirm(batch, despite=True)
        until(lambda: desk.store.outbox.has(again.doc_id), 120)
        item = desk.store.outbox.item(again.doc_id)
        assert item.route == "secret" and "Supersedes" not in item.metadata
        assert desk.store.outbox.item(doc).answered_by is None
        assert desk.store.outbox.rescan(waiting=True) is not None  # for the next scan
    finally:
        desk.stop()


# ---------------------------------------------------------------------- in the browser


def _open(page: Page, url: str) -> None:
    """Go to ``url`` while the screen may be reloading itself (a receipt came):
    a navigation the page's own reload cut off is made again."""
    for _ in range(3):
        try:
            page.goto(url)
            return
        except PlaywrightError:
            page.wait_for_load_state("load")
    page.goto(url)


def _shots(page: Page, name: str) -> None:
    page.screenshot(path=artifacts() / f"station-{name}.png", full_page=True)


def _targets(page: Page) -> list[str]:
    return small_targets(page, "button, input, select, textarea, a.button, .lang")


def _checked(page: Page) -> list[str]:
    """What a finger cannot hit, and axe-core's serious findings, on the screen as it is."""
    return _targets(page) + [str(v) for v in failing(axe(page))]


@pytest.mark.slow
def test_the_clerk_taps_gui_lai_and_quet_lai(
    broker: Mosquitto, two_document_scans: Path, tmp_path: Path
) -> None:
    desk = _desk(broker, two_document_scans, tmp_path, web=True)
    try:
        first, second = desk.delivered(desk.scanned())
        desk.refuse(first)
        desk.refuse(second, description="Thiếu trang 2", staff="")
        until(lambda: len(desk.store.outbox.unanswered()) == 2, 30)
        assert desk.server is not None
        url = desk.server.url
        with chromium() as browser:
            context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            small = context.new_page()
            small.set_viewport_size({"width": 800, "height": 480})
            page.goto(f"{url}/")
            expect(page.locator("#rejected-line")).to_contain_text("2 văn bản bị từ chối")
            expect(page.locator("#refused-count")).to_contain_text("2")
            _shots(page, "refused-home-1280x800")
            small.goto(f"{url}/")
            _shots(small, "refused-home-800x480")
            assert _checked(small) == []

            page.locator("#rejected-line a.button").click()
            notice = page.locator(f'tr[data-refused="{first}"] .rejected-notice')
            expect(notice).to_contain_text(REASON)
            expect(notice).to_contain_text(DMS)
            _shots(page, "refused-outbox-1280x800")
            small.goto(f"{url}/outbox")
            _shots(small, "refused-outbox-800x480")
            assert _checked(small) == []

            # Gửi lại: the form prefilled, a wrong date refused, the edit kept
            notice.locator("a.resend").click()
            page.wait_for_url(f"**/outbox/{first}/resend")
            subject = page.locator("textarea[name=Subject]")
            subject.fill("Phối hợp rà soát hồ sơ năm 2024")
            page.locator("input[name=IssuedDate]").fill("31/02/2024")
            small.goto(page.url)
            _shots(small, "resend-800x480")
            assert _checked(small) == []
            page.locator("#resend-send").click()
            expect(page.locator("#resend-error")).to_be_visible()
            expect(page.locator("textarea[name=Subject]")).to_have_value(
                "Phối hợp rà soát hồ sơ năm 2024"
            )
            expect(page.locator('small[data-for="IssuedDate"]')).not_to_be_empty()
            _shots(page, "resend-error-1280x800")
            page.locator("input[name=IssuedDate]").fill("06/03/2024")
            page.locator("#resend-send").click()
            page.wait_for_url("**/outbox**")
            copy = revision_id(first, 1)
            expect(page.locator(f'tr[data-refused="{first}"] .answer')).to_contain_text(
                f"Đã gửi lại thành {copy}"
            )
            expect(page.locator("#refused-count")).to_contain_text("1")
            # the copy's receipt reloads the screen: tap once it is in
            until(lambda: desk.store.outbox.item(copy).status == "01", 60)
            _open(page, page.url)

            # Quét lại: the banner on the scan screen, the notice in the review
            page.locator(f'tr[data-refused="{second}"] button.rescan').click()
            page.wait_for_url(f"{url}/")
            expect(page.locator("#rescan-banner")).to_contain_text("Quét lại văn bản bị từ chối")
            _shots(page, "rescan-banner-1280x800")
            small.goto(f"{url}/")
            _shots(small, "rescan-banner-800x480")
            assert _checked(small) == []
            page.locator("#scan-button").click()
            page.wait_for_url("**/batch/**", timeout=20_000)
            expect(page.locator("#batch-state")).to_have_attribute(
                "data-state", "review", timeout=300_000
            )
            # the same two papers scanned again: the one under the refused label replaces it
            replaces = page.locator("article.doc").nth(1).locator("#replaces")
            expect(replaces).to_contain_text("Thay thế văn bản bị từ chối")
            expect(replaces).to_contain_text("Thiếu trang 2")
            expect(page.locator("article.doc").first.locator("#replaces")).to_have_count(0)
            _shots(page, "rescan-review-1280x800")
            small.goto(page.url)
            _shots(small, "rescan-review-800x480")
            assert _checked(small) == []
            # "Hủy thay thế": the batch goes out as new documents
            replaces.locator("button.cancel-replace").click()
            expect(page.locator("#replaces")).to_have_count(0, timeout=10_000)
            assert desk.store.outbox.rescan_state(second) == "cancelled"
            assert desk.store.outbox.item(second).answered_by is None
            assert errors == []
    finally:
        desk.stop()
