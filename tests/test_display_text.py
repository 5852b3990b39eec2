"""A frontend that appends each segment's `display_text.text` as it arrives (the
Open-LLM-VTuber chat bubble does) shows a readable reply: one space between English
sentences, none in Chinese; the finished reply (widget channel) is joined the same way."""

from __future__ import annotations

from typing import Any

import pytest

from kagura.conversation.text import join_pieces, separator
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess
from tests.support.stage import widget_reply

ENGLISH = "Nice to see you here. I'm glad you came! [joy] Let's talk about your day."
CHINESE = "你好，我是神乐。今天天气很好！[joy]我们聊聊吧。"


def bubble(messages: list[dict[str, Any]]) -> tuple[str, int]:
    """What the appending frontend shows, and from how many segments."""
    texts = [m["display_text"]["text"] for m in messages if m["type"] == "audio"]
    return "".join(texts), len(texts)


@pytest.mark.parametrize("reply", [ENGLISH, CHINESE], ids=["english", "chinese"])
async def test_appended_segments_read_as_written(
    kagura: KaguraProcess, fake: FakeOpenAI, reply: str
) -> None:
    """One space between English sentences, none in Chinese: the bubble reads as the LLM
    wrote the reply."""
    fake.script = LLMScript(reply=reply)
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        shown, segments = bubble(await client.turn("Hello!"))
    assert segments >= 3  # otherwise there is nothing to join
    assert shown == reply


async def test_finished_reply_is_joined_the_same_way(
    kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    """The widget channel's bubble gets the whole reply without tags: Chinese unspaced."""
    fake.script = LLMScript(reply=CHINESE)
    frames, _ = await widget_reply(kagura, "你好")
    assert frames[-1]["content"] == "你好，我是神乐。今天天气很好！我们聊聊吧。"


@pytest.mark.parametrize(
    ("before", "after", "gap"),
    [
        ("you here.", "I'm glad", " "),
        ("你好，我是神乐。", "今天", ""),
        ("OK.", "好的", ""),  # either side in CJK: no space
        ("很好！", "Kagura", ""),
        ("Hi.", " already spaced", ""),
        ("안녕하세요.", "반가워요", " "),  # Korean spaces its sentences
        ("", "first", ""),
    ],
)
def test_separator(before: str, after: str, gap: str) -> None:
    assert separator(before, after) == gap
    assert join_pieces([before, after]) == before + gap + after
