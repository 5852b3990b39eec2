"""The voice-server engines (GPT-SoVITS, CosyVoice, Fish Speech / Fish Audio) against fakes
that speak their real wire formats: real turns of a real server, streamed pieces, and every
failure said with the server's URL, never played as silence."""

from __future__ import annotations

import asyncio
import base64
import io
import subprocess
import sys
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kagura.audio import Speech
from kagura.config import TTSConfig
from kagura.engines import tts
from kagura.engines.errors import EngineError
from kagura.engines.tts.fish_speech import HOSTED_HOST
from kagura.engines.tts.voice_server import Server
from kagura.testing.connect_proxy import ConnectProxy
from kagura.testing.fake_guard import FakeGuard, GuardScript
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from kagura.testing.fake_voices import (
    COSYVOICE_SFT_PATH,
    COSYVOICE_ZERO_SHOT_PATH,
    FISH_PATH,
    GPT_SOVITS_PATH,
    FakeVoices,
    VoiceScript,
)
from kagura.testing.openai_wire import tone_pcm, wav_bytes
from kagura.testing.ports import free_port
from kagura.testing.tls import Certificates
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess

from .conftest import fake_engines
from .guard_helpers import QWEN

PROVIDERS = ("gpt_sovits", "cosyvoice", "fish_speech")
PATHS = {
    "gpt_sovits": GPT_SOVITS_PATH,
    "cosyvoice": COSYVOICE_ZERO_SHOT_PATH,
    "fish_speech": FISH_PATH,
}
RATES = {"gpt_sovits": 32000, "cosyvoice": 24000, "fish_speech": 44100}
FISH_KEY = "fish-secret-key-0451"
REPLY = "Hello there my friend. How are you today?"
SECONDS_PER_CHAR = 0.06


@pytest.fixture(scope="module")
def voices() -> Iterator[FakeVoices]:
    with FakeVoices(fish_key=FISH_KEY) as fake:
        yield fake


@pytest.fixture(autouse=True)
def _reset_voices(voices: FakeVoices) -> None:
    voices.script = VoiceScript()
    voices.clear()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CosyVoice's zero_shot reference clip: a real WAV file."""
    path = tmp_path_factory.mktemp("clip") / "prompt.wav"
    path.write_bytes(wav_bytes(tone_pcm(16000, 16000), 16000))
    return path


def settings(provider: str, base_url: str, clip: Path) -> dict[str, Any]:
    """`tts` settings that make each engine's request valid for the fake."""
    sections: dict[str, dict[str, Any]] = {
        "gpt_sovits": {
            "ref_audio_path": "refs/mira.wav",
            "prompt_text": "你好呀",
            "text_lang": "en",
        },
        "cosyvoice": {
            "prompt_wav_path": str(clip),
            "prompt_text": "希望你以后能够做的比我还好呦。",
        },
        "fish_speech": {"api_key": FISH_KEY, "reference_id": "mira-voice"},
    }
    return {"provider": provider, provider: {"base_url": base_url, **sections[provider]}}


def engine(
    provider: str, base_url: str, clip: Path, section: dict[str, Any] | None = None, **extra: Any
) -> Any:
    """The engine, with `section` laid over its settings and `extra` over `tts`."""
    config = settings(provider, base_url, clip)
    config[provider] |= section or {}
    return tts.create(TTSConfig.model_validate({**config, **extra}))


def expected_s(text: str) -> float:
    return min(10.0, max(0.2, SECONDS_PER_CHAR * len(text)))


def wav_seconds(audio: str) -> float:
    with wave.open(io.BytesIO(base64.b64decode(audio))) as source:
        return source.getnframes() / source.getframerate()


def errors(messages: list[dict[str, Any]]) -> list[str]:
    return [m["message"] for m in messages if m["type"] == "error"]


