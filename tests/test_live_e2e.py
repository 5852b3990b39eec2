"""End to end: a fake platform (Bilibili, Twitch, YouTube) → its `kagura live …` process →
a real `kagura serve` stage → replies broadcast to a stage page, in priority order, with
viewers' names; what moderators delete while it waits is never answered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from kagura.testing.fake_bilibili import FakeBilibili
from kagura.testing.fake_bilibili import messages as m
from kagura.testing.fake_openai import FakeOpenAI
from kagura.testing.fake_twitch import FakeTwitch, clearmsg, privmsg, usernotice
from kagura.testing.fake_youtube import FakeYouTube, author, deleted, new_member, super_chat, text
from tests.support.server import KaguraProcess
from tests.support.stage import Watcher, stage_stats, stage_url, user_messages, watched_page
from tests.support.wait import until

from .conftest import server_fixture
from .live_helpers import (
    TWITCH_CHANNELS,
    YT_CHANNEL,
    YT_VIDEO,
    bilibili_client,
    connected,
    joined,
    polled,
    twitch_client,
    youtube_client,
)

pytestmark = pytest.mark.live


stage_server = server_fixture(
    "live-stage", stage={"batch_max": 1}, conversation={"playback_margin_s": 0.3}
)


async def pause(server: KaguraProcess, paused: bool) -> None:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        answer = await http.post("/stage/pause", json={"paused": paused})
    assert answer.json() == {"paused": paused}


def transcriptions(seen: Watcher) -> list[dict[str, Any]]:
    return [msg for msg in seen.messages if msg["type"] == "user-input-transcription"]


async def queued(
    server: KaguraProcess,
    before: dict[str, Any],
    accepted: int,
    withdrawn: int,
    waiting: dict[str, int],
) -> None:
    """Wait until the stage has taken `accepted` events, withdrawn `withdrawn`, and these
    wait in these lanes."""

    async def ready() -> bool:
        now = await stage_stats(server)
        return (
            now["accepted"] - before["accepted"] == accepted
            and now["withdrawn"] - before["withdrawn"] == withdrawn
            and all(now["waiting"][lane] == count for lane, count in waiting.items())
        )

    await until(ready, 20, f"{accepted} events queued, {withdrawn} withdrawn, waiting {waiting}")


async def test_a_viewers_danmaku_is_answered_on_the_stage_by_name(
    tmp_path: Path, bili: FakeBilibili, stage_server: KaguraProcess, fake: FakeOpenAI
) -> None:
    async with watched_page(stage_server) as seen:
        with bilibili_client(tmp_path, bili, stage_url(stage_server), token=None) as client:
            await connected(bili)
            bili.push(m.danmaku("What is your favourite song?", 42, "Alice", id_str="e1"))
            await seen.wait_turns(1, timeout=30)
            assert client.stop() == 0
    [line] = transcriptions(seen)
    assert (line["name"], line["platform"]) == ("Alice", "bilibili")
    assert line["text"] == "Alice: What is your favourite song?"
    assert any(msg["type"] == "audio" for msg in seen.messages)  # the reply was performed
    [asked] = user_messages(fake.chat_requests())
    assert "Alice" in asked and "What is your favourite song?" in asked


async def test_paid_events_first_free_gifts_thanked_deleted_super_chats_never(
    tmp_path: Path, bili: FakeBilibili, stage_server: KaguraProcess, fake: FakeOpenAI
) -> None:
    before = await stage_stats(stage_server)
    async with watched_page(stage_server) as seen:
        with bilibili_client(tmp_path, bili, stage_url(stage_server), token=None) as client:
            await connected(bili)
            await pause(stage_server, True)  # the streamer's "hold on": chat queues up
            bili.push(
                m.danmaku("first in line", 1, "Bob", id_str="d1"),
                m.danmaku("me next", 2, "Cat", id_str="d2"),
                m.super_chat(501, 3, "Dee", 30, "Sing for us!"),
                m.super_chat(502, 4, "Eve", 50, "Never mind this one"),
                m.gift(5, "Fay", "Heart", 10, price=100, coin_type="silver", tid="f1"),
                compression="brotli",
            )
            bili.push(m.super_chat_delete(502))  # Eve's super chat is taken back
            lanes = {"superchat": 1, "gift": 1, "danmaku": 2}
            await queued(stage_server, before, 5, 1, lanes)
            await pause(stage_server, False)
            await seen.wait_turns(4, timeout=60)
            assert client.stop() == 0
    names = [line["name"] for line in transcriptions(seen)]
    assert names == ["Dee", "Fay", "Bob", "Cat"]  # super chat, gift lane, then danmaku
    asked = user_messages(fake.chat_requests())
    assert len(asked) == 3  # the free gift got the template thank-you, not the LLM
    assert "Super Chat" in asked[0] and "Sing for us!" in asked[0]
    assert not any("Never mind this one" in text for text in asked)
    thanks = [
        msg["display_text"]["text"]
        for msg in seen.messages
        if msg["type"] == "audio" and "Thank you Fay" in msg["display_text"]["text"]
    ]
    assert thanks


async def test_twitch_chat_answered_by_name_cheers_and_raids_first_deleted_never(
    tmp_path: Path, twitch: FakeTwitch, stage_server: KaguraProcess, fake: FakeOpenAI
) -> None:
    channel = TWITCH_CHANNELS[0]
    before = await stage_stats(stage_server)
    async with watched_page(stage_server) as seen:
        with twitch_client(tmp_path, twitch, stage_url(stage_server), token=None) as client:
            await joined(twitch)
            await pause(stage_server, True)
            twitch.send(
                channel,
                privmsg(channel, "alice", "hi Kagura, how are you?", msg_id="t1"),
                privmsg(channel, "bob", "something the mods remove", msg_id="t2"),
                privmsg(channel, "carol", "Cheer500 sing us a song", bits=500, msg_id="t3"),
                usernotice(channel, "dee", "raid", viewerCount=12),
                usernotice(channel, "eve", "subgift", sub_plan="1000",
                           recipient_display_name="Fay"),
                usernotice(channel, "gil", "resub", text="still here after 3 months",
                           sub_plan="1000", cumulative_months=3),
            )  # fmt: skip
            twitch.send(channel, clearmsg(channel, "bob", "t2", "something the mods remove"))
            lanes = {"superchat": 1, "membership": 2, "gift": 1, "danmaku": 1}
            await queued(stage_server, before, 6, 1, lanes)
            await pause(stage_server, False)
            await seen.wait_turns(5, timeout=60)
            assert client.stop() == 0
    lines = transcriptions(seen)
    assert [line["name"] for line in lines] == ["Carol", "Dee", "Gil", "Eve", "Alice"]
    assert {line["platform"] for line in lines} == {"twitch"}
    assert lines[0]["text"] == "Carol [Super Chat 500 bits]: sing us a song"
    asked = user_messages(fake.chat_requests())
    assert len(asked) == 4  # the gift sub got the template thank-you, not the LLM
    assert "Carol on twitch sends a Super Chat (500 bits)" in asked[0]
    assert "Dee on twitch raids the channel with «12 viewers»" in asked[1]
    # The subscriber's own words, quoted as theirs, beside what they bought in Kagura's words.
    resub = "Gil on twitch becomes a member «Tier 1, 3 months»: «still here after 3 months»"
    assert resub in asked[2]
    assert "Alice" in asked[3] and "hi Kagura, how are you?" in asked[3]
    assert not any("something the mods remove" in text for text in asked)
    assert any(
        msg["type"] == "audio" and "Thank you Eve" in msg["display_text"]["text"]
        for msg in seen.messages
    )


async def test_youtube_chat_answered_by_name_super_chats_first_deleted_never(
    tmp_path: Path, youtube: FakeYouTube, stage_server: KaguraProcess, fake: FakeOpenAI
) -> None:
    youtube.go_live(YT_VIDEO, YT_CHANNEL)
    before = await stage_stats(stage_server)
    async with watched_page(stage_server) as seen:
        with youtube_client(tmp_path, youtube, stage_url(stage_server), token=None) as client:
            await polled(youtube, YT_VIDEO, 1)
            await pause(stage_server, True)
            youtube.post(
                YT_VIDEO,
                text("y1", author("Alice"), "hello from YouTube!"),
                text("y2", author("Bob"), "a message the mods remove"),
                super_chat("y3", author("Carol"), "Sing for us!", 4_990_000, "USD"),
                new_member("y4", author("Dee")),
                deleted("y5", "y2"),
            )
            lanes = {"superchat": 1, "membership": 1, "danmaku": 1}
            await queued(stage_server, before, 4, 1, lanes)
            await pause(stage_server, False)
            await seen.wait_turns(3, timeout=60)
            assert client.stop() == 0
    lines = transcriptions(seen)
    assert [line["name"] for line in lines] == ["Carol", "Dee", "Alice"]
    assert lines[0]["text"] == "Carol [Super Chat 4.99 USD]: Sing for us!"
    asked = user_messages(fake.chat_requests())
    assert "Carol on youtube sends a Super Chat (4.99 USD)" in asked[0]
    assert "Dee on youtube becomes a member «Member»" in asked[1]
    assert "Alice" in asked[2] and "hello from YouTube!" in asked[2]
    assert not any("a message the mods remove" in text for text in asked)
