"""`stage.read_question_aloud`: the character reads the viewer's question out first.

The question is spoken and shown before the LLM's answer (so the audience knows what is
being answered, and the first audio does not wait for the LLM), and it is never remembered
as the character's own words.
"""

from __future__ import annotations

from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.server import KaguraProcess
from tests.support.stage import viewer_and_page

from .conftest import server_fixture

reading = server_fixture("read-aloud", stage={"read_question_aloud": True, "batch_max": 1})


def said(messages: list[dict[str, object]]) -> str:
    parts = [m["display_text"]["text"] for m in messages if m["type"] == "audio"]  # type: ignore[index]
    return "".join(str(part) for part in parts)


async def test_the_question_is_read_out_before_the_answer_and_not_remembered_as_said(
    reading: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Definitely the one with the cats.")
    async with viewer_and_page(reading) as (platform, seen):
        await platform.chat("What's your favourite game?", user="Bea")
        await seen.wait_turns(1, timeout=20)
        assert said(seen.messages).startswith("Bea asks: What's your favourite game?")
        assert said(seen.messages).endswith("Definitely the one with the cats.")

        fake.script = LLMScript(reply="好的。")
        await platform.chat("你喜欢什么颜色", user="小明")
        await seen.wait_turns(2, timeout=20)
    assert "小明问：你喜欢什么颜色。" in said(seen.messages)
    remembered = [
        m["content"] for m in fake.chat_requests()[-1]["messages"] if m["role"] == "assistant"
    ]
    assert "Definitely the one with the cats." in remembered
    assert not any("asks:" in str(text) for text in remembered), remembered
