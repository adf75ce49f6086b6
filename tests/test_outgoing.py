"""Outgoing documents (docs/outgoing.md): a batch is received or sent, chosen on
the scan screen or by a cover sheet, and a sent one is delivered as such."""

from __future__ import annotations

import dataclasses
import io
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from PIL import Image

from station.appliance.station import Station
from station.config import Config
from station.config.remote import Settings
from station.demo.samples import (
    SAMPLE_DOCUMENTS,
    blank_back,
    cover_sheet,
    render_document,
    scan_effects,
    separator_sheet,
)
from station.errors import ConfigError, InputError
from station.records.register import Register
from station.store import Store
from station.ui import Services, WebSettings, create_app
from tests.helpers.cli import scanstation
from tests.helpers.wait import until

#: two documents of this agency, signed and sent: no registration label
SENT = [dataclasses.replace(spec, registration=None) for spec in SAMPLE_DOCUMENTS[1:3]]


def _stack(folder: Path, cover: str | None = None) -> Path:
    """The sent documents with a separator sheet between them (and a cover sheet on top)."""
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    sheets: list[Image.Image] = []
    if cover:
        sheets += [cover_sheet(cover, "VANBANDI" if cover == "outgoing" else "VANBANDEN")]
    for n, spec in enumerate(SENT):
        if n:
            sheets.append(separator_sheet())
        for page in render_document(spec, 200):
            sheets += [page, blank_back(page, rng)]
    for number, sheet in enumerate(sheets, start=1):
        buf = io.BytesIO()
        scan_effects(sheet, rng, 200).save(buf, format="JPEG", quality=88, dpi=(200, 200))
        (folder / f"scan_{number:04d}.jpg").write_bytes(buf.getvalue())
    return folder


@pytest.fixture(scope="module")
def plain_stack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _stack(tmp_path_factory.mktemp("sent"))


def _station(tmp_path: Path, scans: Path, direction: str = "incoming") -> Station:
    config = Config.model_validate(
        {
            "station": {
                "id": "st-out",
                "data_dir": str(tmp_path / "data"),
                "default_direction": direction,
            },
            "scanner": {"device": f"folder:{scans}"},
        }
    )
    station = Station(Settings(config), Store(config.station.data_dir), connect=False)
    station.start()
    return station


@pytest.fixture
def station(tmp_path: Path, plain_stack: Path) -> Iterator[Station]:
    st = _station(tmp_path, plain_stack)
    yield st
    st.stop()
    st.store.close()


def _scanned(station: Station) -> str:
    assert station.scan()
    batch: str = until(lambda: station.last_batch, 60, 0.1)
    until(lambda: station.store.batch(batch).state == "review", 300, 0.2)
    until(lambda: not station.processor.batches[batch].reading, 300, 0.2)
    return batch


def _client(station: Station) -> FlaskClient:
    web = WebSettings(data_dir=station.store.data_dir)
    return create_app(web, Services(station=station)).test_client()


def _token(client: FlaskClient, path: str = "/") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found is not None
    return found.group(1)


def test_the_scan_screens_choice_makes_the_batch_outgoing(station: Station) -> None:
    client = _client(station)
    shown = client.get("/").get_data(as_text=True)
    assert 'value="incoming" class="direction direction-incoming" aria-pressed="true"' in shown
    assert "Quét văn bản đến" in shown
    answer = client.post("/direction", data={"csrf_token": _token(client), "direction": "outgoing"})
    assert answer.status_code == 302
    shown = client.get("/").get_data(as_text=True)
    assert 'value="outgoing" class="direction direction-outgoing" aria-pressed="true"' in shown
    assert "Quét văn bản đi" in shown and station.status()["direction"] == "outgoing"
    refused = client.post("/direction", data={"csrf_token": _token(client), "direction": "đi"})
    assert refused.status_code == 400 and station.direction == "outgoing"

    batch = _scanned(station)
    assert station.store.batch(batch).direction == "outgoing"
    docs = station.review.documents(batch)
    assert len(docs) == 2  # split by the separator sheet, no label needed
    assert all(d.registration is None for d in docs)
    assert not [w for d in docs for w in d.warnings if w["code"] == "no_registration"]
    assert not [f for f in station.findings(batch) if f.code == "no_registration"]
    assert all(station.review.clean(d) for d in docs)  # may count down: no label wanted
    page = client.get(f"/batch/{batch}").get_data(as_text=True)
    assert 'data-direction="outgoing"' in page and "Văn bản đi" in page

    station.confirm(batch, despite=True)
    until(lambda: station.store.batch(batch).state == "done", 180, 0.2)
    for doc in docs:
        item = station.store.outbox.item(doc.doc_id)
        assert item.metadata["Direction"] == "outgoing"
        assert "ArrivalNumber" not in item.metadata  # no Số đến: not in the Sổ đến
    assert Register(station.store).numbers(int(batch[:4])) == []
    months = station.store.digitized_by_month("2000-01")
    assert sum(m["outgoing"] for m in months.values()) == 2
    assert sum(m["incoming"] for m in months.values()) == 0


