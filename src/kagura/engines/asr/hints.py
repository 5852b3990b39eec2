"""The words a recogniser is told to expect: the character's names.

An unusual name is heard as a common word ("Kagura" as "computer") unless the model has seen
it. Whisper takes a text before the utterance (faster-whisper's `hotwords` and
`initial_prompt`, the OpenAI API's `prompt`) as what was said just before, which makes those
spellings likelier; the names are given as a short list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SEPARATOR = ", "
MAX_NAMES = 8  # a prompt is context, not a vocabulary: a long one only costs time
_LATIN = re.compile(r"[A-Za-z]")


def name_hint(names: Iterable[str], *, latin_only: bool = False) -> str:
    """The names, each once, in order, as one short text ("" when there are none).

    `latin_only` keeps names written with Latin letters: an English-only model cannot hear
    "神乐", and Chinese characters in its prompt only unsettle it.
    """
    kept: dict[str, str] = {}  # by the name in lower case: "Kagura" and "kagura" are one
    for name in names:
        name = name.strip()
        if name and (not latin_only or _LATIN.search(name)):
            kept.setdefault(name.casefold(), name)
    return SEPARATOR.join(list(kept.values())[:MAX_NAMES])
