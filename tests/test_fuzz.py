"""Hostile and random input where the station reads what others wrote: barcode
text, the config file, every MQTT payload the station, the receiver and the
fleet take, and image files. No crash, no hang: a result or a clear error."""

from __future__ import annotations

import io
import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from station import config as config_mod
from station.barcodes import MAX_TEXT, Barcode, Rules, classify, clean_text
from station.central.fleet import Fleet
from station.central.fleetdb import FleetDB
from station.central.receiver import Receiver
from station.config import DEFAULT_REGISTRATION, Config
from station.errors import ConfigError, InputError
from station.imageio import read_frames
from station.settings import Settings
from station.stats import Stats
from station.store import Store
from station.uplink import topics
from station.uplink.commands import Commands
from station.uplink.mqtt import Connection
from station.uplink.sender import Uplink

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
RULES = Rules.from_config(DEFAULT_REGISTRATION, "PATCHT")
#: text with what hostile barcodes carry: controls, separators, escapes, Vietnamese
HOSTILE = st.lists(
    st.sampled_from([*"DEN-0123456789/\\.\x00\x1b\n\r\t\u202e%$'\"<>;|ạđĐ", "../", "PATCHT", "𝔘"]),
    max_size=60,
).map("".join) | st.text(max_size=300)


@FAST
@given(texts=st.lists(HOSTILE, max_size=5))
def test_barcode_text_is_cleaned_and_never_taken_for_what_it_is_not(texts: list[str]) -> None:
    codes = [Barcode("QRCode", clean_text(t), "") for t in texts]
    for code in codes:
        assert len(code.text) <= MAX_TEXT
        assert not re.search(r"[\x00-\x1f\x7f]", code.text)
    found = classify(codes, RULES)
    for label in found.registrations:
        assert re.fullmatch(DEFAULT_REGISTRATION, label.text)
        assert "/" not in label.text and ".." not in label.text
    assert found.separator == any(c.text == "PATCHT" for c in codes)


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
    try:
        loaded = config_mod.parse(text)
    except ConfigError as exc:
        assert exc.exit_code == 3 and exc.message_en and exc.message_vi
    else:
        assert isinstance(loaded, Config)


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Everything that reads MQTT payloads, wired to connections never started."""
    folder = tmp_path_factory.mktemp("mqtt")
    config = Config.model_validate({"station": {"id": "st-f", "data_dir": str(folder / "d")}})
    store = Store(config.station.data_dir)
    settings_ = Settings(config)
    return {
        "store": store,
        "settings": settings_,
        "commands": Commands(
            Connection("mqtt://127.0.0.1:1", "st-f"), store, settings_, Stats(store, settings_)
        ),
        "uplink": Uplink(store, Connection("mqtt://127.0.0.1:1", "st-f"), "st-f"),
        "receiver": Receiver(Connection("mqtt://127.0.0.1:1", "central"), folder / "central"),
        "fleet": Fleet(Connection("mqtt://127.0.0.1:1", "fleet"), FleetDB(folder / "fleet")),
        "folder": folder,
    }


SUFFIXES = st.sampled_from(
    [
        "state", "health", "event", "cmd-resp/ping", "file-response", "doc/d1/receipt",
        "file/f1/init", "file/f1/0/" + "a" * 64, "file/f1/fin/10/" + "b" * 64, "file/f1/abort",
        "doc/d1", "file/../../etc/passwd/init", "file/f1/-5/" + "c" * 64, "cmd/ping",
    ]
)  # fmt: skip
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
@given(station=st.sampled_from(["st-f", "st-g", "ST", "x" * 40]), suffix=SUFFIXES, payload=PAYLOADS)
def test_every_mqtt_reader_takes_hostile_messages(
    stacks: dict[str, object], station: str, suffix: str, payload: bytes
) -> None:
    topic = f"{topics.VERSION}/{station}/{suffix}"
    fleet = stacks["fleet"]
    assert isinstance(fleet, Fleet)
    for handler in (fleet._state, fleet._health, fleet._event, fleet._reply):
        handler(topic, payload)
    receiver = stacks["receiver"]
    assert isinstance(receiver, Receiver)
    receiver._on_message(topic, payload)
    uplink = stacks["uplink"]
    assert isinstance(uplink, Uplink)
    uplink._on_message(topic, payload)
    commands = stacks["commands"]
    assert isinstance(commands, Commands)
    answer = json.loads(commands.handle(suffix.rsplit("/", 1)[-1], payload))
    assert isinstance(answer["ok"], bool)
    if not answer["ok"]:
        assert answer["error"]["message"]["vi"] and answer["error"]["message"]["en"]
    # nothing was written outside the receiver's folder
    folder = stacks["folder"]
    assert isinstance(folder, Path)
    assert not (folder / "etc").exists() and not (folder.parent / "etc").exists()


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
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"scan{suffix}"
        path.write_bytes(data)
        try:
            frames = list(read_frames(path, 200))
        except InputError as exc:
            assert exc.exit_code == 8 and exc.message_vi != exc.message_en
        else:
            assert all(frame.width > 0 and frame.height > 0 for frame in frames)