# --- a real turn ----------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_turn_speaks_through_the_voice_server(
    provider: str, voices: FakeVoices, fake: FakeOpenAI, clip: Path, tmp_path: Path
) -> None:
    config = fake_engines(fake, tts=settings(provider, voices.base_url, clip))
    fake.script = LLMScript(reply=REPLY)
    with KaguraProcess(tmp_path, config) as server:
        async with ProtocolClient(server.ws_url) as client:
            await client.connect_sequence()
            seen = await client.turn("Hi!", timeout=20)
        log = server.whole_log()
    assert not errors(seen), errors(seen)
    assert FISH_KEY not in log  # the key reached the fake (checked below), never the log
    audio = [m for m in seen if m["type"] == "audio"]
    assert all(a["audio"] and a["volumes"] for a in audio)
    # A voice that streams: each segment's first piece carries its text, the pieces after it
    # (display_text null) only more of its audio, played right after.
    segments: list[list[dict[str, Any]]] = []
    for message in audio:
        if message["display_text"] is not None:
            segments.append([message])
        else:
            assert segments and message["actions"] is None
            segments[-1].append(message)
    assert [parts[0]["display_text"]["text"].strip() for parts in segments] == [
        "Hello there my friend.",
        "How are you today?",
    ]
    assert len(audio) > len(segments)  # played as it came, not after the whole sentence
    bodies = voices.bodies(PATHS[provider])
    texts = [b.get("text") or b.get("tts_text") for b in bodies]
    assert [t.strip() for t in texts] == ["Hello there my friend.", "How are you today?"]
    for parts, text in zip(segments, texts, strict=True):
        seconds = sum(wav_seconds(part["audio"]) for part in parts)
        assert seconds == pytest.approx(expected_s(text), abs=0.01)
    body = bodies[0]
    if provider == "gpt_sovits":
        assert body["ref_audio_path"] == "refs/mira.wav" and body["prompt_text"] == "你好呀"
        assert (body["text_lang"], body["prompt_lang"], body["media_type"]) == ("en", "zh", "wav")
        assert body["streaming_mode"] is True and body["text_split_method"] == "cut5"
        assert (body["top_k"], body["top_p"], body["speed_factor"]) == (15, 1.0, 1.0)
    elif provider == "cosyvoice":
        assert body["prompt_text"] == "希望你以后能够做的比我还好呦。"
        assert body["prompt_wav_size"] == clip.stat().st_size
    else:
        assert (body["reference_id"], body["format"], body["streaming"]) == (
            "mira-voice",
            "wav",
            True,
        )
        headers = voices.requests[0].headers
        assert headers["authorization"] == f"Bearer {FISH_KEY}" and "model" not in headers


async def test_an_unreachable_voice_server_is_named_and_the_turn_ends(
    fake: FakeOpenAI, clip: Path, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    config = fake_engines(fake, tts=settings("gpt_sovits", dead, clip))
    fake.script = LLMScript(reply="Is anyone listening?")
    with KaguraProcess(tmp_path, config) as server:
        async with ProtocolClient(server.ws_url) as client:
            await client.connect_sequence()
            seen = await client.turn("Hello?", timeout=20)
    [message] = errors(seen)
    assert dead in message and "cannot reach" in message and "tts.gpt_sovits.base_url" in message
    assert [m["audio"] for m in seen if m["type"] == "audio"] == [None]
    assert seen[-1] == {"type": "control", "text": "conversation-chain-end"}


# --- streaming ------------------------------------------------------------------------------


async def take(pieces: AsyncIterator[Speech], count: int) -> list[Speech]:
    return [await asyncio.wait_for(anext(pieces), 5) for _ in range(count)]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_pieces_arrive_while_the_server_is_still_sending(
    provider: str, voices: FakeVoices, clip: Path
) -> None:
    voices.script = VoiceScript(hold_after=2, chunk_s=0.2)
    text = "A sentence long enough for several chunks of audio."  # 3.06 s
    voice = engine(provider, voices.base_url, clip)
    pieces = voice.stream(text)
    try:
        first = await take(pieces, 2)  # the fake holds the rest: these came while it waits
        assert voices.finished == 0
        voices.release()
        rest = [piece async for piece in pieces]
    finally:
        await pieces.aclose()
        await voice.aclose()
    assert {p.sample_rate for p in first + rest} == {RATES[provider]}
    assert sum(p.duration_s for p in first + rest) == pytest.approx(expected_s(text), abs=0.01)
    assert voices.finished == 1


async def test_synthesize_is_the_stream_collected(voices: FakeVoices, clip: Path) -> None:
    voice = engine("fish_speech", voices.base_url, clip)
    try:
        speech = await voice.synthesize("Twelve chars")
    finally:
        await voice.aclose()
    assert speech.sample_rate == 44100
    assert speech.duration_s == pytest.approx(expected_s("Twelve chars"), abs=0.01)


@pytest.mark.parametrize("streaming", [False, True])
async def test_gpt_sovits_whole_and_streamed_wavs(
    streaming: bool, voices: FakeVoices, clip: Path
) -> None:
    voice = engine("gpt_sovits", voices.base_url, clip, {"streaming_mode": streaming})
    try:
        speech = await voice.synthesize("Either way it is a WAV.")
    finally:
        await voice.aclose()
    assert (
        speech.sample_rate == 32000
        and voices.bodies(GPT_SOVITS_PATH)[0]["streaming_mode"] is streaming
    )
    assert speech.duration_s == pytest.approx(expected_s("Either way it is a WAV."), abs=0.01)


# --- failures -------------------------------------------------------------------------------


async def failure_of(voice: Any, text: str = "This will not work out.") -> str:
    try:
        with pytest.raises(EngineError) as raised:
            await voice.synthesize(text)
    finally:
        await voice.aclose()
    return str(raised.value)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    ("failure", "said"),
    [
        ("status_500", "answered HTTP 500"),
        ("garbage", "sent text, not audio: '<html>"),
        ("cut", "broke off the audio"),
    ],
)
async def test_failures_are_errors_naming_the_server(
    provider: str, failure: str, said: str, voices: FakeVoices, clip: Path
) -> None:
    voices.script = VoiceScript(failure=failure)  # type: ignore[arg-type]
    message = await failure_of(engine(provider, voices.base_url, clip))
    assert said in message and voices.base_url in message and f"tts.{provider}" in message


