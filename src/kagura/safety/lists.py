"""The list guard: blocked words, blocked patterns and the default lists, in microseconds.

Every segment of a reply passes `ListGuard.check` before it is synthesised, on the event
loop, so the check must cost next to nothing: all words are compiled at start-up into two
Aho-Corasick automatons (one pass over the text finds every listed word at once), and the
text is folded once (`kagura.safety.normalise`).

How a word matches depends on its script:

- **Words with letters** (English, and any word that is not all Chinese characters) match
  whole words of the folded word view: "ass" blocks "ass", "a$$", "ａｓｓ", "a s s" and
  "a.s.s", never "class", "assistant" or "grass"; "hell" never blocks "hello" or "he'll";
  "dick" never "Dickens"; "cunt" never "Scunthorpe". A phrase ("blow job") matches its
  words in order, one space apart however they were separated.
- **Words of Chinese characters** (and kana) match anywhere in the Han view, because Chinese
  has no spaces between words: "操你妈" blocks "操你妈", "操 你 妈", "操，你，妈",
  "操\u200b你妈" and the traditional "操你媽". What keeps this from blocking ordinary speech
  is the curation of the default list (`kagura.safety.defaults`): no single characters, no
  ordinary words, and no match inside an ordinary word that overlaps it. The streamer's own
  words also match across a clause mark between longer runs ("吃菠，萝了" for 菠萝): the
  streamer chose them, and a rare false alarm costs less than a miss.
- **Patterns** are the streamer's regular expressions, searched case-insensitively in the
  text as it is and in its per-character fold (full width, zero-width and case undone).

A match names its rule for the audit log ("word:<word>", "pattern:<regex>",
"default:<list>") and the text it matched, as the viewer would have seen it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import ahocorasick

from kagura.safety import defaults
from kagura.safety.chinese import simplified_table
from kagura.safety.normalise import (
    Folded,
    fold,
    han_key,
    han_view,
    is_han_word,
    word_key,
    word_view,
)


@dataclass(frozen=True)
class Match:
    """Why a text failed the lists."""

    rule: str
    """What matched, for the audit log: "word:<word>", "pattern:<regex>" or "default:<list>"."""
    found: str
    """The text that matched, as it appeared in the checked text."""


@dataclass(frozen=True, slots=True)
class _Entry:
    length: int
    rule: str
    curated: bool  # a default entry: an ordinary word around it cancels a Chinese match
    allowed: bool = False  # an ordinary word (`defaults.ALLOWED_AROUND`), not a rule
    inside: bool = False  # matches inside longer words too (`defaults.INSIDE_WORDS`)


_INSIDE_KEYS = frozenset(word_key(fold(word)) for word in defaults.INSIDE_WORDS)


class ListGuard:
    """Checks a text against blocked words, blocked patterns and the default lists."""

    def __init__(
        self,
        words: Iterable[str] = (),
        patterns: Iterable[str] = (),
        *,
        default_lists: bool = True,
    ) -> None:
        simplified_table()  # built now (~15 ms), not on the first Chinese reply
        self._words = ahocorasick.Automaton()
        self._han = ahocorasick.Automaton()
        self._own_han = ahocorasick.Automaton()  # the streamer's Chinese words
        for word in words:
            self._add(word, f"word:{word}", curated=False)
        if default_lists:
            for name in defaults.LISTS:
                for entry in defaults.curated(name):
                    self._add(entry, f"default:{name}", curated=True)
            for word in defaults.ALLOWED_AROUND:
                key = han_key(fold(word))
                if key not in self._han:
                    self._han.add_word(key, _Entry(len(key), "", curated=False, allowed=True))
        self._patterns = [(p, re.compile(p, re.IGNORECASE)) for p in patterns]
        for automaton in (self._words, self._han, self._own_han):
            if len(automaton):
                automaton.make_automaton()

    @property
    def size(self) -> int:
        """How many distinct folded words the guard holds (for the start-up log)."""
        listed = sum(1 for _, entry in self._han.items() if not entry.allowed)
        return len(self._words) + listed + len(self._own_han)

    def _add(self, word: str, rule: str, *, curated: bool) -> None:
        folded = fold(word)
        han = is_han_word(folded)
        key = han_key(folded) if han else word_key(folded)
        if not key:
            return
        if han:
            automaton = self._han if curated else self._own_han
            self._put(automaton, key, _Entry(len(key), rule, curated))
            return
        inside = curated and key in _INSIDE_KEYS
        self._put(self._words, key, _Entry(len(key), rule, curated, inside=inside))
        if " " in key:  # a phrase is the same phrase written without spaces ("blowjob")
            key = key.replace(" ", "")
            self._put(self._words, key, _Entry(len(key), rule, curated))

    @staticmethod
    def _put(automaton: ahocorasick.Automaton, key: str, entry: _Entry) -> None:
        if key in automaton and not automaton.get(key).allowed:
            return  # the first rule to name a word keeps it: configured words come first
        automaton.add_word(key, entry)

    def check(self, text: str, *, before: str = "") -> Match | None:
        """The first rule `text` fails, or None when it passes.

        `before`: what was said just before it (whole segments of the same reply). A word
        whose letters the LLM split with sentence marks ("2 . g . 1 . c", "乳…房") falls into
        several segments, none of which fails alone: read together, the segment that
        completes the word fails. Only matches that end in `text` count (what ended before
        it has already passed). Pass both as written, spacing included: they are read as
        the one text they were cut from."""
        if not text:
            return None
        whole = before + text
        folded = fold(whole)
        start = len(before)
        return (
            self._check_words(whole, folded, start)
            or self._check_own_han(whole, folded, start)
            or self._check_han(whole, folded, start)
            or self._check_patterns(whole, folded, start)
        )

    def _check_own_han(self, text: str, folded: Folded, start_at: int) -> Match | None:
        if not len(self._own_han):
            return None
        view = han_view(folded, across_clauses=True)
        for end, entry in self._own_han.iter(view.text):
            if view.origin[end] < start_at:
                continue
            start = end - entry.length + 1
            return Match(entry.rule, text[view.origin[start] : view.origin[end] + 1])
        return None

    def _check_words(self, text: str, folded: Folded, start_at: int) -> Match | None:
        if not len(self._words):
            return None
        view = word_view(folded)
        cut = view.cut
        for end, entry in self._words.iter(view.text):
            if view.origin[end] < start_at:
                continue
            start = end - entry.length + 1
            if entry.inside or (start in cut and end + 1 in cut):
                return Match(entry.rule, text[view.origin[start] : view.origin[end] + 1])
        return None

    def _check_han(self, text: str, folded: Folded, start_at: int) -> Match | None:
        if not len(self._han):
            return None
        view = han_view(folded)
        if not view.text:
            return None
        allowed: list[tuple[int, int]] = []
        blocked: list[tuple[int, int, _Entry]] = []
        for end, entry in self._han.iter(view.text):
            if entry.allowed:
                allowed.append((end - entry.length + 1, end))
            elif view.origin[end] >= start_at:
                blocked.append((end - entry.length + 1, end, entry))
        for start, end, entry in blocked:
            if entry.curated and any(
                a_start <= end and start <= a_end and not (start <= a_start and a_end <= end)
                for a_start, a_end in allowed
            ):
                continue
            return Match(entry.rule, text[view.origin[start] : view.origin[end] + 1])
        return None

    def _check_patterns(self, text: str, folded: Folded, start_at: int) -> Match | None:
        for source, pattern in self._patterns:
            found = _first_non_empty(pattern, text, lambda end: end > start_at)
            if found:
                return Match(f"pattern:{source}", text[found[0] : found[1]])
            found = _first_non_empty(
                pattern, folded.text, lambda end: folded.origin[end - 1] >= start_at
            )
            if found:
                first, last = folded.origin[found[0]], folded.origin[found[1] - 1]
                return Match(f"pattern:{source}", text[first : last + 1])
        return None


def _first_non_empty(
    pattern: re.Pattern[str], text: str, counts: Callable[[int], bool]
) -> tuple[int, int] | None:
    """Where `pattern` first matches some text ending where it `counts`: a pattern that can
    match nothing ("x*") blocks what it finds, never every segment."""
    for found in pattern.finditer(text):
        if found.end() > found.start() and counts(found.end()):
            return found.span()
    return None
