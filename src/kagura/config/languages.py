"""The languages Whisper knows, by the codes `asr.whisper.language` takes.

Kept here rather than read from faster-whisper so that checking a config file never imports
the recogniser (tests/test_asr_zh.py checks that the two lists agree).
"""

from __future__ import annotations

AUTO_LANGUAGE = "auto"  # Whisper's own detection on each utterance

_CODES = (
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw "
    "he hi hr ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt "
    "my ne nl nn no oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk tl "
    "tr tt uk ur uz vi yi yo zh yue"
)
WHISPER_LANGUAGES = frozenset(_CODES.split())

# What Whisper writes for spoken Chinese: Mandarin, and Cantonese (large-v3 only).
CHINESE_LANGUAGES = frozenset({"zh", "yue"})
