"""What every fuzzed input must give, shared by hypothesis (test_fuzz.py) and
atheris (fuzz_atheris.py): a result or a clear error, never a crash."""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from station import config as config_mod
from station.appliance.stats import Stats
from station.barcodes.decode import MAX_TEXT, Barcode, Rules, classify, clean_text
from station.capture.imageio import read_frames
from station.central.fleet import Fleet
from station.central.fleetdb import FleetDB
from station.central.receiver import Receiver
from station.config import DEFAULT_REGISTRATION, Config
from station.config.remote import Settings
from station.edxml import DocumentMessage, EdxmlError, StatusMessage, read_message
from station.errors import ConfigError, InputError
from station.store import Store
from station.uplink.commands import Commands
from station.uplink.sender import Uplink
from station.wire import topics
from station.wire.mqtt import Connection

RULES = Rules.from_config(DEFAULT_REGISTRATION, "PATCHT")
#: topics under a station's root that some reader takes, and hostile ones
SUFFIXES = (
    "state", "health", "event", "cmd-resp/ping", "file-response", "doc/d1/receipt",
    "file/f1/init", "file/f1/0/" + "a" * 64, "file/f1/fin/10/" + "b" * 64, "file/f1/abort",
    "doc/d1", "file/../../etc/passwd/init", "file/f1/-5/" + "c" * 64, "cmd/ping",
    "cmd/config", "cmd/reset-counter",
)  # fmt: skip
STATIONS = ("st-f", "st-g", "ST", "x" * 40)


def barcode_texts(texts: list[str]) -> None:
    codes = [Barcode("QRCode", clean_text(t), "") for t in texts]
    for code in codes:
        assert len(code.text) <= MAX_TEXT
        assert not re.search(r"[\x00-\x1f\x7f]", code.text)
    found = classify(codes, RULES)
    for label in found.registrations:
        assert re.fullmatch(DEFAULT_REGISTRATION, label.text)
        assert "/" not in label.text and ".." not in label.text
    assert found.separator == any(c.text == "PATCHT" for c in codes)


def config_text(text: str) -> None:
    try:
        loaded = config_mod.parse(text)
    except ConfigError as exc:
        assert exc.exit_code == 3 and exc.message_en and exc.message_vi
    else:
        assert isinstance(loaded, Config)


@dataclass
class Readers:
    """Everything that reads MQTT payloads, on connections never started."""

    folder: Path
    commands: Commands
    uplink: Uplink
    receiver: Receiver
    fleet: Fleet

    @classmethod
    def in_folder(cls, folder: Path) -> Readers:
        cfg = Config.model_validate({"station": {"id": "st-f", "data_dir": str(folder / "d")}})
        store = Store(cfg.station.data_dir)
        settings = Settings(cfg)
        return cls(
            folder,
            Commands(
                Connection("mqtt://127.0.0.1:1", "st-f"), store, settings, Stats(store, settings)
            ),
            Uplink(store, Connection("mqtt://127.0.0.1:1", "st-f"), "st-f"),
            Receiver(Connection("mqtt://127.0.0.1:1", "central"), folder / "central"),
            Fleet(Connection("mqtt://127.0.0.1:1", "fleet"), FleetDB(folder / "fleet")),
        )

    def take(self, station: str, suffix: str, payload: bytes) -> None:
        """Hand one message to every reader; check the answers and the disk."""
        topic = f"{topics.VERSION}/{station}/{suffix}"
        fleet = self.fleet
        for handler in (fleet._state, fleet._health, fleet._event, fleet._reply):
            handler(topic, payload)
        self.receiver.handle(topic, payload)
        self.uplink._on_message(topic, payload)
        answer = json.loads(self.commands.handle(suffix.rsplit("/", 1)[-1], payload))
        assert isinstance(answer["ok"], bool)
        if not answer["ok"]:
            assert answer["error"]["message"]["vi"] and answer["error"]["message"]["en"]
        # nothing was written outside the receiver's folder
        assert not (self.folder / "etc").exists() and not (self.folder.parent / "etc").exists()


def image_file(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"scan{suffix}"
        path.write_bytes(data)
        try:
            frames = list(read_frames(path, 200))
        except InputError as exc:
            assert exc.exit_code == 8 and exc.message_vi != exc.message_en
        else:
            assert all(frame.width > 0 and frame.height > 0 for frame in frames)


def edxml_message(data: bytes) -> None:
    """An edXML message is read or refused with a bilingual EdxmlError; no
    lxml, zip or base64 exception gets out."""
    try:
        message = read_message(data, max_bytes=1 << 20, max_attachment_bytes=1 << 20)
    except EdxmlError as exc:
        assert exc.exit_code == 8 and exc.message_vi != exc.message_en
    else:
        assert isinstance(message, DocumentMessage | StatusMessage)
