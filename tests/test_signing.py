"""Certified copies signed with a real PKCS#11 token (SoftHSM2) and a test CA:
the signature validates with pyHanko's validator, a changed byte breaks it, the
copy's text stands at the top right of page 1 over no ink, the file stays
PDF/A-2b; a wrong PIN or a missing token is a clear error and the document waits."""

from __future__ import annotations

import http.server
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta, timezone
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest

from station.config import SigningSection
from station.demo.samples import SAMPLE_DOCUMENTS, render_document
from station.errors import SigningError
from station.ocr.pdf import make_pdf
from station.records.signing import Signer, is_signed
from station.records.verify import verify
from station.store import Store
from tests.helpers.cli import scanstation
from tests.helpers.pki import Pki
from tests.helpers.softhsm import MODULE, SoftHsm

pytestmark = pytest.mark.slow

AGENCY = "Viện kiểm sát nhân dân tỉnh Thanh Hóa"
VIETNAM = timezone(timedelta(hours=7))


@dataclass
class Keys:
    pki: Pki
    hsm: SoftHsm
    pin_file: Path
    p12: Path
    folder: Path

    def token(self, **changes: object) -> SigningSection:
        values: dict[str, object] = {
            "enabled": True,
            "key_store": "pkcs11",
            "pkcs11_module": MODULE,
            "token_label": self.hsm.label,
            "key_label": "signer",
            "pin_file": self.pin_file,
        }
        values.update(changes)
        return SigningSection.model_validate(values)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    folder = tmp_path_factory.mktemp("keys")
    pki = Pki(folder / "pki")
    cert, key = pki.issue("Vien kiem sat nhan dan tinh Thanh Hoa", signer=True, rsa=True)
    hsm = SoftHsm(folder / "hsm")
    hsm.add_key(key, cert)
    pin_file = folder / "pin"
    pin_file.write_text(hsm.pin + "\n", encoding="utf-8")
    pin_file.chmod(0o600)
    p12 = folder / "signer.p12"
    subprocess.run(
        ["openssl", "pkcs12", "-export", "-inkey", str(key), "-in", str(cert),
         "-out", str(p12), "-passout", f"pass:{hsm.pin}"],
        check=True, capture_output=True,
    )  # fmt: skip
    return Keys(pki, hsm, pin_file, p12, folder)


