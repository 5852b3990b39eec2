"""The demo room's audience: scripted viewers chatting in English and Chinese, sending
gifts, super chats and now and then buying a captain (舰长) guard.

What happens follows a fixed rhythm (`RHYTHM`: mostly chat, a gift every few lines, a super
chat twice a round, a guard once), so every kind of event shows up within a minute or two;
who does it and what they say are dealt from shuffled decks, so a long run does not repeat
in a pattern the eye catches. Most lines are questions or greetings, which the stage always
answers; a few are plain remarks, which it may skip at a busy pace, as in a real room.

Every event is a real Bilibili command (`kagura.testing.fake_bilibili.messages`) with a fresh
id and the current time, so the client and the stage treat it exactly like a real one.
"""

from __future__ import annotations

import itertools
import random
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from kagura.testing.fake_bilibili import messages

T = TypeVar("T")
Command = messages.Command

# Viewer ids far above any Bilibili account's (16 digits today), yet within int64: the
# stage's memory keys viewers by platform and id, so a demo viewer never merges with a real
# one.
DEMO_UID_BASE = 9_100_000_000_000_000_000
CAPTAIN, CAPTAIN_PRICE = 3, 198_000  # guard level 3 (舰长), ¥198 a month in gold coins
NAMES_EN = (
    "MoonlitFox", "pixel_pete", "tea_and_toast", "NightOwl42", "LunaSky", "sam_plays",
    "Kenji_draws", "maple_leaf", "RubberDuckDev", "Aria_sings", "quietstorm", "biscuit_bandit",
)  # fmt: skip
NAMES_ZH = (
    "小笼包", "晚风", "摸鱼的猫", "星星点灯", "路过的狸猫", "阿杰今天也在", "草莓牛奶",
    "咸鱼翻身", "月亮不睡我不睡", "一颗柠檬", "橘子汽水", "山海",
)  # fmt: skip
LINES_EN = (
    "hi Kagura! what are we doing today?",
    "just got home from work, what did I miss?",
    "do you have a favourite song to sing?",
    "what's the best snack for a late stream?",
    "cats or dogs? asking for a friend",
    "first time here, this looks fun",
    "how do you stay so cheerful?",
    "any game recommendations for the weekend?",
    "it's raining here, is it raining where you are?",
    "can you say something in Chinese?",
    "what would you name a pet dragon?",
    "lol the chat is fast today",
    "tea or coffee?",
    "what's your favourite season, and why?",
    "greetings from Berlin!",
    "I finished my exams today!",
    "can you tell us a short joke?",
    "what was the last thing that made you laugh?",
)
LINES_ZH = (
    "主播晚上好！今天播什么呀？",
    "刚下班，错过了什么吗？",
    "你最喜欢的歌是哪首？",
    "夜宵吃什么好呢？",
    "猫派还是狗派？",
    "第一次来，好热闹啊",
    "今天心情怎么样？",
    "周末有什么游戏推荐吗？",
    "我这边下雨了，你那边呢？",
    "能用英语说句话吗？",
    "如果养一条龙，你会给它起什么名字？",
    "哈哈哈弹幕好快",
    "奶茶还是咖啡？",
    "最喜欢哪个季节呀？",
    "来自成都的问候！",
    "今天考完试啦！",
    "讲个冷笑话吧？",
    "最近有什么开心的事吗？",
)
SUPER_CHATS_EN = (
    (30, "Happy to support the stream! What would be your dream concert venue?"),
    (50, "Sing us something cheerful, please!"),
    (100, "Long-time viewer, first super chat. Keep being awesome!"),
)
SUPER_CHATS_ZH = (
    (30, "支持一下！能唱一首歌吗？"),
    (50, "今天加班好累，求安慰"),
    (100, "第一次发醒目留言，主播加油！"),
)


@dataclass(frozen=True)
class Gift:
    name: str
    coin_type: str  # "silver": free; "gold": paid, 1000 gold coins to the yuan
    price: int  # coins for one
    counts: tuple[int, ...]  # how many one viewer sends at once


