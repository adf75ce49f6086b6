"""A station profile (adf-duplex, color, 200 dpi, A4) in a SANE backend's own option names
and values, which differ per backend ("ADF Duplex", "Duplex", an ``adf-mode`` option, …)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from station.config import PAGE_SIZES_MM, Profile
from station.errors import (
    ScannerOptionError,
)

# SANE option capability bits (sane.h).
CAP_SOFT_SELECT = 1
CAP_HARD_SELECT = 2
CAP_SOFT_DETECT = 4
CAP_INACTIVE = 32
NO_DUPLEX = "the scanner offers no duplex: scanning front sides only"
TYPE_BOOL, TYPE_INT, TYPE_FIXED, TYPE_STRING, TYPE_BUTTON, TYPE_GROUP = range(6)


@dataclass(frozen=True)
class OptionInfo:
    name: str
    type: int
    cap: int
    constraint: Any

    @property
    def active(self) -> bool:
        return not self.cap & CAP_INACTIVE

    @property
    def settable(self) -> bool:
        return bool(self.cap & CAP_SOFT_SELECT) and self.active

    @property
    def is_sensor(self) -> bool:
        """Read-only hardware state such as a button: readable, not settable."""
        return (
            bool(self.cap & CAP_SOFT_DETECT)
            and not self.cap & CAP_SOFT_SELECT
            and self.type in (TYPE_BOOL, TYPE_INT, TYPE_STRING)
            and self.active
        )


def options_of(raw: Sequence[tuple[Any, ...]]) -> dict[str, OptionInfo]:
    """Options from python-sane's ``get_options()`` tuples, by SANE name."""
    result = {}
    for entry in raw:
        _index, name, _title, _desc, type_, _unit, _size, cap, constraint = entry
        if name and type_ != TYPE_GROUP:
            result[name] = OptionInfo(name, type_, cap, constraint)
    return result


@dataclass(frozen=True)
class Settings:
    """The backend option values a profile maps onto, in the order to set them."""

    values: list[tuple[str, Any]] = field(default_factory=list)
    duplex: bool = False
    feeder: bool = True
    notes: list[str] = field(default_factory=list)


def _pick(
    choices: Sequence[str], wanted: Sequence[Sequence[str]], avoid: Sequence[str] = ()
) -> str | None:
    """The first choice containing all words of a wanted group, none of ``avoid``."""
    for words in wanted:
        for choice in choices:
            low = choice.lower()
            if all(w in low for w in words) and not any(a in low for a in avoid):
                return choice
    return None


def _source_choice(choices: list[str], source: str) -> tuple[str | None, bool]:
    """(backend source value, whether it is a duplex source) for a profile source."""
    if source == "flatbed":
        return _pick(choices, [["flatbed"], ["normal"], ["platen"]]), False
    if source in ("adf-duplex", "auto"):
        duplex = _pick(choices, [["duplex"]])
        if duplex:
            return duplex, True
    if source == "adf-back":
        back = _pick(choices, [["back"], ["rear"]])
        if back:
            return back, False
    feeder = _pick(
        choices,
        [["adf", "front"], ["adf"], ["feeder"], ["automatic document"], ["simplex"]],
        avoid=["duplex", "back", "rear"],
    )
    if feeder or source != "auto":
        return feeder, False
    return _pick(choices, [["flatbed"], ["normal"]]), False


