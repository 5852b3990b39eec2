"""The list guard: blocked words, blocked patterns and the default lists, through the evasions."""

from __future__ import annotations

import collections
import random
import re
import statistics
import time

import pytest

from kagura.safety import ListGuard, Match, defaults
from tests.support.safety_corpus import EN_EVASIONS, ZH_EVASIONS, adversarial, ordinary


@pytest.fixture(scope="module")
def guard() -> ListGuard:
    return ListGuard()


# ---- configured words and patterns --------------------------------------------------------


def test_a_configured_word_blocks_the_whole_word_and_names_itself() -> None:
    lists = ListGuard(["Banana"], default_lists=False)
    assert lists.check("I love a banana split") == Match("word:Banana", "banana")
    assert lists.check("BANANA!") == Match("word:Banana", "BANANA")
    assert lists.check("bananas and bandanas") is None
    assert lists.check("a b a n a n a") == Match("word:Banana", "b a n a n a")


def test_a_configured_phrase_matches_however_its_words_are_spaced() -> None:
    lists = ListGuard(["red panda"], default_lists=False)
    assert lists.check("my RED\u00a0  panda plush") == Match("word:red panda", "RED\u00a0  panda")
    assert lists.check("a redpanda") == Match("word:red panda", "redpanda")
    assert lists.check("the red pandas") is None


def test_a_configured_chinese_word_matches_anywhere_even_one_character() -> None:
    lists = ListGuard(["鸡", "原神"], default_lists=False)
    assert lists.check("我们吃鸡蛋") == Match("word:鸡", "鸡")
    assert lists.check("今天玩原 神") == Match("word:原神", "原 神")
    assert lists.check("今天玩原神") == Match("word:原神", "原神")
    # the ordinary words that cancel a default match never cancel the streamer's own word
    assert ListGuard(["你妈"], default_lists=False).check("你妈妈好") == Match("word:你妈", "你妈")


def test_configured_words_win_over_the_defaults_and_empty_words_are_ignored() -> None:
    lists = ListGuard(["fuck", "", "   "])
    assert lists.check("oh fuck") == Match("word:fuck", "fuck")
    assert lists.check("hello there") is None


def test_patterns_are_searched_without_case_in_the_text_and_its_fold() -> None:
    lists = ListGuard(patterns=[r"buy \d+ followers", r"discord\.gg/\w+"], default_lists=False)
    assert lists.check("Buy 500 Followers now") == Match(
        r"pattern:buy \d+ followers", "Buy 500 Followers"
    )
    # full-width letters and digits, and a zero-width space, fold to what the pattern says
    assert lists.check("ｂｕｙ　１０\u200b０ followers") == Match(
        r"pattern:buy \d+ followers", "ｂｕｙ　１０\u200b０ followers"
    )
    assert lists.check("join discord.gg/abc") == Match(r"pattern:discord\.gg/\w+", "discord.gg/abc")
    assert lists.check("buy followers") is None


def test_a_pattern_that_can_match_nothing_blocks_only_what_it_finds() -> None:
    lists = ListGuard(patterns=["x*"], default_lists=False)
    assert lists.check("hello") is None
    assert lists.check("xylophone") == Match("pattern:x*", "x")


def test_without_default_lists_nothing_else_is_blocked() -> None:
    lists = ListGuard(default_lists=False)
    assert lists.check("fuck") is None
    assert lists.check("操你妈") is None
    assert lists.check("") is None


# ---- the evasions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("FUCK this", "FUCK"),
        ("f u c k this", "f u c k"),
        ("f.u.c.k this", "f.u.c.k"),
        ("f. u. c. k.", "f. u. c. k"),
        ("f-u-c-k", "f-u-c-k"),
        ("fu*ck", "fu*ck"),
        ("ｆｕｃｋ this", "ｆｕｃｋ"),
        ("Ｆ Ｕ Ｃ Ｋ", "Ｆ Ｕ Ｃ Ｋ"),
        ("f\u200bu\u200cc\u200dk", "f\u200bu\u200cc\u200dk"),
        ("f\u2060u\ufeffck", "f\u2060u\ufeffck"),
        ("sh\u00adit", "sh\u00adit"),
        ("f\u202eu\u202cck", "f\u202eu\u202cck"),
        ("\u2066shit\u2069 happens", "shit"),
        ("f4ck", "f4ck"),
        ("sh1t", "sh1t"),
        ("5h1t", "5h1t"),
        ("$h!t", "$h!t"),
        ("b!tch", "b!tch"),
        ("@ss", "@ss"),
        ("a55ho1e", "a55ho1e"),
        ("$ h ! t", "$ h ! t"),
        ("f 4 c k", "f 4 c k"),
        ("fück", "fück"),
        ("fu\u0301ck", "fu\u0301ck"),
        ("fuсk", "fuсk"),  # a Cyrillic "с"
        ("fuckyou", "fuck"),
        ("son of a b1tch", "b1tch"),
        ("what a blow job", "blow job"),
        ("b l o w j o b", "b l o w j o b"),
        ("🖕", "🖕"),
    ],
)
def test_english_evasions_are_caught(guard: ListGuard, text: str, found: str) -> None:
    assert guard.check(text) == Match("default:en", found)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("操你妈", "操你"),
        ("你真是傻逼啊", "傻逼"),
        ("操 你 妈", "操 你"),
        ("傻　逼", "傻　逼"),
        ("你真是傻*逼啊", "傻*逼"),
        ("你真是傻 逼啊", "傻 逼"),
        ("操，你，妈", "操，你"),
        ("傻.逼！", "傻.逼"),
        ("操\u200b你妈", "操\u200b你"),
        ("傻\u202e逼", "傻\u202e逼"),
        ("王🙂八🙂蛋", "王🙂八🙂蛋"),
        ("幹你娘", "幹你娘"),  # traditional
        ("雞巴", "雞巴"),
        ("你媽的", "你媽"),
        ("你去卖B吧", "卖B"),
        ("你去卖 ｂ 吧", "卖 ｂ"),
    ],
)
def test_chinese_evasions_are_caught(guard: ListGuard, text: str, found: str) -> None:
    assert guard.check(text) == Match("default:zh", found)


