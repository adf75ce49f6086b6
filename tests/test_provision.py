"""firmware_config/provision.sh: shellcheck-clean, and run twice against a scratch
root (a fresh image's /etc and /boot): everything in place the first time,
nothing changed the second, the installer's config kept."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.helpers.cli import ROOT

SCRIPT = ROOT / "firmware_config" / "provision.sh"


def test_shellcheck_finds_nothing() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: scripts/setup-system.sh installs it"
    result = subprocess.run(
        [shellcheck, str(SCRIPT), str(ROOT / "scripts" / "setup-system.sh")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout


def _scratch_root(folder: Path) -> Path:
    root = folder / "root"
    (root / "etc" / "sane.d").mkdir(parents=True)
    (root / "boot" / "firmware").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    (root / "etc" / "shadow").write_text("root:*:19000:0:99999:7:::\n")
    (root / "etc" / "gshadow").write_text("root:*::\n")
    (root / "etc" / "sane.d" / "dll.conf").write_text("net\nescl\n")
    (root / "boot" / "firmware" / "config.txt").write_text("arm_64bit=1\n")
    return root


def _provision(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "--root", str(root), "--no-packages", "--no-venv", "--no-enable"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def _tree(root: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(p.relative_to(root)): (p.stat().st_mode, p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.skipif(os.geteuid() != 0, reason="provisioning creates users: needs root")
def test_provisioning_a_scratch_root_twice(tmp_path: Path) -> None:
    root = _scratch_root(tmp_path)
    first = _provision(root)
    assert first.returncode == 0, first.stderr
    passwd = (root / "etc" / "passwd").read_text()
    assert "scanstation:" in passwd and "kiosk:" in passwd
    groups = {
        line.split(":")[0]: line.split(":")[3]
        for line in (root / "etc" / "group").read_text().splitlines()
    }
    assert "scanstation" in groups["scanner"].split(",") and "scanstation" in groups["gpio"]
    assert "kiosk" in groups["video"]
    for path, mode in {
        "etc/scanstation/station.toml": 0o640,
        "etc/systemd/system/scanstation.service": 0o644,
        "etc/systemd/system/scanstation-kiosk.service": 0o644,
        "etc/systemd/journald.conf.d/scanstation.conf": 0o644,
        "etc/systemd/system.conf.d/scanstation-watchdog.conf": 0o644,
        "etc/udev/rules.d/60-scanstation.rules": 0o644,
        "etc/sane.d/airscan.conf": 0o644,
        "boot/firmware/config-scanstation.txt": 0o644,
        "opt/scanstation/station/cli.py": None,
    }.items():
        found = root / path
        assert found.is_file(), path
        if mode is not None:
            assert stat.S_IMODE(found.stat().st_mode) == mode, path
    assert stat.S_IMODE((root / "etc" / "scanstation").stat().st_mode) == 0o750
    assert (root / "etc" / "sane.d" / "dll.conf.orig").read_text() == "net\nescl\n"
    assert "airscan" in (root / "etc" / "sane.d" / "dll.conf").read_text()
    assert not (root / "opt" / "scanstation" / ".git").exists()
    # the installer edits the config; a second run changes nothing at all
    config = root / "etc" / "scanstation" / "station.toml"
    config.write_text(config.read_text().replace('id = "', 'id = "vks-th-vt01" # ', 1))
    before = _tree(root)
    second = _provision(root)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip().endswith("nothing to change")
    assert _tree(root) == before
    assert (root / "boot" / "firmware" / "config.txt").read_text().count(
        "include config-scanstation.txt"
    ) == 1


def test_provisioning_refuses_unknown_options(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(SCRIPT), "--frobnicate"], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "unknown option" in result.stderr + result.stdout
