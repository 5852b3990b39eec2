"""`kagura config import-olv` of Open-LLM-VTuber's hosted voices: `edge_tts`, `elevenlabs_tts`
and `azure_tts` become Kagura's edge, elevenlabs and azure engines (field names as in that
project's conf.default.yaml); keys that are placeholders are not written, values Kagura would
refuse fall back to the embedded voice with a line saying what to set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kagura.config import load_config
from kagura.olv import plan_import

from .olv_layout import write_olv
from .test_olv_import import edit, import_olv

ELEVENLABS_KEY = "sk_0f3c9a7e2b"  # shaped like a key, not a placeholder


def plan_tts(tmp_path: Path, engine: str, entry: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    conf = write_olv(tmp_path / "olv")
    edit(conf, {"tts_config": {"tts_model": engine, engine: entry}})
    plan = plan_import(conf, tmp_path / "conf.yaml")
    [line] = [line for line in plan.lines if line.part == "TTS"]
    return plan.config.get("tts", {}), line


def test_edge_tts_keeps_its_voice(tmp_path: Path) -> None:
    tts, line = plan_tts(tmp_path, "edge_tts", {"voice": "ja-JP-NanamiNeural"})
    assert tts == {"provider": "edge", "edge": {"voice": "ja-JP-NanamiNeural"}}
    assert line.carried and line.result == "tts.provider edge: ja-JP-NanamiNeural"


def test_elevenlabs_tts_keeps_voice_model_and_settings(tmp_path: Path) -> None:
    entry = {  # that project's template, filled in
        "api_key": ELEVENLABS_KEY,
        "voice_id": "pNInz6obpgDQGcFmaJgB",
        "model_id": "eleven_multilingual_v2",
        "output_format": "mp3_44100_128",
        "stability": 0.4,
        "similarity_boost": 0.9,
        "style": 0.2,
        "use_speaker_boost": False,
    }
    tts, line = plan_tts(tmp_path, "elevenlabs_tts", entry)
    assert tts == {
        "provider": "elevenlabs",
        "elevenlabs": {
            "api_key": ELEVENLABS_KEY,
            "voice_id": "pNInz6obpgDQGcFmaJgB",
            "model_id": "eleven_multilingual_v2",
            "stability": 0.4,
            "similarity_boost": 0.9,
            "style": 0.2,
            "use_speaker_boost": False,
        },
    }
    assert line.carried and "output_format mp3_44100_128 not used" in line.note
    assert ELEVENLABS_KEY not in line.source + line.result + line.note

    raw = {**entry, "output_format": "pcm_16000", "api_key": ""}
    tts, line = plan_tts(tmp_path / "raw", "elevenlabs_tts", raw)
    assert tts["elevenlabs"]["sample_rate"] == 16000 and "api_key" not in tts["elevenlabs"]
    assert "set ELEVENLABS_API_KEY" in line.note


def test_azure_tts_keeps_region_voice_pitch_and_rate(tmp_path: Path) -> None:
    entry = {  # that project's template as it ships: the key is a placeholder
        "api_key": "azure-api-key",
        "region": "eastus",
        "voice": "en-US-AshleyNeural",
        "pitch": "26",
        "rate": "1",
    }
    tts, line = plan_tts(tmp_path, "azure_tts", entry)
    assert tts == {
        "provider": "azure",
        "azure": {"region": "eastus", "voice": "en-US-AshleyNeural", "pitch": 26, "rate": 1.0},
    }
    assert line.carried and "set AZURE_SPEECH_KEY" in line.note

    tts, line = plan_tts(tmp_path / "loud", "azure_tts", {**entry, "pitch": 80, "rate": 5})
    assert (tts["azure"]["pitch"], tts["azure"]["rate"]) == (50, 2.0)
    assert "pitch 80% limited to ±50%" in line.note


def test_a_value_kagura_would_refuse_falls_back_with_a_line(tmp_path: Path) -> None:
    tts, line = plan_tts(tmp_path, "edge_tts", {"voice": "Xiaoxiao"})
    assert tts == {}  # the embedded English voice: the character's language is English
    assert not line.carried and "tts.edge.voice would not be accepted" in line.note


def test_the_imported_file_loads(tmp_path: Path) -> None:
    conf = write_olv(tmp_path / "olv")
    azure = {"api_key": "", "region": "westeurope", "voice": "de-DE-KatjaNeural", "pitch": "-5"}
    edit(conf, {"tts_config": {"tts_model": "azure_tts", "azure_tts": azure}})
    result = import_olv(tmp_path / "olv", tmp_path / "conf.yaml")
    assert result.returncode == 0, result.stderr
    config = load_config(tmp_path / "conf.yaml")
    assert config.tts.provider == "azure"
    assert (config.tts.azure.region, config.tts.azure.voice) == ("westeurope", "de-DE-KatjaNeural")
    assert config.tts.azure.pitch == -5 and config.tts.azure.api_key == ""
