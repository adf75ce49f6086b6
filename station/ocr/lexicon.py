"""Vietnamese words of more than one syllable, to settle a tone mark two
readings disagree on.

Tesseract's ``vie`` misreads the small tone mark over a circumflex (ổ, ỗ, ố,
ồ; ể, ễ, ế, ề) more than any other letter, and two readings of the same
print often put two different marks on one syllable, neither of them
always the printed one ("bố" / "bồ" for "bổ"). Vietnamese writes most
notions with words of two or three syllables ("bổ sung", "cổ phần", "tiến
độ"), so the syllable's neighbours tell which of its spellings the print
carries: of all the ways to mark the disputed letters, exactly one must make
a word of the dictionary with the syllables both readings agree on, or the
dispute stays (docs/ocr.md#words-of-several-syllables). The same words settle
a syllable both readings spell in a way Vietnamese does not have ("buỗi"),
and the words of a line in capitals, whose stacked marks the readings lose
and change; a lunar year's name is checked against its year.

The dictionary is underthesea's ``Viet74K`` word list (PyPI ``underthesea``,
Apache-2.0), found in the installed package and read once per process;
nothing of the package is imported. Without it nothing is settled and a
warning is logged.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import itertools
import logging
import re
import unicodedata
from pathlib import Path

from station.ocr.tesseract import words as model_words
from station.records.vocabulary import fold, tones, untoned

log = logging.getLogger(__name__)

#: where the word list sits inside the installed ``underthesea`` package
_WORD_LIST = ("corpus", "data", "Viet74K.txt")
#: at most this many spellings of a run of disputed syllables are tried
_MOST = 512

Key = tuple[str, str]
#: the dot below (nặng) is not among the marks a reading confuses: it sits
#: apart, under the letter; no spelling gains one that neither reading shows
DOT = "\u0323"


@functools.lru_cache(maxsize=65536)
def key(syllable: str) -> Key:
    """A syllable as its letters and its tone, so that where the tone mark
    sits does not matter ("hoá" and "hóa", "uỷ" and "ủy" are one)."""
    parts = [_letter(c) for c in unicodedata.normalize("NFC", syllable).lower()]
    return "".join(p[0] for p in parts), "".join(p[1] for p in parts)


@functools.cache
def _letter(c: str) -> tuple[str, str]:
    return untoned(c), tones(c)


def _word_list() -> Path | None:
    spec = importlib.util.find_spec("underthesea")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent.joinpath(*_WORD_LIST)
    return path if path.is_file() else None


@functools.cache
def compounds() -> frozenset[tuple[Key, ...]]:
    """Words of two or three syllables, each syllable as its :func:`key`."""
    path = _word_list()
    if path is None:
        log.warning("no Vietnamese word list (underthesea): disputed tone marks stay disputed")
        return frozenset()
    found: set[tuple[Key, ...]] = set()
    for entry in path.read_text(encoding="utf-8").splitlines():
        syllables = entry.replace("-", " ").split()
        if 2 <= len(syllables) <= 3 and all(s.isalpha() for s in syllables):
            found.add(tuple(key(s) for s in syllables))
    return frozenset(found)


@functools.cache
def _spellings() -> dict[str, frozenset[Key]]:
    """Every syllable Vietnamese has, by its letters without any mark."""
    by_letters: dict[str, set[Key]] = {}
    known = {k for word in compounds() for k in word}
    known.update(key(syllable) for syllable in model_words("vie") if syllable.isalpha())
    for k in known:
        by_letters.setdefault(fold(k[0]), set()).add(k)
    return {letters: frozenset(keys) for letters, keys in by_letters.items()}


def load() -> None:
    """Read the word list and the syllables now (about a second): the OCR
    worker does it while OCRmyPDF runs, not when the first header is read."""
    _spellings()


def _spelled(k: Key, like: str) -> str:
    """The syllable of key ``k`` written in the case of ``like``, its tone
    mark on the letter that carries one in ``like``, else where it goes."""
    letters, tone = k
    lower = unicodedata.normalize("NFC", like.lower())
    marked = [i for i, c in enumerate(lower) if tones(c)]
    if tone and marked and untoned(lower) == letters:
        at = marked[0]
        text = unicodedata.normalize("NFC", letters[: at + 1] + tone + letters[at + 1 :])
    else:
        text = _place(letters, tone)
    if like.isupper() and len(like) > 1:
        return text.upper()
    if like[:1].isupper():
        return text[:1].upper() + text[1:]
    return text


_VOWELS = "aăâeêioôơuưy"


def _place(letters: str, tone: str) -> str:
    """``letters`` with ``tone`` on the vowel that carries it: a vowel with
    its own mark (â, ê, ô, ơ, ư, ă), else the middle one of three, else the
    second of two before a final consonant ("hoàn"), else the first ("hóa",
    "ủy", "mía")."""
    if not tone:
        return letters
    positions = [i for i, c in enumerate(letters) if c in _VOWELS]
    # the u of "qu" and the i of "gi" belong to the consonant
    if letters.startswith(("gi", "qu")) and len(positions) > 1:
        positions = positions[1:]
    if not positions:
        return letters
    shaped = [i for i in positions if letters[i] in "ăâêôơư"]
    if shaped:
        at = shaped[-1]
    elif len(positions) >= 3 or (len(positions) == 2 and positions[-1] < len(letters) - 1):
        at = positions[1]
    else:
        at = positions[0]
    return unicodedata.normalize("NFC", letters[: at + 1] + tone + letters[at + 1 :])


def settle(chosen: str, other: str | None = None, *, capitals: bool = False) -> str | None:
    """``chosen`` with its tone marks settled by the dictionary, or None when
    that changes nothing or a dispute cannot be settled.

    - A syllable the two readings mark differently may be spelled with any
      tone on the letters and vowel marks either reading shows: exactly one
      way to spell the disputed syllables must make each of them part of a
      word of two or three syllables with the syllables both readings agree
      on. Words the readings split otherwise, or whose letters differ by
      more than one, leave the whole text unsettled.
    - A syllable both readings mark alike (or the only reading, ``other``
      None), with its tone over a circumflex (the mark Tesseract confuses
      most), that makes no word with its neighbours while exactly one other
      tone would ("bố sung": "bổ sung"), takes that tone. Words with a
      capital letter (names) are let be.
    - A syllable in lower case Vietnamese does not have ("buỗi"), read so
      by both readings, takes the one other tone over the letter that makes
      a syllable ("buổi"), or, of several, the only one that makes a word
      with its neighbours.
    - ``capitals``: a line printed in capitals, whose readings lose the
      marks stacked over a capital or change them ("NGUÔN VÓN" / "NGUON
      VON"): a word the two readings mark differently may be any syllable of
      its letters, with any vowel mark and any tone, that makes a word with
      its neighbours ("NGUỒN VỐN")."""
    dictionary = compounds()
    if not dictionary:
        return None
    a = chosen.split()
    slots = _slots(a, other.split() if other is not None else a, capitals)
    if slots is None:
        return None
    words = list(a)
    for start, end in _runs(slots):
        keys = _one_way(slots, start, end, dictionary)
        if keys is None:
            return None
        for i, k in zip(range(start, end), keys, strict=True):
            words[i] = _dressed(a[i], k)
    settled: list[str | frozenset[Key]] = list(words)
    for i, word in enumerate(words):
        core = _bare(word)
        missing = _missing(core, first=i == 0)
        if not missing and not _suspect(core, first=i == 0):
            continue
        read = key(core)
        context = [_fixed_key(settled, j) for j in range(len(settled))]
        if not missing and _in_a_word(
            context, i, dictionary, _words_of(context[:i]) + _after(context, i)
        ):
            continue
        others = frozenset(
            k for k in _spellings().get(fold(read[0]), frozenset())
            if k[0] == read[0] and k[1] in MARKS
        )  # fmt: skip
        settled[i] = others
        keys = _one_way(settled, i, i + 1, dictionary)
        if keys is None and missing and len(others) == 1:
            keys = tuple(others)  # the only syllable its letters make under another tone
        settled[i] = words[i] = _dressed(word, keys[0]) if keys else word
    words = _cycle_years(words)
    return " ".join(words) if words != a else None


#: the heavenly stems and earthly branches of the sexagenary cycle, in order:
#: a lunar year is named by both ("Nhâm Dần", 2022), printed in every Tết document
STEMS = ("giáp", "ất", "bính", "đinh", "mậu", "kỷ", "canh", "tân", "nhâm", "quý")
BRANCHES = ("tý", "sửu", "dần", "mão", "thìn", "tỵ", "ngọ", "mùi", "thân", "dậu", "tuất", "hợi")


def cycle_name(year: int) -> tuple[str, str]:
    """The stem and branch that name a lunar year (2022: "nhâm", "dần")."""
    return STEMS[(year - 4) % 10], BRANCHES[(year - 4) % 12]


def _cycle_years(words: list[str]) -> list[str]:
    """A lunar year's branch misread after its stem ("Tết Nguyên đán Nhâm
    Dằn-năm 2022"): when the year follows within three words and its stem
    is the one read, the branch of the same letters is that year's ("Dần")."""
    out = list(words)
    for i in range(len(words) - 1):
        stem = _bare(words[i])
        parts = re.split(r"[-–—]", words[i + 1], maxsplit=1)
        branch = _bare(parts[0])
        if not stem[:1].isupper() or not branch[:1].isupper() or not branch.isalpha():
            continue
        after = " ".join([*parts[1:], *words[i + 2 : i + 5]])
        year = re.search(r"\b(1[89]\d\d|2\d\d\d)\b", after)
        if year is None:
            continue
        named = cycle_name(int(year.group(1)))
        if key(stem) != key(named[0]) or fold(branch) != fold(named[1]):
            continue
        if key(branch) != key(named[1]):
            out[i + 1] = words[i + 1].replace(branch, _spelled(key(named[1]), branch), 1)
    return out


#: huyền, sắc, ngã, hỏi: the tone marks over the letter, that readings
#: mistake for one another (whether there is a mark at all, two readings
#: seldom both get wrong)
MARKS = frozenset({"\u0300", "\u0301", "\u0303", "\u0309"})


def _suspect(core: str, first: bool) -> bool:
    """A syllable in lower case (or the text's first) with a tone mark over
    a circumflex (â, ê, ô)."""
    if len(core) < 2 or not core.isalpha() or (not first and core != core.lower()):
        return False
    letters, tone = key(core)
    return tone in MARKS and any(c in letters for c in "âêô")


def _missing(core: str, first: bool) -> bool:
    """A syllable in lower case (or the text's first) with a tone mark over
    the letter that Vietnamese does not have ("buỗi", "triên")."""
    if len(core) < 2 or not core.isalpha() or (not first and core != core.lower()):
        return False
    letters, tone = key(core)
    known = _spellings().get(fold(letters))
    return tone in MARKS and known is not None and (letters, tone) not in known


def _after(context: list[Key | None], i: int) -> list[tuple[int, int]]:
    return [(p + i + 1, q + i + 1) for p, q in _words_of(context[i + 1 :])]


def _slots(a: list[str], b: list[str], capitals: bool = False) -> list[str | frozenset[Key]] | None:
    """``a``'s words, or the spellings a word may have where ``b`` marks it
    otherwise (in ``capitals``, also where one of them has lost its marks);
    None where the two differ in more than marks."""
    slots: list[str | frozenset[Key]] = []
    matcher = difflib.SequenceMatcher(None, [fold(w) for w in a], [fold(w) for w in b])
    for op, i0, i1, j0, j1 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and i1 - i0 == j1 - j0):
            for x, y in zip(a[i0:i1], b[j0:j1], strict=True):
                stacked = capitals and _capital(x) and _capital(y)
                if x.lower() == y.lower() or (op == "equal" and not _marked(y) and not stacked):
                    slots.append(x)  # alike, or the other lost its marks
                elif (options := _options(x, y, stacked)) is None:
                    return None
                else:
                    slots.append(options)
        elif fold("".join(a[i0:i1])).replace(" ", "") == fold("".join(b[j0:j1])).replace(" ", ""):
            slots.extend(a[i0:i1])
        else:
            return None
    return slots


