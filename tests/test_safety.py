"""The output guard on a real server: a reply whose second sentence carries a blocked word.

No page, widget, history row or later prompt ever contains it; the first sentence still
plays; with `replace` the replacement line is spoken and the reply goes on; a private
`/client-ws` session is guarded the same way.
"""

from __future__ import annotations

from typing import Any

import pytest

from kagura.conversation.scripts import WITHHELD_NOTE
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess
from tests.support.stage import (
    StageClient,
    stage_stats,
    user_messages,
    viewer_and_page,
    watched_page,
    widget_reply,
)

from .conftest import server_fixture

WORD = "pineapple"
RULES = {"blocked_words": [WORD, "菠萝"], "blocked_patterns": [r"\b\d{3}-\d{4}\b"]}
cutting = server_fixture("cut", safety=RULES)
replacing = server_fixture("replace", safety={**RULES, "on_block": "replace"})

# The second sentence of each reply hides the word as a viewer might get the LLM to.
EVASIONS = [
    "I love PINEAPPLE on pizza.",
    "I love p i n e a p p l e on pizza.",
    "I love p.i.n.e.a.p.p.l.e on pizza.",
    "I love ｐｉｎｅａｐｐｌｅ on pizza.",
    "I love pine\u200bapple on pizza.",
    "I love p1neapp1e on pizza.",
    "Call me at 555-0123 tonight.",
]


def said(messages: list[dict[str, Any]]) -> list[str]:
    return [m["display_text"]["text"] for m in messages if m["type"] == "audio"]


def carries(text: str) -> bool:
    folded = "".join(ch for ch in text.casefold() if ch.isalnum())
    return any(mark in folded for mark in ("pineapple", "p1neapp1e", "5550123", "菠萝"))


@pytest.mark.parametrize("second", EVASIONS)
async def test_a_blocked_sentence_is_never_said_and_the_reply_ends_there(
    cutting: KaguraProcess, fake: FakeOpenAI, second: str
) -> None:
    fake.script = LLMScript(reply=f"Hello there, nice to see you. {second} See you soon.")
    async with watched_page(cutting) as seen, StageClient(cutting) as admin:
        await admin.connect_sequence()
        await admin.send({"type": "text-input", "text": "What do you like?"})
        await seen.wait_turns(1, timeout=20)
    assert said(seen.messages) == ["Hello there,", " nice to see you."]
    assert not any(carries(str(m)) for m in seen.messages)
    assert "safety: withheld a segment" in cutting.log()


async def test_what_was_withheld_is_not_remembered_and_the_next_prompt_knows(
    cutting: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply=f"Sure thing. I love {WORD} on pizza. It is great.")
    async with ProtocolClient(cutting.ws_url) as client:
        await client.connect_sequence()
        first = await client.turn("What pizza do you like?")
        fake.script = LLMScript(reply="Okay.")
        await client.turn("And then?")
        await client.send({"type": "fetch-history-list"})
        listing = (await client.recv_until("history-list"))[-1]
        uid = listing["histories"][0]["uid"]
        await client.send({"type": "fetch-and-set-history", "history_uid": uid})
        history = (await client.recv_until("history-data"))[-1]["messages"]
    assert said(first) == ["Sure thing."]
    assert [m["content"] for m in history if m["role"] == "ai"] == ["Sure thing.", "Okay."]
    remembered = [m["content"] for m in fake.chat_requests()[-1]["messages"]]
    assert f"Sure thing. {WITHHELD_NOTE}" in remembered
    assert not any(carries(content) for content in remembered)


async def test_a_withheld_first_segment_leaves_nothing_said(
    cutting: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply=f"{WORD.upper()} forever! Anyway, hello.")
    async with ProtocolClient(cutting.ws_url) as client:
        await client.connect_sequence()
        seen = await client.turn("Say something.")
    assert said(seen) == []
    assert seen[-1] == {"type": "control", "text": "conversation-chain-end"}


async def test_replace_says_the_line_instead_and_goes_on(
    replacing: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply=f"Hello there. That {WORD} was bad. Bye now.")
    async with watched_page(replacing) as seen, StageClient(replacing) as admin:
        await admin.connect_sequence()
        await admin.send({"type": "text-input", "text": "Tell me."})
        await seen.wait_turns(1, timeout=20)
    assert said(seen.messages) == ["Hello there.", " Let's not go there.", " Bye now."]
    audio = [m for m in seen.messages if m["type"] == "audio"]
    assert all(m["audio"] for m in audio)  # the replacement line is spoken too


async def test_replace_in_chinese_and_the_widget_never_sees_it(
    replacing: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="大家好！我最喜欢吃菠，萝了。再见！")
    frames, turn = await widget_reply(replacing, "你喜欢吃什么？")
    assert said(turn) == ["大家好！", "这个就不说了。", "再见！"]
    [bubble] = [f for f in frames if f["type"] == "llm_response"]
    assert bubble["content"] == "大家好！这个就不说了。再见！"
    assert not any(carries(str(f)) for f in frames + turn)


async def test_chat_read_aloud_is_held_to_the_same_lists(
    cutting: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Welcome!")
    before = (await stage_stats(cutting))["dropped"].get("unsafe", 0)
    async with viewer_and_page(cutting) as (viewer, seen):
        await viewer.chat("do you like p-i-n-e-a-p-p-l-e?", user="Ann")
        await viewer.chat("hi there", user="Pineapple_Fan")
        await seen.wait_turns(1, timeout=20)
    lines = [m for m in seen.messages if m["type"] == "user-input-transcription"]
    assert [(m["name"], m["text"]) for m in lines] == [("a viewer", "a viewer: hi there")]
    assert user_messages(fake.chat_requests()) == ["a viewer on bilibili says: «hi there»"]
    assert (await stage_stats(cutting))["dropped"]["unsafe"] == before + 1
    assert not any(carries(str(m)) for m in seen.messages)
