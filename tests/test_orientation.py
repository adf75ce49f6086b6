"""Orientation is applied only on strong evidence: annex pages that cannot be
read (a table, a map, a photograph, two lines) are never turned wrongly, and
pages of text in any quarter turn are still put upright."""

from __future__ import annotations

import pytest

from station.imaging import preprocess
from station.imaging.orientation import Evidence, decide
from tests.annexes import ANNEXES, DPI, turned

TURNS = (0, 90, 180, 270)


@pytest.mark.parametrize("turn", TURNS)
@pytest.mark.parametrize("name", sorted(ANNEXES))
def test_annex_pages_are_never_turned_wrongly(name: str, turn: int) -> None:
    draw, text = ANNEXES[name]
    result = preprocess(turned(draw(0), turn), DPI)
    if result.orientation_sure:
        assert result.orientation_deg == turn, (result.orientation_source, result)
    else:
        # left as captured: the review (or the neighbours) turn it
        assert result.orientation_deg == 0 and result.orientation_source == "none"
    if text:
        assert result.orientation_sure and result.orientation_deg == turn


def test_an_upright_photo_stays_upright() -> None:
    result = preprocess(turned(ANNEXES["photo"][0](0), 0), DPI)
    assert result.orientation_deg == 0
    assert result.image.shape[0] > result.image.shape[1]  # still portrait


def test_text_lines_alone_decide_only_with_many_lines() -> None:
    many = Evidence(turn=180, vote=0.3, lines=60)
    assert decide(many, None).turn == 180 and decide(many, None).source == "text-lines"
    # a photograph's "lines": few, however clear their vote
    few = Evidence(turn=180, vote=0.52, lines=6)
    assert decide(few, None) == decide(few, (0, 0.33))
    assert not decide(few, None).sure and decide(few, None).turn == 0
    # a ruled table: many lines with a weak vote
    assert not decide(Evidence(turn=270, vote=0.12, lines=120), None).sure


def test_osd_confirms_or_decides_alone_only_when_confident() -> None:
    sparse = Evidence(turn=270, vote=0.34, lines=9)
    assert decide(sparse, (270, 0.7)).source == "agreed"
    assert decide(sparse, (270, 0.7)).turn == 270
    assert not decide(sparse, (270, 0.3)).sure  # too weak to confirm
    # a signature page: fewer lines, a weaker vote, OSD more confident
    assert decide(Evidence(turn=270, vote=0.27, lines=21), (270, 5.9)).turn == 270
    assert not decide(sparse, (90, 2.7)).sure  # a disagreement, not sure enough alone
    table = Evidence(turn=90, vote=0.04, lines=131)
    decided = decide(table, (180, 15.3))
    assert decided.sure and decided.turn == 180 and decided.source == "osd"
    # a map: text lines and OSD agree by chance, both weakly
    assert not decide(Evidence(turn=0, vote=0.28, lines=21), (0, 0.6)).sure
