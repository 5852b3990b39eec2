"""Voice through a real `kagura serve`: speech streamed over a real WebSocket is heard by the
embedded silero VAD, Smart Turn and faster-whisper, and answered in piper's voice (the LLM is
the scripted fake). Private sessions (`/client-ws`) and the stage (`/proxy-ws`)."""

from __future__ import annotations

import base64
import functools
from typing import Any

import httpx
import numpy as np
import pytest

from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support import speech
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess
from tests.support.stage import CHAIN_START, StageClient, Watcher, user_messages

from .conftest import server_fixture

pytestmark = pytest.mark.embedded

ASKED = "Please tell me a story about a brave little dragon."
STOP = "Wait, stop talking please."
STORY = (
    "Once upon a time, a little dragon lived on a tall green hill. Every morning it watched "
    "the birds fly over the valley. One day it decided to follow them across the sea."
)
INTERRUPT = {"type": "control", "text": "interrupt"}
HEARD = {"type": "control", "text": "mic-audio-end"}


voiced = server_fixture(
    "voice",
    asr={"provider": "whisper"},
    tts={"provider": "piper"},
    stage={"batch_max": 1, "user_rate_per_min": 0, "dedup_window_s": 0},
    conversation={"playback_margin_s": 1.5},
    system={"log_level": "debug"},
)


@functools.cache
def spoken(sentence: str, voice: str = "piper") -> speech.Audio:
    """The sentence with 0.5 s of silence before and 1.5 s after (the microphone stays open)."""
    audio = speech.piper(sentence) if voice == "piper" else speech.espeak(sentence)
    return speech.padded(audio, 0.5, 1.5)


def transcriptions(seen: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in seen if m["type"] == "user-input-transcription"]


def reply_audio(seen: list[dict[str, Any]]) -> speech.Audio:
    """What the character said in these messages, as 16 kHz floats."""
    parts = [speech.read_wav(base64.b64decode(m["audio"])) for m in seen if _has_audio(m)]
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def _has_audio(message: dict[str, Any]) -> bool:
    return message["type"] == "audio" and bool(message["audio"])


async def test_streamed_speech_starts_a_turn_answered_with_audio(
    voiced: KaguraProcess, fake: FakeOpenAI
) -> None:
    """`raw-audio-data` floats at the microphone's pace: the server ends the turn itself,
    shows the transcript and answers it aloud; no `mic-audio-end` needed from the client."""
    fake.script = LLMScript(reply="Once upon a time, a dragon learned to fly.")
    async with ProtocolClient(voiced.ws_url) as client:
        await client.connect_sequence()
        await speech.stream(client, spoken(ASKED), binary=False)
        before = await client.recv_until("control", "mic-audio-end", timeout=30)
        turn = await client.collect_turn(timeout=60)
    assert not [m for m in before + turn if m["type"] == "error"]
    [text] = transcriptions(turn)
    assert speech.word_error_rate(ASKED, text) <= 0.1, text
    assert user_messages(fake.chat_requests())[-1] == text
    said = reply_audio(turn)
    assert said.size > speech.RATE and float(np.sqrt(np.mean(said**2))) > 0.01


async def test_json_floats_and_binary_pcm_give_the_same_transcript(voiced: KaguraProcess) -> None:
    # One clause: a comma's pause may end a turn ("Wait," is a whole sentence to Smart
    # Turn), and this test is about the two audio forms, not about where turns end.
    texts = []
    async with ProtocolClient(voiced.ws_url) as client:
        await client.connect_sequence()
        for binary in (False, True):
            await speech.stream(client, spoken(ASKED), binary=binary)
            await client.recv_until("control", "mic-audio-end", timeout=30)
            texts += transcriptions(await client.collect_turn(timeout=60))
    assert len(texts) == 2 and texts[0] == texts[1], texts
    assert speech.word_error_rate(ASKED, texts[0]) <= 0.25, texts


async def test_speech_over_a_reply_interrupts_it(voiced: KaguraProcess, fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply=STORY, tokens_per_s=20)
    async with ProtocolClient(voiced.ws_url) as client:
        await client.connect_sequence()
        await client.send({"type": "text-input", "text": "Tell me a story."})
        seen = await client.recv_until("audio", timeout=30)
        # The streamer (another voice than the character's) talks over the reply.
        await speech.stream(client, spoken(STOP, "espeak"))
        seen += await client.recv_until("control", "interrupt", timeout=30)
        heard = next(m["display_text"]["text"] for m in seen if _has_audio(m))
        await client.send({"type": "interrupt-signal", "text": heard})
        seen += await client.recv_until("control", "conversation-chain-end", timeout=30)
    assert seen.count(INTERRUPT) == 1


