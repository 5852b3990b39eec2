"""Where streamed text may be cut for speech, and how early that can be known.

A mark ends a clause or a sentence unless it belongs to a number ("1,000", "3.14", "3:30"),
an abbreviation ("e.g.", "Mr.", "J. K."), a longer run ("...", "?!", "……") or a quotation
that is still open. Most of that can only be told from the character after the mark, so a
mark at the very end of the text is normally undecided until the next chunk arrives.

The first segment cannot afford that wait: everyone is waiting for the first audio, and the
next token is a whole token interval away. `eager` decisions therefore cut at a mark at the
end of the text whenever the text before it already rules out every exception (a comma after
a word cannot be inside a number); only a digit before the mark, or an open quotation, makes
an eager decision wait for the next character. What an eager cut may split off — the rest of
a "..." or "?!" run — has nothing to say and is dropped (`ORPHANS`).
"""

from __future__ import annotations

from enum import Enum

from .text import CJK

SENTENCE_MARKS = ".!?…。！？\n"
CLAUSE_MARKS = SENTENCE_MARKS + ",;:，、；：—"
# Marks that continue a run started by a sentence mark: "...", "?!", "!!", "……", "。。".
RUN_MARKS = ".!?…。！？"
# Full-width marks are never part of a number or an abbreviation: no need to look further.
FULL_WIDTH = "。！？，、；：…"
CLOSERS = "\"'”’)）」』》】"
# Openers whose closer is another character; an ASCII '"' opens and closes.
PAIRS = {"“": "”", "(": ")", "（": "）", "「": "」", "『": "』", "《": "》", "【": "】"}
# What may follow an eager cut and has nothing to say of its own.
ORPHANS = RUN_MARKS + "—" + CLOSERS
# Words that end with a period but rarely end a sentence (compared without case or dots).
# Dotted ones ("e.g.", "a.m.", "U.S.") are recognised by their inner dot.
ABBREVIATIONS = frozenset(
    ["mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "approx", "dept", "fig"]
)


class Verdict(Enum):
    NOT_A_BOUNDARY = 1
    UNDECIDED = 2  # the next chunk decides


def boundary_end(text: str, i: int, *, eager: bool) -> int | Verdict:
    """Where a segment ending with the mark at `text[i]` really ends, or why it cannot.

    The end includes the rest of a run of marks and any closing quotes after them.
    """
    mark = text[i]
    if mark == "\n":
        return i + 1
    if mark == "." and _is_abbreviation(text, i):
        return Verdict.NOT_A_BOUNDARY
    j = i + 1
    if mark in RUN_MARKS:
        while j < len(text) and text[j] in RUN_MARKS:
            j += 1
    while j < len(text) and text[j] in CLOSERS:
        j += 1
    digit_before = text[i - 1].isdigit() if i else False
    if j == len(text):  # the mark ends the text so far
        if not eager or digit_before or _quote_open(text[:j]):
            return Verdict.UNDECIDED
        return j
    after = text[j]
    if digit_before and after.isdigit() and mark in ".,:":
        return Verdict.NOT_A_BOUNDARY  # "1,000", "3.14", "3:30"
    if digit_before and mark == "." and text[:i].split("\n")[-1].strip().isdigit():
        return Verdict.NOT_A_BOUNDARY  # "1. Apples": a list item's number
    if mark in FULL_WIDTH or after.isspace() or after == "[" or CJK.match(after):
        return j  # "[": a tag right after the mark, as in "Hi![joy]"
    return Verdict.NOT_A_BOUNDARY  # "Hi,there", "e.g.x", "example.com"


def _is_abbreviation(text: str, i: int) -> bool:
    """A period after an initial ("J.") or a known abbreviation ("e.g.", "Mr.")."""
    start = i
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start:i].strip(".")
    if not word or not word.isascii() or (start > 0 and text[start - 1].isdigit()):
        return False  # "1st." is an ordinal, and digits are the number rule's business
    if len(word) == 1:
        return word != "I"  # "So am I." ends a sentence; "J. K. Rowling" does not
    return "." in word or word.lower() in ABBREVIATIONS


def _quote_open(text: str) -> bool:
    """True when a quotation or parenthesis opened in `text` has not been closed yet."""
    if text.count('"') % 2:
        return True
    return any(text.count(opener) > text.count(closer) for opener, closer in PAIRS.items())