def test_a_batch_changes_direction_under_review(station: Station) -> None:
    """Scanned as received by mistake: "Văn bản chưa có nhãn số đến" on each;
    "Đổi thành văn bản đi" takes the question away, and back again."""
    batch = _scanned(station)
    docs = station.review.documents(batch)
    assert station.store.batch(batch).direction == "incoming"
    assert all("no_registration" in [w["code"] for w in d.warnings] for d in docs)
    assert not any(station.review.clean(d) for d in docs)
    client = _client(station)
    token = _token(client, f"/batch/{batch}")
    assert "Đổi thành văn bản đi" in client.get(f"/batch/{batch}").get_data(as_text=True)
    moved = client.post(f"/batch/{batch}/direction",
                        data={"csrf_token": token, "direction": "outgoing"})  # fmt: skip
    assert moved.status_code == 302
    assert station.store.batch(batch).direction == "outgoing"
    docs = station.review.documents(batch)
    assert not [w for d in docs for w in d.warnings if w["code"] == "no_registration"]
    station.set_batch_direction(batch, "incoming")
    docs = station.review.documents(batch)
    assert all("no_registration" in [w["code"] for w in d.warnings] for d in docs)
    with pytest.raises(InputError):
        station.set_batch_direction(batch, "sideways")


def test_a_cover_sheet_makes_the_batch_outgoing_whatever_the_screen_said(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    scans = _stack(tmp_path_factory.mktemp("cover"), cover="outgoing")
    station = _station(tmp_path, scans)
    try:
        assert station.direction == "incoming"
        batch = _scanned(station)
        assert station.store.batch(batch).direction == "outgoing"
        docs = station.review.documents(batch)
        assert len(docs) == 2 and not [w for d in docs for w in d.warnings]
        # the cover sheet is dropped like a separator: no document starts with it
        kept = [p.page_id for d in docs for p in d.pages]
        first = station.review.pages(batch)[0]
        assert first.page_id not in kept
    finally:
        station.stop()
        station.store.close()


def test_process_takes_the_direction_from_the_cover_sheet_or_the_option(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, plain_stack: Path
) -> None:
    covered = _stack(tmp_path_factory.mktemp("pcover"), cover="outgoing")
    for inputs, extra, direction in (
        (covered, [], "outgoing"),
        (plain_stack, [], "incoming"),
        (plain_stack, ["--direction", "outgoing"], "outgoing"),
    ):
        out = tmp_path / f"out-{direction}-{len(extra)}-{inputs.name}"
        files = sorted(str(p) for p in inputs.glob("*.jpg"))
        done = scanstation("process", *files, "--out", str(out), "--no-ocr", *extra)
        assert done.returncode == 0, done.stderr
        batch = json.loads((out / "batch.json").read_text(encoding="utf-8"))
        assert batch["direction"] == direction
        codes = [w["code"] for d in batch["documents"] for w in d["warnings"]]
        assert ("no_registration" in codes) == (direction == "incoming")
        assert len(batch["documents"]) == 2


def test_cover_sheets_are_printed_and_their_texts_kept_apart(tmp_path: Path) -> None:
    from station.config import parse

    done = scanstation("labels", "--cover", "outgoing", "--count", "2",
                       "--out", str(tmp_path / "covers.pdf"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "VANBANDI" in done.stdout and (tmp_path / "covers.pdf").stat().st_size > 1000
    for text, key in (
        ('[pipeline]\noutgoing_sheet = "PATCHT"\n', "pipeline.outgoing_sheet"),
        ('[pipeline]\nincoming_sheet = "VANBANDI"\n', "pipeline.incoming_sheet"),
        ('[pipeline]\noutgoing_sheet = "DEN-2026-000001"\n', "pipeline.outgoing_sheet"),
        ('[station]\ndefault_direction = "sideways"\n', "station.default_direction"),
    ):
        with pytest.raises(ConfigError) as refused:
            parse(text)
        assert f"'{key}'" in refused.value.message_en, refused.value.message_en


@pytest.mark.slow
def test_the_direction_on_the_counters_screens(station: Station) -> None:
    """In Debian's chromium at 800×480 and 1280×800: the two buttons on the scan
    screen, each a finger's size, the chosen one marked; the batch's direction
    beside its state; axe-core finds nothing serious."""
    from playwright.sync_api import expect

    from station.ui.app import WebServer
    from tests.helpers.axe import axe
    from tests.helpers.broker import free_port
    from tests.helpers.browser import artifacts, chromium, small_targets

    web = WebSettings(listen=f"127.0.0.1:{free_port()}", data_dir=station.store.data_dir)
    server = WebServer(create_app(web, Services(station=station)), web)
    server.start()
    shots = artifacts() / "outgoing"
    shots.mkdir(exist_ok=True)
    try:
        with chromium() as browser:
            for width, height in ((800, 480), (1280, 800)):
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(f"{server.url}/")
                page.locator("button.direction-outgoing").click()
                expect(page.locator("button.direction-outgoing")).to_have_attribute(
                    "aria-pressed", "true"
                )
                expect(page.locator("#scan-button")).to_have_text("Quét văn bản đi")
                assert small_targets(page, "button.direction, #scan-button") == []
                assert [v for v in axe(page) if v.impact in ("serious", "critical")] == []
                page.screenshot(path=shots / f"scan-{width}x{height}.png")
                page.close()
            batch = _scanned(station)
            for width, height in ((800, 480), (1280, 800)):
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(f"{server.url}/batch/{batch}")
                expect(page.locator("#batch-direction")).to_have_text("Văn bản đi")
                expect(page.locator("button.switch-direction")).to_have_text(
                    "Đổi thành văn bản đến"
                )
                assert [v for v in axe(page) if v.impact in ("serious", "critical")] == []
                page.screenshot(path=shots / f"batch-{width}x{height}.png")
                page.close()
    finally:
        server.stop()
