"""The font files the station renders with, and the Debian package of each.

Label sheets, the certified copy's text, the register's PDF and the demo's
sample documents all draw Vietnamese text, so every family here covers it.
Each file names the Debian package that ships it: ``scripts/setup-system.sh``
installs those packages, a missing file's error names the right one, and a
test checks the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import ImageFont

STYLES = ("regular", "bold", "italic")


@dataclass(frozen=True)
class FontFile:
    """One font file: its name, the folders it may be in, its Debian package."""

    name: str
    folders: tuple[str, ...]
    package: str

    def path(self) -> Path | None:
        for folder in self.folders:
            path = Path(folder) / self.name
            if path.exists():
                return path
        return None


_LIBERATION = ("/usr/share/fonts/truetype/liberation2", "/usr/share/fonts/truetype/liberation")
_DEJAVU = ("/usr/share/fonts/truetype/dejavu",)


def _liberation(stem: str) -> dict[str, FontFile]:
    return {
        style: FontFile(f"{stem}-{suffix}.ttf", _LIBERATION, "fonts-liberation2")
        for style, suffix in zip(STYLES, ("Regular", "Bold", "Italic"), strict=True)
    }


#: Font families with full Vietnamese coverage: the file of each style.
FONTS: dict[str, dict[str, FontFile]] = {
    # metric-compatible with Times New Roman, the font Decree 30 prescribes
    "liberation-serif": _liberation("LiberationSerif"),
    "liberation-sans": _liberation("LiberationSans"),
    # Debian splits DejaVu: the upright faces in -core, the slanted ones in -extra
    "dejavu-serif": {
        "regular": FontFile("DejaVuSerif.ttf", _DEJAVU, "fonts-dejavu-core"),
        "bold": FontFile("DejaVuSerif-Bold.ttf", _DEJAVU, "fonts-dejavu-core"),
        "italic": FontFile("DejaVuSerif-Italic.ttf", _DEJAVU, "fonts-dejavu-extra"),
    },
    "dejavu-sans": {
        "regular": FontFile("DejaVuSans.ttf", _DEJAVU, "fonts-dejavu-core"),
        "bold": FontFile("DejaVuSans-Bold.ttf", _DEJAVU, "fonts-dejavu-core"),
        "italic": FontFile("DejaVuSans-Oblique.ttf", _DEJAVU, "fonts-dejavu-extra"),
    },
}


def font_file(style: str = "regular", family: str = "liberation-serif") -> Path:
    """The file of a font of ``family`` in a style (regular, bold, italic).

    Raises ``FileNotFoundError`` naming the Debian package that ships it."""
    wanted = FONTS[family][style]
    path = wanted.path()
    if path is None:
        raise FileNotFoundError(
            f"font {wanted.name} not found in {', '.join(wanted.folders)}: "
            f"sudo apt-get install {wanted.package} (or scripts/setup-system.sh)"
        )
    return path


@cache
def font(style: str, size_px: int, family: str = "liberation-serif") -> ImageFont.FreeTypeFont:
    """A font of ``family`` in a style (regular, bold, italic) at a pixel size."""
    return ImageFont.truetype(str(font_file(style, family)), size_px)