@pytest.fixture(scope="module")
def digitized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A digitized document as the station makes it: a PDF/A-2b with text."""
    folder = tmp_path_factory.mktemp("pdf")
    pages = []
    for n, image in enumerate(render_document(SAMPLE_DOCUMENTS[0], dpi=200), start=1):
        path = folder / f"p{n}.jpg"
        image.convert("RGB").save(path, "JPEG", quality=90, dpi=(200, 200))
        pages.append(path)
    return make_pdf(pages, folder / "document.pdf", languages=("vie",))


def _validate(pdf: Path, keys: Keys) -> object:
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(keys.pki.ca))])
    with pdf.open("rb") as stream:
        (signature,) = PdfFileReader(stream).embedded_signatures
        return validate_pdf_signature(signature, context)


def test_token_signature_validates_and_keeps_the_standard(
    keys: Keys, digitized: Path, tmp_path: Path
) -> None:
    signed = tmp_path / "sao-y.pdf"
    signer = Signer(keys.token(), AGENCY, tmp_path)
    assert signer.check()["ok"] is True
    when = signer.sign(digitized, signed)
    status = _validate(signed, keys)
    assert status.bottom_line and status.intact and status.valid and status.trusted  # type: ignore[attr-defined]
    assert status.coverage.name == "ENTIRE_FILE"  # type: ignore[attr-defined]
    # the time shown is the signature's own, in Vietnam time
    assert status.signer_reported_dt.astimezone(VIETNAM).replace(microsecond=0) == when  # type: ignore[attr-defined]
    report = verify(signed)
    assert report.ok, [c for c in report.checks if not c.ok]

    # the copy's text at the top right of page 1, over no ink of the page
    import pikepdf

    with pikepdf.open(signed) as pdf:
        (widget,) = [a for a in pdf.pages[0].Annots if a.get("/FT") == "/Sig"]
        x1, y1, x2, y2 = (float(v) for v in widget.Rect)
        width, height = (float(v) for v in pdf.pages[0].MediaBox[2:])
        appearance = widget.AP.N.read_bytes()
    assert x2 > width * 0.6 and y2 > height * 0.85, (x1, y1, x2, y2)
    assert b"/F1 10 Tf" in appearance  # 10 pt
    document = pdfium.PdfDocument(str(digitized))
    scale = 100 / 72
    page = np.asarray(document[0].render(scale=scale, grayscale=True).to_pil().convert("L"))
    document.close()
    under = page[round((height - y2) * scale) : round((height - y1) * scale),
                 round(x1 * scale) : round(x2 * scale)]  # fmt: skip
    assert under.min() > 160, "the text would cover the page's content"
    text = pdfium.PdfDocument(str(signed))
    text.init_forms()
    shown = text[0].render(scale=scale, may_draw_forms=True, grayscale=True).to_pil()
    text.close()
    drawn = np.asarray(shown.convert("L"))[
        round((height - y2) * scale) : round((height - y1) * scale),
        round(x1 * scale) : round(x2 * scale),
    ]
    assert drawn.min() < 80  # black text is there
    with pikepdf.open(signed) as pdf:
        shown_text = [
            str(operand["/ActualText"])
            for instruction in pikepdf.parse_content_stream(pdf.pages[0].Annots[0].AP.N)
            for operand in getattr(instruction, "operands", [])
            if isinstance(operand, pikepdf.Dictionary) and "/ActualText" in operand
        ]
    assert " ".join(shown_text) in (
        f"Sao y {AGENCY} {when.isoformat()}",
        f"Sao y {when.isoformat()} {AGENCY}",
    )
    assert when.isoformat().endswith("+07:00")

    # a changed byte breaks it
    data = bytearray(signed.read_bytes())
    stream_at = data.index(b"stream", len(data) // 3) + 20
    data[stream_at] ^= 0x01
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    broken = _validate(tampered, keys)
    assert not broken.intact and not broken.bottom_line  # type: ignore[attr-defined]


def test_pkcs12_key_file(keys: Keys, digitized: Path, tmp_path: Path) -> None:
    section = keys.token(key_store="pkcs12", pkcs12_file=keys.p12, pkcs11_module=None)
    signed = tmp_path / "p12.pdf"
    Signer(section, AGENCY, tmp_path).sign(digitized, signed)
    assert _validate(signed, keys).bottom_line  # type: ignore[attr-defined]
    # a confirmation taken up again after a restart sees the signature
    assert is_signed(signed) and not is_signed(digitized)


@pytest.fixture
def time_stamp_server(keys: Keys) -> Iterator[str]:
    """An RFC 3161 server on loopback, answering with pyHanko's test time stamper."""
    from asn1crypto import tsp
    from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    cert, key = keys.pki.issue("tsa", rsa=True)
    ext = keys.pki.folder / "tsa.ext"
    ext.write_text("basicConstraints=CA:FALSE\nextendedKeyUsage=critical,timeStamping\n")
    subprocess.run(
        ["openssl", "x509", "-req", "-in", str(keys.pki.folder / "tsa.csr"),
         "-CA", str(keys.pki.ca), "-CAkey", str(keys.pki.ca_key), "-CAcreateserial",
         "-out", str(cert), "-days", "2", "-extfile", str(ext)],
        check=True, capture_output=True,
    )  # fmt: skip
    stamper = DummyTimeStamper(
        tsa_cert=load_cert_from_pemder(str(cert)),
        tsa_key=load_private_key_from_pemder(str(key), passphrase=None),
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = tsp.TimeStampReq.load(body)
            answer = stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_with_a_time_stamp_server_the_signature_is_b_t(
    keys: Keys, digitized: Path, tmp_path: Path, time_stamp_server: str
) -> None:
    signed = tmp_path / "bt.pdf"
    Signer(keys.token(timestamp_url=time_stamp_server), AGENCY, tmp_path).sign(digitized, signed)
    status = _validate(signed, keys)
    assert status.bottom_line  # type: ignore[attr-defined]
    assert status.timestamp_validity is not None and status.timestamp_validity.intact  # type: ignore[attr-defined]
    assert verify(signed).ok


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"pin_file": "WRONG"}, "refused the PIN"),
        ({"token_label": "no-such-token"}, "not there"),
        ({"pkcs11_module": Path("/usr/lib/nowhere/libtoken.so")}, "library"),
        ({"key_label": "nobody"}, "not on the token"),
    ],
)
def test_token_failures_are_clear(
    keys: Keys, digitized: Path, tmp_path: Path, change: dict[str, object], why: str
) -> None:
    if change.get("pin_file") == "WRONG":
        wrong = tmp_path / "wrong-pin"
        wrong.write_text("000000\n")
        change = {"pin_file": wrong}
    signer = Signer(keys.token(**change), AGENCY, tmp_path)
    with pytest.raises(SigningError, match=why) as failed:
        signer.sign(digitized, tmp_path / "out.pdf")
    assert failed.value.message_vi != failed.value.message_en
    assert not (tmp_path / "out.pdf").exists()
    assert signer.check()["ok"] is False


