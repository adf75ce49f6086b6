"""The soak's short version: every kind of fault at least once while documents
flow; each document must arrive exactly once, intact. The long run (500
documents) is ``make soak``; its figures are in docs/reliability.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.soak import FAULTS, Soak
from tests.soak_parts import write_pages


@pytest.mark.slow
def test_documents_arrive_exactly_once_through_every_kind_of_fault(tmp_path: Path) -> None:
    pages = write_pages(tmp_path / "pages", 24)
    soak = Soak(
        tmp_path / "run", 24, seed=7, fault_gap_s=(3.0, 6.0), batch_size=(1, 6), timeout_s=600
    )
    report = soak.run(pages)
    assert report["problems"] == [] and report["ok"] and report["finished"]
    assert set(report["faults"]) == set(FAULTS)
    assert report["received"] == 24 and report["outbox"] == {"received": 24}
    # the faults happened: the station came back after its kill, the jam and the
    # disk floor were seen by the station
    assert report["station_starts"] >= 2
    assert report["events"].get("scanner.jam", 0) >= 1
    assert report["events"].get("disk.low", 0) >= 1
