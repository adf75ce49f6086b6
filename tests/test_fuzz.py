"""Hostile and random input where the station reads what others wrote: barcode
text, the config file, every MQTT payload the station, the receiver and the
fleet take, and image files. No crash, no hang: a result or a clear error."""

from __future__ import annotations

import base64
import io
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests import fuzz_oracles as oracle

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: text with what hostile barcodes carry: controls, separators, escapes, Vietnamese
HOSTILE = st.lists(
    st.sampled_from([*"DEN-0123456789/\\.\x00\x1b\n\r\t\u202e%$'\"<>;|ạđĐ", "../", "PATCHT", "𝔘"]),
    max_size=60,
).map("".join) | st.text(max_size=300)


@FAST
@given(texts=st.lists(HOSTILE, max_size=5))
def test_barcode_text_is_cleaned_and_never_taken_for_what_it_is_not(texts: list[str]) -> None:
    oracle.barcode_texts(texts)


TOML_BITS = st.sampled_from(
    [
        "[station]\n", "[scanner]\n", "[uplink]\n", "[ui]\n", "[signing]\n",
        '[scanner.profiles.x]\n', 'id = "a"\n', "id = 5\n", 'listen = "0.0.0.0:80"\n',
        'broker = "mqtt://u:p@h:1"\n', "resolution = 1e9\n", "min_free_mb = -1\n",
        'data_dir = "/proc/../etc"\n', "x = [[[[\n", '"\\u0000" = 1\n', "a.b.c = {}\n",
        "enabled = true\n", 'key_store = "pkcs12"\n', "interval_s = 0\n", "= \n", "[[a]]\n",
    ]
)  # fmt: skip


@FAST
@given(text=st.lists(TOML_BITS | st.text(max_size=40), max_size=12).map("".join))
def test_config_text_is_a_config_or_a_clear_refusal(text: str) -> None:
    oracle.config_text(text)


@pytest.fixture(scope="module")
def readers(tmp_path_factory: pytest.TempPathFactory) -> oracle.Readers:
    return oracle.Readers.in_folder(tmp_path_factory.mktemp("mqtt"))


PAYLOADS = st.binary(max_size=300) | st.dictionaries(
    st.sampled_from(
        [
            "id",
            "args",
            "state",
            "ts",
            "type",
            "severity",
            "message",
            "topic",
            "reason_code",
            "status",
            "sha256",
            "name",
            "size",
            "checksum",
            "user_data",
            "digitized",
            "boot",
            "segments",
        ]
    ),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=8,
    ),
    max_size=6,
).map(lambda d: json.dumps(d, default=str).encode())


@FAST
@given(
    station=st.sampled_from(oracle.STATIONS),
    suffix=st.sampled_from(oracle.SUFFIXES),
    payload=PAYLOADS,
)
def test_every_mqtt_reader_takes_hostile_messages(
    readers: oracle.Readers, station: str, suffix: str, payload: bytes
) -> None:
    readers.take(station, suffix, payload)


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 255).save(out, "PNG")
    return out.getvalue()


@FAST
@given(
    data=st.binary(max_size=2000)
    | st.builds(lambda cut: _png(64, 64)[:cut], st.integers(0, 200))
    | st.builds(
        lambda at, byte: bytes(b if i != at else byte for i, b in enumerate(_png(32, 32))),
        st.integers(0, 120),
        st.integers(0, 255),
    ),
    suffix=st.sampled_from([".png", ".jpg", ".tif", ".pdf"]),
)
def test_images_are_read_or_refused(data: bytes, suffix: str) -> None:
    oracle.image_file(data, suffix)


def _edxml_seeds() -> list[bytes]:
    from datetime import date, datetime

    from station import edxml

    organ = edxml.Organ("000.00.00.G22", "Văn phòng Chính phủ")
    document = edxml.DocumentMessage(
        sender=organ,
        to=(edxml.Organ("000.00.00.H41", "UBND tỉnh Nghệ An"),),
        document_id="000.00.00.G22,2024/05/02,12/VPCP-TTĐT",
        code_number="12",
        code_notation="VPCP-TTĐT",
        place="Hà Nội",
        promulgation_date=date(2024, 5, 2),
        type_name="Công văn",
        subject="V/v thử",
        traces=(edxml.Trace("000.00.00.G22", datetime(2024, 5, 2, 8, 0, 0)),),
        attachments=(edxml.Attachment("1", "a.pdf", "application/pdf", b"%PDF-1.4\n" * 8),),
    )
    status = edxml.StatusMessage(
        organ,
        edxml.ResponseFor("000.00.00.H41", "12/VPCP-TTĐT", date(2024, 5, 2), "x"),
        "02",
        "Thiếu trang",
        datetime(2024, 5, 2, 9, 0, 0),
    )
    return [
        edxml.document_bytes(document),
        edxml.document_bytes(document, zip_attachments=False),
        edxml.status_bytes(status),
    ]


EDXML_SEEDS = _edxml_seeds()
#: what hostile or careless producers put into a message
EDXML_BITS = [
    b"<!DOCTYPE a [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>", b"&x;", b"PK\x03\x04", b"cid:",
    b"</edXML:MessageHeader>", b"<edXML:StatusCode>99</edXML:StatusCode>", b"\x00", b"\xff\xfe",
    b"<a>" * 40, b"====", b"2024/13/45", b'xmlns="http://www.e-doc.vn/Schema/"', b"]]>",
]  # fmt: skip


def _edxml_with_zip_byte(at: int, byte: int) -> bytes:
    """The zipped seed with one byte of its zip changed (the base64 stays valid)."""
    seed = EDXML_SEEDS[0]
    found = re.search(rb"<edXML:ContentTransferEncoded>([^<]*)<", seed)
    assert found is not None
    archive = bytearray(base64.b64decode(found.group(1)))
    archive[at % len(archive)] = byte
    return seed[: found.start(1)] + base64.b64encode(bytes(archive)) + seed[found.end(1) :]


@FAST
@given(
    data=st.binary(max_size=2000)
    | st.builds(_edxml_with_zip_byte, st.integers(0, 10_000), st.integers(0, 255))
    | st.builds(
        lambda seed, at, cut: EDXML_SEEDS[seed][:at] + EDXML_SEEDS[seed][at + cut :],
        st.integers(0, 2),
        st.integers(0, 4000),
        st.integers(0, 64),
    )
    | st.builds(
        lambda seed, at, bit: EDXML_SEEDS[seed][:at] + bit + EDXML_SEEDS[seed][at:],
        st.integers(0, 2),
        st.integers(0, 4000),
        st.sampled_from(EDXML_BITS) | st.binary(max_size=8),
    )
)
def test_edxml_messages_are_read_or_refused_with_an_edxml_error(data: bytes) -> None:
    oracle.edxml_message(data)