def map_profile(options: Mapping[str, OptionInfo], profile: Profile) -> Settings:
    """Map a profile onto this backend's options; raises ScannerOptionError if impossible."""
    values: list[tuple[str, Any]] = []
    notes: list[str] = []
    duplex = False
    feeder = profile.source != "flatbed"

    src = options.get("source")
    if src is not None and src.settable and isinstance(src.constraint, list):
        choice, duplex = _source_choice(src.constraint, profile.source)
        if choice is None and profile.source == "adf-duplex":
            choice, duplex = _source_choice(src.constraint, "adf-front")
            if choice:
                notes.append(NO_DUPLEX)
        if choice is None:
            raise ScannerOptionError(
                f"the scanner has no {profile.source} source (it offers: "
                f"{', '.join(src.constraint)})",
                f"Máy quét không có nguồn giấy {profile.source} (có: {', '.join(src.constraint)})",
            )
        values.append(("source", choice))
        feeder = "flatbed" not in choice.lower() and "normal" not in choice.lower()
    elif profile.source not in ("flatbed", "auto") and src is None:
        notes.append("no source option: using the scanner's only source")

    # Backends that switch duplex with a separate option (epson2, epsonds, some hp).
    if profile.source in ("adf-duplex", "auto") and feeder and not duplex:
        mode_opt = options.get("adf-mode") or options.get("adf_mode")
        dup_opt = options.get("duplex")
        if mode_opt and mode_opt.settable and isinstance(mode_opt.constraint, list):
            choice = _pick(mode_opt.constraint, [["duplex"]])
            if choice:
                values.append((mode_opt.name, choice))
                duplex = True
        elif dup_opt and dup_opt.settable and dup_opt.type == TYPE_BOOL:
            values.append(("duplex", True))
            duplex = True
        if profile.source == "adf-duplex" and not duplex and not notes:
            notes.append(NO_DUPLEX)

    mode = options.get("mode")
    if mode is not None and mode.settable and isinstance(mode.constraint, list):
        wanted = {
            "color": [["color"], ["colour"], ["rgb"]],
            "gray": [["gray"], ["grey"]],
            "lineart": [["lineart"], ["binary"], ["black"], ["halftone"]],
        }[profile.mode]
        choice = _pick(
            mode.constraint,
            wanted,
            avoid=["lineart", "halftone"] if profile.mode != "lineart" else (),
        )
        if choice is None:
            raise ScannerOptionError(
                f"the scanner has no {profile.mode} mode (it offers: {', '.join(mode.constraint)})",
                f"Máy quét không có chế độ màu {profile.mode} (có: {', '.join(mode.constraint)})",
            )
        values.append(("mode", choice))

    depth = options.get("depth")
    if (
        depth is not None
        and depth.settable
        and isinstance(depth.constraint, list)
        and 8 in depth.constraint
        and profile.mode != "lineart"
    ):
        values.append(("depth", 8))

    res = options.get("resolution") or options.get("x-resolution")
    if res is not None and res.settable:
        values.append((res.name, _resolution(res, profile.resolution)))
        if res.name == "x-resolution" and options.get("y-resolution"):
            values.append(
                ("y-resolution", _resolution(options["y-resolution"], profile.resolution))
            )

    values.extend(_area(options, profile))
    return Settings(values=values, duplex=duplex, feeder=feeder, notes=notes)


def _resolution(option: OptionInfo, wanted: int) -> int | float:
    constraint = option.constraint
    value: float = wanted
    if isinstance(constraint, list) and constraint:
        above = sorted(v for v in constraint if v >= wanted)
        value = above[0] if above else max(constraint)
    elif isinstance(constraint, tuple) and len(constraint) == 3:
        low, high, quant = constraint
        value = min(max(wanted, low), high)
        if quant:
            value = low + round((value - low) / quant) * quant
    return float(value) if option.type == TYPE_FIXED else int(value)


def _area(options: Mapping[str, OptionInfo], profile: Profile) -> list[tuple[str, Any]]:
    """Scan area in mm: the paper size (clipped to the scanner), or everything for ``max``."""
    values: list[tuple[str, Any]] = []

    def upper(name: str) -> float | None:
        opt = options.get(name)
        if opt is None or not opt.settable or not isinstance(opt.constraint, tuple):
            return None
        return float(opt.constraint[1])

    size = PAGE_SIZES_MM.get(profile.page_size)
    for width_name, height_name in (("page-width", "page-height"), ("br-x", "br-y")):
        max_w, max_h = upper(width_name), upper(height_name)
        if max_w is None or max_h is None:
            continue
        if width_name == "br-x":
            for corner in ("tl-x", "tl-y"):
                if upper(corner) is not None:
                    values.append((corner, _fixed_or_int(options[corner], 0.0)))
        width, height = (min(size[0], max_w), min(size[1], max_h)) if size else (max_w, max_h)
        values.append((width_name, _fixed_or_int(options[width_name], width)))
        values.append((height_name, _fixed_or_int(options[height_name], height)))
    return values


def _fixed_or_int(option: OptionInfo, value: float) -> int | float:
    return float(value) if option.type == TYPE_FIXED else int(value)
