"""The co-host's queue over the wire: addressed chat first, a burst of greetings answered
once, the streamer's Skip and Next, what was dropped and why, the pace changed live and its
gap between replies.

The stage is paused (`POST /stage/pause`) while chat queues, so every test decides exactly
what waits before anything is answered; the scripted LLM records each prompt.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

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

DANMAKU_TTL_S = 6.0
MIN_GAP_S = 1.0  # the pace's gap, overridden: short enough for a test, long enough to see

stage = server_fixture(
    "cohost",
    stage={
        "lanes": {"danmaku": {"ttl_s": DANMAKU_TTL_S}},
        "batch_max": 1,
        "character_aliases": ["神乐"],
        "min_gap_s": MIN_GAP_S,
        "user_rate_per_min": 0,
    },
)


async def call(server: KaguraProcess, method: str, path: str, **body: Any) -> httpx.Response:
    """An admin's HTTP call (loopback is trusted as the admin)."""
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as http:
        return await http.request(method, path, json=body or None)


async def waiting(server: KaguraProcess) -> list[dict[str, Any]]:
    answer = await call(server, "GET", "/stage/queue")
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["waiting"]
    return items


@asynccontextmanager
async def paused(server: KaguraProcess) -> AsyncIterator[tuple[StageClient, Watcher]]:
    """Inside: the stage is paused, a platform client sends chat, the admin watches. The
    stage is resumed on the way out."""
    assert (await call(server, "POST", "/stage/pause", paused=True)).json() == {"paused": True}
    try:
        async with StageClient(server) as admin, StageClient(server, "platform") as platform:
            await admin.connect_sequence()
            await platform.connect_sequence()
            async with Watcher(admin) as seen:
                yield platform, seen
    finally:
        await call(server, "POST", "/stage/pause", paused=False)


async def sent(platform: StageClient) -> None:
    """Return once the server has read everything `platform` sent (its connection is read
    in order: the heartbeat is answered after the chat before it was queued)."""
    await platform.send({"type": "heartbeat"})
    await platform.recv_until("heartbeat-ack", timeout=10)


async def test_a_question_goes_before_five_his_which_are_answered_once(
    stage: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Hi!")
    async with paused(stage) as (platform, seen):
        for user in ("Alice", "Bob", "Carol", "Dan", "Eve"):
            await platform.chat("hi", user=user)
        await platform.chat("Kagura, what's your favourite game?", user="Quinn")
        await sent(platform)
        queue = await waiting(stage)
        assert [(item["viewer"], item["addressed"]) for item in queue][:2] == [
            ("Quinn", True),
            ("Alice", False),
        ]
        assert [item["greeting"] for item in queue[1:]] == [True] * 5
        await call(stage, "POST", "/stage/pause", paused=False)
        await seen.wait_turns(2)
        await until(lambda: settled(stage), 10, "the stage to settle")
    asked = user_messages(fake.chat_requests())
    assert asked[0] == "Quinn on bilibili says: «Kagura, what's your favourite game?»"
    assert len(asked) == 2, asked  # five greetings, one reply
    assert "5 viewers greeted you" in asked[1]
    assert "Alice, Bob, Carol and 2 others" in asked[1]


async def test_skip_and_answer_next_over_http(stage: KaguraProcess, fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply="Okay!")
    async with paused(stage) as (platform, seen):
        for user, text in (("Ann", "first"), ("Ben", "second"), ("Cat", "third")):
            await platform.chat(text, user=user)
        await sent(platform)
        first, _, third = await waiting(stage)
        assert (await call(stage, "POST", f"/stage/queue/{first['id']}/skip")).status_code == 200
        assert (await call(stage, "POST", f"/stage/queue/{third['id']}/next")).status_code == 200
        gone = await call(stage, "POST", f"/stage/queue/{first['id']}/skip")
        assert gone.status_code == 404
        assert gone.json() == {"error": f"message {first['id']} is not waiting"}
        queue = await waiting(stage)
        assert [(item["text"], item["next"]) for item in queue] == [
            ("third", True),
            ("second", False),
        ]
        await call(stage, "POST", "/stage/pause", paused=False)
        await seen.wait_turns(2)
    assert user_messages(fake.chat_requests()) == [
        "Cat on bilibili says: «third»",
        "Ben on bilibili says: «second»",
    ]
    dropped = (await call(stage, "GET", "/stage/queue")).json()["dropped"]
    assert {"viewer": "Ann", "text": "first", "reason": "skipped"}.items() <= dropped[0].items()


async def test_an_expired_question_leaves_a_trace(stage: KaguraProcess) -> None:
    before = (await stage_stats(stage))["dropped"].get("expired", 0)
    async with paused(stage) as (platform, _):
        await platform.chat("神乐，你最喜欢什么游戏？", user="Lin")
        await sent(platform)

        async def expired() -> bool:
            return (await stage_stats(stage))["dropped"].get("expired", 0) > before

        await until(expired, DANMAKU_TTL_S + 10, "the question to expire")
    latest = (await call(stage, "GET", "/stage/queue")).json()["dropped"][0]
    assert latest["viewer"] == "Lin" and latest["text"] == "神乐，你最喜欢什么游戏？"
    assert latest["reason"] == "expired" and latest["waited_s"] >= DANMAKU_TTL_S


async def test_the_pace_changes_live_and_a_gap_separates_replies(
    stage: KaguraProcess, fake: FakeOpenAI
) -> None:
    changed = await call(stage, "POST", "/stage/pace", pace="quiet")
    assert changed.status_code == 200
    pace = (await stage_stats(stage))["pace"]
    # The config's own gap still overrides the pace's; the rest comes from the pace.
    assert pace == {"name": "quiet", "min_gap_s": MIN_GAP_S, "chat_share": 1 / 3, "idle_after_s": 0}
    refused = await call(stage, "POST", "/stage/pace", pace="loud")
    assert refused.status_code == 422
    assert (await call(stage, "POST", "/stage/pace", pace="normal")).status_code == 200
    assert (await stage_stats(stage))["pace"]["name"] == "normal"

    fake.script = LLMScript(reply="Sure.")
    async with paused(stage) as (platform, seen):
        await platform.chat("Kagura, one?", user="Uma")
        await platform.chat("Kagura, two?", user="Vic")
        await sent(platform)
        await call(stage, "POST", "/stage/pause", paused=False)
        await seen.wait_turns(2)
    ends = [at for at, message in seen.seen if message == CHAIN_END]
    starts = [at for at, message in seen.seen if message == CHAIN_START]
    assert starts[1] - ends[0] >= MIN_GAP_S * 0.9


async def settled(server: KaguraProcess) -> bool:
    current = await stage_stats(server)
    return not current["answering"] and not any(current["waiting"].values())
