"""Reading a TOML file into a strict pydantic model: a value, or a refusal that
names the key, the line in the file and the fix (the model's field description)."""

from __future__ import annotations

import difflib
import re
import tomllib
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from station.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def parse_toml(text: str, model: type[M], source: str) -> M:
    """``text`` validated as ``model``; ConfigError naming each problem's line and fix."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"line (\d+)", str(exc))
        where = f"{source}:{at.group(1)}" if at else source
        raise ConfigError(
            f"{where}: not valid TOML: {exc}. Fix: check quotes, brackets and '=' on that line",
            f"{where}: không đúng cú pháp TOML: {exc}. Cách sửa: kiểm tra dấu ngoặc kép, "
            "ngoặc vuông và dấu '=' trên dòng đó",
        ) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = key_lines(text)
        problems = [_describe(model, err, lines, source) for err in exc.errors()]
        raise ConfigError(
            "invalid config:\n" + "\n".join(problems),
            "Cấu hình không hợp lệ:\n" + "\n".join(problems),
            problems=problems,
        ) from None


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map every table and key path of a TOML text to its 1-based line number."""
    found: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    depth = 0
    in_multiline = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if in_multiline:
            if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
                in_multiline = False
            continue
        if depth > 0:
            depth += _bracket_balance(line)
            continue
        if not line or line.startswith("#"):
            continue
        header = re.fullmatch(r"\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?", line)
        if header:
            table = _split_key(header.group(1))
            for cut in range(1, len(table) + 1):  # implicit parents too
                found.setdefault(table[:cut], number)
            continue
        match = _KEY_LINE.match(line)
        if not match:
            continue
        path = table + _split_key(match.group(1))
        found.setdefault(path, number)
        value = match.group(2)
        if value.count('"""') == 1 or value.count("'''") == 1:
            in_multiline = True
        depth = max(0, _bracket_balance(value))
    return found


_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_KEY_LINE = re.compile(rf"({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=(.*)")
_STRINGS_AND_COMMENT = re.compile(r""""(?:[^"\\]|\\.)*"|'[^']*'|#.*$""")


def _bracket_balance(text: str) -> int:
    """Opening minus closing brackets outside strings and comments."""
    bare = _STRINGS_AND_COMMENT.sub("", text)
    return bare.count("[") - bare.count("]")


def _split_key(key: str) -> tuple[str, ...]:
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)', key)
    return tuple(next(p for p in part if p) if any(part) else "" for part in parts)


def _model_at(root: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model class that holds the field at ``loc``, walking dicts of models."""
    model: Any = root
    for part in loc[:-1]:
        if model is None or not isinstance(model, type) or not issubclass(model, BaseModel):
            return None
        field = model.model_fields.get(str(part))
        if field is None:
            # a dict key (a profile name): the value type is the next model
            continue
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        elif args and isinstance(args[-1], type) and issubclass(args[-1], BaseModel):
            model = args[-1]
        else:
            model = None
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model
    return None


def _describe(
    root: type[BaseModel], err: Any, lines: dict[tuple[str, ...], int], source: str
) -> str:
    raw_loc = tuple(err["loc"])
    ctx_key = (err.get("ctx") or {}).get("key")
    if ctx_key:  # a check across fields (or sections: "uplink.topic_mode") names its key
        raw_loc += tuple(str(ctx_key).split("."))
    loc = tuple(str(p) for p in raw_loc)
    key = ".".join(loc) if loc else "(top level)"
    line = None
    for cut in range(len(loc), 0, -1):
        if loc[:cut] in lines:
            line = lines[loc[:cut]]
            break
    where = f"{source}:{line}" if line else source
    model = _model_at(root, raw_loc) if loc else root
    field_name = loc[-1] if loc else ""
    fix = ""
    if err["type"] == "extra_forbidden":
        known = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(field_name, known, n=1)
        fix = f"did you mean '{close[0]}'? " if close else ""
        fix += "remove the key; known keys here: " + ", ".join(known)
        message = f"unknown key '{key}'"
    else:
        message = f"'{key}': {err['msg']}"
        if model and field_name in model.model_fields:
            info = model.model_fields[field_name]
            fix = info.description or ""
            extra = info.json_schema_extra
            if isinstance(extra, dict) and "example" in extra:
                fix += f" Example: {field_name} = {extra['example']}"
        if err["type"] == "missing":
            fix = f"add {field_name} = … under [{'.'.join(loc[:-1])}]. " + fix
    return f"{where}: {message}. Fix: {fix.strip()}" if fix else f"{where}: {message}"
