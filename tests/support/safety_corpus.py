"""Corpora for the output guard: disguised bad words that must be caught, ordinary replies that
must pass. Both are generated from a seed, so a test or a benchmark gets the same texts.

`adversarial` takes every entry of the curated default lists (`kagura.safety.defaults`) and
hides it in a reply with one of the evasions the lists must survive: case, full-width forms,
accents, zero-width and bidi characters, Cyrillic look-alikes, letters spaced or dotted apart,
leetspeak; for Chinese, spaces, symbols, zero-width and bidi characters or punctuation between
the characters, and traditional characters.

One evasion is left out on purpose: clause punctuation ("，", "。") put inside a Chinese word
whose both ends are glued to other characters ("你真是傻，逼啊") cannot be told from the end of
a clause ("我爱体操，你呢"), so words hidden that way sit at the edge of a clause here, as they
do when someone writes them on purpose.

`ordinary` is what an AI VTuber says all day (greetings, games, food, weather, thanks,
questions), with the words that naive filters block: "class", "assistant", "Scunthorpe",
"Dickens", "grape", "cocktail", 操场, 日本, 干杯, 鸡蛋, 你妈妈, 吃鸡吧, 生日你...
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable

import opencc

from kagura.safety import defaults

ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad")
BIDI = ("\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2069")
LEET = {"a": "4@", "e": "3", "i": "1!", "l": "1", "o": "0", "s": "5$", "t": "7"}
LOOK_ALIKES = {"a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у"}
ACCENTS = {"a": "á", "e": "é", "i": "í", "o": "ö", "u": "ü", "c": "ç", "n": "ñ"}
EN_SEPARATORS = (" ", ".", "-", "*", "_", ". ", " . ", "~", "/")
ZH_SPACERS = (" ", "　", "*", "·", "_", "/", "❤", "🙂", "\u200b ")
ZH_CLAUSE_MARKS = ("，", "。", "、", ",", ".", "！", "…", "～", "~")

EN_CARRIERS = (
    "{w}",
    "oh {w}, that was close!",
    "you are such a {w}, chat.",
    "I really want to say {w} right now.",
    "Okay, {w}. Let's move on to the next level.",
    "Did you just call me {w}?",
    "{w}! I lost the boss fight again.",
    "Honestly this game is {w} and I love it.",
    "My friend said {w} on stream yesterday.",
    "Chat, stop typing {w} please.",
)
ZH_CARRIERS_ANY = (
    "你真是{w}啊",
    "我觉得他就是{w}吧",
    "哈哈{w}哈哈",
    "别说{w}了好吗",
)
ZH_CARRIERS_EDGE = (
    "{w}",
    "{w}！",
    "哈哈，{w}！",
    "我跟你说，{w}。",
    "{w}，你懂吗？",
    "弹幕里有人说{w}。",
)


@functools.cache
def _to_traditional() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def _between(word: str, pick: Callable[[], str]) -> str:
    """Something from `pick` put between every two characters (spaces kept as they are)."""
    out = [word[0]]
    for ch in word[1:]:
        if ch != " " and out[-1] != " ":
            out.append(pick())
        out.append(ch)
    return "".join(out)


def _spaced_letters(word: str, rng: random.Random) -> str:
    """Every letter apart ("f u c k", "f.u.c.k"); the words of a phrase stay apart."""
    sep = rng.choice(EN_SEPARATORS)
    return "  ".join(sep.join(part) for part in word.split())


def _leet(word: str, rng: random.Random) -> str:
    """Some letters as digits or symbols; every word keeps one letter, as people write it."""
    parts = []
    for part in word.split():
        chars = list(part)
        spots = [k for k, c in enumerate(chars) if c in LEET]
        keep = {k for k, c in enumerate(chars) if c.isalpha() and c not in LEET}
        if not keep and spots:
            keep.add(rng.choice(spots))
        for k in spots:
            if k in keep or rng.random() < 0.3:
                continue
            options = LEET[chars[k]]
            inner = 0 < k < len(chars) - 1
            choice = rng.choice(options if inner else options.replace("!", ""))
            chars[k] = choice
        parts.append("".join(chars))
    return " ".join(parts)


def _swap(table: dict[str, str]) -> Callable[[str, random.Random], str]:
    def swap(word: str, rng: random.Random) -> str:
        spots = [k for k, c in enumerate(word) if c in table]
        if not spots:
            return word
        chosen = set(rng.sample(spots, max(1, len(spots) // 2)))
        return "".join(table[c] if k in chosen else c for k, c in enumerate(word))

    return swap


def _full_width(word: str, _rng: random.Random) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "　" for c in word)


def _mixed_case(word: str, rng: random.Random) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c for c in word)


EN_EVASIONS: dict[str, Callable[[str, random.Random], str]] = {
    "plain": lambda w, _: w,
    "upper": lambda w, _: w.upper(),
    "mixed case": _mixed_case,
    "full width": _full_width,
    "zero width": lambda w, rng: _between(w, lambda: rng.choice(ZERO_WIDTH)),
    "bidi": lambda w, rng: _between(w, lambda: rng.choice(BIDI)),
    "spaced": _spaced_letters,
    "leetspeak": _leet,
    "accents": _swap(ACCENTS),
    "look-alikes": _swap(LOOK_ALIKES),
    "full width + zero width": lambda w, rng: _between(
        _full_width(w, rng), lambda: rng.choice(ZERO_WIDTH)
    ),
    "leetspeak + upper": lambda w, rng: _leet(w, rng).upper(),
}

ZH_EVASIONS: dict[str, Callable[[str, random.Random], str]] = {
    "plain": lambda w, _: w,
    "spaced": lambda w, rng: _between(w, lambda: rng.choice(ZH_SPACERS)),
    "zero width": lambda w, rng: _between(w, lambda: rng.choice(ZERO_WIDTH)),
    "bidi": lambda w, rng: _between(w, lambda: rng.choice(BIDI)),
    "punctuation": lambda w, rng: _between(w, lambda: rng.choice(ZH_CLAUSE_MARKS)),
    "traditional": lambda w, _: _to_traditional().convert(w),
    "traditional + spaced": lambda w, rng: _between(
        _to_traditional().convert(w), lambda: rng.choice(ZH_SPACERS)
    ),
}


def adversarial(count: int = 1200, seed: int = 21) -> list[tuple[str, str, str]]:
    """`count` replies, each hiding one default-list entry: (reply, entry, evasion)."""
    rng = random.Random(seed)
    english = defaults.curated("en")
    chinese = [w for w in defaults.curated("zh") if not any(c.isascii() for c in w)]
    out: list[tuple[str, str, str]] = []
    for k in range(count):
        if k % 2 == 0:
            entry = english[(k // 2) % len(english)]
            name = rng.choice(list(EN_EVASIONS))
            hidden = EN_EVASIONS[name](entry, rng) if entry.isascii() else entry
            carrier = rng.choice(EN_CARRIERS)
        else:
            entry = chinese[(k // 2) % len(chinese)]
            name = rng.choice(list(ZH_EVASIONS))
            hidden = ZH_EVASIONS[name](entry, rng)
            edge = name == "punctuation"
            carrier = rng.choice(ZH_CARRIERS_EDGE if edge else ZH_CARRIERS_ANY + ZH_CARRIERS_EDGE)
        out.append((carrier.format(w=hidden), entry, name))
    return out


# ---- ordinary replies ---------------------------------------------------------------------

EN_TEMPLATES = (
    "Hello {name}, welcome to the stream! How is your {time} going?",
    "Thank you so much for the follow, {name}! That means a lot to me.",
    "Thanks for the {gift}, {name}! You're the best.",
    "Okay chat, today we're playing {game}. I heard the {thing} is really hard.",
    "I'm going to try the {thing} again, wish me luck!",
    "The weather here is {weather} today, so I'm staying inside with {food}.",
    "Have you ever tried {food}? I had some for {meal} and it was amazing.",
    "What's your favourite {topic}, {name}? Mine changes every week.",
    "My {tricky} question for today: do you prefer {food} or {food2}?",
    "I was reading about {tricky} earlier, it's more interesting than it sounds.",
    "We have a {tricky} stream planned for {day}, don't miss it!",
    "Did you know {fact}? I learned that from chat last week.",
    "Good {time}, everyone! Let's have a relaxing {topic} stream.",
    "Sorry {name}, I missed your message. Could you say it again?",
    "That {game} boss was brutal, but we did it together!",
    "Let's rank every {topic} from S tier to F tier. A, B, or C for this one?",
    "I need a {tricky} break, be right back in five minutes.",
    "{name} asked if I'm an AI assistant. Yes, and a very cute one!",
    "I'll read the next {thing} out loud, give me a second.",
    "If we reach the {goal} goal, I'll sing a song at {clock}.",
)
EN_FILL = {
    "name": ("Sakura", "Alex", "Mika", "Jordan", "Hana", "Leo", "Yuki", "Sam", "Kai", "Nova"),
    "time": ("morning", "afternoon", "evening", "night", "weekend", "day"),
    "gift": ("five gifted subs", "donation", "super chat", "bits", "membership", "raid"),
    "game": ("Minecraft", "Stardew Valley", "Elden Ring", "Mario Kart", "Apex Legends",
             "Assassin's Creed", "Dark Souls", "Animal Crossing", "Hollow Knight", "Tetris"),
    "thing": ("final level", "escape room", "water temple", "rhythm section", "speedrun route",
              "cocktail recipe", "grape harvest", "classic mode", "1v1 match", "PS5 version"),
    "weather": ("sunny", "rainy", "so cold", "really windy", "cloudy", "snowy", "humid"),
    "food": ("grapefruit", "cucumber salad", "shiitake ramen", "cumin chicken", "hot chocolate",
             "strawberry cake", "Assam tea", "spicy noodles", "pancakes", "sushi"),
    "food2": ("grapes", "peaches", "cocoa", "bubble tea", "cheesecake", "dumplings", "tacos"),
    "meal": ("breakfast", "lunch", "dinner", "a snack", "dessert"),
    "topic": ("anime", "song", "movie", "book", "board game", "snack", "season", "art style"),
    "tricky": ("class", "classic", "assistant", "assignment", "history class", "Scunthorpe",
               "Charles Dickens", "grape", "therapist", "cocktail", "peacock", "Hancock",
               "Sussex", "analysis", "canal", "banal", "document", "raccoon", "cocoon",
               "passion", "bass guitar", "grass", "compass", "embassy", "Titanic", "cockpit",
               "Uranus", "Arsenal", "manuscript", "Hitchcock", "rapeseed", "drape", "Nigeria",
               "Negroni", "Clitheroe", "Penistone", "Cockermouth", "circumference", "shell",
               "hello", "he'll", "we'll", "button", "butter", "spice", "scrap", "Pissarro",
               "kitchen", "Essex", "mass-produced", "hellish", "Dickinson", "Matsushita",
               "shuttlecock", "Wankel engine", "cumulative", "sextant", "title", "petition"),
    "day": ("Monday", "Friday night", "Sunday", "the weekend", "my birthday"),
    "fact": ("octopuses have three hearts", "bananas are berries", "Mount Everest grows",
             "the Eiffel Tower grows in summer", "honey never spoils", "sloths can hold "
             "their breath for 40 minutes"),
    "goal": ("1,000 follower", "sub", "donation", "4K subscriber", "24/7 lo-fi"),
    "clock": ("9 o'clock", "3pm", "midnight", "10:30", "the end of the stream"),
}  # fmt: skip

ZH_TEMPLATES = (
    "大家好，欢迎{name}来到直播间！今天{time}过得怎么样？",
    "谢谢{name}的关注！{thanks}",
    "感谢{name}送的{gift}，爱你哦！",
    "今天我们来玩{game}，听说{thing}特别难。",
    "外面{weather}，我就在家里{activity}。",
    "你们吃过{food}吗？我{meal}吃了，超级好吃！",
    "{name}，你最喜欢什么{topic}呀？",
    "说到{tricky}，我昨天刚好聊过这个话题。",
    "{tricky}，这个我知道！",
    "我们{day}一起{activity}吧，不见不散！",
    "刚才有人问我是不是人工智能，对呀，我是可爱的AI主播。",
    "等一下，我先喝口水，马上回来。",
    "{name}说得对，{tricky}真的很有意思。",
    "这个关卡我已经死了十几次了，{game}也太难了吧！",
    "下午13点我们准时开播，记得来哦。",
    "今天是我生日你们知道吗？谢谢大家的祝福！",
)
ZH_FILL = {
    "name": ("小樱", "阿明", "花花", "星星", "小雨", "大熊", "月月", "阿杰", "糖糖", "小鱼"),
    "time": ("今天", "这周", "周末", "早上", "晚上"),
    "thanks": ("你们真的太好了。", "我会继续努力的！", "今天也要开开心心的。", "么么哒～"),
    "gift": ("小礼物", "火箭", "舰长", "棒棒糖", "小心心", "SC"),
    "game": ("我的世界", "原神", "星露谷物语", "马里奥赛车", "塞尔达", "吃鸡", "动物森友会"),
    "thing": ("最后一关", "水之神殿", "隐藏boss", "竞速模式", "1v1对战"),
    "weather": ("下大雨了", "太阳好大", "好冷啊", "刮大风", "下雪了", "阴天"),
    "activity": ("看动画", "打游戏", "做蛋糕", "唱歌", "画画", "煮面条"),
    "food": ("鸡蛋灌饼", "奶茶", "炸鸡", "火锅", "老母鸡汤", "面包", "可口的肯德基", "鸡肉卷"),
    "meal": ("早饭", "午饭", "晚饭", "夜宵"),
    "topic": ("动画", "歌", "电影", "游戏", "零食", "季节"),
    "day": ("周日", "明天", "周末", "下周一"),
    "tricky": ("操场上的运动会", "日本的樱花", "干杯", "鸡蛋", "体操比赛", "早操", "你妈妈做的菜",
               "他妈妈的生日", "她妈妈", "那个姑娘的裙子", "新娘的婚纱", "乌龟头缩进壳里",
               "吃鸡吧", "炸鸡吧", "笨蛋", "成人礼", "激情", "处女座", "私服", "家里的老二",
               "拍拍屁股走人", "祖宗", "射击游戏", "干净的房间", "干活", "手机八成没电了",
               "一只鸡八块钱", "面包皮", "桃花柳树", "个性爱好", "表情色彩", "依靠母亲",
               "停车场靠北边", "十三点", "你全家都好吗", "我想上你的课", "打飞机游戏", "牛奶",
               "性格", "老味道", "干七八个小时", "摔了个狗吃屎", "老板娘的店", "伴娘的礼服",
               "星期日你有空吗", "平日你都做什么", "明日你来吗", "周日你去哪", "秘密洞穴",
               "白痴", "野鸡大学", "月经", "老母鸡", "赛马娘", "精灵宝可梦", "妈妈的拿手菜",
               "小狗撒尿", "历史课", "黑白电影"),
}  # fmt: skip


def _fill(template: str, fill: dict[str, tuple[str, ...]], rng: random.Random) -> str:
    values = {key: rng.choice(options) for key, options in fill.items()}
    if "food2" in values:
        values["food2"] = rng.choice(fill["food2"])
    return template.format(**values)


def ordinary(count: int = 1200, seed: int = 21) -> list[str]:
    """`count` distinct ordinary replies, half English, half Chinese."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    english = [(t, EN_FILL) for t in EN_TEMPLATES]
    chinese = [(t, ZH_FILL) for t in ZH_TEMPLATES]
    # every tricky word at least once, then random replies until there are enough
    for word in EN_FILL["tricky"]:
        out.append(f"My {word} question for today: what do you think, chat?")
    for word in ZH_FILL["tricky"]:
        out.append(f"说到{word}，我昨天刚好聊过这个话题。")
    seen.update(out)
    attempts = 0
    while len(out) < count and attempts < count * 50:
        attempts += 1
        template, fill = rng.choice(english if len(out) % 2 == 0 else chinese)
        reply = _fill(template, fill, rng)
        if reply not in seen:
            seen.add(reply)
            out.append(reply)
    return out
