"""Folding text so that the usual disguises of a listed word fold back to the word.

A list matcher is only as good as what it compares: "ｆｕｃｋ", "f\u200buck", "F.U.C.K",
"f u c k", "sh1t" and "操，你，妈" must all reach the matcher as the word itself, while
"class", "hello", "he'll" and "我爱体操，你呢" must not turn into one. Three steps do it:

1. `fold` works per character: NFKC (full-width and compatibility forms), case folding,
   diacritics dropped from Latin, Greek and Cyrillic letters, traditional Chinese characters
   mapped to simplified (OpenCC's table), and format and mark characters (zero-width
   spaces and joiners, bidi controls, soft hyphens, variation selectors, combining marks)
   removed. Each folded character remembers which original character it came from, so a
   match can be reported as the text the viewer would have seen.
2. `word_view` is what words are matched on. Inside a word, punctuation is dropped
   ("f.u.c.k", "fu*ck"), and in a word that has a letter, leetspeak becomes letters
   (0→o 1→i 3→e 4→a 5→s 7→t @→a $→s, and ! or | between letters →i); Cyrillic and
   Greek look-alikes mixed into a Latin word become Latin. "l" and "i" are one letter here
   ("1" stands for either), so "sh1t" and "a55ho1e" both fold. Runs of single letters
   ("f u c k", "f. u. c. k.") are joined. Words are otherwise kept apart by one space; an
   apostrophe stays as it is, so "he'll" never becomes "hell". `WordView.cut` marks where a
   word may start or end.
3. `han_view` is what Chinese and Japanese characters are matched on, as substrings: only
   those characters. What was put between them is removed: spaces, symbols, emoji and
   zero-width characters always ("傻 逼", "傻*逼"), since Chinese puts nothing between the
   characters of a word; punctuation that ends a clause or quotes a name ("，", "。", "《")
   only when one side is a single character ("操，你，妈"), so that the end of one clause
   and the start of the next ("我爱体操，你呢") never join. A letter or digit is a break.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from kagura.safety.chinese import simplified_table

BREAK = "\n"
"""Stands in the Han view where two runs must not join; no listed word contains it."""

_DROPPED_CATEGORIES = frozenset({"Cf", "Cc", "Mn", "Me", "Cs", "Co", "Cn"})
_STRIP_MARKS_BELOW = 0x0530  # Latin, Greek, Cyrillic: letters whose accents disguise a word
_FOLD_CACHE_SIZE = 16384  # distinct characters remembered; replies use a few hundred

_APOSTROPHES = frozenset("'’‘ʼ`´")
_LEET_DIGITS = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t"}
_LEET_SYMBOLS = {"@": "a", "$": "s"}
_LEET_BETWEEN_LETTERS = frozenset("!|")
_SAME_AS_I = "l"  # "l" and "i" are one letter in the word view ("1" stands for both)

# Cyrillic and Greek letters that look like Latin ones (after case folding). Applied only to
# words that also hold a Latin letter, where the mix is a disguise, never to Russian or Greek.
_LOOK_ALIKES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j",
        "ԁ": "d", "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    }
)  # fmt: skip

# What ends a clause or quotes a name in Chinese (and the ASCII forms models write): between
# two longer runs it is ordinary writing, not something put inside a word.
_CLAUSE_MARKS = frozenset("，。！？；：、…—～,.!?;:~\"'“”‘’「」『』《》〈〉（）()[]【】-")

_HAN_RANGES = (
    "\u3005\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
)
_HAN_RUN = re.compile(f"[{_HAN_RANGES}]+")
_HAN_CHAR = re.compile(f"[{_HAN_RANGES}]")
_NOT_SPACE = re.compile(r"[^ ]+")
_FIRST_SOLO_CANDIDATE = "\u00a9"  # no character below © is a symbol or Han character


def is_han(ch: str) -> bool:
    """Chinese characters, kana and bopomofo: scripts written without spaces between words."""
    return _HAN_CHAR.fullmatch(ch) is not None


@functools.lru_cache(maxsize=_FOLD_CACHE_SIZE)
def is_solo(ch: str) -> bool:
    """A character that is a word by itself in the word view: Han, kana, emoji and symbols."""
    return is_han(ch) or unicodedata.category(ch) == "So"


@functools.lru_cache(maxsize=_FOLD_CACHE_SIZE)
def fold_char(ch: str) -> str:
    """One character folded: "" for what is invisible or a mark, " " for any space."""
    if ch.isspace():
        return " "
    if unicodedata.category(ch) in _DROPPED_CATEGORIES:
        return ""
    out = []
    for c in unicodedata.normalize("NFKC", ch).casefold():
        if ord(c) < _STRIP_MARKS_BELOW:
            for d in unicodedata.normalize("NFD", c):
                if unicodedata.category(d) not in _DROPPED_CATEGORIES:
                    out.append(d)
        elif c.isspace():
            out.append(" ")
        elif unicodedata.category(c) not in _DROPPED_CATEGORIES:
            out.append(simplified_table().get(c, c))
    return "".join(out)


_ASCII_FOLD = str.maketrans(
    {chr(c): (" " if chr(c).isspace() else (None if c < 32 or c == 127 else chr(c).lower()))
     for c in range(128)}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Folded:
    """Text folded per character; `origin[i]` is the index in the original text of `text[i]`."""

    text: str
    origin: Sequence[int]


def fold(text: str) -> Folded:
    """Fold every character of `text` (see the module docstring, step 1)."""
    if text.isascii():  # most English replies: one C call, and every index is its own origin
        folded = text.translate(_ASCII_FOLD)
        if len(folded) == len(text):
            return Folded(folded, range(len(text)))
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        one = fold_char(ch)
        if len(one) == 1:
            chars.append(one)
            origin.append(i)
        elif one:
            chars.extend(one)
            origin.extend([i] * len(one))
    return Folded("".join(chars), origin)


@dataclass(frozen=True, slots=True)
class WordView:
    """Words folded for matching on word boundaries; a word may start or end at each `cut`."""

    text: str
    origin: Sequence[int]
    cut: frozenset[int]


def _word_letters(token: str, where: Sequence[int]) -> tuple[str, Sequence[int], list[int]]:
    """One word of a word view: its letters, their origins, and where it may be cut inside."""
    if token.isalpha() and token.isascii():  # the usual word: nothing to undo
        return token.replace(_SAME_AS_I, "i"), where, []
    has_letter = any(c.isalpha() for c in token)
    if has_letter and any("a" <= c <= "z" for c in token):
        token = token.translate(_LOOK_ALIKES)
    letters: list[str] = []
    origin: list[int] = []
    cuts: list[int] = []
    dropped = False
    for k, c in enumerate(token):
        if c.isalpha():
            mapped = "i" if c == _SAME_AS_I else c
        elif c.isdigit():
            mapped = _LEET_DIGITS.get(c, c) if has_letter else c
        elif c in _APOSTROPHES:
            cuts.extend((len(letters), len(letters) + 1))
            mapped = "'"
        elif has_letter and c in _LEET_SYMBOLS:
            mapped = _LEET_SYMBOLS[c]
        elif (
            has_letter
            and c in _LEET_BETWEEN_LETTERS
            and letters
            and letters[-1].isalpha()
            and _letter_follows(token, k + 1)
        ):
            mapped = "i"
        else:  # punctuation inside a word: dropped, and a word may end or start here
            dropped = bool(letters)
            continue
        if dropped:
            cuts.append(len(letters))
            dropped = False
        letters.append(mapped)
        origin.append(where[k])
    return "".join(letters), origin, cuts


def _letter_follows(token: str, k: int) -> bool:
    """A letter, digit, "@" or "$" comes at `k` or after punctuation from `k` on."""
    for c in token[k:]:
        if c.isalnum() or c in _LEET_SYMBOLS:
            return True
        if c in _APOSTROPHES or c in _LEET_BETWEEN_LETTERS:
            return False
    return False


def _leet_letter(part: str) -> tuple[str, int]:
    """What a word of one digit or leetspeak symbol is between one-letter words, and where."""
    spots = [
        k
        for k, c in enumerate(part)
        if c.isalnum() or c in _LEET_SYMBOLS or c in _LEET_BETWEEN_LETTERS
    ]
    if len(spots) != 1:
        return "", -1
    c = part[spots[0]]
    if c.isdigit():
        return _LEET_DIGITS.get(c, c), spots[0]  # "2 g 1 c": other digits join as they are
    if c in _LEET_SYMBOLS:
        return _LEET_SYMBOLS[c], spots[0]
    return ("i" if c in _LEET_BETWEEN_LETTERS else ""), spots[0]


def _split_solos(chunk: str, at: int) -> list[tuple[str, int, bool]]:
    """A space-free chunk as (part, offset, is a run of solo characters) in order."""
    if chunk.isascii():
        return [(chunk, at, False)]
    parts: list[tuple[str, int, bool]] = []
    start = 0
    for run in _HAN_RUN.finditer(chunk):  # Han runs found in C; symbols one by one below
        if run.start() > start:
            parts.extend(_split_symbols(chunk[start : run.start()], at + start))
        parts.append((run.group(), at + run.start(), True))
        start = run.end()
    if start < len(chunk):
        parts.extend(_split_symbols(chunk[start:], at + start))
    return parts


def _split_symbols(piece: str, at: int) -> list[tuple[str, int, bool]]:
    """A piece without Han characters, with each emoji or symbol as a solo part."""
    if piece.isascii():
        return [(piece, at, False)]
    parts: list[tuple[str, int, bool]] = []
    start = 0
    for k, ch in enumerate(piece):
        if ch >= _FIRST_SOLO_CANDIDATE and is_solo(ch):
            if k > start:
                parts.append((piece[start:k], at + start, False))
            parts.append((ch, at + k, True))
            start = k + 1
    if start < len(piece):
        parts.append((piece[start:], at + start, False))
    return parts


class _Part(NamedTuple):
    kind: str  # "solo" (Han run or symbol), "word", "single" (one letter) or "leet"
    letters: str
    origin: Sequence[int]
    cuts: list[int]
    leet: str = ""  # for "leet": the letter it is when it stands between one-letter words


def _parts(folded: Folded) -> list[_Part]:
    """The words and solo characters of folded text, in order."""
    origin = folded.origin
    parts: list[_Part] = []
    for chunk in _NOT_SPACE.finditer(folded.text):
        for part, at, solo in _split_solos(chunk.group(), chunk.start()):
            where = origin[at : at + len(part)]
            if solo:
                parts.append(_Part("solo", part, where, []))
                continue
            letters, letter_origin, cuts = _word_letters(part, where)
            if len(letters) == 1 and letters.isalpha():
                parts.append(_Part("single", letters, letter_origin, cuts))
                continue
            leet, spot = _leet_letter(part) if not letters.isalpha() else ("", -1)
            if leet:
                parts.append(_Part("leet", letters, [where[spot]], [], leet))
            elif letters:
                parts.append(_Part("word", letters, letter_origin, cuts))
    return parts


def word_view(folded: Folded) -> WordView:
    """The word view of folded text (see the module docstring, step 2).

    A one-character leetspeak word is a letter only between one-letter words ("$ h ! t"),
    never among numbers ("1 3 3 7").
    """
    parts = _parts(folded)
    out: list[str] = []
    where: list[int] = []
    cut = {0}
    size = 0
    last = ""  # the kind of what was written last
    for k, part in enumerate(parts):
        kind, letters, letter_origin, cuts = part.kind, part.letters, part.origin, part.cuts
        if kind == "leet":
            near_single = (k > 0 and parts[k - 1].kind == "single") or (
                k + 1 < len(parts) and parts[k + 1].kind == "single"
            )
            if near_single:
                kind, letters = "single", part.leet
            elif letters:
                kind, letter_origin = "word", [letter_origin[0]] * len(letters)
            else:
                continue
        if kind == "solo":  # a run of Han characters, or one symbol: a word at each one
            out.append(letters)
            where.extend(letter_origin)
            cut.update(range(size, size + len(letters) + 1))
            size += len(letters)
            last = kind
            continue
        if last in ("word", "single") and not (kind == "single" and last == "single"):
            out.append(" ")
            where.append(letter_origin[0])
            size += 1
        cut.add(size)
        cut.update(size + c for c in cuts)
        out.append(letters)
        where.extend(letter_origin)
        size += len(letters)
        cut.add(size)
        last = kind
    return WordView("".join(out), where, frozenset(cut))


@dataclass(frozen=True, slots=True)
class HanView:
    """Han characters and kana, joined across what was put between them (`BREAK` elsewhere)."""

    text: str
    origin: Sequence[int]


def han_view(folded: Folded, *, across_clauses: bool = False) -> HanView:
    """The Han view of folded text (see the module docstring, step 3). `across_clauses`:
    clause punctuation never separates runs (for the streamer's own words, where a match
    across a comma is worth its rare false alarm)."""
    text, origin = folded.text, folded.origin
    out: list[str] = []
    where: list[int] = []
    if text.isascii():
        return HanView("", where)
    previous = 0  # length of the previous run
    previous_end = 0
    for run in _HAN_RUN.finditer(text):
        start, end = run.span()
        if out:
            gap = text[previous_end:start]
            if any(c.isalnum() for c in gap) or (
                not across_clauses
                and previous > 1
                and end - start > 1
                and any(c in _CLAUSE_MARKS for c in gap)
            ):
                out.append(BREAK)
                where.append(origin[start])
        out.append(run.group())
        where.extend(origin[start:end])
        previous, previous_end = end - start, end
    return HanView("".join(out), where)


def is_han_word(folded: Folded) -> bool:
    """All the letters of a word are Han characters or kana: it is matched in the Han view."""
    letters = [c for c in folded.text if c.isalnum()]
    return bool(letters) and all(is_han(c) for c in letters)


def han_key(folded: Folded) -> str:
    """A word as the Han view holds it: its Han characters and kana, nothing between them."""
    return "".join(c for c in folded.text if is_han(c))


def word_key(folded: Folded) -> str:
    """A word or phrase as the word view holds it."""
    return word_view(folded).text.strip()
