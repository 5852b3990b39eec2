"""Idle talk: with nobody chatting the character starts a topic, never ahead of real chat."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from kagura.conversation.conversation import PROACTIVE_PROMPT
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.server import KaguraProcess
from tests.support.stage import CHAIN_START, StageClient, Watcher, user_messages
from tests.support.wait import wait_until

from .conftest import fake_engines

IDLE_S = 1.0


@pytest.fixture(scope="module")
def stage(fake: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KaguraProcess]:
    config = fake_engines(fake, stage={"idle_after_s": IDLE_S})
    with KaguraProcess(tmp_path_factory.mktemp("idle"), config) as server:
        # An empty stage, idle for a while (by its own clock) before anyone joins.
        wait_until(lambda: idle_s(server) >= 2 * IDLE_S, 15, "the stage to be idle")
        yield server


def idle_s(server: KaguraProcess) -> float:
    seconds: float = httpx.get(f"{server.http_url}/stage/stats").json()["idle_s"]
    return seconds


async def test_idle_stage_starts_a_topic_and_chat_comes_first(
    stage: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Did you know that octopuses have three hearts?")
    async with StageClient(stage, "page") as page, Watcher(page) as seen:
        joined = time.monotonic()
        await seen.wait_turns(1, timeout=15)
        # The server was idle long before: the topic still waits for a listener to be there
        # for IDLE_S, counted to the start of the turn, not its end.
        [began] = [at for at, m in seen.seen if m == CHAIN_START][:1]
        assert began - joined >= IDLE_S * 0.8
        status = [m["text"] for m in seen.messages if m["type"] == "full-text"]
        assert "AI wants to speak something..." in status
        async with StageClient(stage, "platform") as platform:
            await platform.chat("tell me more", user="Quinn")
            await seen.wait_turns(2, timeout=15)
    asked = user_messages(fake.chat_requests())
    assert asked[0] == PROACTIVE_PROMPT
    assert asked[1] == "Quinn on bilibili says: «tell me more»"
