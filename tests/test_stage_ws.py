"""`/proxy-ws`: one shared conversation, per-client replies, broadcast, headless stages."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import httpx

from kagura.sender import SEND_TIMEOUT_S
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess
from tests.support.stage import (
    CHAIN_END,
    CHAIN_START,
    StageClient,
    Watcher,
    stage_stats,
    stage_url,
    stalled_client,
    user_messages,
    viewer_and_page,
)
from tests.support.wait import until

from .conftest import server_fixture

SHORT = "Okay, got it."
CLOSE_FRAME_END = (1013).to_bytes(2, "big") + b"client too slow; reconnect"


stage = server_fixture(
    "stage",
    stage={
        "batch_max": 1,
        "user_rate_per_min": 0,
        "dedup_window_s": 0,
        "client_queue_frames": 16,
    },
    conversation={"playback_margin_s": 0.3},
)


def shown(name: str, text: str) -> dict[str, str]:
    """What every page shows of a Bilibili viewer's chat: who said what, where, the
    viewer's platform id (`StageClient.chat` sends `id-<name>`), to ban them by, and that it
    is the question the reply answers (captioned: `stage.show_question`)."""
    return {
        "type": "user-input-transcription",
        "text": f"{name}: {text}",
        "name": name,
        "platform": "bilibili",
        "user_id": f"id-{name}",
        "question": True,
    }


async def test_replies_to_requests_are_private(stage: KaguraProcess) -> None:
    async with StageClient(stage) as one, StageClient(stage, "page") as two:
        await one.connect_sequence()
        await two.connect_sequence()
        await one.send({"type": "heartbeat"})
        assert await one.recv(5) == {"type": "heartbeat-ack"}
        await one.send({"type": "fetch-history-list"})
        assert (await one.recv(5))["type"] == "history-list"
        await one.send_raw("{not json")
        assert (await one.recv(5))["type"] == "error"
        assert await two.quiet(0.5) == []  # none of that reached the other client


async def test_chat_is_answered_and_broadcast_with_the_viewers_name(
    stage: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Hello Alice, welcome to the stream.")
    async with viewer_and_page(stage) as (platform, seen):
        await platform.chat("Hi Kagura!", user="Alice")
        await seen.wait_turns(1)
        theirs = await platform.quiet(0.5)
    page_turn = seen.messages[seen.messages.index(CHAIN_START) :]
    assert page_turn[1:3] == [
        {"type": "full-text", "text": "Thinking..."},
        shown("Alice", "Hi Kagura!"),
    ]
    assert [m["type"] for m in page_turn].count("audio") >= 1
    # The platform client only feeds the stage: nothing of the show comes back to it.
    assert theirs == []
    assert user_messages(fake.chat_requests()) == ["Alice on bilibili says: «Hi Kagura!»"]


async def test_plain_seed_form_from_the_streamer(stage: KaguraProcess, fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply=SHORT)
    async with StageClient(stage) as admin:
        await admin.connect_sequence()
        seen = await admin.turn("Good evening, chat!")
    assert seen[0] == CHAIN_START and seen[-1] == CHAIN_END
    assert user_messages(fake.chat_requests()) == ["Good evening, chat!"]


async def test_headless_stage_keeps_answering(stage: KaguraProcess, fake: FakeOpenAI) -> None:
    """With only platform clients, nobody acknowledges playback: each turn ends at its
    timeout, and the chat is still answered."""
    fake.script = LLMScript(reply=SHORT)
    answered = (await stage_stats(stage))["answered"]
    async with StageClient(stage, "platform") as one, StageClient(stage, "platform") as two:
        await one.connect_sequence()
        await two.connect_sequence()
        for n in range(4):
            await (one if n % 2 else two).chat(f"message number {n}", user=f"viewer{n}")
        async with asyncio.timeout(40):
            while (now := await stage_stats(stage))["answered"] < answered + 4 or now["active"]:
                await asyncio.sleep(0.1)
        assert await one.quiet(0.2) == [] and await two.quiet(0.2) == []
    assert sorted(user_messages(fake.chat_requests())) == [
        f"viewer{n} on bilibili says: «message number {n}»" for n in range(4)
    ]


async def test_a_new_page_does_not_reset_the_shared_history(
    stage: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Nice to meet you, Alice.")
    async with StageClient(stage) as admin:
        await admin.connect_sequence()
        await admin.turn("My name is Alice.")
        await admin.send({"type": "fetch-history-list"})
        [current] = [h for h in (await admin.recv(5))["histories"]][:1]
        async with StageClient(stage, "page") as page:
            await page.connect_sequence()
            # What the original frontend sends on load.
            for kind in ("fetch-backgrounds", "fetch-configs", "fetch-history-list"):
                await page.send({"type": kind})
                await page.recv(5)
            await page.send({"type": "create-new-history"})
            created = await page.recv(5)
        assert created == {"type": "new-history-created", "history_uid": current["uid"]}
        await admin.turn("What is my name?")
    # The shared memory still holds the first exchange (and everything said before).
    messages = fake.chat_requests()[-1]["messages"]
    assert [m["content"] for m in messages[-3:]] == [
        "My name is Alice.",
        "Nice to meet you, Alice.",
        "What is my name?",
    ]


async def test_interrupt_stops_the_turn_and_the_stage_moves_on(
    stage: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="This is a long story. " * 20, tokens_per_s=20)
    async with (
        StageClient(stage) as admin,
        StageClient(stage, "page") as page,
        StageClient(stage, "platform") as platform,
    ):
        await admin.connect_sequence()
        await page.connect_sequence()
        await platform.connect_sequence()
        await platform.chat("tell me a story", user="Carol")
        await admin.recv_until("audio")
        await platform.chat("and then?", user="Dave")
        fake.script = LLMScript(reply=SHORT)  # for the next turn, which may start at once
        await admin.send({"type": "interrupt-signal", "text": "This is a long story."})
        await admin.recv_until("control", "conversation-chain-end", timeout=10)
        # Every other page is told to stop playing, with what was heard.
        told = await page.recv_until("interrupt-signal", timeout=10)
        assert told[-1] == {"type": "interrupt-signal", "text": "This is a long story."}
        seen = await admin.collect_turn(timeout=20)
    assert shown("Dave", "and then?") in seen
    assert user_messages(fake.chat_requests())[-1] == "Dave on bilibili says: «and then?»"


async def test_stats_count_what_happened(stage: KaguraProcess, fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply=SHORT)
    async with StageClient(stage) as admin:
        await admin.connect_sequence()
        await admin.chat("count me", user="Fay")
        await admin.collect_turn(timeout=20)
    current = await stage_stats(stage)
    assert current["accepted"] >= current["answered"] >= 1
    assert set(current["waiting"]) == {
        "streamer",
        "superchat",
        "membership",
        "gift",
        "danmaku",
        "idle",
    }
    assert current["loop_lag"]["samples"] > 0


async def test_stalled_client_is_dropped_without_delaying_others(
    stage: KaguraProcess, fake: FakeOpenAI
) -> None:
    """A client that never reads fills its buffer and is closed with 1013; the others'
    turns take as long as before."""
    # Three different sentences (the stage's limit; a repeated one is spoken once).
    fake.script = LLMScript(
        reply=" ".join(
            f"A fairly long sentence number {n} to fill the buffers of everyone, "
            "and then a few more words to make it longer."
            for n in range(3)
        )
    )
    stalled = await stalled_client(stage_url(stage))
    try:
        async with StageClient(stage) as admin:
            await admin.connect_sequence()
            durations = []
            for n in range(10):
                started = time.monotonic()
                await admin.turn(f"turn {n}", timeout=20)
                durations.append(time.monotonic() - started)
            assert (await stage_stats(stage))["clients"] == {"admin": 1}
            # A turn held up by the stalled socket would wait out at least the sender's
            # per-frame timeout, and the first turn is where that socket fills; a turn here
            # takes about half a second, so half that timeout still leaves a slow machine room.
            assert max(durations) < SEND_TIMEOUT_S / 2, durations
            received = await drain(stalled, timeout=30)
    finally:
        stalled.close()
    assert received.endswith(CLOSE_FRAME_END)  # the close frame, code 1013, and nothing after
    assert "is not reading" in stage.whole_log()


async def drain(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sent, up to its close frame (or the end of the connection)."""
    loop = asyncio.get_running_loop()
    data = bytearray()
    async with asyncio.timeout(timeout):
        while chunk := await loop.sock_recv(sock, 1 << 20):
            data += chunk
            if CLOSE_FRAME_END in data[-1024:]:
                break
    return bytes(data)


