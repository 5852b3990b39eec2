"""Every turn ends with conversation-chain-end, whatever the LLM or TTS does."""

from __future__ import annotations

import time

import pytest

from kagura.testing.client import ProtocolClient
from kagura.testing.fake_openai import FakeOpenAI, LLMScript, TTSScript
from kagura.testing.server import KaguraProcess, free_port

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
    assert texts == ["This part is fine,", "really.", "This part breaks the voice.", "The end."]
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
