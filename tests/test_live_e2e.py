"""End to end: fake Bilibili → `kagura live bilibili` process → a real `kagura serve`
stage → replies broadcast to a stage page, in priority order, with viewers' names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kagura.testing.fake_bilibili import FakeBilibili
from kagura.testing.fake_bilibili import messages as m
from kagura.testing.fake_openai import FakeOpenAI
from kagura.testing.server import KaguraProcess
from kagura.testing.stage import StageClient, Watcher, stage_url, user_messages
from kagura.testing.wait import until

from .conftest import fake_engines
from .live_helpers import bilibili_client, connected

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def stage_server(
    fake: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KaguraProcess]:
    config = fake_engines(fake, stage={"batch_max": 1}, conversation={"playback_margin_s": 0.3})
    with KaguraProcess(tmp_path_factory.mktemp("live-stage"), config) as server:
        yield server


async def stats(server: KaguraProcess) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        result: dict[str, Any] = (await http.get("/stage/stats")).json()
    return result


async def pause(server: KaguraProcess, paused: bool) -> None:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        answer = await http.post("/stage/pause", json={"paused": paused})
    assert answer.json() == {"paused": paused}


def transcriptions(seen: Watcher) -> list[dict[str, Any]]:
    return [msg for msg in seen.messages if msg["type"] == "user-input-transcription"]


async def test_a_viewers_danmaku_is_answered_on_the_stage_by_name(
    tmp_path: Path, bili: FakeBilibili, stage_server: KaguraProcess, fake: FakeOpenAI
) -> None:
    async with StageClient(stage_server, "page") as page:
        await page.connect_sequence()
        async with Watcher(page) as seen:
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
    before = await stats(stage_server)
    async with StageClient(stage_server, "page") as page:
        await page.connect_sequence()
        async with Watcher(page) as seen:
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

                async def queued() -> bool:
                    now = await stats(stage_server)
                    accepted = now["accepted"] - before["accepted"]
                    return accepted == 5 and now["withdrawn"] - before["withdrawn"] == 1

                await until(queued, 15, "five events queued and one withdrawn")
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
