"""What the conversation code needs to know about text: tags, CJK, and what can be spoken."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Any short bracketed word is a tag: "[joy]" is performed, "[laughs]" must not be read aloud.
TAG = re.compile(r"\[\s*([^\[\]\n]{1,32}?)\s*\]")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SPACES = re.compile(r"[ \t]{2,}")
# Scripts written without spaces between sentences: CJK symbols and punctuation, kana,
# ideographs and full-width forms (Korean, which spaces its words, is not among them).
_UNSPACED = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def strip_tags(text: str) -> str:
    return _SPACES.sub(" ", TAG.sub(" ", text)).strip()


def has_speech(text: str) -> bool:
    """True when the text has something to pronounce once tags are removed."""
    return bool(_WORD.search(TAG.sub(" ", text)))


def word_count(text: str) -> int:
    """Words for spaced languages; each CJK character counts as half a word."""
    text = TAG.sub(" ", text)
    cjk = len(CJK.findall(text))
    return len(_WORD.findall(CJK.sub(" ", text))) + (cjk + 1) // 2


def separator(before: str, after: str) -> str:
    """What goes between two pieces of a reply shown one after the other: one space between
    sentences of spaced languages ("here. I'm"), nothing where either side is CJK ("。我")
    or already has a space."""
    if not before or not after or before[-1].isspace() or after[0].isspace():
        return ""
    if _UNSPACED.match(before[-1]) or _UNSPACED.match(after[0]):
        return ""
    return " "


def join_pieces(pieces: Iterable[str]) -> str:
    """The pieces of a reply as one text, joined by `separator`."""
    joined = ""
    for piece in pieces:
        if piece:
            joined += separator(joined, piece) + piece
    return joined
