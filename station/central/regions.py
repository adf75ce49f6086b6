"""Regions of the fleet: which region each unit belongs to (``scanstation fleet --regions FILE``).

A province's administrator groups the stations of its units (the provincial
procuracy and the regional ones, "Viện kiểm sát nhân dân khu vực N") as the
province is organized; the dashboard groups, searches and counts by region.
A station's unit is its ``[station] unit_name``; a unit the file does not name
is in no region (shown as "Chưa xếp khu vực").

Two shapes, told apart by the file's suffix:

- ``.csv``: a header ``unit,region`` and one line per unit (UTF-8, a BOM is
  taken; blank lines are skipped);
- ``.toml``: a table ``[units]`` of ``"unit name" = "region"``.

Unit names are compared as the agency directory compares names
(:func:`station.central.agencies.name_key`: case, spaces and the place of the
tone mark do not matter). A unit named twice with two regions, an empty name,
an unknown column or key is refused with the line and the fix.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from station.central.agencies import name_key
from station.common.tomlconfig import key_lines, parse_toml
from station.errors import ConfigError

_MAX_BYTES = 2**20
_MAX_NAME = 200
COLUMNS = ("unit", "region")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=_MAX_NAME)]


class RegionsFile(BaseModel):
    """The TOML shape: every unit's region."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    units: dict[Name, Name] = Field(
        description="Each unit's name (its [station] unit_name) = its region, e.g. "
        '"Viện kiểm sát nhân dân khu vực 1" = "Phía Bắc".',
        min_length=1,
    )


class Regions:
    """Each unit's region; empty (no region at all) without a file."""

    def __init__(self, pairs: dict[str, str] | None = None, source: str = "") -> None:
        self.source = source
        self._by_key: dict[str, str] = {}
        self._seen: dict[str, str | None] = {}
        for unit, region in (pairs or {}).items():
            self._by_key[name_key(unit)] = unicodedata.normalize("NFC", region.strip())

    def __bool__(self) -> bool:
        return bool(self._by_key)

    def __len__(self) -> int:
        return len(self._by_key)

    def of(self, unit: str | None) -> str | None:
        """The unit's region, or None when the file does not name it."""
        if not unit:
            return None
        if unit not in self._seen:  # a page asks for every station's, on every update
            self._seen[unit] = self._by_key.get(name_key(unit))
        return self._seen[unit]

    def names(self) -> list[str]:
        """Every region, in order."""
        return sorted(set(self._by_key.values()), key=name_key)

    @classmethod
    def load(cls, path: Path) -> Regions:
        try:
            if path.stat().st_size > _MAX_BYTES:
                raise ConfigError(
                    f"regions file {path} is larger than 1 MiB",
                    f"Tệp khu vực {path} lớn hơn 1 MiB",
                )
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"cannot read the regions file {path}: {exc}. Fix: give a UTF-8 .csv or .toml file",
                f"Không đọc được tệp khu vực {path}: {exc}. Cách sửa: dùng tệp .csv hoặc .toml "
                "mã UTF-8",
            ) from None
        suffix = path.suffix.lower()
        if suffix == ".csv":
            pairs = _csv(text, str(path))
        elif suffix == ".toml":
            pairs = _toml(text, str(path))
        else:
            raise ConfigError(
                f"regions file {path}: the name must end in .csv or .toml",
                f"Tệp khu vực {path}: tên tệp phải kết thúc bằng .csv hoặc .toml",
            )
        return cls(pairs, str(path))


def _add(pairs: dict[str, tuple[str, str, str]], unit: str, region: str, where: str) -> None:
    """Note a unit's region; a unit named before with another region is refused."""
    key = name_key(unit)
    known = pairs.get(key)
    if known is not None and name_key(known[1]) != name_key(region):
        raise ConfigError(
            f"{where}: the unit {unit!r} is already in region {known[1]!r} ({known[2]}), "
            f"here in {region!r}. Fix: keep one line per unit",
            f"{where}: đơn vị {unit!r} đã thuộc khu vực {known[1]!r} ({known[2]}), ở đây lại "
            f"thuộc {region!r}. Cách sửa: mỗi đơn vị chỉ một dòng",
        )
    pairs.setdefault(key, (unit, region, where))


def _csv(text: str, source: str) -> dict[str, str]:
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    pairs: dict[str, tuple[str, str, str]] = {}
    try:
        for row in reader:
            where = f"{source}:{reader.line_num}"
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in row]
                if sorted(header) != sorted(COLUMNS):
                    raise ConfigError(
                        f"{where}: the header must be 'unit,region', got {','.join(row)!r}. "
                        "Fix: make the first line unit,region",
                        f"{where}: dòng tiêu đề phải là 'unit,region', có {','.join(row)!r}. "
                        "Cách sửa: dòng đầu ghi unit,region",
                    )
                continue
            if len(row) != len(header):
                raise ConfigError(
                    f"{where}: {len(row)} columns, the header has {len(header)}. Fix: one unit "
                    "and its region per line; put a name holding a comma in double quotes",
                    f"{where}: có {len(row)} cột, tiêu đề có {len(header)}. Cách sửa: mỗi dòng "
                    "một đơn vị và khu vực; tên có dấu phẩy đặt trong ngoặc kép",
                )
            cells = dict(zip(header, (cell.strip() for cell in row), strict=True))
            unit, region = cells["unit"], cells["region"]
            for what, value in (("unit", unit), ("region", region)):
                if not value or len(value) > _MAX_NAME:
                    raise ConfigError(
                        f"{where}: the {what} is empty or longer than {_MAX_NAME} characters. "
                        f"Fix: give the {what}'s name",
                        f"{where}: {'đơn vị' if what == 'unit' else 'khu vực'} để trống hoặc "
                        f"dài hơn {_MAX_NAME} ký tự. Cách sửa: ghi tên",
                    )
            _add(pairs, unit, region, where)
    except csv.Error as exc:
        raise ConfigError(
            f"{source}:{reader.line_num}: not valid CSV: {exc}",
            f"{source}:{reader.line_num}: không đúng CSV: {exc}",
        ) from None
    if not pairs:
        raise ConfigError(
            f"{source}: no unit listed. Fix: a line 'unit,region', then one line per unit",
            f"{source}: chưa có đơn vị nào. Cách sửa: dòng 'unit,region', rồi mỗi đơn vị một dòng",
        )
    return {unit: region for unit, region, _ in pairs.values()}


def _toml(text: str, source: str) -> dict[str, str]:
    found = parse_toml(text, RegionsFile, source)
    lines = key_lines(text)
    pairs: dict[str, tuple[str, str, str]] = {}
    for unit, region in found.units.items():
        line = lines.get(("units", unit))
        _add(pairs, unit, region, f"{source}:{line}" if line else source)
    return {unit: region for unit, region, _ in pairs.values()}