def _marked(word: str) -> bool:
    decomposed = unicodedata.normalize("NFD", word)
    return "đ" in word.lower() or any(unicodedata.combining(c) for c in decomposed)


def _capital(word: str) -> bool:
    core = _bare(word)
    return len(core) > 1 and core.isupper()


def _options(x: str, y: str, stacked: bool = False) -> frozenset[Key] | None:
    """The syllables ``x`` and ``y`` could both be readings of: the letters
    and vowel marks (ă, â, ê, ô, ơ, ư) one of them shows, under any tone;
    letters one apart at most. ``stacked`` (capitals): the same letters
    under any vowel mark and any tone, the dot below too (a reading that
    lost a capital's marks lost that one with them), the stroke of đ as
    shown."""
    px, py = _bare(x), _bare(y)
    if not px.isalpha() or not py.isalpha() or len(px) != len(py):
        return None
    if sum(c != d for c, d in zip(fold(px), fold(py), strict=True)) > 1:
        return None
    spellings = _spellings()
    below = DOT in tones(px) + tones(py)
    shown = {key(px)[0], key(py)[0]}
    stroke = {"đ" in s for s in shown}
    options = frozenset(
        k
        for letters in shown
        for k in spellings.get(fold(letters), frozenset())
        if (k[0] == letters or (stacked and ("đ" in k[0]) in stroke))
        and (below or stacked or DOT not in k[1])
    )
    return options or None