def test_sign_command(keys: Keys, digitized: Path, tmp_path: Path) -> None:
    config = tmp_path / "station.toml"
    config.write_text(
        f'[station]\nunit_name = "{AGENCY}"\ndata_dir = "{tmp_path / "data"}"\n'
        f'[signing]\nkey_store = "pkcs11"\npkcs11_module = "{MODULE}"\n'
        f'token_label = "{keys.hsm.label}"\nkey_label = "signer"\npin_file = "{keys.pin_file}"\n',
        encoding="utf-8",
    )
    out = tmp_path / "signed.pdf"
    done = scanstation("sign", str(digitized), "--out", str(out), "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert "Đã ký / signed" in done.stdout and _validate(out, keys).bottom_line  # type: ignore[attr-defined]
    (tmp_path / "bad-pin").write_text("111111\n")
    config.write_text(config.read_text().replace(str(keys.pin_file), str(tmp_path / "bad-pin")))
    refused = scanstation(
        "sign", str(digitized), "--out", str(tmp_path / "x.pdf"), "--config", str(config)
    )
    assert refused.returncode == 12 and "PIN" in refused.stderr
    assert "111111" not in refused.stderr + refused.stdout


def test_a_document_waits_for_its_signature(keys: Keys, digitized: Path, tmp_path: Path) -> None:
    """Signing on, the token refuses: the document is held, not sent unsigned;
    once the PIN is right it is signed and queued."""
    from station.appliance.station import Station
    from station.config import Config
    from station.config.remote import Settings

    wrong = tmp_path / "pin"
    wrong.write_text("000000\n")
    config = Config.model_validate(
        {
            "station": {"id": "st-sign", "unit_name": AGENCY, "data_dir": str(tmp_path / "data")},
            "scanner": {"device": f"folder:{tmp_path}"},
            "signing": keys.token(pin_file=wrong).model_dump(),
        }
    )
    store = Store(config.station.data_dir)
    station = Station(Settings(config), store, connect=False)
    try:
        pdf = tmp_path / "d1.pdf"
        pdf.write_bytes(digitized.read_bytes())
        assert station.processor.confirmation.sign("d1", pdf) is False
        store.outbox.enqueue("d1", pdf, {}, 65536, held=True)
        assert store.outbox.item("d1").state == "held"
        assert [e.type for e in store.events.since()] == ["signing.failed"]
        status = station.status()
        assert status["held"] == 1 and status["signing"]["ok"] is False
        assert station.stats.snapshot()["signing"]["ok"] is False
        # the PIN is put right: the next try signs and releases it
        wrong.write_text(keys.hsm.pin + "\n")
        station.processor.confirmation.release_held()
        item = store.outbox.item("d1")
        assert item.state == "queued" and item.size == pdf.stat().st_size
        assert _validate(pdf, keys).bottom_line  # type: ignore[attr-defined]
        assert station.status()["signing"]["ok"] is True
    finally:
        store.close()


def test_a_refused_signed_document_is_sent_again_signed_once(
    keys: Keys, digitized: Path, tmp_path: Path
) -> None:
    """Gửi lại on a signing station: the corrected copy loses the old signature
    (it would no longer hold), keeps the standard, and is signed once again."""
    from station.appliance.station import Station
    from station.config import Config
    from station.config.remote import Settings
    from station.records import xmp

    section = keys.token(key_store="pkcs12", pkcs12_file=keys.p12, pkcs11_module=None)
    config = Config.model_validate(
        {
            "station": {"id": "st-sign", "unit_name": AGENCY, "data_dir": str(tmp_path / "data")},
            "scanner": {"device": f"folder:{tmp_path}"},
            "signing": section.model_dump(),
        }
    )
    store = Store(config.station.data_dir)
    station = Station(Settings(config), store, connect=False)
    try:
        pdf = tmp_path / "d1.pdf"
        pdf.write_bytes(digitized.read_bytes())
        assert station.processor.confirmation.sign("d1", pdf) is True
        meta = {"Registration": "DEN-2026-000123", "Subject": "Về việc cũ", "BatchId": "b1"}
        item = store.outbox.enqueue("d1", pdf, meta, 65536)
        store.outbox.record_receipt("d1", "01", {"status": "01", "sha256": item.sha256})
        store.outbox.record_receipt("d1", "02", {"status": "02", "description": "Sai trích yếu"})
        copy = station.resend("d1", {"Subject": "Về việc mới"})
        assert copy.doc_id == "d1-r01" and copy.state == "queued"
        assert copy.metadata["Supersedes"] == {
            "doc_id": "d1", "how": "update", "reason": "Sai trích yếu",
        }  # fmt: skip
        assert xmp.read(copy.path)["Subject"] == "Về việc mới"
        assert _validate(copy.path, keys).bottom_line  # type: ignore[attr-defined]
        assert verify(copy.path).problems() == []
        # the refused document's file is untouched, its signature still holds
        assert _validate(pdf, keys).bottom_line  # type: ignore[attr-defined]
        assert store.outbox.item("d1").answered_by == "d1-r01"
    finally:
        store.close()


@pytest.mark.parametrize("directions", [["incoming"], ["outgoing"]])
def test_the_office_chooses_which_documents_are_signed(
    keys: Keys, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, directions: list[str]
) -> None:
    """``[signing] directions``: an outgoing batch is signed only where the
    office wants certified copies of what it sends (docs/outgoing.md)."""
    from station.appliance.station import Station
    from station.config import Config
    from station.config.remote import Settings
    from station.records.signing import is_signed
    from tests.helpers.wait import until
    from tests.test_outgoing import _stack

    scans = _stack(tmp_path_factory.mktemp("sent"))
    signing = keys.token().model_dump() | {"directions": directions}
    config = Config.model_validate(
        {
            "station": {"id": "st-sign", "unit_name": AGENCY, "data_dir": str(tmp_path / "data"),
                        "default_direction": "outgoing"},
            "scanner": {"device": f"folder:{scans}"},
            "signing": signing,
        }
    )  # fmt: skip
    store = Store(config.station.data_dir)
    station = Station(Settings(config), store, connect=False)
    station.start()
    try:
        assert station.scan()
        batch: str = until(lambda: station.last_batch, 60, 0.1)
        until(lambda: store.batch(batch).state == "review", 300, 0.2)
        until(lambda: not station.processor.batches[batch].reading, 300, 0.2)
        station.confirm(batch, despite=True)
        until(lambda: store.batch(batch).state == "done", 180, 0.2)
        docs = station.review.documents(batch)
        assert len(docs) == 2
        for doc in docs:
            item = store.outbox.item(doc.doc_id)
            assert item.metadata["Direction"] == "outgoing"
            assert is_signed(Path(item.path)) == ("outgoing" in directions)
    finally:
        station.stop()
        store.close()