# ---- what must pass ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "class", "classic", "hello", "Hello!", "he'll be fine", "we'll see", "assistant",
        "assume", "Scunthorpe", "Charles Dickens", "grape", "grapefruit", "therapist",
        "cocktail", "peacock", "Hitchcock", "analysis", "canal", "cucumber", "document",
        "raccoon", "Nigeria", "Negroni", "Arsenal", "Uranus", "shiitake", "Matsushita",
        "mass-produced", "passion", "bass", "I'm 5 years old", "1 3 3 7", "MP3 and 4K",
        "S tier, A tier, B tier", "Plan B", "U.S.A", "hi!!", "wow!!!", "Stardew hoe",
        "escort mission", "hardcore mode", "poof, gone!", "that sucks", "world domination",
        "操场", "日本", "干杯", "鸡蛋", "体操", "我爱体操，你呢", "你妈妈做的菜真好吃",
        "他妈妈的生日", "姑娘的裙子", "乌龟头缩进壳里", "吃鸡吧", "炸鸡吧", "生日你妈妈来了吗",
        "下午13点开播", "一只鸡8块钱", "笨蛋", "成人礼", "处女座", "私服", "牛奶", "性格",
        "面包皮", "可口肯德基", "桃花柳树", "个性爱好", "摔了个狗吃屎", "干七八个小时",
        "手机八成没电了", "依靠母亲", "星期日你有空吗", "好的～你呢", "大家好～今天玩原神",
    ],
)  # fmt: skip
def test_ordinary_words_pass(guard: ListGuard, text: str) -> None:
    assert guard.check(text) is None


# ---- the corpora -------------------------------------------------------------------------


def test_every_disguised_word_of_the_adversarial_corpus_is_caught(guard: ListGuard) -> None:
    corpus = adversarial()
    assert len(corpus) >= 1000
    assert {name for _, _, name in corpus} == set(EN_EVASIONS) | set(ZH_EVASIONS)
    english = sum(1 for _, entry, _ in corpus if entry.isascii())
    assert 400 <= english <= len(corpus) - 400  # both languages, about half each
    missed = [(reply, entry, name) for reply, entry, name in corpus if guard.check(reply) is None]
    assert missed == [], f"{len(missed)} of {len(corpus)} missed, e.g. {missed[:10]}"


def test_ordinary_replies_are_never_blocked(guard: ListGuard) -> None:
    corpus = ordinary()
    assert len(corpus) >= 1000
    assert len(set(corpus)) == len(corpus)
    chinese = sum(1 for reply in corpus if not reply.isascii())
    assert 400 <= chinese <= len(corpus) - 400
    blocked = [(reply, guard.check(reply)) for reply in corpus if guard.check(reply)]
    rate = len(blocked) / len(corpus)
    assert blocked == [], f"false positives {rate:.2%} ({len(blocked)}/{len(corpus)}): {blocked}"

# A reply as the segmenter cuts it: a word split by sentence marks over several segments.
SPLIT_REPLIES = [
    ["I hope you all had a lovely day.", " Chat, stop typing 2 .", " g .", " 1 .", " c please."],
    ["这个小故事是不是很有趣？", "哈哈，乳…", "房！"],
    ["我跟你说，", "塞！", "你、老，师。"],
    [" Okay, ｓｈ！", "ｔ.", " Let's move on."],
]


@pytest.mark.parametrize("segments", SPLIT_REPLIES)
def test_a_word_split_over_segments_fails_where_it_is_completed(
    guard: ListGuard, segments: list[str]
) -> None:
    """Each piece passes alone; read with the segments before it, the piece that completes
    the word fails, so the word never reaches a page whole."""
    assert all(guard.check(piece) is None for piece in segments[:-1] if piece)
    said = [""]
    for piece in segments:
        if guard.check(piece, before=said[-1]) is not None:
            break
        said.append(said[-1] + piece)
    else:
        raise AssertionError(f"nothing of {segments} was blocked")
    assert len(said) >= 2 and guard.check("".join(segments)) is not None


