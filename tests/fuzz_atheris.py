"""Coverage-guided fuzzing with atheris (libFuzzer) of what the station reads
from others: barcode text, the config file, the MQTT payloads of every reader,
image files, and the register's periods. The same oracles as test_fuzz.py: a
result or a clear error, never a crash.

    python -m tests.fuzz_atheris TARGET [libFuzzer options, e.g. -runs=100000]

TARGET is one of: barcodes, config, mqtt, images, periods. A crash (an
exception the target does not expect, or a failed check) stops the run with
the input saved under ``-artifact_prefix``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports(include=["station"]):
    from station import config as config_mod
    from station.barcodes import MAX_TEXT, Barcode, Rules, classify, clean_text
    from station.central.fleet import Fleet
    from station.central.fleetdb import FleetDB
    from station.central.receiver import Receiver
    from station.config import DEFAULT_REGISTRATION, Config
    from station.errors import ConfigError, InputError, UsageError
    from station.imageio import read_frames
    from station.register_export import Period
    from station.settings import Settings
    from station.stats import Stats
    from station.store import Store
    from station.uplink import topics
    from station.uplink.commands import Commands
    from station.uplink.mqtt import Connection
    from station.uplink.sender import Uplink

RULES = Rules.from_config(DEFAULT_REGISTRATION, "PATCHT")
SUFFIXES = (
    "state", "health", "event", "cmd-resp/ping", "file-response", "doc/d1/receipt",
    "file/f1/init", "file/f1/0/" + "a" * 64, "file/f1/fin/10/" + "b" * 64, "file/f1/abort",
    "doc/d1", "file/../../etc/passwd/init", "cmd/ping", "cmd/config", "cmd/reset-counter",
)  # fmt: skip


def barcodes(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    texts = [provider.ConsumeUnicode(80) for _ in range(provider.ConsumeIntInRange(0, 4))]
    codes = [Barcode("QRCode", clean_text(t), "") for t in texts]
    for code in codes:
        assert len(code.text) <= MAX_TEXT
        assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in code.text)
    found = classify(codes, RULES)
    for label in found.registrations:
        assert "/" not in label.text and ".." not in label.text
    assert found.separator == any(c.text == "PATCHT" for c in codes)


def config(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(2048)
    try:
        loaded = config_mod.parse(text)
    except ConfigError as exc:
        assert exc.exit_code == 3 and exc.message_en and exc.message_vi
    else:
        assert isinstance(loaded, Config)


class _Readers:
    """Everything that reads MQTT payloads, on connections never started."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="fuzz-mqtt-"))
        cfg = Config.model_validate({"station": {"id": "st-f", "data_dir": str(self.folder / "d")}})
        store = Store(cfg.station.data_dir)
        settings = Settings(cfg)
        self.commands = Commands(
            Connection("mqtt://127.0.0.1:1", "st-f"), store, settings, Stats(store, settings)
        )
        self.uplink = Uplink(store, Connection("mqtt://127.0.0.1:1", "st-f"), "st-f")
        self.receiver = Receiver(Connection("mqtt://127.0.0.1:1", "c"), self.folder / "central")
        self.fleet = Fleet(Connection("mqtt://127.0.0.1:1", "f"), FleetDB(self.folder / "fleet"))


_readers: _Readers | None = None


def mqtt(data: bytes) -> None:
    global _readers
    if _readers is None:
        _readers = _Readers()
    provider = atheris.FuzzedDataProvider(data)
    suffix = SUFFIXES[provider.ConsumeIntInRange(0, len(SUFFIXES) - 1)]
    station = ("st-f", "st-g", "ST", "x" * 40)[provider.ConsumeIntInRange(0, 3)]
    payload = provider.ConsumeBytes(provider.remaining_bytes())
    topic = f"{topics.VERSION}/{station}/{suffix}"
    fleet = _readers.fleet
    for handler in (fleet._state, fleet._health, fleet._event, fleet._reply):
        handler(topic, payload)
    _readers.receiver._on_message(topic, payload)
    _readers.uplink._on_message(topic, payload)
    answer = json.loads(_readers.commands.handle(suffix.rsplit("/", 1)[-1], payload))
    assert isinstance(answer["ok"], bool)
    if not answer["ok"]:
        assert answer["error"]["message"]["vi"] and answer["error"]["message"]["en"]
    assert not (_readers.folder / "etc").exists() and not (_readers.folder.parent / "etc").exists()


def images(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    suffix = (".png", ".jpg", ".tif", ".pdf")[provider.ConsumeIntInRange(0, 3)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"scan{suffix}"
        path.write_bytes(provider.ConsumeBytes(provider.remaining_bytes()))
        try:
            frames = list(read_frames(path, 200))
        except InputError as exc:
            assert exc.exit_code == 8
        else:
            assert all(frame.width > 0 and frame.height > 0 for frame in frames)


def periods(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    first, last = provider.ConsumeUnicode(16), provider.ConsumeUnicode(16) or None
    try:
        period = Period.parse(first, last)
    except UsageError as exc:
        assert exc.exit_code == 2 and exc.message_vi
    else:
        assert period.start <= period.end and period.text()


TARGETS: dict[str, Callable[[bytes], Any]] = {
    "barcodes": barcodes,
    "config": config,
    "mqtt": mqtt,
    "images": images,
    "periods": periods,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: python -m tests.fuzz_atheris {{{','.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
