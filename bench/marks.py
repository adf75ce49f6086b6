"""Disputed tone marks: how often the dictionary settles them, and how often wrong.

python -m bench.marks [--sentences 300] [--out bench/results/marks.json]

Every syllable of a text that carries a tone above the letter (or none) is
read twice with marks a reader confuses: one wrong, the other wrong another
way or right. ``station.ocr.lexicon.settle`` then gives the printed text
("right"), nothing ("left"), or another text ("wrong"). And each text as
printed, read alike by both readings: settling must leave it be
("altered_when_read_right" counts the texts it changes).

Two more ways a reader goes wrong, measured apart: ``alike``, a syllable read
by both readings with the same wrong tone over the letter (the rules for a
tone over a circumflex that makes no word, and for a syllable Vietnamese does
not have); ``capitals``, the text in capitals, one reading with a syllable's
tone changed or its vowel mark lost ("VỐN" as "VÓN"), the other without any
mark on that syllable ("VON"), settled with ``capitals``. Two sets of text:
the generated documents' subjects and body (tests/docgen.py), and sentences
of Vietnamese legal and news text (the VLSP 2013 test sentences shipped with
underthesea, shuffled with a fixed seed).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import unicodedata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: no tone, huyền, sắc, ngã, hỏi: the marks over the letter a reading confuses
ABOVE = ("", "\u0300", "\u0301", "\u0303", "\u0309")
_PUNCT = ".,;:()\"'“”"


#: the vowel marks: breve, circumflex, horn
SHAPES = ("\u0306", "\u0302", "\u031b")


def _unshaped(word: str) -> str:
    """``word`` with its vowel marks lost, its tone kept ("VỐN" → "VÓN")."""
    decomposed = unicodedata.normalize("NFD", word)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in SHAPES))


def _unmarked(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def score(
    texts: list[str], seed: int = 7, examples: int = 20, mode: str = "disputes"
) -> dict[str, Any]:
    """Right, left and wrong settlements of every disputable syllable of ``texts``;
    ``mode``: "disputes" (two readings, two marks), "alike" (both readings the
    same wrong mark) or "capitals"."""
    if mode == "alike":
        return _alike(texts, seed, examples)
    if mode == "capitals":
        return _capitals(texts, seed, examples)
    from station.ocr.lexicon import _spelled, key, settle
    from station.records.vocabulary import tones, untoned

    rng = random.Random(seed)
    counts = {"right": 0, "left": 0, "wrong": 0}
    wrong: list[dict[str, str]] = []
    for text in texts:
        words = text.split()
        for i, word in enumerate(words):
            core = word.strip(_PUNCT)
            if len(core) < 2 or not core.isalpha() or core.isupper():
                continue
            tone = tones(core)
            if tone not in ABOVE:
                continue
            others = [t for t in ABOVE if t != tone]
            one = rng.choice(others)
            two = rng.choice([tone, *[t for t in others if t != one]])
            if not two:
                continue  # a reading without any mark is no dispute

            def marked(t: str, core: str = core, word: str = word) -> str:
                return word.replace(core, _spelled((untoned(core.lower()), t), core))

            a = " ".join([*words[:i], marked(one), *words[i + 1 :]])
            b = " ".join([*words[:i], marked(two), *words[i + 1 :]])
            out = settle(a, b)
            if out is None:
                counts["left"] += 1
            elif [key(w.strip(_PUNCT)) for w in out.split()] == [
                key(w.strip(_PUNCT)) for w in words
            ]:
                counts["right"] += 1
            else:
                counts["wrong"] += 1
                if len(wrong) < examples:
                    near = " ".join(words[max(0, i - 3) : i + 4])
                    wrong.append({"text": near, "read": f"{marked(one)} / {marked(two)}",
                                  "settled": out.split()[i]})  # fmt: skip
    total = sum(counts.values())
    # read right by both readings: any change is a wrong one
    altered = [text for text in texts if settle(text) is not None]
    return {
        "texts": len(texts),
        "altered_when_read_right": len(altered),
        "disputes": total,
        **counts,
        "right_pct": round(100 * counts["right"] / total, 1) if total else 0.0,
        "wrong_pct": round(100 * counts["wrong"] / total, 2) if total else 0.0,
        "wrong_examples": wrong,
    }


def _tally(counts: dict[str, int], wrong: list[dict[str, str]]) -> dict[str, Any]:
    total = sum(counts.values())
    return {
        "disputes": total,
        **counts,
        "right_pct": round(100 * counts["right"] / total, 1) if total else 0.0,
        "wrong_pct": round(100 * counts["wrong"] / total, 2) if total else 0.0,
        "wrong_examples": wrong,
    }


def _outcome(out: str | None, words: list[str]) -> str:
    from station.ocr.lexicon import key

    if out is None:
        return "left"
    same = [key(w.strip(_PUNCT)) for w in out.split()] == [key(w.strip(_PUNCT)) for w in words]
    return "right" if same else "wrong"


def _alike(texts: list[str], seed: int, examples: int) -> dict[str, Any]:
    """Each syllable in lower case with a tone over the letter, read by both
    readings with another such tone."""
    from station.ocr.lexicon import MARKS, _spelled, settle
    from station.records.vocabulary import tones, untoned

    rng = random.Random(seed)
    counts = {"right": 0, "left": 0, "wrong": 0}
    wrong: list[dict[str, str]] = []
    for text in texts:
        words = text.split()
        for i, word in enumerate(words):
            core = word.strip(_PUNCT)
            tone = tones(core)
            if len(core) < 2 or not core.isalpha() or core != core.lower() or tone not in MARKS:
                continue
            one = rng.choice(sorted(MARKS - {tone}))
            misread = word.replace(core, _spelled((untoned(core), one), core))
            read = " ".join([*words[:i], misread, *words[i + 1 :]])
            outcome = _outcome(settle(read, read), words)
            counts[outcome] += 1
            if outcome == "wrong" and len(wrong) < examples:
                wrong.append({"text": " ".join(words[max(0, i - 3) : i + 4]), "read": misread,
                              "settled": str(settle(read, read)).split()[i]})  # fmt: skip
    return _tally(counts, wrong)


def _capitals(texts: list[str], seed: int, examples: int) -> dict[str, Any]:
    """The texts in capitals; each marked syllable read with a wrong mark
    (its tone changed, or its vowel mark lost) and without any mark."""
    from station.ocr.lexicon import _spelled, settle
    from station.records.vocabulary import tones, untoned

    rng = random.Random(seed)
    counts = {"right": 0, "left": 0, "wrong": 0}
    wrong: list[dict[str, str]] = []
    for text in texts:
        words = text.upper().split()
        for i, word in enumerate(words):
            core = word.strip(_PUNCT)
            bare = _unmarked(core)
            if len(core) < 2 or not core.isalpha() or bare == core:
                continue
            tone, shaped = tones(core), _unshaped(core) != core
            if shaped and tone and rng.random() < 0.5:
                misread = _unshaped(core)
            else:
                one = rng.choice([t for t in ABOVE if t != tone])
                misread = _spelled((untoned(core.lower()), one), core)
            a = " ".join([*words[:i], word.replace(core, misread), *words[i + 1 :]])
            b = " ".join([*words[:i], word.replace(core, bare), *words[i + 1 :]])
            out = settle(a, b, capitals=True)
            outcome = _outcome(out, words)
            counts[outcome] += 1
            if outcome == "wrong" and len(wrong) < examples:
                wrong.append({"text": " ".join(words[max(0, i - 3) : i + 4]),
                              "read": f"{misread} / {bare}",
                              "settled": str(out).split()[i]})  # fmt: skip
    return _tally(counts, wrong)


def vlsp_sentences(count: int, seed: int = 2) -> list[str]:
    """``count`` sentences of the VLSP 2013 test set shipped inside underthesea."""
    spec = importlib.util.find_spec("underthesea")
    if spec is None or spec.origin is None:
        return []
    path = Path(spec.origin).parent.joinpath(
        "pipeline", "pos_tag", "models", "pos_crf_vlsp2013_20230303", "test_output.txt"
    )
    if not path.is_file():
        return []
    sentences: list[str] = []
    current: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if current:
                sentences.append(" ".join(current))
                current = []
            continue
        current.append(line.split("\t")[0])
    random.Random(seed).shuffle(sentences)
    return sentences[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=300)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "marks.json"))
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.common import write
    from tests.docgen import SENTENCES, SUBJECTS

    generated, vlsp = [*SUBJECTS, *SENTENCES], vlsp_sentences(args.sentences)
    write(
        "marks",
        args.out,
        {
            "generated": score(generated),
            "vlsp2013": score(vlsp),
            "alike": {"generated": score(generated, mode="alike"),
                      "vlsp2013": score(vlsp, mode="alike")},
            "capitals": {"generated": score(generated, mode="capitals"),
                         "vlsp2013": score(vlsp, mode="capitals")},
        },
    )  # fmt: skip


if __name__ == "__main__":
    main()
