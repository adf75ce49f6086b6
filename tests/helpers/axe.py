"""Accessibility checks of a screen in chromium: axe-core (vendored from npm,
``tests/vendor/axe-core/``) run on the page as it is, and a walk with the Tab
key that every control shows where the focus is."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe-core" / "axe.min.js"
#: the impacts a screen may not have
FAILING = ("serious", "critical")
#: and rules of lesser impact the screens keep all the same: one top-level
#: heading, every column named
ALSO_FAILING = ("page-has-heading-one", "empty-table-header")


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    url: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        shown = ", ".join(self.targets[:6]) + (" …" if len(self.targets) > 6 else "")
        return (
            f"{self.rule} ({self.impact}, {len(self.targets)}×): {self.help} [{shown}] {self.url}"
        )


def axe(page: Page) -> list[Violation]:
    """Every violation axe-core finds on the page as it is now. The engine is
    evaluated in the page from the vendored file (the pages' own CSP allows no
    injected script tag; an evaluation is not a script of the page)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                rule: v.id, impact: v.impact || "", help: v.help, url: v.helpUrl,
                targets: v.nodes.map(n => n.target.map(String).join(" ")),
            }));
        }"""
    )
    return [
        Violation(v["rule"], v["impact"], v["help"], v["url"], tuple(v["targets"])) for v in found
    ]


def failing(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.impact in FAILING or v.rule in ALSO_FAILING]


def save(violations: list[Violation], path: Path) -> None:
    path.write_text(
        json.dumps([v.__dict__ for v in violations], ensure_ascii=False, indent=1),
        encoding="utf-8",
    )


#: walks the page with Tab; for each control reached, its look unfocused and
#: focused, and the colour behind it
_FOCUS_STYLE = """(el) => {
    const s = getComputedStyle(el);
    const look = {outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`,
                  shadow: s.boxShadow};
    // what the ring is drawn on: the control itself when the ring is inside
    // it, else what is around it; half-transparent layers laid on each other
    const layers = [];
    let e = parseFloat(s.outlineOffset) < 0 ? el : el.parentElement;
    for (; e; e = e.parentElement) {
        const text = getComputedStyle(e).backgroundColor;
        const c = (text.match(/[\\d.]+/g) || [0, 0, 0, 0]).map(Number);
        const alpha = c.length > 3 ? c[3] : 1;
        if (alpha > 0) layers.push([c[0], c[1], c[2], alpha]);
        if (alpha >= 1) break;
    }
    let back = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) {
        back = [r * a + back[0] * (1 - a), g * a + back[1] * (1 - a), b * a + back[2] * (1 - a)];
    }
    return {tag: el.outerHTML.slice(0, 90), style: s.outlineStyle,
            width: parseFloat(s.outlineWidth), color: s.outlineColor,
            shadow: s.boxShadow, back: `rgb(${back.map(Math.round).join(", ")})`, look};
}"""

_CONTRAST = """([a, b]) => {
    const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const lum = c => {
        const [r, g, b] = rgb(c).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
}"""


def unseen_focus(page: Page, stops: int = 200) -> tuple[list[str], int]:
    """Tab through the page from its top: the controls whose focus cannot be
    seen (no outline of 2 px or more at 3:1 against what is behind it, and no
    new box-shadow), and how many controls were reached."""
    # a page reached by a form's submit may still be loading its stylesheet
    page.wait_for_load_state("load")
    # Tab from the top of the page, wherever the focus was (an autofocus field)
    page.evaluate(
        """() => {
            const start = document.createElement("span");
            start.tabIndex = -1;
            start.id = "tab-walk-start";
            document.body.prepend(start);
            start.focus();
        }"""
    )
    seen: set[str] = set()
    bad: list[str] = []
    for _ in range(stops):
        page.keyboard.press("Tab")
        # in one go, before the page can draw itself again: the control with
        # the focus, its look, and its look without the focus
        stop: dict[str, Any] | None = page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el || el === document.body) return null;
                const look = """
            + _FOCUS_STYLE
            + """;
                const key = el.dataset.focusKey || (el.dataset.focusKey = String(Math.random()));
                const focused = look(el);
                el.blur();
                const before = look(el);
                el.focus();
                return {key, focused, before};
            }"""
        )
        if stop is None or stop["key"] in seen:
            break  # past the last control, or round the page and back
        seen.add(stop["key"])
        focused, before = stop["focused"], stop["before"]
        outline = (
            focused["style"] not in ("none", "auto")
            and focused["width"] >= 2
            and page.evaluate(_CONTRAST, [focused["color"], focused["back"]]) >= 3
        )
        shadow = focused["shadow"] != "none" and focused["shadow"] != before["shadow"]
        if not (outline or shadow) or focused["look"] == before["look"]:
            bad.append(
                f"{focused['tag']} outline {focused['look']['outline']} on {focused['back']}"
            )
    page.evaluate("() => document.getElementById('tab-walk-start')?.remove()")
    return bad, len(seen)
