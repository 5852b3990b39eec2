"""Addressed first, greeting bursts, the pace, and the queue in the streamer's hands: the
flood policy on its own, with an injected clock."""

from __future__ import annotations

from typing import Any

import pytest

from kagura.config import StageConfig
from kagura.stage import FloodPolicy
from kagura.stage.addressing import Address, Addressing, normal
from kagura.stage.events import turn_input
from kagura.stage.pace import PACES, resolve

from .test_stage_policy import Clock, chat, streamer, texts

NAMES = ("Kagura", "kagura_conf", "神乐", "Kagu-chan")


def policy(**settings: Any) -> tuple[FloodPolicy, Clock]:
    clock = Clock()
    config = StageConfig.model_validate(settings)
    return FloodPolicy(config, clock, names=lambda: NAMES), clock


@pytest.mark.parametrize(
    "text,address",
    [
        ("Kagura, what's your favourite game", Address.ADDRESSED),
        ("ＫＡＧＵＲＡ sing something", Address.ADDRESSED),  # full width, any case
        ("@kagura look at this", Address.ADDRESSED),
        ("神乐今天好可爱", Address.ADDRESSED),
        ("kagu-chan!!", Address.ADDRESSED),
        ("is this game hard?", Address.ADDRESSED),
        ("what game is this", Address.ADDRESSED),
        ("这是什么游戏", Address.ADDRESSED),
        ("你吃饭了吗", Address.ADDRESSED),
        ("你是谁？", Address.ADDRESSED),
        ("hi", Address.GREETING),
        ("Hiiii!!", Address.GREETING),
        ("hello everyone", Address.GREETING),
        ("hi Kagura!", Address.GREETING),  # a hello to the character is still a hello
        ("@神乐 晚上好~", Address.GREETING),
        ("大家好", Address.GREETING),
        ("good evening", Address.GREETING),
        ("lol", Address.ORDINARY),
        ("this boss is so hard", Address.ORDINARY),
        ("hi, I just got home from a very long day at work", Address.ORDINARY),
        ("哈哈哈哈", Address.ORDINARY),
        ("", Address.ORDINARY),
    ],
)
def test_who_a_message_is_for(text: str, address: Address) -> None:
    assert Addressing(NAMES).classify(text) is address


def test_a_one_letter_alias_matches_nothing() -> None:
    assert Addressing(["K"]).classify("ok then") is Address.ORDINARY


def test_five_his_then_a_question_the_question_goes_first() -> None:
    flood, _ = policy(batch_max=4, batch_min=3)
    for user in ("Alice", "Bob", "Carol", "Dan", "Eve"):
        flood.offer(chat("hi", user=user))
    flood.offer(chat("Kagura, what's your favourite game?", user="Quinn"))
    first = flood.take()
    assert first is not None and [e.text for e in first.events] == [
        "Kagura, what's your favourite game?"
    ]
    greetings = flood.take()
    assert greetings is not None and greetings.greeting
    assert [e.user_name for e in greetings.events] == ["Alice", "Bob", "Carol", "Dan", "Eve"]
    turn = turn_input(greetings.events, NAMES, greetings.greeting)
    assert "5 viewers greeted you" in turn.text
    assert "Alice, Bob, Carol and 2 others" in turn.text
    # Memory recalls only the viewers named.
    assert [speaker.name for speaker in turn.speakers] == ["Alice", "Bob", "Carol"]
    assert flood.take() is None


def test_addressed_chat_goes_before_older_chat_and_ordinary_keeps_its_order() -> None:
    flood, _ = policy(batch_max=1)
    flood.offer(chat("lol", user="a"))
    flood.offer(chat("nice play", user="b"))
    flood.offer(chat("神乐你好厉害", user="c"))
    flood.offer(chat("why is the sky blue", user="d"))
    assert texts(flood) == [["神乐你好厉害"], ["why is the sky blue"], ["lol"], ["nice play"]]


def test_addressed_super_chats_go_first_within_their_lane_but_not_before_higher_lanes() -> None:
    flood, _ = policy()
    flood.offer(chat("love the stream", user="a", kind="superchat", amount=5))
    flood.offer(chat("Kagura, sing please", user="b", kind="superchat", amount=5))
    flood.offer(streamer("back in a second"))
    assert texts(flood) == [["back in a second"], ["Kagura, sing please"], ["love the stream"]]


def test_one_greeting_is_ordinary_chat() -> None:
    flood, _ = policy(batch_max=1)
    flood.offer(chat("hello", user="a"))
    flood.offer(chat("nice", user="b"))
    batch = flood.take()
    assert batch is not None and not batch.greeting and batch.events[0].text == "hello"


def test_the_character_names_are_asked_each_time() -> None:
    names = ["Kagura"]
    flood = FloodPolicy(StageConfig(batch_max=1), Clock(), names=lambda: names)
    flood.offer(chat("plain talk", user="a"))
    names[:] = ["Mira"]  # the character changed
    flood.offer(chat("Mira look", user="b"))
    assert texts(flood) == [["Mira look"], ["plain talk"]]


# -- pace ---------------------------------------------------------------------------------


