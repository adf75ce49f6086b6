"""``scanstation doctor``: is everything the station needs present and usable?

Each check says what it found and, when something is wrong, the command that
fixes it. A failing *required* check makes the command exit non-zero.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from station.common.fsutil import free_bytes
from station.config import Config, OcrSection

APT = "sudo apt-get install -y"
#: how to put the data directory on an encrypted volume
ENCRYPT_DOCS = "docs/install.md#encrypt-the-data-directory-luks"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def run_tool(argv: list[str], timeout: float = 20) -> tuple[int, str]:
    """Run a tool and return (exit code, stdout+stderr); 127 when it is not installed."""
    if shutil.which(argv[0]) is None:
        return 127, f"{argv[0]}: not found"
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 126, str(exc)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def _version(text: str) -> str:
    match = re.search(r"\d+(\.\d+)+", text)
    return match.group(0) if match else "?"


def _at_least(version: str, minimum: tuple[int, ...]) -> bool:
    parts = tuple(int(p) for p in re.findall(r"\d+", version)[: len(minimum)])
    return parts >= minimum


def sane_config_dir() -> Path:
    return Path(os.environ.get("SANE_CONFIG_DIR", "/etc/sane.d").split(":")[0])


def check_sane() -> list[Check]:
    checks = []
    try:
        from station.capture import sane as sane_wrapper

        major, minor, build = sane_wrapper.probe()
        checks.append(Check("sane", True, f"SANE backend API {major}.{minor}.{build}"))
    except Exception as exc:  # noqa: BLE001 - any failure here is the finding
        return [
            Check(
                "sane",
                False,
                f"SANE cannot be initialised: {exc}",
                f"{APT} libsane1 sane-utils && make setup",
            )
        ]
    conf = sane_config_dir() / "dll.conf"
    try:
        enabled = [
            line.split("#")[0].strip()
            for line in conf.read_text(encoding="utf-8").splitlines()
            if line.split("#")[0].strip()
        ]
    except OSError:
        enabled = []
    libdirs = [
        Path(p)
        for p in (
            "/usr/lib/x86_64-linux-gnu/sane",
            "/usr/lib/aarch64-linux-gnu/sane",
            "/usr/lib/arm-linux-gnueabihf/sane",
            "/usr/lib/sane",
        )
    ]
    installed = {
        m.group(1)
        for d in libdirs
        if d.is_dir()
        for f in d.iterdir()
        if (m := re.match(r"libsane-([\w-]+)\.so", f.name))
    }
    missing = [b for b in enabled if installed and b not in installed]
    if not enabled:
        checks.append(
            Check(
                "sane-backends",
                False,
                f"no backends enabled in {conf}",
                f"{APT} libsane1 (or install firmware_config/sane.d/dll.conf)",
            )
        )
    else:
        checks.append(
            Check(
                "sane-backends",
                not missing,
                f"{len(enabled)} enabled in {conf}"
                + (f"; not installed: {', '.join(missing)}" if missing else ""),
                f"{APT} libsane1 sane-airscan" if missing else "",
                required=False,
            )
        )
    return checks


def check_python_module(name: str, package: str, fix: str, required: bool = True) -> Check:
    try:
        module = importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - ImportError or a missing shared library
        return Check(package, False, f"cannot import {name}: {exc}", fix, required)
    version = getattr(module, "__version__", "")
    return Check(package, True, f"{package} {version}".strip(), required=required)


def check_zbar() -> Check:
    try:
        from pyzbar import zbar_library

        zbar_library.load()
    except Exception as exc:  # noqa: BLE001 - ImportError when libzbar0 is missing
        return Check("zbar", False, f"ZBar library not loadable: {exc}", f"{APT} libzbar0")
    return Check("zbar", True, "libzbar loaded through pyzbar")


def check_tesseract(languages: Sequence[str]) -> list[Check]:
    code, out = run_tool(["tesseract", "--version"])
    if code != 0:
        return [Check("tesseract", False, out, f"{APT} tesseract-ocr tesseract-ocr-vie")]
    version = _version(out.splitlines()[0] if out else "")
    checks = [
        Check(
            "tesseract",
            _at_least(version, (4, 1)),
            f"Tesseract {version}",
            "" if _at_least(version, (4, 1)) else f"{APT} tesseract-ocr (4.1 or later)",
        )
    ]
    code, out = run_tool(["tesseract", "--list-langs"])
    have = set(out.splitlines()[1:]) if code == 0 else set()
    for lang in dict.fromkeys(["vie", *languages]):
        checks.append(
            Check(
                f"tesseract-{lang}",
                lang in have,
                f"language {lang} " + ("installed" if lang in have else "missing"),
                "" if lang in have else f"{APT} tesseract-ocr-{lang}",
            )
        )
    # the orientation data: without it a page whose text lines leave up and down
    # in doubt keeps the text-line vote
    checks.append(
        Check(
            "tesseract-osd",
            "osd" in have,
            "orientation data " + ("installed" if "osd" in have else "missing"),
            "" if "osd" in have else f"{APT} tesseract-ocr-osd",
            required=False,
        )
    )
    return checks


def check_fonts() -> list[Check]:
    """Every font file the station renders with; the Times-compatible serif is
    required (labels, the register, the certified copy), the others draw only
    the demo's and the tests' documents."""
    from station.common.fonts import FONTS

    checks = []
    for family, styles in FONTS.items():
        missing = [f for f in styles.values() if f.path() is None]
        packages = " ".join(dict.fromkeys(f.package for f in missing))
        checks.append(
            Check(
                f"font-{family}",
                not missing,
                f"{family}: "
                + (", ".join(f.name for f in missing) + " missing" if missing else "installed"),
                f"{APT} {packages}" if missing else "",
                required=family == "liberation-serif",
            )
        )
    return checks


def check_tool(
    name: str,
    argv: list[str],
    fix: str,
    minimum: tuple[int, ...] = (),
    required: bool = True,
    ok_codes: tuple[int, ...] = (0,),
) -> Check:
    code, out = run_tool(argv)
    if code not in ok_codes:
        return Check(name, False, out.splitlines()[-1] if out else f"exit {code}", fix, required)
    version = _version(out.split("version", 1)[-1])
    if minimum and not _at_least(version, minimum):
        want = ".".join(map(str, minimum))
        return Check(name, False, f"{name} {version} is older than {want}", fix, required)
    return Check(name, True, f"{name} {version}", required=required)


def check_data_dir(config: Config) -> list[Check]:
    data_dir = config.station.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".doctor-"):
            pass
    except OSError as exc:
        return [
            Check(
                "data-dir",
                False,
                f"{data_dir} is not writable: {exc.strerror}",
                f"sudo install -d -o $(id -un) {data_dir}   (or set [station] data_dir)",
            )
        ]
    free_mb = free_bytes(data_dir) // 2**20
    floor = config.station.min_free_mb
    return [
        Check("data-dir", True, f"{data_dir} writable"),
        Check(
            "disk-free",
            free_mb >= floor,
            f"{free_mb} MiB free (floor {floor} MiB)",
            "" if free_mb >= floor else "free space: delivered documents past retention can go",
        ),
        check_encryption(data_dir),
    ]


def check_encryption(data_dir: Path, root: Path = Path("/")) -> Check:
    """A warning, not a failure, when the data directory is not on an encrypted
    file system (station/appliance/encryption.py): whoever holds the card then
    reads every page not yet past its retention."""
    from station.appliance.encryption import encryption

    found = encryption(data_dir, root)
    if found.kind is not None:
        return Check(
            "data-encrypted", True, f"{data_dir}: {found.kind} ({found.detail})", required=False
        )
    return Check(
        "data-encrypted",
        False,
        f"Thư mục dữ liệu {data_dir} không nằm trên ổ được mã hóa: ai cầm thẻ nhớ cũng đọc được"
        f" các trang đã quét / the data directory {data_dir} is not on an encrypted file system"
        f" ({found.detail}): whoever holds the card can read the pages scanned",
        "đặt thư mục dữ liệu lên phân vùng LUKS / put the data directory on a LUKS volume:"
        f" {ENCRYPT_DOCS}",
        required=False,
    )


def check_store(config: Config) -> Check:
    """The store's database passes ``PRAGMA quick_check`` (read-only; a store
    not made yet passes)."""
    from station.store import check as storecheck

    path = config.station.data_dir / "store.sqlite3"
    problems = storecheck.check_file(path)
    if not problems:
        return Check("store", True, f"{path} " + ("whole" if path.exists() else "not made yet"))
    error = storecheck.damaged(path, problems)
    detail, _, fix = error.message_en.partition(" Fix: ")
    return Check("store", False, detail, fix)


def check_scanner(config: Config) -> Check:
    device = config.scanner.device
    if device.startswith("folder:"):
        from station.capture.folder import FolderSource

        try:
            source = FolderSource.from_device(device)
        except Exception as exc:  # noqa: BLE001 - reported as the finding
            return Check("scanner", False, str(exc), "fix [scanner] device")
        ok = source.path.is_dir()
        return Check(
            "scanner", ok, f"{device}", "" if ok else f"mkdir -p {source.path}", required=False
        )
    try:
        from station.capture import sane as sane_wrapper

        found = sane_wrapper.resolve(device, sane_wrapper.list_devices())
    except Exception as exc:  # noqa: BLE001 - not found is the finding
        return Check(
            "scanner",
            False,
            str(exc),
            "connect and power on the scanner; check `scanimage -L` and the udev rules",
            required=False,
        )
    return Check("scanner", True, f"{found.name} ({found.vendor} {found.model})", required=False)


def run_checks(config: Config | None, config_check: Check) -> list[Check]:
    """Every check; with an invalid config (``None``) those that depend on it are skipped."""
    skipped = Check("config-dependent", False, "skipped: the config is invalid", required=False)
    groups: list[Callable[[], list[Check]]] = [
        lambda: [config_check],
        check_sane,
        lambda: [check_scanner(config) if config else skipped],
        lambda: [
            check_python_module("cv2", "opencv", "make setup (reinstalls the virtual environment)"),
            check_zbar(),
            check_python_module("zxingcpp", "zxing-cpp", "make setup"),
            check_python_module("ocrmypdf", "ocrmypdf", "make setup"),
            check_python_module("paho.mqtt", "paho-mqtt", "make setup"),
        ],
        lambda: check_tesseract(config.ocr.languages if config else OcrSection().languages),
        check_fonts,
        lambda: [
            check_tool("ghostscript", ["gs", "--version"], f"{APT} ghostscript", (9, 50)),
            check_tool(
                "mosquitto-clients",
                ["mosquitto_pub", "--help"],
                f"{APT} mosquitto-clients",
                required=False,
                ok_codes=(0, 1),  # --help exits 1 after printing its version
            ),
        ],
        lambda: check_data_dir(config) if config else [],
        lambda: [check_store(config)] if config else [],
    ]
    results: list[Check] = []
    for group in groups:
        results.extend(group())
    return results
