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


def heard_part(heard: str, sent: str) -> str:
    """The start of `sent` that a client says it heard: the longest prefix that `heard`
    agrees with, ignoring spaces and tags (pages report what they showed, without tags).

    A client reports what was played; this keeps that report from adding anything to the
    character's words that the character did not say.
    """
    shown = [(index, char) for index, char in _significant(sent)]
    matched = 0
    for (_, expected), (_, got) in zip(shown, _significant(heard), strict=False):
        if expected != got:
            break
        matched += 1
    if matched == 0:
        return ""
    end = shown[matched - 1][0] + 1
    return sent[:end].strip()


def _significant(text: str) -> list[tuple[int, str]]:
    """The characters that count when comparing what was said: no spaces, no tags."""
    hidden: set[int] = set()
    for tag in TAG.finditer(text):
        hidden.update(range(tag.start(), tag.end()))
    return [(i, c) for i, c in enumerate(text) if i not in hidden and not c.isspace()]


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
