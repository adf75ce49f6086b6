"""The unit files in systemd/: accepted by systemd-analyze without a word, and
saying what the appliance needs (notify, watchdog, restart, own user, hardening)."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.cli import ROOT

UNITS = sorted((ROOT / "systemd").glob("*.service"))
SCANSTATION = ROOT / ".venv" / "bin" / "scanstation"


def _verify(folder: Path, *units: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *map(str, units)],
        capture_output=True, text=True, cwd=folder, timeout=60, check=False,
    )  # fmt: skip


def _copies(folder: Path) -> list[Path]:
    """The units with their programs pointing at ones this machine has."""
    copies = []
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8")
        text = text.replace("/opt/scanstation/.venv/bin/scanstation", str(SCANSTATION))
        text = text.replace("/usr/bin/cage", shutil.which("true") or "/bin/true")
        copy = folder / unit.name
        copy.write_text(text, encoding="utf-8")
        copies.append(copy)
    return copies


def _service(unit: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(unit, encoding="utf-8")
    return parser["Service"]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is missing")
def test_systemd_analyze_accepts_every_unit(tmp_path: Path) -> None:
    assert [u.name for u in UNITS] == [
        "scanstation-fleet.service",
        "scanstation-kiosk.service",
        "scanstation-receiver.service",
        "scanstation.service",
    ]
    result = _verify(tmp_path, *_copies(tmp_path))
    assert result.returncode == 0 and result.stdout + result.stderr == ""
    # the check can fail: a misspelt key and a bad value are reported
    bad = tmp_path / "bad.service"
    bad.write_text(
        (tmp_path / "scanstation.service").read_text().replace("WatchdogSec=", "WatchdogSecs="),
        encoding="utf-8",
    )
    assert "Unknown key" in _verify(tmp_path, bad).stderr


def test_the_station_unit_is_an_appliance() -> None:
    service = _service(ROOT / "systemd" / "scanstation.service")
    assert service["Type"] == "notify" and service["NotifyAccess"] == "main"
    assert service["WatchdogSec"] == "60" and service["Restart"] == "on-failure"
    assert service["User"] == "scanstation" and service["StateDirectory"] == "scanstation"
    for key, value in {
        "ProtectSystem": "strict",
        "NoNewPrivileges": "yes",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[key] == value, key
    assert "scanstation run --config /etc/scanstation/station.toml" in service["ExecStart"]
    kiosk = _service(ROOT / "systemd" / "scanstation-kiosk.service")
    assert "--kiosk" in kiosk["ExecStart"] and "http://127.0.0.1:8080/" in kiosk["ExecStart"]
    for name in ("scanstation-receiver.service", "scanstation-fleet.service"):
        assert _service(ROOT / "systemd" / name)["ProtectSystem"] == "strict"
