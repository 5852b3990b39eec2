"""Writes `bench/data/stream_replay.jsonl`: 30 minutes of a bilingual stream's chat, for
`bench/stream.py`. Deterministic (a fixed seed): run it again and the file is the same.

One JSON object a line, in time order (`t`: seconds from the stream's start):

- `{"t", "type": "show", "state": "start" | "end"}`: the platform's live-start / live-end.
- `{"t", "type": "chat", "tag", "platform", "kind", "user": {"name", "id"}, "text", "amount"?}`:
  a viewer's event. `tag` says what the benchmark counts it as: `named` (a question to the
  character by name), `question` (a plain question), `greeting`, `chatter`, `emote`, `spam`
  (the same text again, from one viewer or many), `gift`, `superchat`, `guard`, `raid`,
  `enter` (a viewer came in; Bilibili's entry event, no text).
- `{"t", "type": "streamer", "until", "text", "named"}`: the streamer speaks from `t` to
  `until`; `text` is what the speech recognizer will hear, `named` whether it names the
  character (answered under `streamer_addressing: by_name`).

The shape of it: a greeting burst as the stream opens, steady chat (a message every ~1.6 s,
busier and quieter stretches), two hype bursts of emotes and spam, a raid at 18:00 with its
own greeting burst, gifts and a few super chats, and the streamer talking about 30 % of the
time in stretches of 15-60 s.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "data" / "stream_replay.jsonl"
SEED = 22
LENGTH_S = 1800.0
STREAMER_SHARE = 0.30
RAID_AT_S = 1080.0
HYPE_AT_S = (420.0, 1380.0)

EN_NAMES = [
    "Alice", "Bob", "Carmen", "Dmitri", "Elena", "Finn", "Grace", "Hiro", "Ivy", "Jonas",
    "Kai", "Lena", "Marco", "Nina", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tariq",
    "Uma", "Victor", "Wren", "Xavier", "Yuki", "Zoe", "pixelfox", "NightOwl42", "tea_cat",
    "sleepy_dev", "MochiMochi", "ghostbyte", "lunar_moth", "Kestrel", "bytewitch",
]  # fmt: skip
ZH_NAMES = [
    "小明", "阿杰", "橘子汽水", "夜猫子", "星河", "北岛", "咸鱼一条", "菠萝包", "云朵", "阿狸",
    "白开水", "南风", "小熊软糖", "路过的猫", "青柠", "番茄炒蛋", "一只鸽子", "月光", "豆包",
    "摸鱼王", "晴天", "雪糕", "老王", "芝士", "蘑菇", "小鹿", "糯米", "山竹", "可乐", "饭团",
]  # fmt: skip
RAIDERS = [f"raider_{n:02d}" for n in range(25)]

NAMED_EN = [
    "Kagura, what's your favourite game?",
    "@Kagura do you like horror games?",
    "Kagura what would you name this boss?",
    "Kagura, can you sing something later?",
    "hey Kagura, how was your day?",
    "Kagura do you think he'll beat it this time?",
    "Kagura, cats or dogs?",
    "Kagura what snack should I get?",
]
NAMED_ZH = [
    "神乐你喜欢什么游戏？",
    "神乐今天心情怎么样？",
    "@神乐 你会唱歌吗",
    "神乐觉得这个boss难吗？",
    "神乐你最喜欢吃什么？",
    "神乐，推荐一部动漫吧？",
]
QUESTION_EN = [
    "what game is this?",
    "how long is the stream today?",
    "is this the last level?",
    "which character is he playing?",
    "what's the song in the background?",
    "how many deaths so far?",
    "when is the next stream?",
    "did he beat the first boss already?",
]
QUESTION_ZH = [
    "这是什么游戏？",
    "今天播多久？",
    "这关怎么过？",
    "刚才发生了什么？",
    "下次直播是几点？",
    "这个装备哪里拿的？",
]
CHATTER_EN = [
    "that jump was clean",
    "just got home from work",
    "the music is so good today",
    "I love this map",
    "my cat is watching too",
    "first time catching the stream live",
    "this boss fight is intense",
    "that was close",
    "nice dodge",
    "the lighting in this game is beautiful",
    "I'm eating noodles while watching",
    "good luck on this run",
    "chat is so wholesome today",
    "the graphics mod looks great",
    "I played this last year, the ending is wild",
]
CHATTER_ZH = [
    "这波操作可以",
    "刚下班来看直播",
    "今天的背景音乐好好听",
    "这个地图好漂亮",
    "我家猫也在看",
    "第一次赶上直播",
    "这个boss好凶",
    "好险好险",
    "这画面真不错",
    "边吃饭边看",
    "加油加油",
    "今天弹幕好热闹",
    "我去年玩过，结局很震撼",
]
EMOTES = ["666", "哈哈哈哈", "LOL", "草", "KEKW", "233333", "Pog", "awsl", "xswl", "GG"]
GREETINGS_EN = ["hi", "hello", "hey everyone", "hiii", "good evening", "yo", "hello chat"]
GREETINGS_ZH = ["晚上好", "大家好", "来了来了", "哈喽", "主播好", "晚上好呀"]
GIFTS = [("辣条", 0.1), ("小心心", 0.5), ("打call", 1.0), ("牛哇", 1.0), ("干杯", 10.0)]
BIG_GIFTS = [("告白气球", 52.0), ("摩天大楼", 450.0)]
SUPERCHATS = [
    ("bilibili", "神乐，生日快乐！这是给你的蛋糕钱", 30.0),
    ("youtube", "Kagura, thank you for keeping me company every week!", 5.0),
    ("bilibili", "主播加油，这把一定能过！", 50.0),
    ("youtube", "Love the stream, what's the plan for next week?", 10.0),
    ("bilibili", "第一次发SC，神乐看看我", 30.0),
]
STREAMER_AUDIENCE = [
    "Okay chat, this next part is the hard one, so give me a second to focus.",
    "Thank you all for being here tonight, it really means a lot to me.",
    "Let me check the map real quick, I think the key is somewhere on the left.",
    "Alright, I am going to try a different build this time, bear with me.",
    "Oh no, not again, I keep falling into that exact same hole.",
    "Welcome in everyone who just arrived, we are on the third world right now.",
    "Quick reminder that the next stream is on Friday at the usual time.",
]
STREAMER_NAMED = [
    "Kagura, what do you think, should I go left or right here?",
    "Kagura, remind me what the boss was weak to.",
    "Kagura, say hi to everyone who just came in from the raid.",
]


def viewers(rng: random.Random) -> list[dict[str, Any]]:
    """The regular pool: stable platform uids (Bilibili numbers, YouTube channel ids)."""
    pool = []
    for name in ZH_NAMES:
        pool.append({"name": name, "id": str(rng.randrange(10_000_000, 99_999_999)), "zh": True})
    for name in EN_NAMES:
        uid = "UC" + "".join(
            rng.choice("abcdefghijkmnpqrstuvwxyzABCDEFGH0123456789") for _ in range(22)
        )
        pool.append({"name": name, "id": uid, "zh": False})
    return pool


def chat(t: float, tag: str, viewer: dict[str, Any], text: str, kind: str = "danmaku",
         amount: float | None = None, platform: str | None = None) -> dict[str, Any]:  # fmt: skip
    platform = platform or ("bilibili" if viewer["zh"] else "youtube")
    event: dict[str, Any] = {"t": round(t, 2), "type": "chat", "tag": tag, "platform": platform}
    event |= {"kind": kind, "user": {"name": viewer["name"], "id": viewer["id"]}, "text": text}
    if amount is not None:
        event["amount"] = amount
    return event


def greeting_burst(rng: random.Random, start: float, people: list[dict[str, Any]],
                   span_s: float) -> list[dict[str, Any]]:  # fmt: skip
    """Viewers coming in: an entry event, and most of them say hi within a few seconds."""
    events = []
    for viewer in people:
        t = start + rng.uniform(0, span_s)
        events.append(chat(t, "enter", viewer, "", kind="enter"))
        if rng.random() < 0.75:
            words = GREETINGS_ZH if viewer["zh"] else GREETINGS_EN
            events.append(chat(t + rng.uniform(0.5, 6), "greeting", viewer, rng.choice(words)))
    return events


def steady(rng: random.Random, pool: list[dict[str, Any]]) -> list[dict[str, Any]]:
    events, t = [], 60.0
    while t < LENGTH_S - 20:
        busy = 1.6 if (t // 240) % 2 else 0.7  # quieter and busier stretches
        t += rng.expovariate(1 / (1.6 * busy))
        viewer = rng.choice(pool)
        zh = viewer["zh"]
        roll = rng.random()
        if roll < 0.07:
            events.append(chat(t, "named", viewer, rng.choice(NAMED_ZH if zh else NAMED_EN)))
        elif roll < 0.16:
            events.append(
                chat(t, "question", viewer, rng.choice(QUESTION_ZH if zh else QUESTION_EN))
            )
        elif roll < 0.26:
            events.append(chat(t, "emote", viewer, rng.choice(EMOTES)))
        elif roll < 0.30:  # the same words again a few seconds later: an impatient viewer
            text = rng.choice(CHATTER_ZH if zh else CHATTER_EN)
            events.append(chat(t, "chatter", viewer, text))
            events.append(chat(t + rng.uniform(2, 6), "spam", viewer, text))
        elif roll < 0.36 and zh:
            gift, worth = rng.choice(GIFTS)
            events.append(chat(t, "gift", viewer, gift, kind="gift", amount=worth))
        else:
            events.append(chat(t, "chatter", viewer, rng.choice(CHATTER_ZH if zh else CHATTER_EN)))
    return events


def hype(rng: random.Random, pool: list[dict[str, Any]], at: float) -> list[dict[str, Any]]:
    """A big moment: 20 s of emotes from everyone, the same few words many times."""
    events = []
    word = rng.choice(["666", "GG", "awsl"])
    for _ in range(60):
        t = at + rng.uniform(0, 20)
        events.append(
            chat(t, "spam", rng.choice(pool), word if rng.random() < 0.6 else rng.choice(EMOTES))
        )
    return events


def paid(rng: random.Random, pool: list[dict[str, Any]]) -> list[dict[str, Any]]:
    zh = [v for v in pool if v["zh"]]
    en = [v for v in pool if not v["zh"]]
    events = []
    for n, (platform, text, amount) in enumerate(SUPERCHATS):
        viewer = rng.choice(zh if platform == "bilibili" else en)
        t = 150 + n * 330 + rng.uniform(0, 60)
        events.append(chat(t, "superchat", viewer, text, "superchat", amount, platform))
    for n, (gift, amount) in enumerate(BIG_GIFTS):
        events.append(chat(700 + 600 * n, "gift", rng.choice(zh), gift, "gift", amount))
    for t in (520.0, 1250.0):
        events.append(chat(t, "guard", rng.choice(zh), "舰长", "guard", 198.0))
    return events


def raid(rng: random.Random) -> list[dict[str, Any]]:
    host = {"name": "SpeedyRuns", "id": "UCspeedyruns0000000000000", "zh": False}
    raiders = [{"name": n, "id": f"UCraid{n[-2:]}0000000000000000", "zh": False} for n in RAIDERS]
    events = [chat(RAID_AT_S, "raid", host, "25 viewers", kind="raid")]
    events += greeting_burst(rng, RAID_AT_S + 1, raiders, 15)
    events += [chat(RAID_AT_S + rng.uniform(20, 90), "chatter", rng.choice(raiders),
                    rng.choice(CHATTER_EN)) for _ in range(12)]  # fmt: skip
    return events


def streamer(rng: random.Random) -> list[dict[str, Any]]:
    """Speech stretches of 15-60 s, about STREAMER_SHARE of the stream, none in the first
    minute (the streamer lets chat say hello) and one right after the raid."""
    events, t, said = [], 75.0, 0
    while t < LENGTH_S - 90:
        length = rng.uniform(15, 60)
        named = said % 4 == 3
        text = rng.choice(STREAMER_NAMED if named else STREAMER_AUDIENCE)
        events.append({"t": round(t, 2), "type": "streamer", "until": round(t + length, 2),
                       "text": text, "named": named})  # fmt: skip
        said += 1
        gap = length * (1 - STREAMER_SHARE) / STREAMER_SHARE * 0.85  # the raid's pause aside
        t += length + rng.uniform(0.6 * gap, 1.4 * gap)
        if t < RAID_AT_S < t + 80:
            t = RAID_AT_S + 25  # welcomes the raid in their own words
    return events


def replay(seed: int = SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    pool = viewers(rng)
    events: list[dict[str, Any]] = [{"t": 0.0, "type": "show", "state": "start"}]
    events += greeting_burst(rng, 2, rng.sample(pool, 40), 50)
    events += steady(rng, pool)
    for at in HYPE_AT_S:
        events += hype(rng, pool, at)
    events += paid(rng, pool)
    events += raid(rng)
    events += streamer(rng)
    events.append({"t": LENGTH_S - 5, "type": "show", "state": "end"})
    return sorted(events, key=lambda event: event["t"])


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(event, ensure_ascii=False) for event in replay()]
    OUT.write_text("\n".join(lines) + "\n", "utf-8")
    print(f"wrote {len(lines)} events to {OUT}")


if __name__ == "__main__":
    main()
