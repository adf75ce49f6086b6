"""Coverage-guided fuzzing with atheris (libFuzzer) of what the station reads
from others: barcode text, the config file, the MQTT payloads of every reader,
image files, the register's periods and edXML messages. The same oracles as test_fuzz.py: a
result or a clear error, never a crash.

    python -m tests.fuzz_atheris TARGET [libFuzzer options, e.g. -runs=100000]

TARGET is one of: barcodes, config, mqtt, images, periods, edxml. A crash (an
exception the target does not expect, or a failed check) stops the run with
the input saved under ``-artifact_prefix``.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports(include=["station"]):
    from station.errors import UsageError
    from station.records.register_export import Period
    from tests import fuzz_oracles as oracle


def barcodes(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    oracle.barcode_texts(
        [provider.ConsumeUnicode(80) for _ in range(provider.ConsumeIntInRange(0, 4))]
    )


def config(data: bytes) -> None:
    oracle.config_text(atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(2048))


_readers: oracle.Readers | None = None


def mqtt(data: bytes) -> None:
    global _readers
    if _readers is None:
        _readers = oracle.Readers.in_folder(Path(tempfile.mkdtemp(prefix="fuzz-mqtt-")))
    provider = atheris.FuzzedDataProvider(data)
    suffix = oracle.SUFFIXES[provider.ConsumeIntInRange(0, len(oracle.SUFFIXES) - 1)]
    station = oracle.STATIONS[provider.ConsumeIntInRange(0, len(oracle.STATIONS) - 1)]
    _readers.take(station, suffix, provider.ConsumeBytes(provider.remaining_bytes()))


def images(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    suffix = (".png", ".jpg", ".tif", ".pdf")[provider.ConsumeIntInRange(0, 3)]
    oracle.image_file(provider.ConsumeBytes(provider.remaining_bytes()), suffix)


def periods(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    first, last = provider.ConsumeUnicode(16), provider.ConsumeUnicode(16) or None
    try:
        period = Period.parse(first, last)
    except UsageError as exc:
        assert exc.exit_code == 2 and exc.message_vi
    else:
        assert period.start <= period.end and period.text()


def edxml(data: bytes) -> None:
    oracle.edxml_message(data)


TARGETS: dict[str, Callable[[bytes], Any]] = {
    "barcodes": barcodes,
    "config": config,
    "mqtt": mqtt,
    "images": images,
    "periods": periods,
    "edxml": edxml,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: python -m tests.fuzz_atheris {{{','.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
