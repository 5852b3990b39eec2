"""The `safety` section: what the character may say on a live stream.

Every segment of a reply passes the output guard before it is synthesised: a segment that
fails is never spoken, shown, sent to the widgets, or remembered as said.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator

from .fields import F, Section

OnBlock = Literal["cut", "replace"]
MAX_LIST_ENTRIES = 10_000  # words or patterns: a list, not a dictionary
MAX_ENTRY_CHARS = 200


class ReplacementLine(Section):
    en: str = F(
        "Let's not go there.",
        en="Said instead of a withheld segment written in a language other than Chinese.",
        zh="被拦下的非中文片段由这句话代替。",
        max_length=MAX_ENTRY_CHARS,
    )
    zh: str = F(
        "这个就不说了。",
        en="Said instead of a withheld segment written in Chinese.",
        zh="被拦下的中文片段由这句话代替。",
        max_length=MAX_ENTRY_CHARS,
    )


class SafetyConfig(Section):
    blocked_words: list[str] = F(
        default_factory=list,
        en="Words the character must never say on stream, matched anywhere in a segment, "
        "whatever the case, width, inserted spaces or punctuation, invisible characters or "
        "simple letter-for-digit swaps.",
        zh="角色在直播中绝不能说的词。无论大小写、全角半角、中间插入空格或标点、不可见字符，"
        "还是简单的数字代字母，只要出现在片段中就会被拦下。",
        max_length=MAX_LIST_ENTRIES,
    )
    blocked_patterns: list[str] = F(
        default_factory=list,
        en="Regular expressions (Python syntax, case-insensitive) a segment must not match, "
        "e.g. phone numbers or links.",
        zh="片段不能匹配的正则表达式（Python 语法，不区分大小写），例如电话号码或链接。",
        max_length=MAX_LIST_ENTRIES,
    )
    default_lists: bool = F(
        True,
        en="Also block the profanity of the built-in English and Chinese lists.",
        zh="同时拦下内置英文与中文词表中的脏话。",
    )
    on_block: OnBlock = F(
        "cut",
        en="What the viewers hear when a segment is withheld. cut: the reply ends there; "
        "replace: the segment becomes the replacement line and the reply goes on.",
        zh="片段被拦下时观众听到什么。cut：回复到此为止；replace：该片段换成替代语句，回复继续。",
    )
    replacement_line: ReplacementLine = F(
        default_factory=ReplacementLine,
        en="With on_block: replace, what is said instead, by the language of the segment.",
        zh="on_block 为 replace 时，按片段的语言说的替代语句。",
    )
    audit_log_max_kb: int = F(
        1024,
        en="Size limit of the safety audit log (data_dir/safety.jsonl: withheld segments, "
        "dropped chat, replaced names, bans) in KB; past it the log moves to safety.jsonl.1, "
        "replacing the one before, so it never takes more than twice this.",
        zh="安全审计日志（data_dir/safety.jsonl：被拦下的片段、丢弃的弹幕、替换的昵称、封禁）"
        "的大小上限（KB）；超过后移到 safety.jsonl.1 并替换上一份，因此最多占用两倍于此的空间。",
        ge=16,
        le=1_048_576,
    )

    @field_validator("blocked_words")
    @classmethod
    def _words(cls, words: list[str]) -> list[str]:
        for word in words:
            if len(word) > MAX_ENTRY_CHARS:
                raise ValueError(f"a word longer than {MAX_ENTRY_CHARS} characters: {word!r}")
        return words

    @field_validator("blocked_patterns")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            if not pattern.strip():
                raise ValueError("an empty pattern would match every segment")
            try:
                compiled = re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {pattern!r} ({exc})") from None
            if compiled.search(""):
                raise ValueError(f"{pattern!r} matches empty text, so it would block everything")
        return patterns
