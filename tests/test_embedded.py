"""End to end on the real embedded engines: SmolLM2, piper, faster-whisper and silero VAD."""

from __future__ import annotations

import base64
import io
import re
import wave
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests.support import speech
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess
from tests.support.wait import until

from .conftest import REPO
from .test_client_ws import types
from .web_browser import PageRecorder

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KaguraProcess]:
    overrides = {
        "system": {"characters_dir": str(REPO / "characters")},
        "conversation": {"playback_margin_s": 1.0},
        # A ~1k-token prompt takes SmolLM2 a few seconds to read here (5 s seen on an idle
        # 2-core machine); sharing those cores can make that several times longer.
        "llm": {"first_token_timeout_s": 60, "smollm2": {"temperature": 0}},
    }
    # Temperature 0: SmolLM2 picks the likeliest token, so a question gets the same reply.
    with KaguraProcess(tmp_path_factory.mktemp("embedded"), overrides) as server:
        yield server


@pytest.fixture(scope="module")
def multilingual(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KaguraProcess]:
    """The embedded engine without its demo tuning, as for a multilingual GGUF in
    `llm.smollm2.model_path`: Chinese reaches the model instead of the English-only line."""
    overrides = {
        "tts": {"provider": "espeak"},
        "llm": {"first_token_timeout_s": 60, "smollm2": {"demo_tuning": False}},
    }
    with KaguraProcess(tmp_path_factory.mktemp("multilingual"), overrides) as server:
        yield server


def spoken(text: str, pad_s: float = 0.0) -> speech.Audio:
    """Real speech for ASR/VAD input (espeak-ng), with `pad_s` of silence either side."""
    return speech.padded(speech.espeak(text), pad_s, pad_s)


async def test_the_port_opens_first_and_speech_recognition_waits_for_a_speaker(
    embedded: KaguraProcess,
) -> None:
    """The LLM and TTS load behind an open port, with progress lines; Whisper and silero
    are not loaded until someone speaks (the first test of this module: nobody has)."""
    await until(lambda: "engines ready" in embedded.whole_log(), 60, "the engines to load")
    log = embedded.whole_log()
    assert log.index("Application startup complete") < log.index("engines ready")
    assert "LLM ready in" in log and "TTS ready in" in log
    assert "loading Whisper" not in log and "voice activity detector" not in log


async def test_embedded_turn_speaks(embedded: KaguraProcess) -> None:
    async with ProtocolClient(embedded.ws_url) as client:
        await client.connect_sequence()
        seen = await client.turn("Hello! Please tell me about your favourite food.", timeout=120)
        await client.send({"type": "fetch-history-list"})
        listing = (await client.recv_until("history-list"))[-1]["histories"]
    assert types(seen)[0] == "control:conversation-chain-start"
    assert types(seen)[-1] == "control:conversation-chain-end"
    assert not [m for m in seen if m["type"] == "error"]
    audio = [m for m in seen if m["type"] == "audio"]
    assert audio, "SmolLM2 should have said something"
    for payload in audio:
        if payload["audio"] is None:
            continue
        with wave.open(io.BytesIO(base64.b64decode(payload["audio"]))) as wav:
            assert wav.getframerate() == 22050
            samples = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.float32)
        assert np.sqrt(np.mean(samples**2)) > 300, "speech must not be silent"
        # One point per slice of the whole clip. Even a lone "uh" is 12+ slices with 8+
        # levels (and RMS over 2000): a one-word segment passes as well as a long one.
        volumes = payload["volumes"]
        assert len(volumes) == samples.size // (22050 * payload["slice_length"] // 1000)
        assert max(volumes) == 1.0
        assert len({round(v, 2) for v in volumes}) > 5, "lip sync needs a moving curve"
    # Segments arrive in the order the LLM wrote them: together they are the stored reply.
    stored = listing[0]["latest_message"]["content"]
    joined = "".join(a["display_text"]["text"] for a in audio)
    assert re.sub(r"\s+", " ", joined) == re.sub(r"\s+", " ", stored)


async def test_embedded_voice_input(embedded: KaguraProcess) -> None:
    """Speech in (faster-whisper), speech out (SmolLM2 + piper)."""
    audio = spoken("What is the weather like today?")
    async with ProtocolClient(embedded.ws_url) as client:
        await client.connect_sequence()
        await speech.send_floats(client, audio)
        await client.send({"type": "mic-audio-end"})
        seen = await client.collect_turn(timeout=120)
    [transcription] = [m["text"] for m in seen if m["type"] == "user-input-transcription"]
    assert "weather" in transcription.lower()
    assert any(m["type"] == "audio" and m["audio"] for m in seen)
    assert "loading Whisper for its first use" in embedded.whole_log()


