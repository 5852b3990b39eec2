"""The default word lists: English and Chinese from glin-profanity, curated for spoken replies.

glin-profanity (MIT; its lists grew from the LDNOOBW lists) ships one JSON list a language.
Its English list is ~400 words and phrases, its Chinese list ~300, simplified with a few
traditional forms. We read the two files it ships and match them with our own matcher
(`kagura.safety.lists`), which knows the evasions and never blocks "class" for "ass".

A list made to flag user names is not a list for what a character says: some entries are
ordinary words in a reply ("hoe" in Stardew Valley, "escort mission", "hardcore mode",
"poof!", 笨蛋, 成人, 私服, 吹箫), some are too short to mean anything ("bs", "xx", single
Chinese characters such as 奶 in 牛奶 or 性 in 性格), and some mix Chinese with digits that
are times or prices (13点, 鸡8). The rule, applied to every default entry:

- an entry in `EXCLUDED` is not used (ordinary words, each named below);
- a Latin entry matches whole words, except the few in `INSIDE_WORDS` that no ordinary word
  contains, which also match inside words ("fuckyou");
- a Latin entry needs at least `MIN_LETTERS` letters; a Chinese one at least `MIN_HAN`
  characters; one that mixes Chinese characters with digits is not used;
- a Chinese match inside an ordinary word that overlaps it is not a match: `ALLOWED_AROUND`
  lists those words (你妈 in 你妈妈, 娘的 in 姑娘的, 龟头 in 乌龟头, 包皮 in 面包皮,
  口肯 in 可口肯德基, 日你妈 in 生日你妈妈).

A streamer's own `blocked_words` are never curated: they are matched as written.
"""

from __future__ import annotations

import importlib.util
import json
import unicodedata
from pathlib import Path

from kagura.safety.normalise import fold, han_key, is_han, word_key

PACKAGE = "glin_profanity"
LISTS = {"en": "english.json", "zh": "chinese.json"}
"""Default list name → the file glin-profanity ships it in (`data/dictionaries/`)."""

MIN_LETTERS = 3
MIN_HAN = 2

EXCLUDED: dict[str, frozenset[str]] = {
    "en": frozenset(
        {
            # ordinary words and idioms in a game or chat reply
            "bareback", "barenaked", "bastardized", "butt", "cornhole", "domination",
            "escort", "eunuch", "fingering", "hard core", "hardcore", "hoe", "lolita",
            "octopussy", "playboy", "poof", "santorum", "scat", "sex", "sexy", "simp",
            "shrimping", "skeet", "snatch", "snowballing", "suck", "sucks", "swinger",
            "tea bagging", "twinkie", "tit",
            # phrases whose words are ordinary together
            "ball kicking", "big black", "girl on", "girl on top", "hot chick", "how to kill",
            "how to murder", "huge fat", "jelly donut", "make me come", "tainted love",
            "taste my", "tied up", "tight white", "tongue in a", "wrapping men",
            # too short or not words: kisses, test entries
            "xxx", "testbad01",
        }
    ),
    "zh": frozenset(
        {
            # ordinary words: a game platform, stiffness, Virgo (处女座), bottom, adult,
            # passion, idiot and dummy (said in jest), ancestors, casual clothes, second
            # child, old taste (老味道), old hen (老母鸡), pheasant, a county (肥西), scallop
            "九游", "刚度", "十三点", "卵子", "后庭", "吹箫", "处女", "屁股", "成人", "月经",
            "激情", "玉杵", "白痴", "白癡", "祖宗", "私服", "笨蛋", "老二", "老味", "老母",
            "野鸡", "肥西", "贝肉", "撒尿",
            # ordinary phrases: shooting games (打飞机, 射你), "let's have fried chicken"
            # (炸鸡吧), "do your work" (干你的活), "work seven or eight hours" (干七八个小时),
            # "mum is taller than me" (我妈比我高), "phone's probably dead" (手机八成),
            # "a chicken for 8 yuan" (鸡八块), minced meat, "I want to attend your class"
            "打炮", "打飞机", "射你", "鸡吧", "干你", "日你", "干七八", "妈比", "机八", "鸡八",
            "几八", "小肉粒", "想上你", "个老子的", "你全家",
            # Taiwanese exclamations that are also "lean on the back / north / mother / dad"
            "靠背", "靠北", "靠母", "靠爸", "靠腰",
            # kin words: "his grandma's birthday", "your wife's family", "mum's"
            "他奶奶", "他奶奶的", "你奶奶的", "他娘", "你娘", "妈妈的",
        }
    ),
}  # fmt: skip

INSIDE_WORDS: frozenset[str] = frozenset({"fuck", "bitch"})
"""Entries matched inside longer words too ("fuckyou", "f\u200buck\u200byou"): no ordinary
English word contains them, unlike "cunt" (Scunthorpe), "shit" (mishit) or "ass"."""

ALLOWED_AROUND: frozenset[str] = frozenset(
    {
        "妈妈", "姑娘", "新娘", "伴娘", "老板娘", "娘娘", "大娘", "亲娘", "后娘", "师娘",
        "娘家", "生日", "节日", "今日", "明日", "昨日", "假日", "周日", "星期日", "每日",
        "平日", "当日", "体操", "早操", "节操", "情操", "乌龟", "海龟", "金龟", "鸭子",
        "鸡蛋", "鸡肉", "面包", "狗吃屎", "爱好", "色彩", "情侣", "柳树", "肯德基", "秘密",
        "手机", "飞机",
    }
)  # fmt: skip


def _dictionaries() -> Path:
    """glin-profanity's list folder, found without importing the package (it loads scanners)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"the default word lists need the {PACKAGE} package, not installed")
    return Path(spec.origin).parent / "data" / "dictionaries"


def load(name: str) -> list[str]:
    """The entries of default list `name` ("en" or "zh") as glin-profanity ships them."""
    path = _dictionaries() / LISTS[name]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"cannot read the default word list {path}: {exc}") from exc
    words = data.get("words") if isinstance(data, dict) else data
    if not isinstance(words, list):
        raise RuntimeError(f"the default word list {path} has no list of words")
    return [w for w in words if isinstance(w, str) and w.strip()]


def _kept(entry: str) -> bool:
    """The length and script rules a default entry must pass (see the module docstring)."""
    folded = fold(entry)
    letters = [c for c in folded.text if c.isalnum()]
    if letters and all(is_han(c) for c in letters):
        return len(han_key(folded)) >= MIN_HAN
    if any(is_han(c) for c in letters):
        return not any(c.isdigit() for c in letters)  # 13点, 鸡8: times and prices
    key = word_key(folded)
    if any(unicodedata.category(c) == "So" for c in key):
        return not letters  # an emoji entry, such as the middle finger
    return sum(c.isalpha() for c in key) >= MIN_LETTERS


def curated(name: str) -> list[str]:
    """The entries of default list `name` that the matcher uses, as they are written."""
    excluded = EXCLUDED[name]
    return [w for w in load(name) if w.strip().casefold() not in excluded and _kept(w)]
