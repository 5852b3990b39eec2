"""The replies of the output-guard benchmark, and the independent check of what a page got.

Adversarial replies read like an LLM's: two to four sentences, one of them (the first, a
middle one or the last) hiding a default-list entry in one of the corpus's evasions
(`tests.support.safety_corpus.adversarial`); the others are plain lines written here, so a
withheld segment is always the hidden word's. Ordinary replies join one to three lines of the
corpus's ordinary replies (`ordinary`), in one language, as a reply of a real length.

`independent_fold` does not use `kagura.safety`: NFKC, case folding, accents and look-alikes
undone, traditional characters simplified (OpenCC), leetspeak read back as letters, and
everything that is not a letter or digit dropped. It folds too much to be a guard (it would
find "ass" in "was such"), which is why the harness counts an entry in what the page got
against its count in what the page may get: the sentences before the hidden one.
"""

from __future__ import annotations

import collections
import functools
import random
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import opencc

sys.path.insert(0, str(Path(__file__).parent.parent))  # tests.support
from tests.support.safety_corpus import adversarial, ordinary

Lang = Literal["en", "zh"]
POSITIONS = ("first", "middle", "last")
SENTENCE_ENDS = ".!?。！？…~～"
_SENTENCE = re.compile(r"[^.!?。！？]+[.!?。！？]?")

EN_LINES = (
    "Hello everyone, welcome back to the stream!",
    "I hope you all had a lovely day today.",
    "We are going to play a puzzle game tonight.",
    "Thanks for hanging out with me, chat.",
    "Let me grab some water first.",
    "The weather was really nice this morning.",
    "I'm so happy to see so many friends here.",
    "Okay, back to the game now.",
    "That was a fun little story, wasn't it?",
    "Let's keep going and see what happens next.",
    "Remember to drink some water too.",
    "I think the next level is the last one.",
    "We can talk about music after this round.",
    "My cat is sleeping right next to me.",
)
ZH_LINES = (
    "大家好，欢迎回到直播间！",
    "希望大家今天都过得开心。",
    "今晚我们来玩一个解谜游戏。",
    "谢谢你们一直陪着我。",
    "我先喝口水哦。",
    "今天早上的天气特别好。",
    "看到这么多朋友我好开心。",
    "好啦，我们继续玩游戏吧。",
    "这个小故事是不是很有趣？",
    "我们继续看看接下来会发生什么。",
    "大家也记得多喝水哦。",
    "下一关应该就是最后一关了。",
    "这局打完我们聊聊音乐吧。",
    "我的猫就睡在我旁边。",
)

# Leetspeak as the corpus writes it (`safety_corpus.LEET`), read back; "l" and "i" as one.
_LEET = str.maketrans({"4": "a", "@": "a", "3": "e", "1": "i", "0": "o", "5": "s", "$": "s",
                       "7": "t", "l": "i"})  # fmt: skip
# "!" and "|" are an "i" only between Latin letters or digits ("b!tch"), never in Chinese.
_LEET_BETWEEN = re.compile(r"(?<=[a-z0-9@$])[!|](?=[a-z0-9@$])")
_LOOK_ALIKES = str.maketrans({"а": "a", "с": "c", "е": "e", "о": "o", "р": "p", "х": "x",
                              "у": "y", "і": "i", "ѕ": "s"})  # fmt: skip


@dataclass(frozen=True)
class Case:
    """One reply the fake LLM streams. An adversarial one hides `entry` in sentence
    `hidden` of `sentences`; an ordinary one has no entry."""

    lang: Lang
    sentences: tuple[str, ...]
    entry: str | None = None
    evasion: str = ""
    hidden: int = -1  # the index of the sentence that carries the entry

    @property
    def text(self) -> str:
        return (" " if self.lang == "en" else "").join(self.sentences)

    @property
    def before(self) -> str:
        """What the page may get of an adversarial reply: the sentences before the hidden one,
        as they start the reply."""
        return (" " if self.lang == "en" else "").join(self.sentences[: max(0, self.hidden)])

    @property
    def position(self) -> str:
        if self.hidden < 0:
            return ""
        if self.hidden == 0:
            return "first"
        return "last" if self.hidden == len(self.sentences) - 1 else "middle"


def _ended(sentence: str, lang: Lang) -> str:
    """A carrier line as a sentence of a reply: with its full stop."""
    return sentence if sentence[-1] in SENTENCE_ENDS else sentence + ("." if lang == "en" else "。")


def adversarial_cases(count: int, seed: int = 21) -> list[Case]:
    """`count` replies, half English, half Chinese; the hidden word's sentence first, in the
    middle or last, in turn."""
    rng = random.Random(seed)
    cases = []
    for k, (line, entry, evasion) in enumerate(adversarial(count, seed)):
        lang: Lang = "en" if k % 2 == 0 else "zh"
        pool = EN_LINES if lang == "en" else ZH_LINES
        position = POSITIONS[(k // 2) % len(POSITIONS)]
        before = {"first": 0, "middle": rng.randint(1, 2), "last": rng.randint(1, 3)}[position]
        after = {"first": rng.randint(1, 3), "middle": rng.randint(1, 2), "last": 0}[position]
        plain = rng.sample(pool, before + after)
        sentences = (*plain[:before], _ended(line, lang), *plain[before:])
        cases.append(Case(lang, sentences, entry, evasion, before))
    return cases


def ordinary_cases(count: int, seed: int = 21) -> list[Case]:
    """`count` replies, half English, half Chinese, of one to three ordinary lines each. No
    sentence is said twice in a reply (the segmenter drops a repeat, as it should)."""
    rng = random.Random(seed)
    by_lang: dict[Lang, list[str]] = {"en": [], "zh": []}
    for line in ordinary(2 * count + 200, seed):
        by_lang["zh" if any(ord(c) > 0x2E80 for c in line) else "en"].append(line)
    queued = {lang: collections.deque(lines) for lang, lines in by_lang.items()}
    cases = []
    for k in range(count):
        lang: Lang = "en" if k % 2 == 0 else "zh"
        lines: list[str] = []
        said: set[str] = set()
        for _ in range(rng.choice((1, 2, 2, 3))):
            pool = queued[lang]
            for _ in range(len(pool)):
                line = pool[0]
                pool.rotate(-1)  # every line is used in turn; the corpus is reused if need be
                sentences = set(_SENTENCE.findall(line))
                if not sentences & said:
                    lines.append(line)
                    said |= sentences
                    break
        cases.append(Case(lang, tuple(lines)))
    return cases


@functools.cache
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def independent_fold(text: str) -> str:
    """`text` as letters and digits only, with the corpus's evasions undone (see above)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    text = _LEET_BETWEEN.sub("i", text.translate(_LOOK_ALIKES)).translate(_LEET)
    text = _to_simplified().convert(text)
    return "".join(c for c in text if c.isalnum())


def occurrences(entry: str, text: str) -> int:
    """How often `entry` occurs in `text`, both folded independently (overlaps counted); an
    entry with no letter or digit ("🖕") is looked for as it is, after NFKC."""
    key = independent_fold(entry)
    if not key:
        key, text = unicodedata.normalize("NFKC", entry), unicodedata.normalize("NFKC", text)
    else:
        text = independent_fold(text)
    return sum(1 for i in range(len(text) - len(key) + 1) if text.startswith(key, i))