def _bare(word: str) -> str:
    return word.strip(".,;:()\"'“”")


def _dressed(word: str, k: Key) -> str:
    """``word`` with its syllable spelled as ``k``, its punctuation kept."""
    core = _bare(word)
    at = word.find(core)
    return word[:at] + _spelled(k, core) + word[at + len(core) :]


def _runs(slots: list[str | frozenset[Key]]) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, slot in enumerate([*slots, ""]):
        if isinstance(slot, frozenset):
            start = i if start is None else start
        elif start is not None:
            runs.append((start, i))
            start = None
    return runs


def _one_way(
    slots: list[str | frozenset[Key]],
    start: int,
    end: int,
    dictionary: frozenset[tuple[Key, ...]],
) -> tuple[Key, ...] | None:
    """The only spelling of the disputed run ``slots[start:end]`` in which
    each of its syllables is part of a word with its settled neighbours,
    a word that does not cut through one the settled syllables make alone
    ("địa bàn tỉnh" is not "địa | bàn tính")."""
    options: list[list[Key]] = []
    for slot in slots[start:end]:
        assert isinstance(slot, frozenset)
        options.append(sorted(slot))
    if functools.reduce(lambda n, o: n * len(o), options, 1) > _MOST:
        return None
    first = max(0, start - 3)
    left = [_fixed_key(slots, i) for i in range(first, start)]
    right = [_fixed_key(slots, i) for i in range(end, end + 3)]
    taken = _words_of(left) + [
        (p + len(left) + end - start, q + len(left) + end - start) for p, q in _words_of(right)
    ]
    ways: list[tuple[Key, ...]] = []
    for way in itertools.product(*options):
        context: list[Key | None] = [*left, *way, *right]
        if all(_in_a_word(context, len(left) + i, dictionary, taken) for i in range(len(way))):
            ways.append(way)
            if len(ways) > 1:
                return None
    return ways[0] if ways else None


