"""Turning a chat message into an FTS5 query over the `trigram` tokenizer.

The trigram tokenizer indexes every run of three characters, so it finds words inside words
and needs no word breaker for Chinese or Japanese. It cannot match anything shorter than
three characters: Latin words that short are mostly function words anyway, and a CJK run is
cut into its overlapping trigrams ("我的猫叫" → "我的猫", "的猫叫"), which rank a note
higher the more of them it shares. A message with nothing searchable gives no query: the
turn then recalls the viewers' own profiles and facts only, which need no search.
"""

from __future__ import annotations

import re

MAX_TERMS = 12  # a long message searches on its longest words: recall stays fast

_WORD = re.compile(r"[^\W_]+")
CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
# Words in nearly every English message: searching on them finds everything, ranks nothing.
_COMMON_WORDS = (
    "the and you your are was were what when where which who why how that this with have "
    "has had for not but can could would should will about from they them their there "
    "here just like know remember yes yeah really very much any some all out our its "
    "it's did does don't isn't i'm you're"
)
_STOPWORDS = frozenset(_COMMON_WORDS.split())


def terms(text: str) -> list[str]:
    """The searchable pieces of `text`: Latin words of 3+ characters, CJK trigrams."""
    found: list[str] = []
    for word in _WORD.findall(text.casefold()):
        position = 0
        for run in CJK_RUN.finditer(word):
            found.extend(_latin(word[position : run.start()]))
            cjk = run.group()
            found.extend(cjk[i : i + 3] for i in range(len(cjk) - 2))
            position = run.end()
        found.extend(_latin(word[position:]))
    unique = list(dict.fromkeys(found))
    if len(unique) > MAX_TERMS:
        unique = sorted(unique, key=len, reverse=True)[:MAX_TERMS]
    return unique


def _latin(word: str) -> list[str]:
    return [word] if len(word) >= 3 and word not in _STOPWORDS else []


def score(text: str, words: list[str]) -> int:
    """How well `text` matches: the characters of the search terms it contains (a longer
    word, or more of a Chinese phrase's trigrams, counts for more)."""
    folded = text.casefold()
    return sum(len(word) for word in words if word in folded)
