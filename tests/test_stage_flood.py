"""The flood policy over the wire: lanes, TTL, de-duplication, limits, batching, gifts.

Each test holds the stage busy with a turn whose playback it has not acknowledged yet,
queues chat meanwhile, then releases the turn and checks what the LLM was asked, in order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.server import KaguraProcess
from tests.support.stage import StageClient, Watcher, stage_stats, user_messages, viewer_and_page
from tests.support.wait import until

from .conftest import server_fixture

DANMAKU_TTL_S = 5.0
HOLD_REPLY = "Let me think about that for a good long while, everyone, please wait."


stage = server_fixture(
    "flood",
    stage={
        "lanes": {"danmaku": {"ttl_s": DANMAKU_TTL_S}},
        "batch_max": 3,
        "batch_min": 3,
        "user_rate_per_min": 6,
        "user_burst": 2,
        "dedup_window_s": 30,
        "blocked_users": ["Troll"],
        "blocked_words": ["forbidden"],
        "max_text_chars": 50,
        "gift_llm_min_amount": 10,
    },
    # Long enough that a held turn waits for our acknowledgement, not its timeout.
    conversation={"playback_margin_s": 15},
)


@asynccontextmanager
async def held(
    server: KaguraProcess, fake: FakeOpenAI, turns: int
) -> AsyncIterator[tuple[StageClient, StageClient, Watcher]]:
    """Inside: the stage is busy (a turn waits for its playback ack). On exit: the turn is
    released and `turns` more turns are awaited; the LLM log then starts after the hold."""
    async with StageClient(server) as admin, StageClient(server, "platform") as platform:
        await admin.connect_sequence()
        await platform.connect_sequence()
        fake.script = LLMScript(reply=HOLD_REPLY)
        await admin.send({"type": "text-input", "text": "hold on"})
        await admin.recv_until("backend-synth-complete")
        fake.script = LLMScript(reply="Okay!")
        fake.clear_requests()
        async with Watcher(admin) as seen:
            yield admin, platform, seen
            await queued(platform, admin, seen)
            await admin.send({"type": "frontend-playback-complete"})
            await seen.wait_turns(1 + turns, timeout=30)
            # Nothing waits and nothing is being answered: a turn too many cannot follow.
            await until(lambda: settled(server), 10, "the stage to settle")


async def queued(platform: StageClient, admin: StageClient, seen: Watcher) -> None:
    """Return once the server has read every event both clients sent: each connection is
    read in order, so its heartbeat is answered after the events before it were queued."""
    await platform.send({"type": "heartbeat"})
    await platform.recv_until("heartbeat-ack", timeout=10)
    acks = seen.count(lambda message: message["type"] == "heartbeat-ack")
    await admin.send({"type": "heartbeat"})
    await seen.wait_for(lambda message: message["type"] == "heartbeat-ack", acks + 1, 10)


async def settled(server: KaguraProcess) -> bool:
    current = await stage_stats(server)
    return not current["answering"] and not any(current["waiting"].values())


async def expired(server: KaguraProcess, before: dict[str, Any]) -> bool:
    dropped: dict[str, int] = (await stage_stats(server))["dropped"]
    return dropped.get("expired", 0) > before["dropped"].get("expired", 0)


def delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    dropped = {k: v - before["dropped"].get(k, 0) for k, v in after["dropped"].items()}
    return {k: v for k, v in dropped.items() if v}


async def test_lanes_are_answered_in_priority_order(stage: KaguraProcess, fake: FakeOpenAI) -> None:
    async with held(stage, fake, turns=5) as (admin, platform, _):
        await platform.chat("just chatting", user="Dan")
        await platform.chat("Rocket", user="Gus", kind="gift", amount=50, currency="CNY")
        await platform.chat("Captain", user="Meg", kind="guard", amount=198)
        await platform.chat("please sing", user="Sue", kind="superchat", amount=30)
        await admin.send({"type": "text-input", "text": "Streamer here."})
    assert user_messages(fake.chat_requests()) == [
        "Streamer here.",
        "Sue on bilibili sends a Super Chat (30): «please sing»",
        "Meg on bilibili becomes a member «Captain» (198).",
        "Gus on bilibili sends a gift «Rocket» (50 CNY).",
        "Dan on bilibili says: «just chatting»",
    ]


async def test_stale_chat_is_dropped(stage: KaguraProcess, fake: FakeOpenAI) -> None:
    before = await stage_stats(stage)
    async with held(stage, fake, turns=1) as (_, platform, _):
        await platform.chat("old news", user="Olly")
        await platform.chat("paid and patient", user="Pat", kind="superchat", amount=5)
        await until(lambda: expired(stage, before), DANMAKU_TTL_S + 10, "the danmaku to expire")
    assert user_messages(fake.chat_requests()) == [
        "Pat on bilibili sends a Super Chat (5): «paid and patient»"
    ]
    assert delta(before, await stage_stats(stage)) == {"expired": 1}


async def test_duplicates_and_rate_limit(stage: KaguraProcess, fake: FakeOpenAI) -> None:
    before = await stage_stats(stage)
    async with held(stage, fake, turns=3) as (_, platform, _):
        await platform.chat("hello there", user="Ann")
        await platform.chat("Hello  there", user="Ann")  # the same, within the window
        await platform.chat("second one", user="Ann")
        await platform.chat("third one", user="Ann")  # over Ann's burst of 2
        await platform.chat("Rocket", user="Bea", kind="gift", amount=50, id="msg-1")
        await platform.chat("Rocket", user="Bea", kind="gift", amount=50, id="msg-1")
    assert user_messages(fake.chat_requests()) == [
        "Bea on bilibili sends a gift «Rocket» (50).",
        "Ann on bilibili says: «hello there»",
        "Ann on bilibili says: «second one»",
    ]
    assert delta(before, await stage_stats(stage)) == {"duplicate": 2, "rate_limited": 1}


async def test_blocklists_and_ignore_prefix(stage: KaguraProcess, fake: FakeOpenAI) -> None:
    before = await stage_stats(stage)
    async with held(stage, fake, turns=1) as (_, platform, _):
        await platform.chat("hi from a troll", user="troll")
        await platform.chat("say the FORBIDDEN word", user="Eve")
        await platform.chat("#note to the mods", user="Fay")
        await platform.chat("a fine question", user="Gil")
    assert user_messages(fake.chat_requests()) == ["Gil on bilibili says: «a fine question»"]
    assert delta(before, await stage_stats(stage)) == {
        "blocked_user": 1,
        "blocked_word": 1,
        "ignored": 1,
    }


async def test_waiting_chat_is_answered_together(stage: KaguraProcess, fake: FakeOpenAI) -> None:
    async with held(stage, fake, turns=2) as (_, platform, seen):
        for name in ("Hal", "Ida", "Jon", "Kim"):
            await platform.chat(f"hello from {name}", user=name)
    batch, single = user_messages(fake.chat_requests())
    assert batch.startswith("Several viewers wrote in chat")
    for name in ("Hal", "Ida", "Jon"):
        assert f"{name} on bilibili says: «hello from {name}»" in batch
    assert single == "Kim on bilibili says: «hello from Kim»"
    lines = [m["text"] for m in seen.messages if m["type"] == "user-input-transcription"]
    assert lines == [f"{name}: hello from {name}" for name in ("Hal", "Ida", "Jon", "Kim")]


async def test_small_gifts_are_thanked_without_the_llm(
    stage: KaguraProcess, fake: FakeOpenAI
) -> None:
    async with held(stage, fake, turns=1) as (_, platform, seen):
        await platform.chat("Heart", user="Liv", kind="gift", amount=1)
        await platform.chat("Flower", user="Max", kind="gift", amount=0.5)
        await platform.chat("", user="Ned", kind="follow")
    assert fake.chat_requests() == []
    said = "".join(m["display_text"]["text"] for m in seen.messages if m["type"] == "audio")
    assert said.endswith("Thank you Liv, Max and Ned for the Heart, Flower and follow!")


async def test_a_supporters_own_words_are_read_quoted_beside_what_they_bought(
    stage: KaguraProcess, fake: FakeOpenAI
) -> None:
    async with held(stage, fake, turns=4) as (_, platform, seen):
        await platform.chat(
            "still here after 3 months", user="Ada", kind="membership", label="Tier 1, 3 months"
        )
        await platform.chat("", user="Bo", kind="membership", label="Tier 1")
        await platform.chat("Captain", user="Meg", kind="guard", amount=198)  # an older client
        # A small gift, but with words: the LLM reads them rather than the template thanking.
        await platform.chat("love the stream", user="Cal", kind="gift", amount=1, label="Heart")
    assert user_messages(fake.chat_requests()) == [
        "Ada on bilibili becomes a member «Tier 1, 3 months»: «still here after 3 months»",
        "Bo on bilibili becomes a member «Tier 1».",
        "Meg on bilibili becomes a member «Captain» (198).",
        "Cal on bilibili sends a gift «Heart» (1): «love the stream»",
    ]
    lines = [m["text"] for m in seen.messages if m["type"] == "user-input-transcription"]
    assert lines == [
        "Ada: Tier 1, 3 months — still here after 3 months",
        "Bo: Tier 1",
        "Meg [Guard 198]: Captain",
        "Cal [Gift 1]: Heart — love the stream",
    ]


async def test_a_supporters_words_are_screened_like_chat(
    stage: KaguraProcess, fake: FakeOpenAI
) -> None:
    before = await stage_stats(stage)
    async with held(stage, fake, turns=3) as (_, platform, _):
        await platform.chat("say the FORBIDDEN word", user="Eve", kind="membership", label="Tier 1")
        await platform.chat("first", user="Zoe")
        await platform.chat("second", user="Zoe")  # Zoe's burst of 2 is spent
        # Over the rate limit, her words go unread; what she bought is still thanked.
        await platform.chat("read me too", user="Zoe", kind="membership", label="Tier 2")
    assert user_messages(fake.chat_requests()) == [
        "Zoe on bilibili becomes a member «Tier 2».",
        "Zoe on bilibili says: «first»",
        "Zoe on bilibili says: «second»",
    ]
    assert delta(before, await stage_stats(stage)) == {"blocked_word": 1}


async def test_bad_events_get_a_clear_error_and_lose_nothing(
    stage: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Okay!")
    async with viewer_and_page(stage) as (platform, seen):
        bad: list[Any] = [
            {"type": "text-input", "text": "x" * 5000},
            {"type": "text-input", "text": "hi", "source": {"kind": "nonsense"}},
            {"type": "text-input", "text": "hi", "source": {"user": {"name": "n" * 500}}},
            {"type": "text-input", "text": "y" * 51, "source": {"user": {"name": "Zed"}}},
            {"type": "text-input", "text": "", "source": {"kind": "gift", "label": "g" * 201}},
            {"type": "text-input"},
            "[1, 2, 3]",
            "{broken",
            b"\x00\x01",
        ]
        for message in bad:
            if isinstance(message, dict):
                await platform.send(message)
            else:
                await platform.send_raw(message)
            reply = await platform.recv(5)
            assert reply["type"] == "error" and reply["message"], message
        assert "longer than 50 characters" in str(await _last_error(platform, bad[3]))
        await platform.chat("still here?", user="Zed")
        await seen.wait_turns(1)
    assert user_messages(fake.chat_requests()) == ["Zed on bilibili says: «still here?»"]


async def _last_error(client: StageClient, message: dict[str, Any]) -> dict[str, Any]:
    await client.send(message)
    return await client.recv(5)