def _words_of(keys: list[Key | None]) -> list[tuple[int, int]]:
    """Where settled syllables make a word by themselves, as spans."""
    dictionary = compounds()
    return [
        (p, p + size)
        for size in (2, 3)
        for p in range(len(keys) - size + 1)
        if None not in keys[p : p + size] and tuple(keys[p : p + size]) in dictionary
    ]


def _fixed_key(slots: list[str | frozenset[Key]], i: int) -> Key | None:
    if not 0 <= i < len(slots) or isinstance(slots[i], frozenset):
        return None
    word = _bare(slots[i])  # type: ignore[arg-type]
    return key(word) if word.isalpha() else None


def _in_a_word(
    context: list[Key | None],
    i: int,
    dictionary: frozenset[tuple[Key, ...]],
    taken: list[tuple[int, int]],
) -> bool:
    for size in (2, 3):
        for s in range(max(0, i - size + 1), i + 1):
            e = s + size
            window = context[s:e]
            if len(window) < size or None in window or tuple(window) not in dictionary:
                continue
            if not any(s < q and p < e and not (s <= p and q <= e) for p, q in taken):
                return True
    return False


def vouched(words: list[str], i: int) -> bool:
    """Whether ``words[i]`` is part of a word of two or three syllables of
    the dictionary with its neighbours ("dột" in "nhà dột nát"): a syllable
    Tesseract's own dictionary lacks is Vietnamese when a word of the word
    list holds it where it stands."""
    dictionary = compounds()
    context = [_fixed_key(list(words), j) for j in range(len(words))]
    return context[i] is not None and _in_a_word(context, i, dictionary, [])
