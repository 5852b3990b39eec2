"""Chinese speech recognised offline, written in one script, and the character's name heard
as itself (issue #24): the embedded Whisper models (tiny.en, multilingual base) in this
process and behind a real `kagura serve`, and the names sent to an OpenAI-compatible ASR."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import opencc
import pytest

from kagura.config import WHISPER_LANGUAGES, ASRConfig, ConfigError, load_config
from kagura.engines import asr
from kagura.engines.asr.hints import name_hint
from kagura.engines.asr.whisper import WhisperASR
from kagura.engines.asr.whisper_models import BASE_PARTS, base_dir, tiny_en_dir
from kagura.engines.errors import EngineError
from kagura.engines.local import package_dir
from kagura.testing.fake_openai import ASRScript, FakeOpenAI, LLMScript
from tests.support import speech
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess

from .conftest import server_fixture

GREETING = "Hello Kagura, how are you today?"  # tiny.en alone hears "Hello Kaguura"
NAMES = ("Kagura", "神乐")
# Sentences espeak-ng's Mandarin says clearly enough for Whisper base (bench/asr_zh.py has
# twenty, most of them harder), with the characters the transcript must hold. Whisper
# writes the first two in traditional characters (們, 飯, 這): the conversion is seen.
EAT = "我们一起去吃饭吧。"
FRIEND = "这是我的朋友。"
COFFEE = "我想喝一杯咖啡。"
TO_SIMPLIFIED = opencc.OpenCC("t2s")

base_zh = {"provider": "whisper", "whisper": {"model": "base", "language": "zh"}}
whispering_zh = server_fixture("asr-zh", asr=base_zh)
whispering_en = server_fixture("asr-en", asr={"provider": "whisper"})
named = server_fixture("asr-named", stage={"character_aliases": ["神乐", "kagura"]})


def simplified_only(text: str) -> bool:
    """No character of `text` has a simplified form other than itself."""
    return bool(text) and TO_SIMPLIFIED.convert(text) == text


@functools.cache
def mandarin(sentence: str) -> speech.Audio:
    return speech.padded(speech.mandarin(sentence), 0.3, 0.5)


@functools.cache
def greeting() -> speech.Audio:
    return speech.padded(speech.piper(GREETING), 0.3, 0.5)


async def heard(audio: speech.Audio, names: tuple[str, ...] = (), **whisper: Any) -> str:
    engine = WhisperASR(ASRConfig(provider="whisper", whisper=whisper), names)
    try:
        return await engine.transcribe(audio)
    finally:
        await engine.aclose()


# --- the settings --------------------------------------------------------------------------


def config_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "conf.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


def test_tiny_en_asked_for_chinese_is_refused_naming_the_field(tmp_path: Path) -> None:
    text = config_error(tmp_path, "asr:\n  whisper:\n    language: zh\n")
    assert "asr.whisper: language: zh needs a multilingual model" in text
    assert "asr.whisper.model: base" in text  # what to do about it


def test_an_unknown_language_is_refused(tmp_path: Path) -> None:
    text = config_error(tmp_path, "asr:\n  whisper:\n    model: base\n    language: cn\n")
    assert "asr.whisper.language: unknown language 'cn'" in text


def test_base_may_hear_any_language_and_codes_are_read_plainly() -> None:
    config = ASRConfig(whisper={"model": "base", "language": "ZH"})
    assert config.whisper.language == "zh"
    assert ASRConfig(whisper={"model": "tiny.en", "language": "en"}).whisper.language == "en"
    assert ASRConfig(whisper={"language": ""}).whisper.language == "auto"  # as configs had it
    # A model of one's own may be multilingual: checked when it loads.
    assert ASRConfig(whisper={"model_path": "/models/small", "language": "zh"})


def test_the_language_list_is_whispers() -> None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert set(_LANGUAGE_CODES) == WHISPER_LANGUAGES


@pytest.mark.embedded
async def test_an_english_model_of_ones_own_asked_for_chinese_fails_to_load_saying_so() -> None:
    with pytest.raises(EngineError, match=r"hears English only: asr\.whisper\.language zh"):
        await heard(mandarin(EAT), model_path=str(tiny_en_dir()), language="zh")


# --- the model files -----------------------------------------------------------------------


def test_base_is_joined_from_its_two_wheels_once(tmp_path: Path) -> None:
    parts = [package_dir(name, "") / "data" / part for name, part in BASE_PARTS]
    folder = base_dir(tmp_path)
    model = folder / "model.bin"
    assert model.stat().st_size == sum(part.stat().st_size for part in parts)
    with model.open("rb") as joined:
        for part in parts:
            size = part.stat().st_size
            with part.open("rb") as source:
                head = source.read(4096)
                source.seek(size - 4096)
                tail = source.read()
            start = joined.tell()
            assert joined.read(4096) == head
            joined.seek(start + size - 4096)
            assert joined.read(4096) == tail
    assert {p.name for p in folder.iterdir()} == {
        "model.bin",
        "config.json",
        "vocabulary.json",
        "tokenizer.json",
    }
    # Kept: a second load joins nothing.
    stamp = model.stat().st_mtime_ns
    assert base_dir(tmp_path) == folder and model.stat().st_mtime_ns == stamp
    # A short file (a copy cut off) is joined again.
    with model.open("r+b") as cut:
        cut.truncate(1000)
    base_dir(tmp_path)
    assert model.stat().st_size == sum(part.stat().st_size for part in parts)
    assert not [p for p in folder.iterdir() if p.name.startswith(".model-")]


# --- what is heard -------------------------------------------------------------------------


def test_names_for_the_hint_once_each_and_latin_only_for_english() -> None:
    assert name_hint(["Kagura", " 神乐 ", "kagura", ""]) == "Kagura, 神乐"
    assert name_hint(NAMES, latin_only=True) == "Kagura"
    assert name_hint([]) == ""


@pytest.mark.embedded
async def test_chinese_speech_is_written_in_simplified_characters() -> None:
    eat = await heard(mandarin(EAT), model="base", language="zh")
    friend = await heard(mandarin(FRIEND), model="base", language="zh")
    assert "一起" in eat and "吃饭" in eat and simplified_only(eat), eat
    assert "朋友" in friend and "这" in friend and simplified_only(friend), friend


@pytest.mark.embedded
async def test_traditional_and_as_heard_on_request() -> None:
    traditional = await heard(mandarin(EAT), model="base", language="zh", chinese="traditional")
    as_heard = await heard(mandarin(FRIEND), model="base", language="zh", chinese="as_heard")
    assert "們" in traditional and "飯" in traditional, traditional
    assert "這" in as_heard, as_heard  # what Whisper wrote, left alone


@pytest.mark.embedded
async def test_auto_detects_chinese_and_english() -> None:
    eat = await heard(mandarin(EAT), model="base", language="auto")
    hello = await heard(greeting(), NAMES, model="base", language="auto")
    assert "吃饭" in eat and simplified_only(eat), eat
    assert speech.word_error_rate(GREETING, hello) == 0, hello


@pytest.mark.embedded
@pytest.mark.parametrize("model", ["tiny.en", "base"])
async def test_the_characters_name_is_heard_as_itself(model: str) -> None:
    """Told the names, both models write "Kagura"; left alone, neither does."""
    told = await heard(greeting(), NAMES, model=model)
    alone = await heard(greeting(), model=model)
    assert speech.word_error_rate(GREETING, told) == 0, told
    assert "Kagura" not in alone, alone


# --- through a real server -----------------------------------------------------------------


async def spoken_turn(process: KaguraProcess, audio: speech.Audio) -> str:
    """Send `audio` as the original frontend does (mic-audio-data, then mic-audio-end) and
    return the transcript the server shows."""
    async with ProtocolClient(process.ws_url) as client:
        await client.connect_sequence()
        await speech.send_floats(client, audio)
        await client.send({"type": "mic-audio-end"})
        seen = await client.collect_turn(timeout=90)
    assert not [m for m in seen if m["type"] == "error"], seen
    [text] = [m["text"] for m in seen if m["type"] == "user-input-transcription"]
    return str(text)


@pytest.mark.embedded
async def test_a_chinese_streamer_is_heard_by_the_server(
    whispering_zh: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="好的。")
    text = await spoken_turn(whispering_zh, mandarin(COFFEE))
    assert "咖啡" in text and simplified_only(text), text
    assert fake.chat_requests()[-1]["messages"][-1]["content"] == text


@pytest.mark.embedded
async def test_the_server_hears_the_characters_name(
    whispering_en: KaguraProcess, fake: FakeOpenAI
) -> None:
    """The default config, as a new user tries it: the character is called Kagura."""
    fake.script = LLMScript(reply="I am fine, thank you.")
    text = await spoken_turn(whispering_en, greeting())
    assert speech.word_error_rate(GREETING, text) == 0, text


async def test_the_names_reach_an_openai_compatible_asr(
    named: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.asr_script = ASRScript(text="你好 Kagura")
    await spoken_turn(named, speech.silence(0.5) + 0.1)
    [upload] = fake.transcription_requests()
    assert upload["prompt"] == "Kagura, 神乐"  # the name and aliases, each once


@pytest.mark.parametrize("hinted", [True, False])
async def test_asr_name_hint_off_sends_no_prompt(fake: FakeOpenAI, hinted: bool) -> None:
    config = ASRConfig(provider="openai", name_hint=hinted, openai={"base_url": fake.base_url})
    engine = asr.create(config, NAMES)
    try:
        await engine.transcribe(speech.silence(0.5) + 0.1)
    finally:
        await engine.aclose()
    [upload] = fake.transcription_requests()
    assert upload.get("prompt") == ("Kagura, 神乐" if hinted else None)


@pytest.mark.embedded
async def test_the_espeak_voice_called_cmn_speaks_mandarin_not_pinyin_in_english() -> None:
    """espeak-ng 1.51's `cmn` reads characters as pinyin spelled in English; the engine
    sends what users call Mandarin to the voice that speaks it, so Whisper hears Chinese."""
    from kagura.config import TTSConfig
    from kagura.engines.tts.espeak import EspeakTTS

    engine = EspeakTTS(TTSConfig(provider="espeak", espeak={"voice": "cmn", "speed": 150}))
    spoken = await engine.synthesize(EAT)
    audio = speech.padded(speech.resample(spoken.samples / 32768, spoken.sample_rate), 0.3, 0.5)
    eat = await heard(audio, model="base", language="zh")
    assert "一起" in eat and "吃饭" in eat, eat
