"""Is the character being spoken to? Whether a text names it (its name or an alias).

A streamer talks to their audience most of the time; with `stage.streamer_addressing:
by_name` the character answers only what names it. Names are matched as people write and
ASR transcribes them: in any case and width ("KAGURA", "ｋａｇｕｒａ"), with any run of spaces
inside ("Hatsune  Miku"). A Latin name must stand as a word ("Ann" is not in "announce");
a CJK name is found anywhere (those scripts put no spaces between words).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from kagura.conversation.text import CJK


def normal(text: str) -> str:
    """Case, width and spacing folded away: what two spellings of one name share."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def addresses(text: str, names: Iterable[str]) -> bool:
    """Whether `text` contains any of `names` (empty names never match)."""
    haystack = normal(text)
    return any(_contains(haystack, name) for name in {normal(n) for n in names} if name)


def _contains(haystack: str, name: str) -> bool:
    start = haystack.find(name)
    while start >= 0:
        end = start + len(name)
        before = haystack[start - 1] if start else ""
        after = haystack[end] if end < len(haystack) else ""
        if not (_joins(before, name[0]) or _joins(after, name[-1])):
            return True
        start = haystack.find(name, start + 1)
    return False


def _joins(neighbour: str, edge: str) -> bool:
    """Whether `neighbour` continues the word that `edge` (a name's first or last letter)
    belongs to: both letters or digits of a spaced script."""
    return _wordy(neighbour) and _wordy(edge)


def _wordy(char: str) -> bool:
    return bool(char) and char.isalnum() and not CJK.match(char)
