"""Hosted voices (Edge, ElevenLabs, Azure Speech) through real turns of a real server.

Each engine talks to `FakeCloudVoices` over TLS (its test CA in `ca_file`), which checks every
request as the service would and records it. Streaming, deadlines and keys are in
test_tts_cloud_engines.py.
"""

from __future__ import annotations

import base64
import io
import wave
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from kagura.testing.fake_cloud_voices import (
    AZURE_KEY,
    ELEVENLABS_KEY,
    FakeCloudVoices,
    VoiceScript,
)
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess

from .conftest import fake_engines
from .test_client_ws import types

PROVIDERS = ("edge", "elevenlabs", "azure")
SECONDS_PER_CHAR = VoiceScript().seconds_per_char
MP3_SLACK_S = 0.1  # LAME's encoder delay and last-frame padding, in Edge's audio
REPLY = "Tom & Jerry: is 1 < 2? Yes, it is!"


def cloud_tts(provider: str, voices: FakeCloudVoices, **settings: Any) -> dict[str, Any]:
    """`tts` settings pointing `provider` at the fake, trusting its certificate."""
    ca_file = str(voices.ca_file)
    own = {
        "edge": {"wss_url": voices.edge_url, "voice": "zh-CN-XiaoxiaoNeural", "rate": "+10%"},
        "elevenlabs": {
            "base_url": voices.elevenlabs_url,
            "api_key": ELEVENLABS_KEY,
            "voice_id": "pNInz6obpgDQGcFmaJgB",
            "speed": 1.1,
        },
        "azure": {
            "endpoint": voices.azure_url,
            "api_key": AZURE_KEY,
            "voice": "zh-CN-XiaoxiaoNeural",
            "style": "cheerful",
            "rate": 1.2,
        },
    }[provider]
    section = {**own, "ca_file": ca_file, **settings}
    return {"provider": provider, provider: section, "segment_timeout_s": 5}


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeCloudVoices]:
    with FakeCloudVoices(tmp_path_factory.mktemp("voices")) as fake_voices:
        yield fake_voices


@pytest.fixture(autouse=True)
def _reset_voices(request: pytest.FixtureRequest) -> None:
    if "voices" in request.fixturenames:
        request.getfixturevalue("voices").reset()


@pytest.fixture(scope="module")
def servers(
    fake: FakeOpenAI, voices: FakeCloudVoices, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, KaguraProcess]]:
    """One server per hosted voice, its LLM the module's fake; started side by side (most of
    this module's time is their start-up)."""
    processes = {
        provider: KaguraProcess(
            tmp_path_factory.mktemp(provider), fake_engines(fake, tts=cloud_tts(provider, voices))
        )
        for provider in PROVIDERS
    }
    with ThreadPoolExecutor(len(processes)) as pool:
        try:
            list(pool.map(KaguraProcess.start, processes.values()))
            yield processes
        finally:
            list(pool.map(KaguraProcess.stop, processes.values()))


@pytest.fixture(params=PROVIDERS)
def served(
    request: pytest.FixtureRequest, servers: dict[str, KaguraProcess]
) -> tuple[str, KaguraProcess]:
    return request.param, servers[request.param]


def errors(messages: list[dict[str, Any]]) -> list[str]:
    return [m["message"] for m in messages if m["type"] == "error"]


def duration_s(payload: dict[str, Any]) -> float:
    with wave.open(io.BytesIO(base64.b64decode(payload["audio"]))) as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        return wav.getnframes() / wav.getframerate()


EXPECTED_FIELDS: dict[str, dict[str, Any]] = {
    "edge": {
        "voice": "Microsoft Server Speech Text to Speech Voice (zh-CN, XiaoxiaoNeural)",
        "prosody": {"pitch": "+0Hz", "rate": "+10%", "volume": "+0%"},
    },
    "elevenlabs": {
        "voice_id": "pNInz6obpgDQGcFmaJgB",
        "model_id": "eleven_flash_v2_5",
        "output_format": "pcm_24000",
        "voice_settings": {
            "stability": 0.5,
            "similarity_boost": 0.75,
            "style": 0.0,
            "use_speaker_boost": True,
            "speed": 1.1,
        },
    },
    "azure": {
        "voice": "zh-CN-XiaoxiaoNeural",
        "lang": "zh-CN",
        "style": "cheerful",
        "prosody": {"rate": "+20%", "pitch": "+0%"},
        "output_format": "raw-24khz-16bit-mono-pcm",
    },
}


