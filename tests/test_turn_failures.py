"""Every turn ends with conversation-chain-end, whatever the LLM or TTS does."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets

from kagura.testing.fake_openai import ASRScript, FakeOpenAI, LLMScript, TTSScript
from kagura.testing.ports import free_port
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess

from .conftest import fake_engines
from .test_client_ws import types


def errors(messages: list[dict]) -> list[str]:
    return [m["message"] for m in messages if m["type"] == "error"]


async def assert_session_still_works(client: ProtocolClient, fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply="All good again, thanks for waiting.")
    seen = await client.turn("Are you back?")
    assert [m for m in seen if m["type"] == "audio"], "the next turn should speak"
    assert not errors(seen)


@pytest.mark.parametrize(
    "failure", ["status_500", "hang_before_headers", "hang_after_first_chunk", "cut_mid_stream"]
)
async def test_llm_failures_end_the_turn_cleanly(
    kagura: KaguraProcess, fake: FakeOpenAI, failure: str
) -> None:
    fake.script = LLMScript(reply="Hello there, how are you doing today?", failure=failure)  # type: ignore[arg-type]
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        started = time.monotonic()
        seen = await client.turn("Hello?", timeout=15)
        elapsed = time.monotonic() - started
        assert types(seen)[0] == "control:conversation-chain-start"
        assert types(seen)[-3:] == [
            "backend-synth-complete",
            "force-new-message",
            "control:conversation-chain-end",
        ]
        assert len(errors(seen)) == 1 and "LLM" in errors(seen)[0]
        assert fake.base_url in errors(seen)[0] or "llm." in errors(seen)[0]
        # Deadlines are 2 s in the test config; nothing may wait much longer.
        assert elapsed < 10
        await assert_session_still_works(client, fake)


async def test_llm_unreachable_names_the_url(fake: FakeOpenAI, tmp_path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    config = fake_engines(fake, llm={"openai": {"base_url": dead}})
    with KaguraProcess(tmp_path, config) as server:
        async with ProtocolClient(server.ws_url) as client:
            await client.connect_sequence()
            seen = await client.turn("Anyone there?", timeout=15)
    assert types(seen)[-1] == "control:conversation-chain-end"
    [message] = errors(seen)
    assert dead in message and "cannot reach" in message


async def test_cut_stream_still_speaks_what_arrived(
    kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(
        reply="First sentence is complete. Second sentence gets cut somewhere in the middle.",
        failure="cut_mid_stream",
    )
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        seen = await client.turn("Tell me something.", timeout=15)
    audio = [m for m in seen if m["type"] == "audio"]
    assert audio and audio[0]["display_text"]["text"].startswith("First")
    assert errors(seen)


async def test_tts_failure_sends_display_only_segment(
    kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="This part is fine, really. This part breaks the voice. The end.")
    fake.tts_script = TTSScript(fail_inputs={"breaks"})
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        seen = await client.turn("Go on.")
    audio = [m for m in seen if m["type"] == "audio"]
    texts = [a["display_text"]["text"] for a in audio]
    assert texts == ["This part is fine,", " really.", " This part breaks the voice.", " The end."]
    assert [a["audio"] is None for a in audio] == [False, False, True, False]
    assert audio[2]["volumes"] == []
    [message] = errors(seen)
    assert "TTS" in message and fake.base_url in message
    assert types(seen)[-1] == "control:conversation-chain-end"


async def test_client_that_never_acks_does_not_stall(
    kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    """Without frontend-playback-complete the turn ends after the audio time plus the margin."""
    fake.script = LLMScript(reply="Short reply, then we are done.")
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        started = time.monotonic()
        seen = await client.turn("Hi", ack=False, timeout=20)
        elapsed = time.monotonic() - started
        audio_s = sum(len(m["volumes"]) * 0.02 for m in seen if m["type"] == "audio")
        assert types(seen)[-1] == "control:conversation-chain-end"
        # margin is 1 s in the test config
        assert audio_s + 0.5 < elapsed < audio_s + 8
        # And the session keeps working.
        await assert_session_still_works(client, fake)


async def test_ack_burst_and_early_ack(kagura: KaguraProcess, fake: FakeOpenAI) -> None:
    """An early ack counts; the rest of a burst does not leak into the next turn."""
    fake.script = LLMScript(reply="One more reply for you, friend.")
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        await client.send({"type": "text-input", "text": "first"})
        seen = await client.recv_until("backend-synth-complete")
        for _ in range(12):
            await client.send({"type": "frontend-playback-complete"})
        seen += await client.recv_until("control", "conversation-chain-end", timeout=5)
        assert types(seen)[-2:] == ["force-new-message", "control:conversation-chain-end"]
        # The next turn, never acknowledged, must wait for its own timeout, not end at once
        # because of leftover acknowledgements from the burst.
        started = time.monotonic()
        await client.turn("second", ack=False, timeout=20)
        assert time.monotonic() - started > 1.0


async def test_tts_server_sending_a_broken_wav(kagura: KaguraProcess, fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply="Hello there, my friend. How are you?")
    fake.tts_script = TTSScript(failure="bad_wav")
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        seen = await client.turn("Hi")
        assert [m["audio"] for m in seen if m["type"] == "audio"] == [None, None, None]
        assert all("bad WAV" in e for e in errors(seen)) and len(errors(seen)) == 3
        assert types(seen)[-3:] == [
            "backend-synth-complete",
            "force-new-message",
            "control:conversation-chain-end",
        ]
        fake.tts_script = TTSScript()
        await assert_session_still_works(client, fake)


async def test_asr_failure_ends_the_turn(kagura: KaguraProcess, fake: FakeOpenAI) -> None:
    fake.asr_script = ASRScript(failure="status_500")
    async with ProtocolClient(kagura.ws_url) as client:
        await client.connect_sequence()
        await client.send({"type": "mic-audio-data", "audio": [0.1] * 4096})
        await client.send({"type": "mic-audio-end"})
        seen = await client.collect_turn(timeout=15)
        [message] = errors(seen)
        assert message.startswith("ASR failed") and fake.base_url in message
        assert "audio" not in types(seen) and not fake.chat_requests()
        assert types(seen)[-3:] == [
            "backend-synth-complete",
            "force-new-message",
            "control:conversation-chain-end",
        ]
        await assert_session_still_works(client, fake)


async def test_a_client_that_stops_reading_is_disconnected(
    kagura: KaguraProcess, fake: FakeOpenAI
) -> None:
    """Audio for a client that never reads piles up; the server drops that client only."""
    # Sixty different sentences: a sentence said twice in one reply is spoken once.
    fake.script = LLMScript(
        reply=" ".join(f"Sentence {n} becomes ten seconds of audio." for n in range(60))
    )
    fake.tts_script = TTSScript(seconds_per_char=1.0)  # ~10 s, ~440 kB of WAV per segment
    # max_queue=1: the client library stops reading the socket once one message waits.
    stalled = await websockets.connect(kagura.ws_url, max_queue=1, max_size=2**25)
    try:
        await stalled.send(json.dumps({"type": "text-input", "text": "Talk a lot."}))
        # Never read: the server's outbox fills and it closes with 1013. Meanwhile another
        # client is served as usual.
        async with ProtocolClient(kagura.ws_url) as bystander:
            await bystander.connect_sequence()
            for _ in range(10):
                await bystander.send({"type": "heartbeat"})
                assert (await bystander.recv(5))["type"] == "heartbeat-ack"
                await asyncio.sleep(0.5)
        # Reading now drains what was buffered, then finds the close.
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(stalled.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    finally:
        await stalled.close()


async def test_a_turn_that_never_ends_is_stopped(fake: FakeOpenAI, tmp_path) -> None:
    """An LLM that keeps trickling tokens (each within the idle deadline) cannot hold a
    private session's turn past conversation.turn_timeout_s."""
    # The idle deadline well above the 1 s between tokens: a stalled second on a busy machine
    # must not end the stream before the turn's own deadline does.
    config = fake_engines(
        fake, conversation={"turn_timeout_s": 3}, llm={"stream_idle_timeout_s": 5}
    )
    fake.script = LLMScript(reply=" ".join(["word"] * 60), tokens_per_s=1)
    with KaguraProcess(tmp_path, config) as server:
        async with ProtocolClient(server.ws_url) as client:
            await client.connect_sequence()
            started = time.monotonic()
            seen = await client.turn("Talk forever.", timeout=30)
            elapsed = time.monotonic() - started
            assert types(seen)[-3:] == [
                "backend-synth-complete",
                "force-new-message",
                "control:conversation-chain-end",
            ]
            after = await client.recv(5)
    assert elapsed < 20  # the LLM alone would take a minute
    assert after["type"] == "error" and "conversation.turn_timeout_s" in after["message"]