async def test_clients_joining_and_leaving_during_broadcast(
    stage: KaguraProcess, fake: FakeOpenAI
) -> None:
    """Churn mid-turn causes no error; a client that stays sees every turn whole."""
    fake.script = LLMScript(reply="One. Two. Three. Four. Five. Six.", tokens_per_s=40)

    async def visit() -> None:
        async with StageClient(stage, "page") as visitor:
            await visitor.recv(5)

    async with (
        StageClient(stage, "page") as steady,
        Watcher(steady) as seen,
        StageClient(stage) as admin,
    ):
        await admin.connect_sequence()
        for n in range(3):
            await admin.chat(f"round {n}")
            await asyncio.gather(*(visit() for _ in range(8)))
        await seen.wait_turns(3, timeout=60)
    turns = "".join(
        "S" if m == CHAIN_START else "E" if m == CHAIN_END else "" for m in seen.messages
    )
    assert turns == "SESESE"
    # Each turn's audio reached it whole and in order (three sentences: the stage's limit).
    said = [m["display_text"]["text"] for m in seen.messages if m["type"] == "audio"]
    assert "".join(said) == "One. Two. Three." * 3
    assert not [m for m in seen.messages if m["type"] == "error"]
    assert "Traceback" not in stage.whole_log()


async def test_pause_holds_answers_until_resumed(stage: KaguraProcess, fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply=SHORT)
    async with httpx.AsyncClient(base_url=stage.http_url) as http:
        # Only the admin role may pause; a page may not.
        refused = await http.post("/stage/pause?role=page", json={"paused": True})
        assert refused.status_code == 403
        assert (await http.post("/stage/pause", json={"paused": True})).json() == {"paused": True}
        assert (await stage_stats(stage))["paused"] is True
        async with StageClient(stage, "platform") as viewer, StageClient(stage) as admin:
            await viewer.connect_sequence()
            await admin.connect_sequence()
            requests_before = len(fake.chat_requests())
            await viewer.chat("are you there?", user="Erin")
            # Queued, not answered, while paused.
            assert CHAIN_START not in await admin.quiet(1.5)
            assert len(fake.chat_requests()) == requests_before
            resumed = await http.post("/stage/pause", json={"paused": False})
            assert resumed.json() == {"paused": False}
            seen = await admin.collect_turn(timeout=20)
    assert shown("Erin", "are you there?") in seen
    assert user_messages(fake.chat_requests())[-1] == "Erin on bilibili says: «are you there?»"


