"""A corpus of realistic replies for the first-audio benchmark.

Replies as a streamer's character gives them: English and Chinese, first clauses of one to
seven words, replies whose first punctuation comes late, replies that open with an emotion
tag. `first` is the first clause as written by hand — the floor is computed from it, not from
Kagura's segmenter, so a segmenter that cut in the wrong place would show up as a miss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kagura.conversation.text import strip_tags, word_count


@dataclass(frozen=True)
class Reply:
    lang: Literal["en", "zh"]
    text: str
    first: str  # the reply's first clause, tags included, exactly as it starts the reply
    kind: str = ""

    def __post_init__(self) -> None:
        if not self.text.startswith(self.first):
            raise ValueError(f"{self.first!r} does not start {self.text!r}")

    @property
    def spoken_first(self) -> str:
        return strip_tags(self.first)

    @property
    def words(self) -> int:
        return word_count(self.first)


CORPUS = [
    Reply("en", "Hi! It is so good to see you here tonight. What shall we talk about?", "Hi!"),
    Reply(
        "en",
        "Hello there, nice to meet you. I am happy to chat with you today! "
        "What would you like to talk about?",
        "Hello there,",
    ),
    Reply("en", "Oh, that sounds like a lot of fun. I would love to hear more about it!", "Oh,"),
    Reply("en", "Well, I am not sure about that. Maybe we can find out together?", "Well,"),
    Reply(
        "en",
        "Good evening, everyone, and welcome to the stream. Tonight we play a new game!",
        "Good evening,",
    ),
    Reply("en", "Sure thing, let me think for a second. I would pick the blue one.", "Sure thing,"),
    Reply(
        "en",
        "You are right about that, my friend. Let us try it together tonight!",
        "You are right about that,",
    ),
    Reply(
        "en",
        "Thanks for the lovely gift, Alice! You are the best, and I mean it.",
        "Thanks for the lovely gift,",
    ),
    Reply(
        "en",
        "The weather here is lovely today, with lots of sunshine. Do you like sunny days?",
        "The weather here is lovely today,",
    ),
    Reply(
        "en",
        "My favourite food is warm noodle soup on a rainy day because it makes me feel cosy "
        "inside. What about you?",
        "My favourite food is warm noodle soup on a rainy day because it makes me feel cosy "
        "inside.",
        "no early punctuation",
    ),
    Reply(
        "en",
        "I really love talking with everyone here tonight and hearing about your day. "
        "Tell me more!",
        "I really love talking with everyone here tonight and hearing about your day.",
        "no early punctuation",
    ),
    Reply("en", "[joy] Yay, you came back! I missed you so much.", "[joy] Yay,", "emotion tag"),
    Reply(
        "en",
        "[surprise] Wow, I did not expect that at all! Tell me everything.",
        "[surprise] Wow,",
        "emotion tag",
    ),
    Reply(
        "en",
        "[sadness] Oh no, that sounds really hard. I hope tomorrow is better for you.",
        "[sadness] Oh no,",
        "emotion tag",
    ),
    Reply("zh", "你好！很高兴见到你。今天想聊点什么呢？", "你好！"),
    Reply("zh", "嗯，让我想一想。我觉得蓝色的更好看。", "嗯，"),
    Reply("zh", "大家晚上好，欢迎来到直播间！今晚我们一起聊聊天吧。", "大家晚上好，"),
    Reply("zh", "谢谢你的礼物，你真是太好了！我会好好珍惜的。", "谢谢你的礼物，"),
    Reply(
        "zh",
        "我最喜欢的食物是热腾腾的拉面，尤其是在下雨天。你呢？",
        "我最喜欢的食物是热腾腾的拉面，",
    ),
    Reply(
        "zh",
        "今天的直播我们一起玩一个新的游戏吧大家准备好了吗？我已经等不及了！",
        "今天的直播我们一起玩一个新的游戏吧大家准备好了吗？",
        "no early punctuation",
    ),
    Reply("zh", "[joy] 哇，你来了！我好想你呀。", "[joy] 哇，", "emotion tag"),
    Reply(
        "zh",
        "[sadness] 哎呀，听起来真的很辛苦。希望明天会更好。",
        "[sadness] 哎呀，",
        "emotion tag",
    ),
]
