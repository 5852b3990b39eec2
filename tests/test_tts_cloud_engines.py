"""The hosted voices' engines in this process, against `FakeCloudVoices` over TLS: streaming
before the service has finished, deadlines, keys, certificates and what viewers type.

Server turns with these engines are in test_tts_cloud.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import edge_tts.communicate
import edge_tts.constants
import pytest
from pydantic import ValidationError

from kagura.audio import Speech
from kagura.config import EdgeConfig, TTSConfig
from kagura.engines import tts
from kagura.engines.errors import EngineError
from kagura.engines.tts.ssml import azure_ssml
from kagura.testing import cloud_voice_wire as wire
from kagura.testing.fake_cloud_voices import (
    AZURE_KEY,
    ELEVENLABS_KEY,
    FakeCloudVoices,
    VoiceScript,
)
from kagura.testing.ports import free_port

from .test_tts_cloud import PROVIDERS, cloud_tts

SENTENCE = "A sentence long enough to stream in several pieces, one after another."
PIECE_TIMEOUT_S = 5.0


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeCloudVoices]:
    with FakeCloudVoices(tmp_path_factory.mktemp("voices")) as fake_voices:
        yield fake_voices


@pytest.fixture(autouse=True)
def _reset_voices(voices: FakeCloudVoices) -> None:
    voices.reset()


def engine_for(provider: str, voices: FakeCloudVoices, **settings: Any) -> tts.TTSEngine:
    section = cloud_tts(provider, voices, **settings)
    timeout = section.pop("segment_timeout_s")
    return tts.create(TTSConfig(**section, segment_timeout_s=timeout))


async def next_piece(pieces: AsyncIterator[Speech]) -> Speech:
    return await asyncio.wait_for(anext(pieces), PIECE_TIMEOUT_S)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_pieces_play_before_the_service_has_finished(
    voices: FakeCloudVoices, provider: str
) -> None:
    voices.reset(VoiceScript(hold=True))
    engine = engine_for(provider, voices)
    assert isinstance(engine, tts.StreamingTTS)
    await engine.load()
    pieces = engine.stream(SENTENCE)
    try:
        first = [await next_piece(pieces), await next_piece(pieces)]
        # Two pieces are here while the service still holds the second half of the audio.
        assert voices.counts() == (1, 0)
        voices.release()
        rest = [piece async for piece in pieces]
    finally:
        await engine.aclose()
    assert voices.counts() == (0, 1)
    heard = sum(p.duration_s for p in first + rest)
    expected = VoiceScript().seconds_per_char * len(SENTENCE)
    assert expected <= heard <= expected + 0.1
    assert {p.sample_rate for p in first + rest} == {24000}


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_silent_service_is_an_error_within_the_deadline(
    voices: FakeCloudVoices, provider: str
) -> None:
    voices.reset(VoiceScript(mode="hang"))
    engine_config = TTSConfig(**{**cloud_tts(provider, voices), "segment_timeout_s": 1})
    engine = tts.create(engine_config)
    started = time.monotonic()
    try:
        with pytest.raises(EngineError, match="sent nothing for 1 s"):
            await engine.synthesize("Anyone there?")
    finally:
        await engine.aclose()
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("provider", ["elevenlabs", "azure"])
async def test_an_unreachable_service_is_named(voices: FakeCloudVoices, provider: str) -> None:
    dead = f"https://127.0.0.1:{free_port()}"
    where = {
        "elevenlabs": {"base_url": dead},
        "azure": {"endpoint": f"{dead}/cognitiveservices/v1"},
    }
    engine = engine_for(provider, voices, **where[provider])
    try:
        with pytest.raises(EngineError) as failure:
            await engine.synthesize("Hello?")
    finally:
        await engine.aclose()
    message = str(failure.value)
    assert dead in message and "connection refused" in message and f"tts.{provider}" in message


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_certificate_not_trusted_is_said(voices: FakeCloudVoices, provider: str) -> None:
    engine = engine_for(provider, voices, ca_file="")
    try:
        await engine.load()
        with pytest.raises(EngineError, match="TLS certificate is not trusted"):
            await engine.synthesize("Hello?")
    finally:
        await engine.aclose()
    assert voices.recorded(provider) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_an_unreadable_ca_file_is_said_at_load_not_at_construction(
    voices: FakeCloudVoices, provider: str, tmp_path: Path
) -> None:
    missing = str(tmp_path / "no-such-ca.pem")
    engine = engine_for(provider, voices, ca_file=missing)  # the server still starts
    said = f"cannot read the CA file .*tts.{provider}.ca_file"
    try:
        with pytest.raises(EngineError, match=said):
            await engine.load()
        with pytest.raises(EngineError, match=said):
            await engine.synthesize("Hello?")
    finally:
        await engine.aclose()


@pytest.mark.parametrize(
    ("provider", "env", "key"),
    [
        ("elevenlabs", "ELEVENLABS_API_KEY", ELEVENLABS_KEY),
        ("azure", "AZURE_SPEECH_KEY", AZURE_KEY),
    ],
)
async def test_the_key_comes_from_the_environment(
    voices: FakeCloudVoices, monkeypatch: pytest.MonkeyPatch, provider: str, env: str, key: str
) -> None:
    monkeypatch.delenv(env, raising=False)
    keyless = engine_for(provider, voices, api_key="")
    with pytest.raises(EngineError, match=f"set tts.{provider}.api_key or the {env} variable"):
        await keyless.load()
    await keyless.aclose()
    monkeypatch.setenv(env, key)
    engine = engine_for(provider, voices, api_key="")
    try:
        await engine.load()
        speech = await engine.synthesize("From the environment.")
    finally:
        await engine.aclose()
    assert speech.duration_s > 0.5
    [request] = voices.recorded(provider)  # type: ignore[arg-type]
    assert request.key_ok


async def test_keys_never_reach_a_log(
    voices: FakeCloudVoices, caplog: pytest.LogCaptureFixture
) -> None:
    """Every library's debug output included: what a user sees with logging turned up."""
    caplog.set_level(logging.DEBUG)
    messages = []
    for mode in ("ok", "unauthorized", "status_500", "garbage"):
        voices.reset(VoiceScript(mode=mode))  # type: ignore[arg-type]
        for provider in ("elevenlabs", "azure"):
            engine = engine_for(provider, voices)
            try:
                await engine.synthesize("Keep my key to yourself.")
            except EngineError as exc:
                messages.append(str(exc))
            finally:
                await engine.aclose()
    assert len(messages) == 6 and "127.0.0.1" in caplog.text  # the requests were logged
    for key in (ELEVENLABS_KEY, AZURE_KEY):
        assert key not in caplog.text and not any(key in m for m in messages)


