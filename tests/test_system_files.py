"""Every system file the code opens comes from a package the setup script installs.

A file that exists only on a developer's machine (a font from a package that
happened to be there) passes every test there and fails on a fresh Debian. Here
each font, Tesseract data file, library and program the station or its tests
name is tied to its Debian package; the package must be in
``scripts/setup-system.sh``, and where the file is installed, ``dpkg -S`` must
agree that this package owns it. A new absolute path under /usr in the code
fails the last test until it is added here with its package.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from station.common.fonts import FONTS, font_file
from station.config import OcrSection
from tests.helpers.browser import CHROMIUM
from tests.helpers.softhsm import MODULE

ROOT = Path(__file__).resolve().parent.parent
SETUP = ROOT / "scripts" / "setup-system.sh"
TESSDATA = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata")


def setup_packages() -> set[str]:
    """The packages setup-system.sh installs (each alternative of an "a|b" entry)."""
    out = subprocess.run([str(SETUP), "--list"], capture_output=True, text=True, check=True)
    return {name for line in out.stdout.split() for name in line.split("|")}


#: packages that ship a file the code names but come in as a dependency of one
#: that setup-system.sh lists
PULLED_IN_BY = {"libsofthsm2": "softhsm2"}


def system_files() -> list[tuple[tuple[str, ...], str]]:
    """(candidate paths, Debian package) for every system file the code names."""
    files: list[tuple[tuple[str, ...], str]] = [
        (tuple(f"{folder}/{f.name}" for folder in f.folders), f.package)
        for styles in FONTS.values()
        for f in styles.values()
    ]
    for lang in dict.fromkeys(["osd", *OcrSection().languages]):
        files.append((tuple(f"{d}/{lang}.traineddata" for d in TESSDATA), f"tesseract-ocr-{lang}"))
    files += [
        ((str(MODULE),), "libsofthsm2"),
        ((CHROMIUM,), "chromium"),
        (("/usr/sbin/mosquitto",), "mosquitto"),
    ]
    return files


def owner(path: str) -> str | None:
    """The package dpkg says owns ``path`` (following /usr-merge symlinks)."""
    for candidate in dict.fromkeys([path, str(Path(path).resolve())]):
        out = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if out.returncode == 0:
            return out.stdout.split(":", 1)[0].strip()
    return None


def test_setup_installs_the_package_of_every_system_file() -> None:
    installed = setup_packages()
    wanted = {PULLED_IN_BY.get(pkg, pkg) for _, pkg in system_files()}
    missing = sorted(wanted - installed)
    assert missing == [], f"add to scripts/setup-system.sh: {missing}"


@pytest.mark.skipif(shutil.which("apt-cache") is None, reason="not a Debian system")
def test_a_pulled_in_package_is_a_dependency_of_the_listed_one() -> None:
    for package, listed in PULLED_IN_BY.items():
        out = subprocess.run(["apt-cache", "depends", listed], capture_output=True, text=True)
        assert re.search(rf"Depends: {re.escape(package)}\b", out.stdout), (package, listed)


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="not a Debian system")
def test_each_file_is_owned_by_the_package_named_for_it() -> None:
    wrong = []
    for paths, package in system_files():
        found = next((p for p in paths if Path(p).exists()), None)
        assert found is not None, f"none of {paths} exists: is {package} installed?"
        if owner(found) != package:
            wrong.append((found, package, owner(found)))
    assert wrong == []


def test_every_font_the_station_draws_with_is_installed() -> None:
    for family, styles in FONTS.items():
        for style in styles:
            assert font_file(style, family).is_file()


def test_a_missing_font_names_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from station.common import fonts

    italic = fonts.FONTS["dejavu-sans"]["italic"]
    moved = fonts.FontFile(italic.name, ("/nonexistent",), italic.package)
    monkeypatch.setitem(fonts.FONTS, "dejavu-sans", {**fonts.FONTS["dejavu-sans"], "italic": moved})
    with pytest.raises(FileNotFoundError, match="apt-get install fonts-dejavu-extra"):
        fonts.font_file("italic", "dejavu-sans")


def test_no_other_system_path_is_named_in_the_code() -> None:
    """Absolute paths under /usr in the code are the files above (or their folders)."""
    known = {p for paths, _ in system_files() for p in paths}
    prefixes = {str(Path(p).parent) for p in known} | known
    allowed = {
        # folders doctor lists for installed SANE backends (libsane1: setup installs it)
        "/usr/lib/x86_64-linux-gnu/sane",
        "/usr/lib/aarch64-linux-gnu/sane",
        "/usr/lib/arm-linux-gnueabihf/sane",
        "/usr/lib/sane",
        # an example in the config's documentation, a path no test opens
        "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
        # a PATH for a child process, not a file
        "/usr/bin:/bin",
        # paths the tests name to show they are not there, or replace
        "/usr/lib/nowhere/libtoken.so",
        "/usr/bin/cage",
        # optional for the header OCR comparison (bench/header_ocr.py), which runs
        # without them: GNU time (Debian time) and the syllable list (hunspell-vi)
        "/usr/bin/time",
        "/usr/share/hunspell/vi_VN.dic",
    }
    named = set()
    for source in [
        *ROOT.glob("station/**/*.py"),
        *ROOT.glob("tests/**/*.py"),
        *ROOT.glob("bench/**/*.py"),
    ]:
        if source.name == Path(__file__).name:
            continue
        named |= set(re.findall(r"[\"'](/usr/[^\"' ]+)", source.read_text(encoding="utf-8")))
    unknown = sorted(p for p in named if p not in prefixes and p not in allowed)
    assert unknown == [], f"name the package of these in tests/test_system_files.py: {unknown}"
