"""Chinese transcripts in one script (`asr.whisper.chinese`).

Whisper was trained on both scripts and mixes them: the same espeak sentence comes back in
traditional characters one time and simplified the next. The conversation, the safety lists
and memory read one script better than a mix, so what Whisper heard as Chinese is converted
with OpenCC's phrase-level tables (t2s, s2t), which also pick the right character where one
simplified character stands for several traditional ones.
"""

from __future__ import annotations

import functools
from typing import Literal

import opencc

from kagura.config import CHINESE_LANGUAGES

Script = Literal["simplified", "traditional", "as_heard"]

_TABLES: dict[Script, str] = {"simplified": "t2s", "traditional": "s2t"}


@functools.cache
def _converter(table: str) -> opencc.OpenCC:
    return opencc.OpenCC(table)


def in_script(text: str, language: str | None, script: Script) -> str:
    """`text` in `script` when it was heard as Chinese (`language`); otherwise unchanged."""
    table = _TABLES.get(script)
    if table is None or language not in CHINESE_LANGUAGES:
        return text
    converted: str = _converter(table).convert(text)
    return converted