async def test_embedded_server_side_vad(embedded: KaguraProcess) -> None:
    """raw-audio-data: silero finds the end of speech; the segment becomes the mic buffer."""
    audio = spoken("Good morning, how are you?", pad_s=1.0)
    async with ProtocolClient(embedded.ws_url) as client:
        await client.connect_sequence()
        await speech.send_floats(client, audio, "raw-audio-data")
        seen = await client.recv_until("control", "mic-audio-end", timeout=30)
        assert seen[-1] == {"type": "control", "text": "mic-audio-end"}
        await client.send({"type": "mic-audio-end"})
        turn = await client.collect_turn(timeout=120)
    [transcription] = [m["text"] for m in turn if m["type"] == "user-input-transcription"]
    assert "morning" in transcription.lower()
    assert "loading the silero voice activity detector for its first use" in embedded.whole_log()


async def test_embedded_speech_during_a_reply_interrupts(embedded: KaguraProcess) -> None:
    """The streamer talks over the character: server-side VAD asks the page to interrupt."""
    stop = spoken("Wait, stop talking please.", pad_s=0.3)
    async with ProtocolClient(embedded.ws_url) as client:
        await client.connect_sequence()
        await client.send({"type": "text-input", "text": "Tell me a long story about a cat."})
        await client.recv_until("control", "conversation-chain-start", timeout=30)
        await speech.send_floats(client, stop, "raw-audio-data")
        seen = await client.recv_until("control", "interrupt", timeout=30)
        assert seen[-1] == {"type": "control", "text": "interrupt"}
        heard = next((m["display_text"]["text"] for m in seen if m["type"] == "audio"), "")
        await client.send({"type": "interrupt-signal", "text": heard})
        await client.recv_until("control", "conversation-chain-end", timeout=30)


@pytest.mark.timeout(6 * 120 + 60)  # six turns, each allowed its own 120 s
async def test_embedded_long_chinese_conversation_fits_the_context(
    multilingual: KaguraProcess,
) -> None:
    """CJK text takes about twice the estimated tokens; the prompt must still fit n_ctx."""
    line = "今天我们聊一聊天气、食物、音乐和旅行，你最喜欢哪一个？" * 8  # ~230 characters
    async with ProtocolClient(multilingual.ws_url) as client:
        await client.connect_sequence()
        for _ in range(6):
            seen = await client.turn(line, timeout=120)
            llm_errors = [
                m["message"] for m in seen if m["type"] == "error" and "LLM" in m["message"]
            ]
            assert not llm_errors, llm_errors


def reply_text(seen: list[dict[str, Any]]) -> str:
    """The reply as a page shows it: the text of its audio messages."""
    return "".join(m["display_text"]["text"] for m in seen if m["type"] == "audio").strip()


async def test_embedded_reply_is_short_with_no_links_or_handles(embedded: KaguraProcess) -> None:
    """The demo tuning: a viewer's question gets one to three sentences and nothing made up
    to click or follow; at temperature 0, the same reply in a fresh session."""
    replies = []
    for _ in range(2):
        async with ProtocolClient(embedded.ws_url) as client:
            await client.connect_sequence()
            seen = await client.turn("What game should we play on stream?", timeout=120)
        replies.append(reply_text(seen))
    reply = replies[0]
    assert reply, "SmolLM2 should have answered"
    assert not re.search(r"https?://|www\.|\.(com|tv)\b|(?<!\w)[@#]\w", reply), reply
    assert 1 <= len([s for s in re.split(r"[.!?]+", reply) if s.strip()]) <= 3, reply
    assert replies[1] == reply


async def test_embedded_model_answers_chinese_in_english(embedded: KaguraProcess) -> None:
    """SmolLM2 speaks only English: it says so, and names what was asked."""
    async with ProtocolClient(embedded.ws_url) as client:
        await client.connect_sequence()
        seen = await client.turn("我们今天玩什么游戏？", timeout=120)
    reply = reply_text(seen)
    assert "only speak English" in reply and "games" in reply, reply


async def test_embedded_model_ignores_images_it_cannot_see(embedded: KaguraProcess) -> None:
    from .test_client_ws import PIXEL

    image = {"source": "upload", "data": PIXEL, "mime_type": "image/png"}
    async with ProtocolClient(embedded.ws_url) as client:
        await client.connect_sequence()
        await client.send({"type": "text-input", "text": "Hello there!", "images": [image]})
        seen = await client.collect_turn(timeout=120)
    assert not [m for m in seen if m["type"] == "error"]
    assert any(m["type"] == "audio" and m["audio"] for m in seen)


def test_the_stage_page_says_the_embedded_llm_is_a_demo(
    embedded: KaguraProcess, pages: PageRecorder
) -> None:
    """A new user learns what the default model is from the page, not from a bad reply."""
    page, _ = pages.open(f"{embedded.http_url}/stage")
    page.wait_for_selector("#llm-notice:not([hidden])", timeout=15_000)
    notice = page.locator("#llm-notice").inner_text()
    assert "demo model" in notice and "kagura config init --llm ollama" in notice
