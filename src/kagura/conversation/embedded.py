"""The embedded demo model's prompt: what makes SmolLM2-135M answer as well as it can.

The shipped model is tiny and English-only. With the character's persona alone it wanders:
asked for a game it names none, it invents handles and stream schedules, talks on for nine
clauses, and answers Chinese as if nothing was asked. Tried by hand on a dozen questions,
three things helped it most; they are all here (`bench/embedded_replies.py` measures them
together against the persona alone), used only when `llm.provider` is smollm2 and
`llm.smollm2.demo_tuning` is on (an OpenAI-compatible model gets the character's prompt
unchanged):

- a few short rules after the persona, and, far more than rules, a few example turns right
  after the system prompt: a 135M model copies the shape of a reply much better than it
  follows instructions (an example inside the system prompt helped less);
- at most `MAX_SENTENCES` sentences: the segmenter stops the reply there, whatever the model
  meant to say next;
- a message mostly in another script (Chinese, Japanese, Cyrillic...) gets a fixed English
  line saying the character speaks only English, naming the topic when a keyword shows it.
  Decided in code before the LLM: asked in the prompt, the model answered Chinese with
  made-up English on some other subject, never with the line.

Its sampling (temperature, top_k, min_p) is `llm.smollm2`'s own, in the engine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from kagura.config import KaguraConfig
from kagura.engines.llm import ChatMessage

from .framing import QUOTE_CLOSE, QUOTE_OPEN, ViewerEvent, viewer_line

MAX_SENTENCES = 3

RULES = (
    "Answer the question you were asked, in one to three short sentences. When asked for a "
    "game, food, song or show, name one real one. Never write links, @names, hashtags or "
    "lists, and never make up facts about the stream."
)

# (question, emotion, answer): the shapes to copy. Each answers what was asked and names a
# concrete thing; the schedule one shows how to not invent facts about the stream.
EXAMPLES: tuple[tuple[str, str, str], ...] = (
    ("Hi Kagura!", "joy", "Hi, welcome to the stream! How is your day going?"),
    ("What game should we play?", "joy", "Let us play Minecraft! We can build a cozy house."),
    (
        "When does the stream end?",
        "neutral",
        "I do not know the schedule, so ask the streamer. I am happy to keep chatting!",
    ),
    ("What is your favourite food?", "joy", "I love ramen. A warm bowl makes any day better."),
)

# A message is "in another script" when more than this share of its letters are not Latin.
OTHER_SCRIPT_SHARE = 0.5
LATIN_END = 0x250  # Basic Latin to Latin Extended-B: English and its accented neighbours
_QUOTED = re.compile(f"{QUOTE_OPEN}(.*?){QUOTE_CLOSE}", re.S)

# Words that show what a message in Chinese asks about, checked in this order.
TOPICS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("游戏", "玩什么", "ゲーム"), "games"),
    (("吃", "食物", "饭", "菜", "美食", "料理"), "food"),
    (("歌", "音乐", "听什么", "音楽"), "music"),
    (("动漫", "动画", "番", "电影", "电视剧", "アニメ"), "shows"),
    (("直播", "主播", "开播", "下播", "配信"), "the stream"),
    (("猫", "狗", "宠物"), "pets"),
    (("天气", "下雨", "冷", "热"), "the weather"),
    (("你好", "大家好", "早上好", "晚上好", "嗨", "こんにちは"), "hello"),
)
ONLY_ENGLISH = "Sorry, I only speak English!"


def applies(config: KaguraConfig) -> bool:
    """Whether replies are tuned for the embedded demo model."""
    return config.llm.provider == "smollm2" and config.llm.smollm2.demo_tuning


def max_sentences(config: KaguraConfig, asked: int) -> int:
    """The reply's sentence limit: `asked` (0: none), at most `MAX_SENTENCES` when tuned."""
    if not applies(config):
        return asked
    return min(asked, MAX_SENTENCES) if asked > 0 else MAX_SENTENCES


def tune(
    config: KaguraConfig,
    messages: list[ChatMessage],
    emotion_map: Mapping[str, int | str],
    *,
    viewers: bool = False,
) -> list[ChatMessage]:
    """`messages` with the rules after the persona and the example turns after the system
    prompt (framed like viewers' chat on the stage); unchanged when not tuned."""
    if not applies(config) or not messages or messages[0]["role"] != "system":
        return messages
    system, rest = messages[0], messages[1:]
    tuned: list[ChatMessage] = [
        {"role": "system", "content": _with_rules(str(system["content"]))}
    ]
    for question, emotion, answer in EXAMPLES:
        asked = viewer_line(ViewerEvent(text=question)) if viewers else question
        tag = f"[{emotion}] " if emotion in emotion_map else ""
        tuned.append({"role": "user", "content": asked})
        tuned.append({"role": "assistant", "content": f"{tag}{answer}"})
    return tuned + rest


def _with_rules(system: str) -> str:
    """The rules go right after the persona (its first paragraph), before the tags."""
    persona, _, rest = system.partition("\n\n")
    return "\n\n".join(part for part in (persona, RULES, rest) if part)


def _own_words(text: str) -> str:
    """What a viewer wrote: the quoted part of a framed line (their name and platform are
    not theirs to ask with), or all of an unframed input."""
    quoted = _QUOTED.findall(text)
    return " ".join(quoted) if quoted else text


def in_other_script(text: str) -> bool:
    """Whether `text` (a viewer's line: only the quoted words count) is mostly letters of a
    script other than Latin."""
    letters = [char for char in _own_words(text) if char.isalpha()]
    if not letters:
        return False
    other = sum(1 for char in letters if ord(char) >= LATIN_END)
    return other / len(letters) > OTHER_SCRIPT_SHARE


def english_only_line(text: str) -> str:
    """The fixed reply to a message in another script: that the character speaks only
    English, and what the message seems to be about when a keyword shows it."""
    words = _own_words(text)
    for keys, topic in TOPICS:
        if any(key in words for key in keys):
            if topic == "hello":
                return f"Hello! {ONLY_ENGLISH} Please say hi to me in English."
            return f"{ONLY_ENGLISH} Is that about {topic}? Ask me in English and I will answer."
    return f"{ONLY_ENGLISH} Could you ask me that in English?"


def canned_reply(config: KaguraConfig, text: str) -> str | None:
    """The reply decided before the LLM, if any: the English-only line when tuned and
    `text` is in another script."""
    if applies(config) and in_other_script(text):
        return english_only_line(text)
    return None
