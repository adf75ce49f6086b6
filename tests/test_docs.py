"""The docs stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

from station import errors
from station.cli import build_parser
from station.config import markdown_reference

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_config_reference_is_generated_from_the_model() -> None:
    text = (DOCS / "config.md").read_text(encoding="utf-8")
    assert markdown_reference() in text, "run: python -m station.config and update docs/config.md"


def test_cli_doc_lists_every_command() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    commands = set(sub.choices)  # type: ignore[arg-type]
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(\w+)", text, flags=re.M))
    assert commands <= documented


def test_cli_doc_lists_every_exit_code() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    documented = {int(c) for c in re.findall(r"^\|\s*(\d+) \|", text, flags=re.M)}
    codes = {
        cls.exit_code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.StationError)
    }
    assert codes <= documented
