"""The stream delay, the Cut button and the panic switch, on a real server.

Page-role pages (the OBS overlay) get each reply `stage.stream_delay_s` after the streamer's
page; a cut inside that window never reaches them and is not remembered as said; panic stops
every page at once, drops the queue and pauses until resumed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from kagura.conversation.scripts import CUT_HISTORY, CUT_NOTE
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.server import KaguraProcess
from tests.support.stage import StageClient, Watcher, stage_stats

from .conftest import server_fixture

DELAY_S = 1.5
SECRET = "Zanzibar"
delayed = server_fixture("airing", stage={"stream_delay_s": DELAY_S, "batch_max": 1})


def audio_texts(watcher: Watcher) -> list[str]:
    return [m["display_text"]["text"] for m in watcher.messages if m["type"] == "audio"]


def first_audio_at(watcher: Watcher, after: float = 0.0) -> float:
    return next(at for at, m in watcher.seen if m["type"] == "audio" and at > after)


def interrupted(message: dict[str, Any]) -> bool:
    return message["type"] == "interrupt-signal"


@contextlib.asynccontextmanager
async def overlay_and_admin(server: KaguraProcess) -> AsyncIterator[tuple[Watcher, Watcher]]:
    """The OBS overlay (a page-role client, so delayed) and the streamer's page (admin),
    greeted, each read by a `Watcher` that acknowledges playback as a page would."""
    async with StageClient(server, "page") as overlay, StageClient(server, "admin") as admin:
        await overlay.connect_sequence()
        await admin.connect_sequence()
        async with Watcher(overlay) as seen_overlay, Watcher(admin) as seen_admin:
            yield seen_overlay, seen_admin


async def audit_entries(server: KaguraProcess, kind: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as http:
        response = await http.get("/stage/safety-log", params={"limit": 500})
    assert response.status_code == 200, response.text
    return [entry for entry in response.json()["entries"] if entry["kind"] == kind]


async def press(server: KaguraProcess, button: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as http:
        response = await http.post(f"/stage/{button}")
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_the_overlay_gets_the_reply_after_the_delay_and_the_streamer_at_once(
    delayed: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Hello there, friend. [joy] Nice to see you today!")
    async with overlay_and_admin(delayed) as (overlay, admin):
        await admin.client.send({"type": "text-input", "text": "Hi!"})
        await admin.wait_turns(1, timeout=20)
        assert overlay.count(lambda m: m["type"] == "audio") == 0  # still on its way
        await overlay.wait_turns(1, timeout=20)
    assert audio_texts(overlay) == audio_texts(admin) != []
    lag = first_audio_at(overlay) - first_audio_at(admin)
    assert lag >= DELAY_S - 0.05, lag
    stats = await stage_stats(delayed)
    assert stats["airing"]["stream_delay_s"] == DELAY_S
    assert stats["airing"]["waiting_events"] == 0


async def test_a_cut_inside_the_delay_never_airs_and_is_not_remembered(
    delayed: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply=f"Sure. The secret island is {SECRET}. Bye!")
    async with overlay_and_admin(delayed) as (overlay, admin):
        admin_client = admin.client
        await admin_client.send({"type": "text-input", "text": "Tell me a secret."})
        await admin.wait_turns(1, timeout=20)
        assert any(SECRET in text for text in audio_texts(admin))  # the streamer heard it
        assert (await press(delayed, "cut")) == {"cut": True}
        await overlay.wait_for(interrupted, timeout=5)

        fake.script = LLMScript(reply="Okay, something else then.")
        await admin_client.send({"type": "text-input", "text": "Never mind."})
        await overlay.wait_for(lambda m: m["type"] == "audio", timeout=20)
        await overlay.wait_turns(1, timeout=20)

        await admin_client.send({"type": "fetch-history-list"})
        await admin.wait_for(lambda m: m["type"] == "history-list")
        listing = next(m for m in admin.messages if m["type"] == "history-list")
        uid = listing["histories"][0]["uid"]
        await admin_client.send({"type": "fetch-and-set-history", "history_uid": uid})
        await admin.wait_for(lambda m: m["type"] == "history-data")
        history = next(m for m in admin.messages if m["type"] == "history-data")
    assert not any(SECRET in str(m) for m in overlay.messages)
    assert audio_texts(overlay) == ["Okay,", " something else then."]
    said = [m["content"] for m in history["messages"] if m["role"] == "ai"]
    assert CUT_HISTORY in said and not any(SECRET in text for text in said)
    prompt = str(fake.chat_requests()[-1]["messages"])
    assert CUT_NOTE in prompt and SECRET not in prompt
    assert (await stage_stats(delayed))["airing"]["cuts"] >= 1
    cuts = await audit_entries(delayed, "cut")
    assert any(SECRET in entry["text"] and entry["rule"] == "streamer" for entry in cuts), cuts


async def test_cut_with_nothing_on_its_way_cuts_nothing(delayed: KaguraProcess) -> None:
    assert (await press(delayed, "cut")) == {"cut": False}


async def test_panic_stops_every_page_drops_the_queue_and_pauses_until_resumed(
    delayed: KaguraProcess, fake: FakeOpenAI
) -> None:
    long_reply = " ".join(f"Sentence number {n} of a long story." for n in range(1, 30))
    fake.script = LLMScript(reply=long_reply, tokens_per_s=5.0)  # still writing at the panic
    async with (
        StageClient(delayed, "page") as overlay_client,
        StageClient(delayed, "admin") as admin_client,
        StageClient(delayed, "platform") as platform,
    ):
        for client in (overlay_client, admin_client, platform):
            await client.connect_sequence()
        async with Watcher(overlay_client) as overlay, Watcher(admin_client) as admin:
            await platform.chat("tell me a long story", user="Ann")
            await overlay.wait_for(lambda m: m["type"] == "audio", timeout=20)  # on air
            for n in range(3):
                await platform.chat(f"question {n}", user=f"Viewer{n}")
            answer = await press(delayed, "panic")
            await overlay.wait_for(interrupted, timeout=5)
            await admin.wait_for(interrupted, timeout=5)
            stopped = len(overlay.messages)
            stats = await stage_stats(delayed)
            assert stats["paused"] is True
            assert sum(stats["waiting"].values()) == 0
            assert stats["airing"]["waiting_events"] == 0

            fake.script = LLMScript(reply="We are back.")
            await platform.chat("are you there?", user="Bob")
            assert (await press(delayed, "resume")) == {"paused": False}
            await overlay.wait_for(lambda m: "We are back" in str(m), timeout=20)
    assert answer["paused"] is True and answer["dropped"] == 3
    panics = await audit_entries(delayed, "panic")
    assert panics and panics[-1]["dropped"] == 3 and "Sentence number" in panics[-1]["text"]
    after_panic = overlay.messages[stopped:]
    assert not any("Sentence number" in str(m) for m in after_panic)
