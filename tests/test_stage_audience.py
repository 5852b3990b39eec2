"""Who hears the show: pages do, platform clients never. A stage with only a platform
client connected talks to nobody (no idle talk, no LLM request); a page connecting starts
it. Real processes: `kagura serve`, `kagura live bilibili` against a fake Bilibili, and the
bytes the server sent the platform client counted on the wire."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from kagura.conversation.conversation import PROACTIVE_PROMPT
from kagura.testing.fake_bilibili import FakeBilibili
from kagura.testing.fake_bilibili import messages as m
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.server import KaguraProcess
from tests.support.stage import (
    CHAIN_END,
    CHAIN_START,
    StageClient,
    Watcher,
    stage_stats,
    user_messages,
)
from tests.support.wait import until

from .conftest import server_fixture
from .live_helpers import bilibili_client, connected
from .tcp_relay import CountingRelay

pytestmark = pytest.mark.live

IDLE_S = 0.5


stage = server_fixture(
    "audience", stage={"idle_after_s": IDLE_S}, conversation={"playback_margin_s": 0.3}
)


async def test_only_pages_hear_the_show_and_idle_talk_waits_for_one(
    tmp_path: Path, bili: FakeBilibili, stage: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Hello there, nice to see you. What a lovely evening.")
    line = "Alice: What are you playing today?"
    with CountingRelay(stage.port) as relay:
        proxy_url = f"ws://127.0.0.1:{relay.port}/proxy-ws"
        with bilibili_client(tmp_path, bili, proxy_url, token=None) as client:
            await connected(bili)
            joined = await until(platform_joined(stage), 20, "the platform client to join")
            idle_at_join = float(joined["idle_s"])
            # Idle for many times `idle_after_s` with only the platform client: no idle
            # talk, no LLM request (with a paid LLM, that is money spent on nobody).
            await until(idle_for(stage, idle_at_join + 8 * IDLE_S), 20, "the stage to stay idle")
            assert fake.chat_requests() == []
            greeted = relay.downstream

            async with StageClient(stage, "page") as page, Watcher(page) as seen:
                # A page is an audience: idle talk starts for it.
                await seen.wait_turns(1, timeout=20)
                assert user_messages(fake.chat_requests())[0] == PROACTIVE_PROMPT
                bili.push(m.danmaku("What are you playing today?", 42, "Alice", id_str="a1"))
                await seen.wait_for(lambda msg: msg.get("text") == line, timeout=30)
                await seen.wait_for(lambda msg: msg == CHAIN_END and answered(seen, line))
            sent_during_show = relay.downstream - greeted
            assert client.stop() == 0

    # The page heard every turn whole, with its audio.
    turns = split_turns(seen.messages)
    assert len(turns) >= 2
    assert all(any(msg["type"] == "audio" and msg["audio"] for msg in turn) for turn in turns)
    shortest = min(len(msg["audio"]) for msg in seen.messages if msg["type"] == "audio")
    # The platform client got nothing of it: a few bytes of WebSocket pings at most, where
    # one audio frame alone is tens of kilobytes.
    assert sent_during_show < 256 < shortest, (sent_during_show, shortest)
    assert relay.connections == 1


def split_turns(messages: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The complete turns among `messages`, from chain start to chain end."""
    turns: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] | None = None
    for msg in messages:
        if msg == CHAIN_START:
            current = []
        if current is not None:
            current.append(msg)
        if msg == CHAIN_END and current is not None:
            turns.append(current)
            current = None
    return turns


def answered(seen: Watcher, line: str) -> bool:
    """The turn that announced `line` has ended."""
    messages = seen.messages
    texts = [msg.get("text") for msg in messages]
    return line in texts and CHAIN_END in messages[texts.index(line) :]


def platform_joined(server: KaguraProcess) -> Callable[[], Awaitable[dict[str, Any] | None]]:
    """The stage's stats once exactly one platform client is connected (else None)."""

    async def check() -> dict[str, Any] | None:
        current = await stage_stats(server)
        return current if current["clients"].get("platform") == 1 else None

    return check


def idle_for(server: KaguraProcess, seconds: float) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return float((await stage_stats(server))["idle_s"]) >= seconds

    return check