async def test_a_hanging_server_times_out(voices: FakeVoices, clip: Path) -> None:
    voices.script = VoiceScript(failure="hang")
    voice = engine("cosyvoice", voices.base_url, clip, segment_timeout_s=0.5)
    message = await failure_of(voice)
    assert "did not answer within 0.5 s" in message and "tts.segment_timeout_s" in message


@pytest.mark.parametrize(
    ("provider", "change", "said"),
    [
        (
            "gpt_sovits",
            {"text_lang": "xx"},
            "HTTP 400: text_lang: xx is not supported in version v2",
        ),
        ("gpt_sovits", {"text_split_method": "cut9"}, "HTTP 400: text_split_method:cut9 is not"),
        ("cosyvoice", {"mode": "sft", "spk_id": "nobody"}, "broke off the audio"),
        (
            "fish_speech",
            {"api_key": "wrong"},
            "HTTP 401: Invalid token (check tts.fish_speech.api_key)",
        ),
    ],
)
async def test_the_servers_own_error_answers_are_shown(
    provider: str, change: dict[str, Any], said: str, voices: FakeVoices, clip: Path
) -> None:
    message = await failure_of(engine(provider, voices.base_url, clip, change))
    assert said in message and voices.base_url in message


async def test_sft_mode_sends_the_speaker_as_a_form(voices: FakeVoices, clip: Path) -> None:
    voice = engine("cosyvoice", voices.base_url, clip, {"mode": "sft"})
    try:
        speech = await voice.synthesize("中文也可以。")
    finally:
        await voice.aclose()
    assert speech.sample_rate == 24000
    assert voices.bodies(COSYVOICE_SFT_PATH) == [{"tts_text": "中文也可以。", "spk_id": "中文女"}]


@pytest.mark.parametrize(
    ("provider", "section", "said"),
    [
        ("gpt_sovits", {}, "set tts.gpt_sovits.ref_audio_path"),
        ("cosyvoice", {"prompt_text": "hi"}, "set tts.cosyvoice.prompt_wav_path"),
        ("cosyvoice", {"prompt_text": "hi", "prompt_wav_path": "/no/such.wav"}, "cannot read"),
        ("fish_speech", {"base_url": "https://api.fish.audio"}, "set tts.fish_speech.api_key"),
        ("fish_speech", {"format": "pcm"}, "makes wav only"),
    ],
)
async def test_missing_settings_are_said_at_load_and_in_turns(
    provider: str, section: dict[str, Any], said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FISH_API_KEY", raising=False)
    voice = tts.create(TTSConfig.model_validate({"provider": provider, provider: section}))
    with pytest.raises(EngineError, match=said):
        await voice.load()
    assert said in await failure_of(voice)  # and again in each turn, with no request made


async def test_fish_key_from_the_environment(
    voices: FakeVoices, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FISH_API_KEY", FISH_KEY)
    voice = engine("fish_speech", voices.base_url, clip, {"api_key": ""})
    try:
        await voice.synthesize("From the environment.")
    finally:
        await voice.aclose()
    assert voices.requests[0].headers["authorization"] == f"Bearer {FISH_KEY}"


# --- the fake on its own ----------------------------------------------------------------------


async def test_the_fake_runs_as_a_process() -> None:
    port = free_port()
    command = [sys.executable, "-m", "kagura.testing.fake_voices", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 20)
        assert f"127.0.0.1:{port}" in line.decode()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            answer = await client.post(
                "/inference_sft", data={"tts_text": "hi", "spk_id": "中文男"}
            )
            refused = await client.post("/tts", json={"text": "hi"})
        assert answer.status_code == 200 and len(answer.content) == 0.2 * 24000 * 2
        assert refused.status_code == 400 and refused.json() == {
            "message": "ref_audio_path is required"
        }
    finally:
        process.terminate()
        process.wait(10)


# --- Fish Audio, reached by its real name ---------------------------------------------------

HOSTED_KEY = "fa-hosted-secret-1193"


@pytest.fixture
def fish_audio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVoices]:
    """A hosted-Fish-Audio fake behind https://api.fish.audio: the engine's client finds it
    through HTTPS_PROXY and trusts its certificate through SSL_CERT_FILE."""
    certificates = Certificates(tmp_path / "tls", hosts=(HOSTED_HOST,))
    fake = FakeVoices(fish_key=HOSTED_KEY, fish_hosted=True, certificates=certificates)
    with fake, ConnectProxy({f"{HOSTED_HOST}:443": fake.port}) as proxy:
        for name in ("https_proxy", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca_file))
        monkeypatch.setenv("FISH_API_KEY", HOSTED_KEY)
        yield fake
        assert set(proxy.asked) == {f"{HOSTED_HOST}:443"}