def test_a_match_that_ended_before_the_segment_does_not_block_it(guard: ListGuard) -> None:
    lists = ListGuard(["pineapple"], default_lists=False)
    assert lists.check(" I like pineapple.") is not None
    assert lists.check(" Next sentence.", before="I like pineapple.") is None
    assert guard.check("aNUs.", before="Welcome back to the stream!") is None  # "streamanus"
    assert guard.check(" aNUs.", before="Welcome back to the stream!") is not None
    assert lists.check("apple pie.", before="I like pine") is not None
    assert guard.check(" It is grand.", before="We had a class.") is None


def test_ordinary_replies_read_segment_by_segment_are_never_blocked(guard: ListGuard) -> None:
    blocked = []
    for reply in ordinary(300):
        said = ""
        for piece in re.findall(r"[^.!?。！？，,]+[.!?。！？，,]*", reply):
            if guard.check(piece, before=said[-160:]) is not None:
                blocked.append(reply)
                break
            said += piece
    assert blocked == []



def test_every_default_entry_blocks_itself(guard: ListGuard) -> None:
    for name in defaults.LISTS:
        entries = defaults.curated(name)
        assert len(entries) > 200, name
        for entry in entries:
            assert guard.check(entry) is not None, entry


def test_curation_drops_short_ordinary_and_numeric_entries() -> None:
    english, chinese = defaults.curated("en"), defaults.curated("zh")
    assert {"fuck", "shit", "cunt"} <= set(english)
    assert not {"bs", "xx", "hoe", "sex", "suck", "escort"} & set(english)
    assert {"操你妈", "傻逼", "王八蛋"} <= set(chinese)
    assert not {"奶", "性", "笨蛋", "成人", "13点", "鸡8"} & set(chinese)
    raw_english, raw_chinese = defaults.load("en"), defaults.load("zh")
    assert set(english) < set(raw_english) and set(chinese) < set(raw_chinese)


# ---- robustness and speed ------------------------------------------------------------------


def test_random_text_never_breaks_the_guard_and_matches_are_real_text() -> None:
    lists = ListGuard(["banana", "操"], [r"x+y"])
    rng = random.Random(7)
    alphabet = [
        *"abcdefghijklmnopqrstuvwxyzABC 0123456789!@$|.,-*'’_~ 　，。！？",
        "\u200b", "\u202e", "\u0301", "\ufeff", "ｆ", "ü", "ß", "ﬁ", "İ", "操", "你", "妈",
        "🖕", "😊", "\ud800", "\x00", "\n", "\t", "а", "с", "ㄉ", "が", "ｶﾞ", "\U00020000",
    ]  # fmt: skip
    pieces = ["fuck", "shit", "ass", "bitch", "操你妈", "傻逼", " "]
    outcomes: collections.Counter[bool] = collections.Counter()
    for _ in range(20000):
        text = "".join(
            rng.choice(alphabet) if rng.random() < 0.8 else rng.choice(pieces)
            for _ in range(rng.randint(0, 30))
        )
        found = lists.check(text)
        outcomes[found is None] += 1
        if found is not None:
            assert found.found and found.found in text, (text, found)
    assert outcomes[True] and outcomes[False]  # both outcomes happened


def test_a_check_costs_well_under_a_millisecond(guard: ListGuard) -> None:
    segments = [reply for reply, _, _ in adversarial(400)] + ordinary(400)
    long_en = " ".join(ordinary(40)[i] for i in range(0, 40, 2))[:200]
    long_zh = "".join(ordinary(40)[i] for i in range(1, 40, 2))[:200]
    segments += [long_en, long_zh] * 100
    timings = []
    for text in segments:
        started = time.perf_counter()
        guard.check(text)
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.0005, statistics.median(timings)
    assert sorted(timings)[int(len(timings) * 0.99)] < 0.002


def test_the_segment_guard_reads_a_segment_alone_and_with_what_came_before() -> None:
    """Segments reach the guard without the space the pages put between them: a word split
    over segments is found in the join, a word glued to the one before by the join
    ("stream!ｄｕｍｂａｓｓ") in the segment alone."""
    from kagura.config import KaguraConfig
    from kagura.conversation.guard import SegmentGuard

    segments = SegmentGuard(ListGuard(), KaguraConfig().safety)
    before = "Hello everyone, welcome back to the stream!"
    assert segments.check("ｄ\u200bｕ\u200dｍｂａｓｓ.", before) is not None
    assert segments.check("aNUs.", before) is not None
    assert segments.check("c please.", "Chat, stop typing 2 . g . 1 .") is not None
    assert segments.check("Let me grab some water.", before) is None
