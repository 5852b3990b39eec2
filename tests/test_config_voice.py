"""`kagura config init --tts`: a config for the voice a user already runs, checked by saying
a sentence through it (local fakes speaking GPT-SoVITS's and Fish Speech's real APIs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kagura.testing.fake_voices import FISH_PATH, FakeVoices

from .test_cli import kagura


@pytest.fixture(scope="module")
def voices() -> Iterator[FakeVoices]:
    with FakeVoices() as fake:
        yield fake


def test_a_voice_server_that_speaks_is_written_and_said_so(
    tmp_path: Path, voices: FakeVoices
) -> None:
    result = kagura(
        "config", "init", "--tts", "fish_speech", "--tts-url", voices.base_url, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "fish_speech speaks" in result.stderr
    written = yaml.safe_load((tmp_path / "conf.yaml").read_text("utf-8"))
    assert written["tts"]["provider"] == "fish_speech"
    assert written["tts"]["fish_speech"]["base_url"] == voices.base_url
    assert [b["text"] for b in voices.bodies(FISH_PATH)] == ["Hello."]  # really asked


def test_a_voice_that_needs_a_setting_says_which(tmp_path: Path, voices: FakeVoices) -> None:
    result = kagura(
        "config", "init", "--tts", "gpt_sovits", "--tts-url", voices.base_url, cwd=tmp_path
    )
    assert result.returncode == 1
    assert "Not ready yet" in result.stderr and "tts.gpt_sovits.ref_audio_path" in result.stderr
    assert (tmp_path / "conf.yaml").exists()  # written: filling in the setting is enough


def test_an_unreachable_voice_names_its_url(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9"
    result = kagura("config", "init", "--tts", "fish_speech", "--tts-url", url, cwd=tmp_path)
    assert result.returncode == 1
    assert url in result.stderr


def test_a_hosted_voice_without_a_key_says_where_to_put_it(tmp_path: Path) -> None:
    result = kagura(
        "config", "init", "--tts", "elevenlabs", cwd=tmp_path, env={"ELEVENLABS_API_KEY": ""}
    )
    assert result.returncode == 1
    assert "ELEVENLABS_API_KEY" in result.stderr


def test_an_unknown_voice_is_refused_with_the_choices(tmp_path: Path) -> None:
    result = kagura("config", "init", "--tts", "nope", cwd=tmp_path)
    assert result.returncode == 1
    assert "--tts nope" in result.stderr and "gpt_sovits" in result.stderr
