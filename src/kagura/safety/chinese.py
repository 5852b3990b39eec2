"""Traditional Chinese characters mapped to simplified ones, so one list covers both.

The default Chinese list and a streamer's own words are mostly written in simplified
characters; a reply in traditional characters (a Taiwanese or Hong Kong character, or a
model asked to switch) says the same words with other code points. OpenCC's
traditional → simplified conversion, asked once per character, gives a table that `fold`
applies character by character (a phrase-level conversion could change a text's length and
lose where a match came from).
"""

from __future__ import annotations

import functools

import opencc

# Blocks whose characters OpenCC may convert: the unified ideographs, extension A and the
# compatibility ideographs. Rarer extensions have no simplified form to map to.
_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))
_SEPARATOR = "\n"  # isolates each character so that no phrase rule applies across two


@functools.cache
def simplified_table() -> dict[str, str]:
    """Each traditional character that has a one-character simplified form, mapped to it."""
    chars = [chr(c) for low, high in _RANGES for c in range(low, high)]
    converted = opencc.OpenCC("t2s").convert(_SEPARATOR.join(chars)).split(_SEPARATOR)
    if len(converted) != len(chars):
        raise RuntimeError("OpenCC changed the number of characters it was given")
    return {t: s for t, s in zip(chars, converted, strict=True) if t != s and len(s) == 1}