async def test_reply_is_spoken_by_the_hosted_voice(
    served: tuple[str, KaguraProcess], fake: FakeOpenAI, voices: FakeCloudVoices
) -> None:
    provider, server = served
    fake.script = LLMScript(reply=REPLY)
    async with ProtocolClient(server.ws_url) as client:
        await client.connect_sequence()
        seen = await client.turn("Say something with symbols.")
    assert not errors(seen) and types(seen)[-1] == "control:conversation-chain-end"
    audio = [m for m in seen if m["type"] == "audio"]
    # Streamed: a segment's first piece carries its text, the pieces after it only audio.
    segments: list[tuple[str, float]] = []
    for payload in audio:
        if payload["display_text"] is not None:
            segments.append((payload["display_text"]["text"], duration_s(payload)))
        else:
            text, before = segments[-1]
            segments[-1] = (text, before + duration_s(payload))
    assert "".join(text for text, _ in segments) == REPLY
    requests = voices.recorded(provider)  # type: ignore[arg-type]
    assert voices.read(lambda: list(voices.problems)) == []
    # The text reached the service as written, `&` and `<` included, once per segment.
    assert sorted(r.text.strip() for r in requests) == sorted(
        text.strip() for text, _ in segments
    )
    for request in requests:
        assert request.key_ok and request.fields == EXPECTED_FIELDS[provider]
    spoken = {r.text.strip(): max(0.3, SECONDS_PER_CHAR * len(r.text)) for r in requests}
    slack = MP3_SLACK_S if provider == "edge" else 0.001
    for text, seconds in segments:
        expected = spoken[text.strip()]
        assert expected - 0.001 <= seconds <= expected + slack


FAILURES = {
    "unauthorized": {"edge": "refused the connection (HTTP 403)", "other": "check the key"},
    "status_500": {"edge": "answered HTTP 500", "other": "answered HTTP 500"},
    "garbage": {"edge": "does not decode", "other": "text/html"},
}


@pytest.mark.parametrize("mode", list(FAILURES))
async def test_a_failing_service_is_an_error_and_the_turn_ends(
    served: tuple[str, KaguraProcess],
    fake: FakeOpenAI,
    voices: FakeCloudVoices,
    mode: str,
) -> None:
    provider, server = served
    voices.reset(VoiceScript(mode=mode))  # type: ignore[arg-type]
    fake.script = LLMScript(reply="One sentence. And another one.")
    async with ProtocolClient(server.ws_url) as client:
        await client.connect_sequence()
        seen = await client.turn("Hello?", timeout=20)
    assert types(seen)[-1] == "control:conversation-chain-end"
    audio = [m for m in seen if m["type"] == "audio"]
    assert audio and all(a["audio"] is None for a in audio)  # the text is still shown
    problems = errors(seen)
    assert len(problems) == len(audio)
    url = {"edge": voices.edge_url, "elevenlabs": voices.elevenlabs_url}.get(
        provider, voices.azure_url
    )
    wanted = FAILURES[mode]["edge" if provider == "edge" else "other"]
    for message in problems:
        assert url in message and wanted in message, message
        assert ELEVENLABS_KEY not in message and AZURE_KEY not in message
    if provider == "edge" and mode == "unauthorized":
        # edge-tts corrects its clock from the 403's Date and tries once more, as for Bing.
        assert voices.read(lambda: voices.edge_connects) == 2 * len(audio)


async def test_keys_never_reach_the_log(
    served: tuple[str, KaguraProcess], fake: FakeOpenAI, voices: FakeCloudVoices
) -> None:
    provider, server = served
    if provider == "edge":
        pytest.skip("Edge's voices take no key")
    voices.reset(VoiceScript(mode="unauthorized"))
    fake.script = LLMScript(reply="Is my key safe?")
    async with ProtocolClient(server.ws_url) as client:
        await client.connect_sequence()
        seen = await client.turn("Hello?")
    [message] = errors(seen)
    assert "check the key" in message and f"tts.{provider}.api_key" in message
    log = server.whole_log()
    assert "TTS ready" in log
    for key in (ELEVENLABS_KEY, AZURE_KEY):
        assert key not in log and key not in str(seen)


async def test_an_unreachable_service_is_named_and_the_turn_ends(
    served: tuple[str, KaguraProcess], fake: FakeOpenAI, voices: FakeCloudVoices
) -> None:
    provider, server = served
    url = {"edge": voices.edge_url, "elevenlabs": voices.elevenlabs_url}.get(
        provider, voices.azure_url
    )
    fake.script = LLMScript(reply="Can you hear me?")
    async with ProtocolClient(server.ws_url) as client:
        await client.connect_sequence()
        voices.go_offline()
        try:
            seen = await client.turn("Hello?", timeout=20)
        finally:
            voices.come_back()
        assert types(seen)[-1] == "control:conversation-chain-end"
        [message] = errors(seen)
        assert url in message and "cannot reach" in message and f"tts.{provider}" in message
        # Back online, the next turn speaks again.
        seen = await client.turn("And now?")
        assert not errors(seen) and all(m["audio"] for m in seen if m["type"] == "audio")
