"""``doctor`` warns when the data directory is not on an encrypted file system
(station/appliance/encryption.py). The detection reads ``/proc`` and ``/sys``;
here a tree of real files laid out as a Pi with LUKS has them, and the test
machine itself (whose disk is not encrypted)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from station.appliance.doctor import ENCRYPT_DOCS, check_encryption
from station.appliance.encryption import encryption, mount_of
from tests.helpers.cli import ROOT, scanstation
from tests.helpers.tmpfs import tmpfs

#: mountinfo of a Pi: the system on the card's second partition, the data
#: directory on a LUKS mapping of the third, a USB stick with a space in its name
MOUNTINFO = """\
22 1 179:2 / / rw,noatime shared:1 - ext4 /dev/mmcblk0p2 rw
24 22 0:21 / /proc rw,nosuid shared:12 - proc proc rw
25 22 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw
31 22 179:1 / /boot/firmware rw,relatime shared:30 - vfat /dev/mmcblk0p1 rw
40 22 254:0 / /var/lib/scanstation rw,noatime shared:40 - ext4 /dev/mapper/scanstation rw
41 22 8:1 / /media/usb\\040stick rw,relatime shared:41 - vfat /dev/sda1 rw
"""


def _dm(root: Path, number: int, name: str, uuid: str, slaves: tuple[int, ...] = ()) -> None:
    """A device-mapper target in sysfs, linked as the kernel links it."""
    device = root / "sys/devices/virtual/block" / f"dm-{number}"
    (device / "dm").mkdir(parents=True)
    (device / "dm/name").write_text(f"{name}\n", encoding="utf-8")
    (device / "dm/uuid").write_text(f"{uuid}\n", encoding="utf-8")
    (device / "slaves").mkdir()
    for slave in slaves:
        (device / "slaves" / f"dm-{slave}").symlink_to(f"../../dm-{slave}")
    (root / "sys/block").mkdir(parents=True, exist_ok=True)
    (root / "sys/block" / f"dm-{number}").symlink_to(f"../devices/virtual/block/dm-{number}")
    (root / "sys/dev/block").mkdir(parents=True, exist_ok=True)
    (root / "sys/dev/block" / f"254:{number}").symlink_to(
        f"../../devices/virtual/block/dm-{number}"
    )


def _pi(root: Path, mountinfo: str = MOUNTINFO) -> Path:
    (root / "proc/self").mkdir(parents=True)
    (root / "proc/self/mountinfo").write_text(mountinfo, encoding="utf-8")
    # the card's partitions are plain block devices: no dm/ folder
    for number in (1, 2, 3):
        (root / "sys/devices/platform/mmcblk0" / f"mmcblk0p{number}").mkdir(parents=True)
    (root / "sys/dev/block").mkdir(parents=True)
    (root / "sys/dev/block/179:2").symlink_to("../../devices/platform/mmcblk0/mmcblk0p2")
    return root


def test_a_luks_mapping_under_the_data_directory_is_found(tmp_path: Path) -> None:
    root = _pi(tmp_path / "pi")
    _dm(root, 0, "scanstation", "CRYPT-LUKS2-0f6c3e0b9d2a4c1e8f7a6b5c4d3e2f10-scanstation")
    found = encryption(Path("/var/lib/scanstation/spool"), root)
    assert found.kind == "dm-crypt" and found.detail == "scanstation"
    assert found.mount is not None and found.mount.point == "/var/lib/scanstation"
    # the system partition beside it is not encrypted
    plain = encryption(Path("/var/lib/other"), root)
    assert plain.kind is None
    assert plain.mount is not None and plain.mount.source == "/dev/mmcblk0p2"
    assert plain.detail == "/dev/mmcblk0p2 (ext4)"
    # a mount point with a space is read as the kernel escapes it
    usb = mount_of(Path("/media/usb stick/data"), root)
    assert usb is not None and usb.source == "/dev/sda1"
    # doctor says so, and then it is no warning
    check = check_encryption(Path("/var/lib/scanstation"), root)
    assert check.ok and not check.required and "dm-crypt (scanstation)" in check.detail


def test_lvm_on_luks_is_followed_down_to_the_crypt_target(tmp_path: Path) -> None:
    root = _pi(tmp_path / "pi")
    _dm(root, 1, "crypt", "CRYPT-LUKS2-aa11bb22cc33dd44ee55ff6600112233-crypt")
    _dm(root, 0, "vg-scanstation", "LVM-3xQb9wq0Yz1", slaves=(1,))
    assert encryption(Path("/var/lib/scanstation"), root).detail == "crypt"


def test_a_device_mapper_target_that_is_not_crypt_is_not_encryption(tmp_path: Path) -> None:
    root = _pi(tmp_path / "pi")
    _dm(root, 0, "vg-scanstation", "LVM-3xQb9wq0Yz1")
    found = encryption(Path("/var/lib/scanstation"), root)
    assert found.kind is None
    check = check_encryption(Path("/var/lib/scanstation"), root)
    assert not check.ok and not check.required


def test_btrfs_and_ecryptfs(tmp_path: Path) -> None:
    """btrfs reports an anonymous device number: the mapping is found by the
    source's name; ecryptfs is told by its type."""
    btrfs = MOUNTINFO.replace("254:0 / /var/lib/scanstation", "0:45 / /var/lib/scanstation")
    btrfs = btrfs.replace("- ext4 /dev/mapper/scanstation", "- btrfs /dev/mapper/scanstation")
    root = _pi(tmp_path / "btrfs", btrfs)
    _dm(root, 0, "scanstation", "CRYPT-PLAIN-scanstation")
    assert encryption(Path("/var/lib/scanstation"), root).kind == "dm-crypt"
    by_dm_name = btrfs.replace("/dev/mapper/scanstation", "/dev/dm-0")
    root = _pi(tmp_path / "dm-name", by_dm_name)
    _dm(root, 0, "scanstation", "CRYPT-LUKS1-scanstation")
    assert encryption(Path("/var/lib/scanstation"), root).kind == "dm-crypt"
    ecryptfs = MOUNTINFO + (
        "50 40 0:50 / /var/lib/scanstation/private rw shared:50 - ecryptfs"
        " /var/lib/scanstation/.private rw,ecryptfs_cipher=aes\n"
    )
    root = _pi(tmp_path / "ecryptfs", ecryptfs)
    assert encryption(Path("/var/lib/scanstation/private/spool"), root).kind == "ecryptfs"
    # without mountinfo nothing can be told, and nothing is claimed
    assert encryption(Path("/var/lib/scanstation"), tmp_path / "empty").kind is None


