"""The stylesheets the screens load: every block closed where it opens.

A rule left open swallows every rule after it into its media query (the
screen then lays out as if those rules were not there), and a browser
says nothing about it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parent.parent / "station" / "ui" / "static"


def _depths(css: str) -> list[tuple[int, int]]:
    """(line, depth after it) for each line, comments and strings left out."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group().count("\n"), css, flags=re.S)
    text = re.sub(r"\"[^\"\n]*\"|'[^'\n]*'", "''", text)
    depth, out = 0, []
    for number, line in enumerate(text.splitlines(), 1):
        depth += line.count("{") - line.count("}")
        out.append((number, depth))
    return out


@pytest.mark.parametrize("name", sorted(p.name for p in STATIC.glob("*.css")))
def test_every_block_is_closed(name: str) -> None:
    depths = _depths((STATIC / name).read_text(encoding="utf-8"))
    assert all(depth >= 0 for _, depth in depths), f"{name}: a '}}' closes nothing"
    assert depths[-1][1] == 0, f"{name}: a block is left open"
    # a comment that opens a section starts at the top level
    text = (STATIC / name).read_text(encoding="utf-8").splitlines()
    inside = [n for n, d in depths[:-1] if d > 0 and text[n].startswith("/* ")]
    assert inside == [], f"{name}: a section's comment inside an open block, line {inside[:1]}"


def test_an_open_block_is_found() -> None:
    depths = _depths("@media (max-width: 560px) {\n  a { color: red; }\n\n/* next */\nb { }\n")
    assert depths[-1][1] == 1
    assert _depths("a { content: '}'; }\n")[-1][1] == 0
