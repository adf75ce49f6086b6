"""The news the screens get: one catalogue of kinds, used by the publishers and
by the JavaScript, and documented."""

from __future__ import annotations

import ast
import re

import pytest

from station.common.hub import KINDS, Hub
from tests.helpers.cli import ROOT

#: DOM events the scripts also listen for
DOM_EVENTS = {
    "click", "submit", "toggle", "change", "input", "keydown", "load",
    "focusin", "focusout", "mousedown", "resize", "pointerdown", "pointerup", "pointercancel",
    "pointermove", "wheel", "popstate", "beforeunload", "visibilitychange",
}  # fmt: skip


def test_every_kind_published_is_in_the_catalogue() -> None:
    published: set[str] = set()
    for path in (ROOT / "station").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "publish"
                and ast.unparse(node.func.value).endswith("hub")
            ):
                first = node.args[0]
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                    f"{path}:{node.lineno}: a literal kind"
                )
                published.add(first.value)
    assert published and published <= set(KINDS), published - set(KINDS)


def test_the_javascript_listens_only_for_kinds_of_the_catalogue() -> None:
    heard: set[str] = set()
    for script in (ROOT / "station" / "ui" / "static").glob("*.js"):
        text = script.read_text(encoding="utf-8")
        heard |= set(re.findall(r'addEventListener\(\s*"([\w.-]+)"', text))
        for group in re.findall(r"\[([^\]]*)\]\.forEach\(function \(kind\)", text):
            heard |= set(re.findall(r'"([\w.-]+)"', group))
    news = heard - DOM_EVENTS
    assert news, "the scripts listen for news"
    assert news <= set(KINDS), news - set(KINDS)


def test_the_docs_list_every_kind() -> None:
    text = (ROOT / "docs" / "station-ui.md").read_text(encoding="utf-8")
    live = text.split("## Live updates", 1)[1].split("\n## ", 1)[0]
    assert [k for k in KINDS if f"`{k}`" not in live] == []


def test_an_unknown_kind_is_refused() -> None:
    hub = Hub()
    box = hub.subscribe()
    hub.publish("page", batch="b1")
    assert box.get_nowait()[0] == "page"
    with pytest.raises(ValueError, match="unknown kind"):
        hub.publish("pages", batch="b1")
