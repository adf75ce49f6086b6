"""The agency's digital signature on a digitized copy (docs/decree30.md#signature), with pyHanko.

A certified copy ("sao y") is the digitized PDF/A signed with the agency's key:

- PAdES (B-B; B-T when ``timestamp_url`` is set), SHA-256, one incremental
  update, so the file stays PDF/A-2b;
- the key on a PKCS#11 token (the agency's key device) or in a PKCS#12 file;
  the PIN from ``pin_file`` or ``SCANSTATION_SIGNING_PIN``, never argv or logs;
- no signature image: the visible text is the type of copy, the copying agency
  and the signing time (ISO 8601, +07:00), Liberation Serif (metric-compatible
  with Times New Roman) 10 pt, black, at the top right of page 1, in the
  nearest space there that has no ink (:func:`free_box`).

Every failure becomes a :class:`SigningError` with what to do.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from station.common.clock import VIETNAM
from station.config import SigningSection, read_secret
from station.errors import SigningError, StationError

log = logging.getLogger("scanstation.signing")

FONT_SIZE = 10
LEADING = 12
#: space kept between the text and the page's content, in points
MARGIN = 4.0
#: a band along the paper's edges where a scan shows shadows, not content
EDGE = 8.5
PADDING = 2.0
FIELD = "SaoY"


def is_signed(pdf: Path) -> bool:
    """Whether the PDF already carries the station's signature field (a
    confirmation cut off after signing is taken up again without signing twice)."""
    import pikepdf

    with pikepdf.open(pdf) as doc:
        form = doc.Root.get("/AcroForm")
        fields: Any = form.get("/Fields", []) if form is not None else []
        return any(str(field.get("/T", "")) == FIELD for field in fields)


def unsign(pdf: Path) -> None:
    """Take the station's signature (its field and the copy's text on page 1)
    off a copy about to be changed and signed again: a changed file keeps no
    signature that no longer holds."""
    import pikepdf

    with pikepdf.open(pdf, allow_overwriting_input=True) as doc:
        form = doc.Root.get("/AcroForm")
        if form is None:
            return

        def ours(obj: Any) -> bool:
            parent = obj.get("/Parent")
            named = str(obj.get("/T", "")) or (str(parent.get("/T", "")) if parent else "")
            return named == FIELD

        fields: Any = form.get("/Fields", [])
        kept = [f for f in fields if not ours(f)]
        if len(kept) == len(fields):
            return
        if kept:
            form.Fields = pikepdf.Array(kept)
        else:
            del doc.Root["/AcroForm"]
        for page in doc.pages:
            annots = page.obj.get("/Annots")
            if annots is not None:
                page.obj.Annots = pikepdf.Array([a for a in annots if not ours(a)])
        # the signer's declaration of the PAdES extension goes with its signature
        extensions = doc.Root.get("/Extensions")
        if extensions is not None and "/ESIC" in extensions:
            del extensions["/ESIC"]
            if not extensions.keys():
                del doc.Root["/Extensions"]
        doc.save(pdf)


def copy_text(section: SigningSection, agency: str, when: datetime) -> list[list[str]]:
    """The text shown on page 1 (type of copy, copying agency, signing time),
    laid out on three lines, or on two where the top margin is narrow."""
    kind, who = section.copy_type, section.agency or agency
    at = when.astimezone(VIETNAM).isoformat(timespec="seconds")
    return [[kind, who, at], [f"{kind} {at}", who]]


def signing_font(folder: Path) -> Path:
    """Liberation Serif scaled to 1000 units per em, kept in ``folder``.

    pyHanko writes glyph widths in the font's own units, which PDF reads as
    thousandths of an em: right for 1000-unit fonts, twice too wide for the
    2048-unit TrueType fonts. A scaled copy keeps the text at 10 pt."""
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.scaleUpem import scale_upem

    from station.common.fonts import font_file

    target = folder / "LiberationSerif-1000upem.ttf"
    if not target.exists():
        face = TTFont(str(font_file()))
        scale_upem(face, 1000)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        face.save(str(tmp))
        face.close()
        tmp.replace(target)
    return target


def _text_width(lines: list[str]) -> float:
    from station.common.fonts import font

    face = font("regular", 100)
    return max(face.getlength(line) for line in lines) * FONT_SIZE / 100


def free_box(pdf: Path, width: float, height: float) -> tuple[float, float, float, float]:
    """The box (PDF points, origin bottom left) of ``width`` × ``height`` nearest
    the top right of page 1 that covers no ink, searched over the top third."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    try:
        page = document[0]
        page_w, page_h = page.get_size()
        scale = 50 / 72  # render at 50 dpi: enough to see ink
        image = page.render(scale=scale, grayscale=True).to_pil()
    finally:
        document.close()
    ink = (np.asarray(image.convert("L")) < 160).astype(np.int32)
    edge = int(EDGE * scale)
    ink[:edge, :] = ink[-edge:, :] = 0
    ink[:, :edge] = ink[:, -edge:] = 0
    total = ink.cumsum(0).cumsum(1)
    total = np.pad(total, ((1, 0), (1, 0)))
    box_w = int(np.ceil((width + 2 * MARGIN) * scale))
    box_h = int(np.ceil((height + 2 * MARGIN) * scale))
    rows, cols = ink.shape
    step = max(1, int(2 * scale))
    best: tuple[float, int, int] | None = None
    for top in range(0, max(1, rows // 3 - box_h), step):
        for left in range(max(0, cols - box_w), -1, -step):
            b, r = top + box_h, left + box_w
            if b > rows or r > cols:
                continue
            count = total[b, r] - total[top, r] - total[b, left] + total[top, left]
            if count:
                continue
            distance = top + (cols - r)  # from the top right corner
            if best is None or distance < best[0]:
                best = (distance, top, left)
            break  # further left only gets farther on this row
    if best is None:
        raise SigningError(
            "no free space at the top of page 1 for the copy's text",
            "không còn chỗ trống ở đầu trang 1 để ghi thông tin bản sao",
        )
    _, top, left = best
    x1 = left / scale + MARGIN
    y2 = page_h - top / scale - MARGIN
    return (x1, y2 - height, min(page_w, x1 + width), y2)


def _style(lines: list[str], font: Path) -> Any:
    """No image, no border, no background: the lines, 10 pt, black, top right."""
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    @dataclass(frozen=True)
    class Fonts(GlyphAccumulatorFactory):
        """The font from memory: pyHanko's own factory leaves the file open."""

        def create_font_engine(self, writer: Any, obj_stream: Any = None) -> Any:
            if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
                obj_stream = writer.prepare_object_stream()
            return GlyphAccumulator(
                writer=writer,
                font_handle=io.BytesIO(Path(self.font_file).read_bytes()),
                font_size=self.font_size,
                obj_stream=obj_stream,
            )

    return TextStampStyle(
        stamp_text="\n".join(line.replace("%", "%%") for line in lines),
        text_box_style=TextBoxStyle(
            font=Fonts(str(font), font_size=FONT_SIZE),
            font_size=FONT_SIZE,
            leading=LEADING,
            border_width=0,
            box_layout_rule=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MIN,
                y_align=layout.AxisAlignment.ALIGN_MIN,
                margins=layout.Margins.uniform(0),
            ),
        ),
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MAX,
            y_align=layout.AxisAlignment.ALIGN_MAX,
            margins=layout.Margins.uniform(int(PADDING)),
            inner_content_scaling=layout.InnerScaling.NO_SCALING,
        ),
        border_width=0,
        background=None,
    )