def test_doctor_warns_on_this_machine_vietnamese_first(tmp_path: Path) -> None:
    # the data folder on a tmpfs of its own: never encrypted, whatever the machine's disk
    with tmpfs(tmp_path / "data", "64m") as data:
        assert encryption(data).kind is None
        incoming = tmp_path / "incoming"
        incoming.mkdir()
        config = tmp_path / "station.toml"
        config.write_text(
            f'[station]\ndata_dir = "{data}"\nmin_free_mb = 50\n\n'
            f'[scanner]\ndevice = "folder:{incoming}"\n',
            encoding="utf-8",
        )
        proc = scanstation("doctor", "--json", "--config", str(config), timeout=120)
        report = json.loads(proc.stdout)
        check = next(c for c in report["checks"] if c["name"] == "data-encrypted")
        assert check["ok"] is False and check["required"] is False
        assert check["detail"].startswith("Thư mục dữ liệu")
        assert check["detail"].index("mã hóa") < check["detail"].index("not on an encrypted")
        assert ENCRYPT_DOCS in check["fix"] and check["fix"].startswith("đặt thư mục dữ liệu")
        # a warning, not a failure: the station is ready all the same
        assert report["ok"] is True and proc.returncode == 0
        text = scanstation("doctor", "--config", str(config), timeout=120).stdout
        line = next(row for row in text.splitlines() if " data-encrypted " in row)
        assert line.startswith("[CHÚ Ý]")
        # the section the fix names is there
        page, anchor = ENCRYPT_DOCS.split("#")
        headings = [
            line.lstrip("#").strip()
            for line in (ROOT / page).read_text(encoding="utf-8").splitlines()
            if line.startswith("#")
        ]
        slugs = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}
        assert anchor in slugs