# Mostly small gifts (a template thank-you, no LLM); now and then one worth an answer.
GIFTS = (
    Gift("辣条", "silver", 100, (1, 5, 10)),
    Gift("小心心", "silver", 0, (1, 3)),
    Gift("小花花", "gold", 100, (1, 5)),
    Gift("牛哇牛哇", "gold", 100, (1, 3)),
    Gift("打call", "gold", 500, (1, 2)),
    Gift("告白花束", "gold", 22_000, (1,)),
)

# One round of the room, repeated: (what happens, in which language; "" for either).
RHYTHM = (
    ("chat", "en"), ("chat", "zh"), ("gift", ""), ("chat", "en"), ("chat", "zh"),
    ("chat", "zh"), ("chat", "en"), ("superchat", "en"), ("chat", "en"), ("chat", "zh"),
    ("gift", ""), ("chat", "zh"), ("chat", "en"), ("chat", "en"), ("guard", ""),
    ("chat", "zh"), ("chat", "en"), ("gift", ""), ("chat", "zh"), ("superchat", "zh"),
)  # fmt: skip


class Deck(Generic[T]):
    """`items` dealt in a shuffled order, every one before any comes again, and never the
    same one twice in a row across a reshuffle."""

    def __init__(self, items: Sequence[T], rng: random.Random) -> None:
        self._items = list(items)
        self._rng = rng
        self._left: list[T] = []
        self._last: T | None = None

    def deal(self) -> T:
        if not self._left:
            self._left = self._items.copy()
            self._rng.shuffle(self._left)
            if len(self._left) > 1 and self._left[-1] == self._last:
                self._left[0], self._left[-1] = self._left[-1], self._left[0]
        self._last = self._left.pop()
        return self._last


@dataclass(frozen=True)
class Viewer:
    name: str
    uid: int


def _viewers(names: Sequence[str], first: int) -> list[Viewer]:
    return [Viewer(name, DEMO_UID_BASE + first + n) for n, name in enumerate(names)]


def crowd(rng: random.Random | None = None) -> Iterator[Command]:
    """The room's events, one after another, for ever. `rng` fixes the deal (tests)."""
    rng = rng or random.Random()
    viewers = {
        "en": Deck(_viewers(NAMES_EN, 1), rng),
        "zh": Deck(_viewers(NAMES_ZH, 1 + len(NAMES_EN)), rng),
    }
    lines = {"en": Deck(LINES_EN, rng), "zh": Deck(LINES_ZH, rng)}
    super_chats = {"en": Deck(SUPER_CHATS_EN, rng), "zh": Deck(SUPER_CHATS_ZH, rng)}
    gifts = Deck(GIFTS, rng)
    run = secrets.token_hex(4)  # ids unique across runs: the stage drops a repeated id
    for serial, (kind, language) in enumerate(itertools.cycle(RHYTHM), 1):
        language = language or rng.choice(("en", "zh"))
        viewer = viewers[language].deal()
        now = time.time()
        if kind == "chat":
            yield messages.danmaku(
                lines[language].deal(),
                viewer.uid,
                viewer.name,
                ts_ms=int(now * 1000),
                rnd=rng.randrange(1 << 31),
                id_str=f"demo-{run}-{serial}",
            )
        elif kind == "gift":
            gift = gifts.deal()
            yield messages.gift(
                viewer.uid,
                viewer.name,
                gift.name,
                rng.choice(gift.counts),
                price=gift.price,
                coin_type=gift.coin_type,
                tid=f"demo-{run}-{serial}",
                ts=int(now),
            )
        elif kind == "superchat":
            price, text = super_chats[language].deal()
            sc_id = int(now) * 1000 + serial % 1000
            yield messages.super_chat(sc_id, viewer.uid, viewer.name, price, text, start=int(now))
        else:
            yield messages.guard_buy(
                viewer.uid, viewer.name, CAPTAIN, price=CAPTAIN_PRICE, start=int(now)
            )
