"""A voice per language (`tts.voices`): each part of a reply goes to the voice of its
language, in order, through a real turn; and the splitting and config underneath."""

from __future__ import annotations

import base64
import io
import shutil
import wave

import numpy as np
import pytest
from pydantic import ValidationError

from kagura.audio import Speech, concatenate
from kagura.config import KaguraConfig
from kagura.engines.tts.languages import LanguageSplitter
from kagura.testing.fake_openai import FakeOpenAI, LLMScript, TTSScript
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess

from .conftest import fake_engines

FAKE_RATE = 16000  # the fake's voice; espeak-ng speaks at 22050 Hz


@pytest.fixture(scope="module")
def splitter() -> LanguageSplitter:
    split = LanguageSplitter("en", {"zh", "ja", "fr"})
    split.load()
    return split


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        (
            "大家好！Welcome to the stream. 今天玩什么？",
            [("zh", "大家好！"), ("en", "Welcome to the stream."), ("zh", " 今天玩什么？")],
        ),
        ("Hello there. It is 3.5 km away! ok.", [("en", "Hello there. It is 3.5 km away! ok.")]),
        ("哈哈 ok 好的。", [("zh", "哈哈 ok 好的。")]),  # a word of English stays in the clause
        ("2026!", [("en", "2026!")]),  # nothing to tell by: the main voice
        ("Bonjour à tous ! こんにちは。", [("fr", "Bonjour à tous !"), ("ja", " こんにちは。")]),
        ("ok. Thank you all so much!", [("en", "ok. Thank you all so much!")]),
    ],
)
def test_runs_follow_the_language(
    splitter: LanguageSplitter, text: str, runs: list[tuple[str, str]]
) -> None:
    found = splitter.runs(text)
    assert [(run.language, run.text) for run in found] == runs
    assert "".join(run.text for run in found) == text  # nothing lost, nothing added


def test_voices_are_checked_like_any_voice_and_named() -> None:
    config = KaguraConfig.model_validate(
        {"tts": {"voices": {"zh": {"provider": "espeak", "espeak": {"voice": "cmn"}}}}}
    )
    [(language, voice)] = config.tts.voice_configs().items()
    assert (language, voice.provider, voice.espeak.voice, voice.language) == (
        "zh",
        "espeak",
        "cmn",
        "zh",
    )
    assert voice.segment_timeout_s == config.tts.segment_timeout_s  # laid over the main voice
    with pytest.raises(ValidationError, match=r"voices\.zh\.provider"):
        KaguraConfig.model_validate({"tts": {"voices": {"zh": {"provider": "nope"}}}})
    with pytest.raises(ValidationError, match=r"voices\.en: that is the main voice"):
        KaguraConfig.model_validate({"tts": {"voices": {"en": {"provider": "espeak"}}}})
    with pytest.raises(ValidationError, match="pattern"):
        KaguraConfig.model_validate({"tts": {"voices": {"chinese": {"provider": "espeak"}}}})


def test_speech_of_different_rates_joins_at_the_first_rate() -> None:
    second = np.full(16000, 1000, np.int16)
    joined = concatenate([Speech(second, 16000), Speech(np.full(22050, 1000, np.int16), 22050)])
    assert joined.sample_rate == 16000
    assert abs(len(joined.samples) - 32000) <= 2
    assert np.all(np.abs(joined.samples.astype(int) - 1000) <= 1)


def _rate(payload: dict[str, object]) -> int:
    with wave.open(io.BytesIO(base64.b64decode(str(payload["audio"])))) as wav:
        return wav.getframerate()


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng: `make setup`")
async def test_a_mixed_reply_is_spoken_by_two_voices_in_order(fake: FakeOpenAI, tmp_path) -> None:
    tts = {"language": "en", "voices": {"zh": {"provider": "espeak", "espeak": {"voice": "cmn"}}}}
    config = fake_engines(fake, tts=tts)
    fake.script = LLMScript(reply="大家好！Welcome to the stream. 今天玩什么？")
    fake.tts_script = TTSScript(sample_rate=FAKE_RATE)
    fake.clear_requests()
    with KaguraProcess(tmp_path, config) as server:
        async with ProtocolClient(server.ws_url) as client:
            await client.connect_sequence()
            seen = await client.turn("hi")
    audio = [m for m in seen if m["type"] == "audio" and m["audio"]]
    assert not [m for m in seen if m["type"] == "error"]
    shown = "".join(m["display_text"]["text"] for m in audio if m["display_text"])
    assert shown.replace(" ", "") == "大家好！Welcometothestream.今天玩什么？"
    # Chinese by espeak-ng, English by the fake's voice, Chinese again: in that order.
    rates = [_rate(m) for m in audio]
    changes = [rate for i, rate in enumerate(rates) if i == 0 or rates[i - 1] != rate]
    assert changes == [22050, FAKE_RATE, 22050]
    assert [r["input"] for r in fake.speech_requests()] == ["Welcome to the stream."]


def test_every_example_in_the_voices_guide_is_a_valid_config() -> None:
    """docs/voices.md's examples are what users copy: each must load as it is written."""
    import re
    from pathlib import Path

    import yaml

    guide = (Path(__file__).parent.parent / "docs" / "voices.md").read_text("utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", guide, re.S)
    assert len(blocks) >= 7
    providers = set()
    for block in blocks:
        config = KaguraConfig.model_validate(yaml.safe_load(block))
        providers.add(config.tts.provider)
        providers.update(voice.provider for voice in config.tts.voice_configs().values())
    assert providers >= {"gpt_sovits", "cosyvoice", "fish_speech", "edge", "elevenlabs", "azure"}