def test_normal_pace_is_the_old_behaviour_and_numbers_override_the_pace() -> None:
    assert resolve(StageConfig()) == PACES["normal"]
    assert PACES["normal"].min_gap_s == 0 and PACES["normal"].chat_share == 1
    assert PACES["normal"].idle_after_s == 0
    custom = resolve(StageConfig(pace="lively", idle_after_s=0, min_gap_s=2))
    assert (custom.name, custom.min_gap_s, custom.chat_share, custom.idle_after_s) == (
        "lively",
        2,
        1,
        0,  # 0 still disables idle talk, whatever the pace
    )
    assert resolve(StageConfig(pace="quiet"), "lively").idle_after_s == PACES["lively"].idle_after_s
    with pytest.raises(ValueError, match="unknown pace 'loud'"):
        resolve(StageConfig(), "loud")


def test_a_quiet_pace_answers_a_share_of_ordinary_chat_but_every_question() -> None:
    flood, _ = policy(pace="quiet", chat_share=0.5, batch_max=1, user_rate_per_min=0)
    verdicts = [flood.offer(chat(f"chat {i}", user=f"u{i}")) for i in range(6)]
    assert verdicts == ["accepted", "skipped_by_pace"] * 3
    assert flood.offer(chat("Kagura, are you there", user="q")) == "accepted"
    assert flood.offer(chat("why?", user="w")) == "accepted"
    assert flood.stats()["dropped"] == {"skipped_by_pace": 3}
    assert [d["reason"] for d in flood.drops.view(0)] == ["skipped_by_pace"] * 3
    assert flood.stats()["pace"]["name"] == "quiet"


def test_the_pace_changes_live() -> None:
    flood, _ = policy(pace="quiet")
    assert flood.offer(chat("one", user="a")) == "accepted"
    assert flood.offer(chat("two", user="b")) == "skipped_by_pace"
    flood.set_pace("lively")
    assert flood.stats()["pace"] == PACES["lively"].as_dict()
    assert [flood.offer(chat(t, user=t)) for t in ("x", "y", "z")] == ["accepted"] * 3


# -- the streamer's hands -------------------------------------------------------------------


def test_the_queue_lists_what_waits_addressed_first() -> None:
    flood, clock = policy()
    flood.offer(chat("lol", user="Ann"))
    clock.now += 2
    flood.offer(chat("Kagura, favourite food?", user="Bo"))
    queue = flood.queue()
    assert [(q["viewer"], q["text"], q["lane"], q["addressed"]) for q in queue] == [
        ("Bo", "Kagura, favourite food?", "danmaku", True),
        ("Ann", "lol", "danmaku", False),
    ]
    assert queue[1]["age_s"] == 2.0 and queue[1]["platform"] == "bilibili"


def test_skip_drops_a_waiting_message_and_says_so() -> None:
    flood, _ = policy(batch_max=1)
    flood.offer(chat("first", user="a"))
    flood.offer(chat("second", user="b"))
    [first, _] = flood.queue()
    assert flood.skip(first["id"]) is True
    assert flood.skip(first["id"]) is False  # no longer waiting
    assert texts(flood) == [["second"]]
    [drop] = flood.drops.view(flood.clock())
    assert (drop["viewer"], drop["text"], drop["reason"]) == ("a", "first", "skipped")
    assert flood.stats()["dropped"] == {"skipped": 1}


def test_answer_next_goes_before_everything_and_does_not_expire() -> None:
    flood, clock = policy(lanes={"danmaku": {"ttl_s": 5}})
    flood.offer(chat("old question", user="a"))
    flood.offer(chat("Kagura?", user="b"))
    [_, old] = flood.queue()
    assert old["text"] == "old question"
    assert flood.answer_next(old["id"]) is True
    assert flood.queue()[0]["next"] is True
    assert flood.answer_next(12345) is False
    flood.offer(streamer("streamer speaking"))
    assert flood.urgent
    clock.now += 10  # past the TTL: the streamer's pick still waits, the rest expire
    assert texts(flood) == [["old question"], ["streamer speaking"]]
    assert [d["reason"] for d in flood.drops.view(clock())] == ["expired"]


def test_drops_say_which_message_and_why_but_not_unsafe_text() -> None:
    flood, clock = policy(blocked_words=["badword"], lanes={"danmaku": {"ttl_s": 5}})
    flood.offer(chat("这个游戏叫什么名字？", user="Lin"))
    flood.offer(chat("you badword", user="Troll"))
    clock.now += 6
    assert flood.take() is None
    expired, blocked = flood.drops.view(clock())
    assert expired["viewer"] == "Lin" and expired["text"] == "这个游戏叫什么名字？"
    assert expired["reason"] == "expired" and expired["waited_s"] == 6.0
    assert blocked["reason"] == "blocked_word" and blocked["text"] == ""
    assert blocked["waited_s"] is None  # refused on arrival


def test_drops_are_bounded() -> None:
    flood, _ = policy(user_rate_per_min=0, lanes={"danmaku": {"capacity": 1}})
    for i in range(200):
        flood.offer(chat(f"m{i}", user=f"u{i}"))
    assert len(flood.drops.view(0)) == 50
    assert flood.stats()["dropped"]["overflow"] == 199


def test_a_latin_name_is_a_whole_word_and_a_chinese_one_is_found_anywhere() -> None:
    names = Addressing(["Robin", "神乐"])
    assert names.names_character(normal("hi robin!"))
    assert not names.names_character(normal("robinson crusoe is a book"))
    assert names.names_character(normal("神乐你好"))