@dataclass
class Signer:
    """The configured key, opened for each document (a token may be unplugged)."""

    section: SigningSection
    agency: str
    #: where the scaled font is kept (the store's data folder)
    font_dir: Path

    def _signer(self, stack: Any) -> Any:
        from pyhanko.keys import load_cert_from_pemder, load_certs_from_pemder
        from pyhanko.sign import signers

        pin = read_secret(self.section.pin_file, "SCANSTATION_SIGNING_PIN")
        chain = list(load_certs_from_pemder([str(p) for p in self.section.chain_files]))
        if self.section.key_store == "pkcs12":
            path = self.section.pkcs12_file
            assert path is not None
            if not path.exists():
                raise SigningError(f"the key file {path} is missing", f"không thấy tệp khóa {path}")
            loaded = signers.SimpleSigner.load_pkcs12(
                str(path), passphrase=pin.encode() if pin else None, ca_chain_files=None
            )
            if loaded is None:
                raise SigningError(
                    f"cannot open {path}: wrong passphrase or not a PKCS#12 file",
                    f"không mở được {path}: sai mật khẩu hoặc không phải tệp PKCS#12",
                )
            return loaded
        from pkcs11 import exceptions as p11
        from pyhanko.sign import pkcs11

        module = self.section.pkcs11_module
        assert module is not None
        if not module.exists():
            raise SigningError(
                f"the token library {module} is missing: install the token's driver",
                f"không thấy thư viện thiết bị ký {module}: cài trình điều khiển của thiết bị",
            )
        from pyhanko.config.pkcs11 import TokenCriteria

        criteria = TokenCriteria(label=self.section.token_label)
        try:
            session = pkcs11.open_pkcs11_session(str(module), token_criteria=criteria, user_pin=pin)
        except p11.PinIncorrect:
            raise SigningError(
                "the token refused the PIN: check pin_file (a token locks after a few tries)",
                "thiết bị ký từ chối mã PIN: kiểm tra pin_file (thiết bị sẽ khóa sau vài lần sai)",
            ) from None
        except (p11.PKCS11Error, OSError, StopIteration) as exc:
            raise SigningError(
                f"the signing token is not there ({exc.__class__.__name__}): plug it in",
                f"không thấy thiết bị ký ({exc.__class__.__name__}): hãy cắm thiết bị vào",
            ) from None
        stack.append(session.close)
        cert = (
            load_cert_from_pemder(str(self.section.cert_file)) if self.section.cert_file else None
        )
        signer = pkcs11.PKCS11Signer(
            session,
            key_label=self.section.key_label,
            cert_label=self.section.cert_label or (None if cert else self.section.key_label),
            signing_cert=cert,
            ca_chain=chain,
        )
        try:
            _ = signer.signing_cert  # the certificate is read from the token here
        except p11.PKCS11Error as exc:
            raise SigningError(
                f"the key or certificate is not on the token ({exc}): check key_label, "
                "cert_label or cert_file",
                f"không thấy khóa hoặc chứng thư số trên thiết bị ({exc}): kiểm tra key_label, "
                "cert_label hoặc cert_file",
            ) from None
        return signer

    def sign(self, source: Path, target: Path) -> datetime:
        """Write ``source`` signed to ``target``; returns the signing time."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers, timestamps

        from station.records import xmp

        xmp.keep_prefixes()
        stack: list[Any] = []
        try:
            signer = self._signer(stack)
            font = signing_font(self.font_dir)
            # where the text goes (its width does not depend on the time)
            box, layout_index = self._place(source, datetime.now(VIETNAM))
            meta = signers.PdfSignatureMetadata(
                field_name=FIELD,
                md_algorithm="sha256",
                subfilter=fields.SigSeedSubFilter.PADES,
                reason=self.section.copy_type,
                location=self.section.agency or self.agency or None,
                use_pades_lta=False,
            )
            stamper = (
                timestamps.HTTPTimeStamper(self.section.timestamp_url)
                if self.section.timestamp_url
                else None
            )
            # the time shown is the signature's own: taken just before signing,
            # not within 0.2 s of the next second
            if time.time() % 1 > 0.8:
                time.sleep(1.05 - time.time() % 1)
            when = datetime.now(VIETNAM).replace(microsecond=0)
            lines = copy_text(self.section, self.agency, when)[layout_index]
            tmp = target.with_name(f".{target.name}.signing")
            with source.open("rb") as inf:
                writer = IncrementalPdfFileWriter(inf, strict=False)
                fields.append_signature_field(
                    writer,
                    fields.SigFieldSpec(FIELD, on_page=0, box=tuple(round(v) for v in box)),  # type: ignore[arg-type]
                )
                pdf_signer = signers.PdfSigner(
                    meta,
                    signer=signer,
                    timestamper=stamper,
                    stamp_style=_style(lines, font),
                )
                with tmp.open("wb") as out:
                    pdf_signer.sign_pdf(writer, output=out)
            tmp.replace(target)
            return when
        except StationError:
            raise
        except Exception as exc:
            raise SigningError(
                f"signing failed: {exc.__class__.__name__}: {exc}",
                f"ký số không thành công: {exc.__class__.__name__}: {exc}",
            ) from exc
        finally:
            for close in reversed(stack):
                close()

    def _place(self, source: Path, when: datetime) -> tuple[tuple[float, ...], int]:
        """The box for the text (three lines, or two where that sits higher)."""
        placed = []
        for index, lines in enumerate(copy_text(self.section, self.agency, when)):
            width = _text_width(lines) + 2 * PADDING + 2
            height = LEADING * len(lines) + 2 * PADDING
            try:
                placed.append((free_box(source, width, height), index))
            except SigningError:
                continue
        if not placed:
            raise SigningError(
                "no free space at the top of page 1 for the copy's text",
                "không còn chỗ trống ở đầu trang 1 để ghi thông tin bản sao",
            )
        return max(placed, key=lambda found: (found[0][3], found[0][2]))

    def check(self) -> dict[str, Any]:
        """Open the key without signing: what the UI and the fleet show."""
        stack: list[Any] = []
        try:
            signer = self._signer(stack)
            cert = signer.signing_cert
            subject = cert.subject.human_friendly if cert is not None else ""
            return {"configured": True, "ok": True, "subject": subject}
        except StationError as exc:
            return {"configured": True, "ok": False, "error": exc.to_json()}
        finally:
            for close in reversed(stack):
                close()