async def test_a_character_switch_reaches_every_page(stage: KaguraProcess) -> None:
    async with StageClient(stage) as admin, StageClient(stage, "page") as page:
        await admin.connect_sequence()
        page_uid = (await page.connect_sequence())[2]["client_uid"]
        try:
            await admin.send({"type": "switch-config", "file": "mika.yaml"})
            seen = await page.recv_until("set-model-and-conf", timeout=10)
            assert seen[-1]["conf_name"] == "Mika"
            assert seen[-1]["model_info"]["name"] == "shizuku"
            assert seen[-1]["client_uid"] == page_uid  # each page is told its own uid
        finally:
            await admin.send({"type": "switch-config", "file": "conf.yaml"})
            await admin.recv_until("config-switched", timeout=10)


LONG_REPLY = (
    "Hello Dana, welcome! I love your name. It sounds lovely. Stay a while. "
    "Let me tell you a long story about the sea and the stars and the moon tonight."
)


async def test_the_stage_answers_in_one_to_three_sentences(
    stage: KaguraProcess, fake: FakeOpenAI
) -> None:
    """The stage asks for a short answer and stops the LLM after three sentences; a private
    `/client-ws` session on the same server is not limited."""
    fake.script = LLMScript(reply=LONG_REPLY, tokens_per_s=30)
    abandoned = fake.streams_abandoned
    async with viewer_and_page(stage) as (viewer, seen):
        await viewer.chat("hi!", user="Dana")
        await seen.wait_turns(1)
    said = [m["display_text"]["text"] for m in seen.messages if m["type"] == "audio"]
    assert said == ["Hello Dana,", " welcome!", " I love your name.", " It sounds lovely."]
    stage_prompt = fake.chat_requests()[-1]["messages"][0]["content"]
    assert "Answer in one to three sentences." in stage_prompt
    # The LLM was stopped rather than left writing what nobody will hear.
    await until(lambda: fake.streams_abandoned > abandoned, 5, "the LLM stream to be closed")

    fake.script = LLMScript(reply=LONG_REPLY)
    async with ProtocolClient(stage.ws_url) as client:
        await client.connect_sequence()
        private = await client.turn("hi!")
    spoken = [m["display_text"]["text"] for m in private if m["type"] == "audio"]
    assert len(spoken) == 6 and spoken[-1].endswith("the moon tonight.")
    assert "Answer in one to" not in fake.chat_requests()[-1]["messages"][0]["content"]


async def test_each_segment_is_encoded_once_for_every_page(
    stage: KaguraProcess, fake: FakeOpenAI
) -> None:
    """The show is encoded once per event, whatever the size of the audience: four pages
    get the same frames, and the server serialised each segment's audio once."""
    fake.script = LLMScript(reply="One sentence here. Another one there. And a third.")
    before = (await stage_stats(stage))["encoded"].get("audio", 0)
    async with contextlib.AsyncExitStack() as pages:
        watchers = []
        for _ in range(4):
            page = await pages.enter_async_context(StageClient(stage, "page"))
            watchers.append(await pages.enter_async_context(Watcher(page)))
        await until(lambda: audience(stage, 4), 10, "four pages in the audience")
        admin = await pages.enter_async_context(StageClient(stage))
        await admin.connect_sequence()
        await admin.send({"type": "text-input", "text": "say three things"})
        for seen in watchers:
            await seen.wait_turns(1, timeout=20)
    frames = [[m for m in seen.messages if m["type"] == "audio"] for seen in watchers]
    assert len(frames[0]) == 3 and all(got == frames[0] for got in frames)
    encoded = (await stage_stats(stage))["encoded"]["audio"] - before
    assert encoded == 3, f"{encoded} audio messages encoded for 3 segments and 5 listeners"


async def audience(server: KaguraProcess, pages: int) -> bool:
    current = await stage_stats(server)
    return bool(current["audience"].get("pages") == pages)
