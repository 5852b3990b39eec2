"""`kagura config import-olv` of Open-LLM-VTuber's voice-server TTS entries: GPT-SoVITS,
CosyVoice (its gradio settings) and Fish Audio become Kagura's engines for the same servers,
a config `config check` accepts, whose turns speak through them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kagura.config import load_config
from kagura.olv import plan_import
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from kagura.testing.fake_voices import GPT_SOVITS_PATH, FakeVoices
from kagura.testing.openai_wire import tone_pcm, wav_bytes
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess

from .olv_layout import write_olv
from .test_cli import kagura
from .test_olv_import import edit, imported

FISH_KEY = "fish-olv-secret-7781"


def tts(engine: str, **entry: Any) -> dict[str, Any]:
    return {"tts_config": {"tts_model": engine, engine: entry}}


def tts_line(plan: Any) -> Any:
    return next(line for line in plan.lines if line.part == "TTS")


async def test_gpt_sovits_imports_and_speaks(tmp_path: Path, fake: FakeOpenAI) -> None:
    olv = tmp_path / "olv"
    with FakeVoices() as voices:
        conf = write_olv(olv, llm_provider="openai_compatible_llm", llm_base_url=fake.base_url)
        entry = {
            "api_url": f"{voices.base_url}/tts",
            "text_lang": "en",
            "ref_audio_path": "refs/mira.wav",
            "prompt_lang": "zh",
            "prompt_text": "你好",
            "text_split_method": "cut5",
            "batch_size": "1",
            "media_type": "wav",
            "streaming_mode": "false",
        }
        edit(conf, tts("gpt_sovits_tts", **entry))
        out = tmp_path / "kagura"
        table = imported(olv, out / "conf.yaml")
        assert "gpt_sovits_tts: refs/mira.wav" in table and "tts.provider gpt_sovits" in table
        assert kagura("config", "check", "conf.yaml", cwd=out).returncode == 0
        written = yaml.safe_load((out / "conf.yaml").read_text("utf-8"))
        assert written["tts"] == {
            "provider": "gpt_sovits",
            "gpt_sovits": {
                "base_url": voices.base_url,
                "text_lang": "en",
                "prompt_lang": "zh",
                "text_split_method": "cut5",
                "ref_audio_path": "refs/mira.wav",
                "prompt_text": "你好",
            },
        }
        overrides = {k: v for k, v in written.items() if k != "system"}
        overrides["system"] = {"characters_dir": str(out / "characters")}
        fake.script = LLMScript(reply="Hello from the imported voice.")
        with KaguraProcess(tmp_path / "run", overrides) as server:
            async with ProtocolClient(server.ws_url) as client:
                await client.connect_sequence()
                turn = await client.turn("Hi!", timeout=20)
        assert [m for m in turn if m["type"] == "audio" and m["audio"]]
        assert not [m for m in turn if m["type"] == "error"]
        [body] = voices.bodies(GPT_SOVITS_PATH)
        assert body["ref_audio_path"] == "refs/mira.wav" and body["streaming_mode"] is True


@pytest.mark.parametrize(
    ("engine", "entry", "expected"),
    [
        (
            "cosyvoice_tts",
            {"client_url": "http://127.0.0.1:50000/", "mode_checkbox_group": "预训练音色",
             "sft_dropdown": "中文男"},
            {"base_url": "http://127.0.0.1:50000", "mode": "sft", "spk_id": "中文男",
             "sample_rate": 22050},
        ),
        (
            "cosyvoice2_tts",
            {"client_url": "http://gpu:50000", "mode_checkbox_group": "3s极速复刻",
             "prompt_text": "希望你以后能够做的比我还好呦。",
             "prompt_wav_upload_url": "voices/me.wav"},
            {"base_url": "http://gpu:50000", "mode": "zero_shot",
             "prompt_text": "希望你以后能够做的比我还好呦。", "sample_rate": 24000},
        ),
    ],
)  # fmt: skip
def test_cosyvoice_gradio_settings_become_the_fastapi_engine(
    tmp_path: Path, engine: str, entry: dict[str, Any], expected: dict[str, Any]
) -> None:
    olv = tmp_path / "olv"
    conf = write_olv(olv)
    clip = olv / "voices" / "me.wav"
    clip.parent.mkdir()
    clip.write_bytes(wav_bytes(tone_pcm(1600, 16000), 16000))
    edit(conf, tts(engine, **entry))
    plan = plan_import(conf, tmp_path / "conf.yaml")
    if expected["mode"] == "zero_shot":
        expected = {**expected, "prompt_wav_path": str(clip)}
    assert plan.config["tts"] == {"provider": "cosyvoice", "cosyvoice": expected}
    line = tts_line(plan)
    assert line.carried and "runtime/python/fastapi/server.py" in line.note
    config = load_config(_write(tmp_path / "out.yaml", plan.config))
    assert config.tts.provider == "cosyvoice" and config.tts.cosyvoice.mode == expected["mode"]


def test_cosyvoice_clip_by_url_and_other_modes_are_reported(tmp_path: Path) -> None:
    conf = write_olv(tmp_path / "olv")
    url = "https://github.com/gradio-app/gradio/raw/main/test/test_files/audio_sample.wav"
    edit(conf, tts("cosyvoice2_tts", mode_checkbox_group="3s极速复刻", prompt_wav_upload_url=url))
    plan = plan_import(conf, tmp_path / "conf.yaml")
    assert "prompt_wav_path" not in plan.config["tts"]["cosyvoice"]
    assert f"{url} is not a file here" in tts_line(plan).note
    edit(conf, tts("cosyvoice2_tts", mode_checkbox_group="自然语言控制"))
    plan = plan_import(conf, tmp_path / "conf.yaml")
    line = tts_line(plan)
    assert not line.carried and "自然语言控制 mode has no counterpart" in line.note
    assert plan.config.get("tts", {}).get("provider") != "cosyvoice"


def test_fish_audio_keeps_its_key_out_of_the_summary(tmp_path: Path) -> None:
    olv = tmp_path / "olv"
    conf = write_olv(olv)
    entry = {"api_key": FISH_KEY, "reference_id": "7f92f8afb8ec43bf81429cc1c9199cb1"}
    edit(conf, tts("fish_api_tts", **entry, latency="normal", base_url="https://api.fish.audio"))
    table = imported(olv, tmp_path / "out" / "conf.yaml")
    assert "fish_api_tts: 7f92f8afb8ec43bf81429cc1c9199cb1" in table
    assert FISH_KEY not in table
    config = load_config(tmp_path / "out" / "conf.yaml")
    fish = config.tts.fish_speech
    assert config.tts.provider == "fish_speech"
    assert (fish.base_url, fish.api_key, fish.latency) == (
        "https://api.fish.audio",
        FISH_KEY,
        "normal",
    )
    edit(conf, tts("fish_api_tts", api_key=""))
    plan = plan_import(conf, tmp_path / "conf.yaml")
    assert "api_key" not in plan.config["tts"]["fish_speech"]
    assert "FISH_API_KEY" in tts_line(plan).note


def _write(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    return path