@pytest.mark.parametrize(("audio_format", "rate"), [("pcm", 16000), ("wav", 24000)])
async def test_fish_audio_hosted(
    fish_audio: FakeVoices, audio_format: str, rate: int, clip: Path
) -> None:
    section = {"api_key": "", "format": audio_format, "sample_rate": rate, "model": "s1"}
    voice = engine("fish_speech", "https://api.fish.audio/v1", clip, section)
    try:
        speech = await voice.synthesize("Hosted voices too.")
    finally:
        await voice.aclose()
    assert speech.sample_rate == rate
    assert speech.duration_s == pytest.approx(expected_s("Hosted voices too."), abs=0.01)
    [request] = fish_audio.requests
    assert request.headers == {"authorization": f"Bearer {HOSTED_KEY}", "model": "s1"}
    assert request.body["sample_rate"] == rate and "streaming" not in request.body
    assert request.body["reference_id"] == "mira-voice"


async def test_fish_audio_refusing_the_key_is_said_without_it(
    fish_audio: FakeVoices, clip: Path
) -> None:
    voice = engine("fish_speech", "https://api.fish.audio", clip, {"api_key": "fa-wrong-8812"})
    message = await failure_of(voice)
    assert "Fish Audio server at https://api.fish.audio answered HTTP 402" in message
    assert "insufficient balance (check tts.fish_speech.api_key)" in message
    assert "fa-wrong-8812" not in message


def test_a_password_in_the_url_is_never_shown() -> None:
    server = Server("CosyVoice", "http://kagura:hunter2@gpu.lan:50000/", "tts.cosyvoice")
    assert server.source == "CosyVoice server at http://gpu.lan:50000/"


# --- streamed pieces and the output guard ---------------------------------------------------


def grouped(audio: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """Each segment's text and its audio's seconds, its streamed pieces summed."""
    segments: list[tuple[str, float]] = []
    for message in audio:
        seconds = wav_seconds(message["audio"]) if message["audio"] else 0.0
        if message["display_text"] is not None:
            segments.append((message["display_text"]["text"].strip(), seconds))
        else:
            text, before = segments[-1]
            segments[-1] = (text, before + seconds)
    return segments


async def test_a_withheld_segment_streams_none_of_its_pieces(
    voices: FakeVoices, fake: FakeOpenAI, guard: FakeGuard, clip: Path, tmp_path: Path
) -> None:
    """The guard judges a segment while its voice streams it: once withheld, none of its
    pieces reach a page, and the replacement line is said in its place, whole."""
    guard.script = GuardScript(unsafe={"knife": ("Violent",)}, delay_s=0.3)
    safety = {
        "on_block": "replace",
        "guard": {"provider": "chat_classifier", "base_url": guard.base_url, "model": QWEN},
    }
    config = fake_engines(fake, tts=settings("gpt_sovits", voices.base_url, clip), safety=safety)
    fake.script = LLMScript(reply="Hello there my friend. I will get the knife now. See you soon.")
    with KaguraProcess(tmp_path, config) as server:
        async with ProtocolClient(server.ws_url) as client:
            await client.connect_sequence()
            seen = await client.turn("What now?", timeout=30)
    assert not any("knife" in str(m) for m in seen)
    segments = grouped([m for m in seen if m["type"] == "audio"])
    assert [text for text, _ in segments][::2] == ["Hello there my friend.", "See you soon."]
    assert len(segments) == 3
    sent = [b["text"].strip() for b in voices.bodies(GPT_SOVITS_PATH)]
    assert "I will get the knife now." in sent  # synthesised while judged, never played
    replacement = segments[1][0]
    assert replacement in sent
    for text, seconds in segments:
        assert seconds == pytest.approx(expected_s(text), abs=0.01), text
