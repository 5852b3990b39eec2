"""Who a chat message is for: the character (it names it or asks something), everyone (a
greeting), or nobody in particular (ordinary chat).

A co-host answers the viewer who asked it something before a wall of "hi", and answers that
wall once. The rules are plain and cheap (a few string tests per message, no model), in
English and Chinese: text is compared width- and case-insensitively (NFKC, casefold), so
"ＫＡＧＵＲＡ", "@kagura" and "Kagura" are the same name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import Enum

MIN_ALIAS_CHARS = 2  # a one-letter alias would match half the chat
MAX_GREETING_CHARS = 24  # "good evening everyone!!" is a greeting; a paragraph is not


class Address(Enum):
    ADDRESSED = "addressed"  # names the character or asks a question: answered first
    GREETING = "greeting"  # answered once for a whole burst
    ORDINARY = "ordinary"


# Greetings, normalised: no spaces or punctuation, and repeated letters collapsed ("hiii",
# "heyyy" and "helloooo" are "hi", "hey" and "helo").
_GREETING_WORDS = (
    "hi", "hey", "hello", "hiya", "heya", "yo", "hallo", "hola", "howdy", "sup", "gm",
    "good morning", "good afternoon", "good evening", "morning", "evening", "greetings",
    "你好", "您好", "大家好", "晚上好", "早上好", "上午好", "下午好", "中午好", "早", "早安",
    "哈喽", "哈啰", "嗨", "来了", "こんにちは", "こんばんは", "おはよう",
)  # fmt: skip
_GREETING_TAILS = ("", "everyone", "all", "guys", "chat", "there", "大家", "呀", "啊")
_WORD = re.compile(r"[\w]+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_REPEATS = re.compile(r"(.)\1+")
_QUESTION_MARKS = ("?", "？")
_EN_QUESTION_STARTS = (
    "what", "why", "how", "who", "whom", "whose", "where", "when", "which",
    "can you", "could you", "would you", "will you", "do you", "did you", "are you",
    "have you", "is it", "is there", "are there", "should i", "can i", "do i",
)  # fmt: skip
_ZH_QUESTION_WORDS = ("为什么", "为啥", "怎么", "怎样", "什么", "啥", "哪", "谁", "几", "多少")
_ZH_QUESTION_ENDS = ("吗", "嘛", "呢", "么")


def normal(text: str) -> str:
    """Width- and case-insensitive text with single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _greeting_key(text: str) -> str:
    return _REPEATS.sub(r"\1", "".join(_WORD.findall(text)))


_GREETINGS = frozenset(
    _greeting_key(f"{word} {tail}") for word in _GREETING_WORDS for tail in _GREETING_TAILS
)


class Addressing:
    """Classifies chat for one character, called by its `names` (name, conf_name, aliases)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.given = tuple(names)
        keys = {normal(name) for name in self.given}
        # Longest first, so "kagura chan" is removed whole before "kagura".
        self.names = tuple(sorted((k for k in keys if len(k) >= MIN_ALIAS_CHARS), key=len)[::-1])
        # A Latin name is a whole word ("Robin" is not in "robinson"); a Chinese one has no
        # spaces around it to look for.
        self._patterns = tuple(
            re.compile(re.escape(name) if _CJK.search(name) else rf"(?<!\w){re.escape(name)}(?!\w)")
            for name in self.names
        )

    def classify(self, text: str) -> Address:
        said = normal(text)
        if not said:
            return Address.ORDINARY
        if self.is_greeting(said):
            return Address.GREETING
        if self.names_character(said) or is_question(said):
            return Address.ADDRESSED
        return Address.ORDINARY

    def names_character(self, said: str) -> bool:
        """Whether `said` (already `normal`) calls the character by a name or alias."""
        return any(pattern.search(said) for pattern in self._patterns)

    def is_greeting(self, said: str) -> bool:
        """A short hello, to the character or to everyone ("hi kagura!", "晚上好~")."""
        if len(said) > MAX_GREETING_CHARS:
            return False
        for name in self.names:
            said = said.replace(name, " ")
        return _greeting_key(said) in _GREETINGS


def is_question(said: str) -> bool:
    """Ends with a question mark, or starts like a question (en), or asks like one (zh)."""
    stripped = said.rstrip(" ~!！。.…")
    if stripped.endswith(_QUESTION_MARKS):
        return True
    if any(said.startswith(f"{start} ") for start in _EN_QUESTION_STARTS):
        return True
    if any(word in said for word in _ZH_QUESTION_WORDS):
        return True
    return stripped.endswith(_ZH_QUESTION_ENDS)
