"""The agency directory: OrganIds (QCVN 102:2016, QĐ 20/2020/QĐ-TTg) by name.

A document message names its sender by ``OrganName`` and ``OrganId``; the
station reads only the name. The directory gives the OrganId of a name read
exactly as listed (or as one of its aliases), never of a name that merely
looks alike: a wrong OrganId files a document under another agency, an empty
one only asks the DMS's clerk to pick it.

Names are compared after Unicode NFC, case folding, collapsing spaces and
moving each syllable's tone mark off its vowel, so "Ủy ban" and "Uỷ ban",
"Hòa" and "Hoà" (old and new tone placement, both in use) are the same name.

Files: CSV with a header ``organ_id,name[,in_charge][,aliases]`` (aliases
separated by ``;``), or JSON, a list of ``{"organ_id", "name", "in_charge"?,
"aliases"?: [...]}``; the directory the axis publishes (``getAgenciesList``)
exported to either shape.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.errors import ConfigError

#: the five tone marks as combining characters (the vowel marks ˆ ˘ ʼ stay)
_TONES = "\u0300\u0301\u0303\u0309\u0323"
_ORGAN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:_-]{0,34}$")
_MAX_BYTES = 32 * 2**20


def name_key(name: str) -> str:
    """A name as compared: NFC, case-folded, single spaces, and each word's
    tone mark moved to its end (so the vowel that carries it does not matter)."""
    words = []
    for word in unicodedata.normalize("NFD", name).casefold().split():
        tones = "".join(c for c in word if c in _TONES)
        words.append(
            unicodedata.normalize("NFC", "".join(c for c in word if c not in _TONES)) + tones
        )
    return " ".join(words)


@dataclass(frozen=True)
class Agency:
    organ_id: str
    name: str
    in_charge: str = ""


class Directory:
    """Agencies by name; empty when no file is configured."""

    def __init__(self, agencies: list[tuple[Agency, list[str]]] | None = None) -> None:
        self._by_key: dict[str, Agency | None] = {}
        for agency, aliases in agencies or []:
            for name in [agency.name, *aliases]:
                key = name_key(name)
                if not key:
                    continue
                known = self._by_key.get(key, agency)
                # one name listed for two OrganIds names neither
                self._by_key[key] = agency if known == agency else None

    def __len__(self) -> int:
        return sum(1 for a in self._by_key.values() if a is not None)

    def find(self, name: str | None) -> Agency | None:
        """The agency listed under exactly this name, or None."""
        if not name:
            return None
        return self._by_key.get(name_key(name))

    @classmethod
    def load(cls, path: Path) -> Directory:
        try:
            if path.stat().st_size > _MAX_BYTES:
                raise ConfigError(
                    f"agency directory {path} is larger than 32 MiB",
                    f"Danh bạ cơ quan {path} lớn hơn 32 MiB",
                )
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"cannot read the agency directory {path}: {exc}",
                f"Không đọc được danh bạ cơ quan {path}: {exc}",
            ) from None
        json_file = path.suffix.lower() == ".json"
        return cls(_json_rows(text, path) if json_file else _csv_rows(text, path))


def _agency(row: dict[str, Any], where: str) -> tuple[Agency, list[str]]:
    organ_id = str(row.get("organ_id") or "").strip()
    name = unicodedata.normalize("NFC", str(row.get("name") or "").strip())
    if not _ORGAN_ID.fullmatch(organ_id) or not name:
        raise ConfigError(
            f"{where}: an entry needs an organ_id (letters, digits, dots; at most 35) and a "
            f"name, got {organ_id!r}, {name!r}",
            f"{where}: mỗi dòng cần organ_id (chữ, số, dấu chấm; tối đa 35) và name, "
            f"có {organ_id!r}, {name!r}",
        )
    aliases = row.get("aliases") or []
    if isinstance(aliases, str):
        aliases = aliases.split(";")
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise ConfigError(
            f"{where}: aliases must be a list of names", f"{where}: aliases phải là danh sách tên"
        )
    agency = Agency(organ_id, name, unicodedata.normalize("NFC", str(row.get("in_charge") or "")))
    return agency, [a.strip() for a in aliases if a.strip()]


def _json_rows(text: str, path: Path) -> list[tuple[Agency, list[str]]]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(
            f"{path}: not valid JSON: {exc}", f"{path}: không phải JSON hợp lệ: {exc}"
        ) from None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ConfigError(
            f"{path}: a JSON directory is a list of objects",
            f"{path}: danh bạ JSON là một danh sách đối tượng",
        )
    return [_agency(row, f"{path}[{i}]") for i, row in enumerate(data)]


def _csv_rows(text: str, path: Path) -> list[tuple[Agency, list[str]]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"organ_id", "name"} <= set(reader.fieldnames):
        raise ConfigError(
            f"{path}: the CSV header must name organ_id and name",
            f"{path}: dòng tiêu đề CSV phải có organ_id và name",
        )
    return [_agency(dict(row), f"{path}:{reader.line_num}") for row in reader]
