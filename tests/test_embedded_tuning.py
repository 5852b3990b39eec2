"""The embedded demo model's tuning: the rules and examples reach SmolLM2's prompt only, and
a message in another script gets the English-only line; an OpenAI-compatible model keeps
the character's prompt exactly."""

from __future__ import annotations

from typing import Any

from kagura.config import KaguraConfig
from kagura.conversation import embedded
from kagura.conversation.framing import ViewerEvent, viewer_line
from kagura.conversation.memory import Memory
from kagura.conversation.prompt import build_messages, system_prompt
from kagura.engines.llm import ChatMessage
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess

EMOTIONS = {"neutral": 0, "joy": 1}


def config(provider: str = "smollm2", **smollm2: Any) -> KaguraConfig:
    return KaguraConfig.model_validate({"llm": {"provider": provider, "smollm2": smollm2}})


def built(cfg: KaguraConfig, text: str = "What game should we play?", **kw: Any) -> list[Any]:
    messages = build_messages(cfg.character, EMOTIONS, [Memory("user", text, 0)], **kw)
    return embedded.tune(cfg, messages, EMOTIONS, viewers=kw.get("viewers", False))


def test_openai_and_untuned_prompts_are_the_characters_own() -> None:
    for cfg in (config("openai"), config(demo_tuning=False)):
        expected = [
            {"role": "system", "content": system_prompt(cfg.character, EMOTIONS)},
            {"role": "user", "content": "What game should we play?"},
        ]
        assert built(cfg) == expected
        assert embedded.max_sentences(cfg, 0) == 0 and embedded.max_sentences(cfg, 5) == 5
        assert embedded.canned_reply(cfg, "我们玩什么游戏？") is None


def test_smollm2_prompt_carries_the_rules_and_example_turns() -> None:
    cfg = config()
    messages = built(cfg)
    system = str(messages[0]["content"])
    persona = cfg.character.persona.strip()
    # Rules right after the persona, the tag instructions after them.
    assert system.startswith(f"{persona}\n\n{embedded.RULES}\n\n")
    assert "[joy]" in system.split(embedded.RULES)[1]
    examples = messages[1:-1]
    assert [m["role"] for m in examples] == ["user", "assistant"] * len(embedded.EXAMPLES)
    assert examples[0]["content"] == "Hi Kagura!"
    assert str(examples[1]["content"]).startswith("[joy] ")
    assert messages[-1] == {"role": "user", "content": "What game should we play?"}
    assert embedded.max_sentences(cfg, 0) == 3 and embedded.max_sentences(cfg, 2) == 2


def test_examples_are_framed_like_viewers_on_the_stage_and_tags_follow_the_model() -> None:
    cfg = config()
    line = viewer_line(ViewerEvent(name="Alice", platform="bilibili", text="Hi"))
    messages = embedded.tune(
        cfg, build_messages(cfg.character, {}, [Memory("user", line, 0)]), {}, viewers=True
    )
    assert messages[1]["content"] == "A viewer says: «Hi Kagura!»"
    assert not str(messages[2]["content"]).startswith("[")  # no tags in this model


def test_other_scripts_get_the_english_only_line_with_the_topic() -> None:
    cfg = config()
    assert embedded.canned_reply(cfg, "What game should we play?") is None
    assert embedded.canned_reply(cfg, "Café au lait, s'il vous plaît") is None  # Latin
    game = embedded.canned_reply(cfg, "我们今天玩什么游戏？")
    assert game is not None and "only speak English" in game and "games" in game
    hello = embedded.canned_reply(cfg, "你好！")
    assert hello is not None and hello.startswith("Hello!")
    assert "only speak English" in (embedded.canned_reply(cfg, "Привет, как дела?") or "")
    # On the stage only the viewer's quoted words count, not their name.
    named = viewer_line(ViewerEvent(name="小明", platform="bilibili", text="Any anime to watch?"))
    assert embedded.canned_reply(cfg, named) is None
    framed = viewer_line(ViewerEvent(name="Bob", platform="bilibili", text="今天吃什么？"))
    assert "food" in (embedded.canned_reply(cfg, framed) or "")
    # Mostly English with a Chinese word is English.
    assert embedded.canned_reply(cfg, "I had 火锅 for dinner, what did you eat?") is None


async def test_an_openai_model_gets_the_characters_prompt_and_chinese_unchanged(
    fake: FakeOpenAI, kagura: KaguraProcess
) -> None:
    """Over the wire: the OpenAI-compatible model is asked with the character's prompt and
    the Chinese message as written; no rules, examples or canned line."""
    fake.script = LLMScript(reply="好的！")
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        await client.turn("我们今天玩什么游戏？")
    messages: list[ChatMessage] = fake.chat_requests()[-1]["messages"]
    assert len(messages) == 2
    assert embedded.RULES not in str(messages[0]["content"])
    assert messages[1] == {"role": "user", "content": "我们今天玩什么游戏？"}