async def test_the_characters_own_voice_fed_back_does_not_interrupt(
    voiced: KaguraProcess, fake: FakeOpenAI
) -> None:
    """The reply's audio comes back into the microphone while it plays (quieter, 120 ms
    late, with room noise): neither an interruption nor a turn. The streamer speaking
    after it is heard as usual, and only they are."""
    fake.script = LLMScript(reply="The little dragon flew over the sea. It was a long way.")
    rng = np.random.default_rng(7)
    async with ProtocolClient(voiced.ws_url) as client:
        await client.connect_sequence()
        await client.send({"type": "text-input", "text": "Tell me about the dragon."})
        seen = await client.recv_until("backend-synth-complete", timeout=30)
        said = reply_audio(seen)
        echo = np.concatenate([speech.silence(0.12), 0.5 * said, speech.silence(1.0)])
        echo += rng.normal(0, 0.003, echo.size).astype(np.float32)
        await speech.stream(client, echo)  # while the page "plays" the reply
        await client.send({"type": "frontend-playback-complete"})
        seen += await client.recv_until("control", "conversation-chain-end", timeout=30)
        assert said.size > 2 * speech.RATE
        fake.script = LLMScript(reply="Sure.")
        await speech.stream(client, spoken(ASKED))
        after = await client.recv_until("control", "mic-audio-end", timeout=30)
        after += await client.collect_turn(timeout=60)
    assert INTERRUPT not in seen + after and HEARD not in seen
    [text] = transcriptions(after)
    assert speech.word_error_rate(ASKED, text) <= 0.1, text


async def test_garbage_audio_gets_a_clear_error_or_nothing(voiced: KaguraProcess) -> None:
    """Odd byte counts and NaN are refused by name; huge values and an hour of noise are
    heard and ignored; memory stays bounded and the session goes on."""
    pid = voiced.process.pid if voiced.process else 0
    async with ProtocolClient(voiced.ws_url) as client:
        await client.connect_sequence()
        await client.send_raw(b"\x01\x02\x03")
        odd = await client.recv_until("error", timeout=10)
        assert "even number of bytes" in odd[-1]["message"]
        await client.send_raw('{"type": "raw-audio-data", "audio": [0.1, NaN, 0.2]}')
        nan = await client.recv_until("error", timeout=10)
        assert "raw-audio-data" in nan[-1]["message"], nan[-1]
        await client.send({"type": "raw-audio-data", "audio": [1e30, -1e30] * 2048})
        noise = speech.to_pcm16(
            np.random.default_rng(1).normal(0, 0.3, 16000 * 10).astype(np.float32)
        )

        async def noise_then_turn(minutes: int) -> list[dict[str, Any]]:
            for _ in range(6 * minutes):  # in frames of ten seconds (the largest allowed)
                await client.send_raw(noise)
            # Still serving, and in order: a text turn after the noise is answered.
            return await client.turn("Are you still there?", timeout=60)

        # Measured after a warm-up: the first reply loads piper (~100 MB), and the allocator's
        # pools grow by some tens of MB over the first minutes of noise, then level off.
        await noise_then_turn(20)
        rss_before = _rss_mb(pid)
        turn = await noise_then_turn(40)
    grown = _rss_mb(pid) - rss_before
    errors = [m["message"] for m in turn if m["type"] == "error"]
    assert not [e for e in errors if "ASR" not in e], errors
    assert turn[-1] == {"type": "control", "text": "conversation-chain-end"}
    # Forty minutes of audio is 154 MB as floats, 77 MB as 16-bit PCM: kept, it would show.
    assert grown < 50, f"the server grew by {grown:.0f} MB"
    assert "Traceback" not in voiced.log_path.read_text("utf-8", "replace")


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no process {pid}")


async def test_the_streamers_voice_on_the_stage_goes_first_and_reaches_every_page(
    voiced: KaguraProcess, fake: FakeOpenAI
) -> None:
    """While the stage is paused, danmaku wait; the admin speaks; on resuming, the admin's
    words are answered first, and every page shows them."""
    fake.script = LLMScript(reply="Okay, got it.")
    async with httpx.AsyncClient(base_url=voiced.http_url) as http:
        assert (await http.post("/stage/pause", json={"paused": True})).status_code == 200
        async with (
            StageClient(voiced) as admin,
            StageClient(voiced, "page") as page,
            StageClient(voiced, "platform") as viewer,
        ):
            for client in (admin, page, viewer):
                await client.connect_sequence()
            async with Watcher(admin) as on_admin, Watcher(page) as on_page:
                await viewer.chat("hello from chat", user="Erin")
                await viewer.chat("what game is this?", user="Finn")
                await speech.stream(admin, spoken(ASKED), binary=True)
                await on_admin.wait_for(lambda m: m["type"] == "user-input-transcription")
                await http.post("/stage/pause", json={"paused": False})
                await on_page.wait_turns(3, timeout=60)
                await on_admin.wait_turns(3, timeout=60)
    [spoken_text] = transcriptions(on_admin.messages)[:1]
    assert speech.word_error_rate(ASKED, spoken_text) <= 0.1, spoken_text
    first, *rest = user_messages(fake.chat_requests())[-3:]
    assert first == spoken_text and all("Erin" in r or "Finn" in r for r in rest), rest
    # The page saw the streamer's words when the stage took them up, before the reply.
    page_seen = on_page.messages
    shown = page_seen.index({"type": "user-input-transcription", "text": spoken_text})
    assert (
        page_seen.index(CHAIN_START)
        < shown
        < next(i for i, m in enumerate(page_seen) if m["type"] == "audio")
    )
    assert not [m for m in page_seen if m["type"] == "error"]
