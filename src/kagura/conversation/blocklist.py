"""Words that must not pass, matched one way everywhere.

A word is found anywhere in a text, case and width folded (NFKC, then casefold: "ＳＰＡＭ" is
"spam"), because Chinese has no spaces to mark a word and a viewer can hide a word in a longer
one; the streamer lists what must never pass, so a false match costs one line, a miss more.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def fold(text: str) -> str:
    """`text` as words are compared: width and case folded."""
    return unicodedata.normalize("NFKC", text).casefold()


class BlockedWords:
    def __init__(self, words: Iterable[str]) -> None:
        self._words = tuple(dict.fromkeys(fold(word.strip()) for word in words if word.strip()))

    def found_in(self, text: str) -> bool:
        """Whether any blocked word appears in `text`."""
        if not self._words:
            return False
        folded = fold(text)
        return any(word in folded for word in self._words)

    def __bool__(self) -> bool:
        return bool(self._words)
