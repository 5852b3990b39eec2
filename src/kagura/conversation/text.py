"""What the conversation code needs to know about text: tags, CJK, and what can be spoken."""

from __future__ import annotations

import re

# Any short bracketed word is a tag: "[joy]" is performed, "[laughs]" must not be read aloud.
TAG = re.compile(r"\[\s*([^\[\]\n]{1,32}?)\s*\]")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SPACES = re.compile(r"[ \t]{2,}")


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