async def test_what_viewers_type_cannot_break_the_ssml(voices: FakeCloudVoices) -> None:
    typed = 'a < b && c > d ]]> "quoted" \'too\' <voice name="x">hi</voice> &amp; \x00\x0b end'
    engine = engine_for("azure", voices)
    try:
        await engine.synthesize(typed)
    finally:
        await engine.aclose()
    assert voices.read(lambda: list(voices.problems)) == []
    [request] = voices.recorded("azure")
    # Said as written: markup stays text, control characters (not XML) become spaces.
    assert request.text == typed.replace("\x00", " ").replace("\x0b", " ")


def test_ssml_names_the_voice_its_language_style_and_prosody() -> None:
    document = azure_ssml("你好 & <hi>", voice="zh-CN-XiaoxiaoNeural", style="", pitch=-10)
    parsed = wire.parse_ssml(document)
    assert (parsed.voice, parsed.lang, parsed.style) == ("zh-CN-XiaoxiaoNeural", "zh-CN", None)
    assert parsed.prosody == {"rate": "+0%", "pitch": "-10%"} and parsed.text == "你好 & <hi>"


async def test_edge_is_left_alone_unless_told_otherwise(voices: FakeCloudVoices) -> None:
    """The default settings are edge-tts's own; a fake's URL and CA are put back on close."""
    assert edge_tts.constants.WSS_URL.split("?")[0] == EdgeConfig.DEFAULT_WSS_URL
    original = (edge_tts.communicate.WSS_URL, edge_tts.communicate._SSL_CTX)
    plain = tts.create(TTSConfig(provider="edge"))
    await plain.load()
    assert original == (edge_tts.communicate.WSS_URL, edge_tts.communicate._SSL_CTX)
    engine = engine_for("edge", voices)
    await engine.load()
    assert edge_tts.communicate.WSS_URL.startswith(voices.edge_url + "?TrustedClientToken=")
    assert edge_tts.communicate._SSL_CTX is not original[1]
    await engine.aclose()
    await plain.aclose()
    assert original == (edge_tts.communicate.WSS_URL, edge_tts.communicate._SSL_CTX)


def test_edge_settings_are_checked_as_edge_tts_would() -> None:
    for field, value in (("voice", "Xiaoxiao"), ("rate", "10%"), ("pitch", "+5%")):
        with pytest.raises(ValidationError, match=field):
            EdgeConfig(**{field: value})
