"""Open-LLM-VTuber's hosted voices as Kagura's engines: `edge_tts`, `elevenlabs_tts` and
`azure_tts` (field names as in that project's `conf.default.yaml`).

A key left empty or as the template's placeholder is not written: Kagura then reads the
service's environment variable, and the line says which. A value Kagura's engine would
refuse is never written either: the voice falls back to the embedded one, and the line
names the setting to fix.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from kagura.config import AzureConfig, ElevenLabsConfig, TTSConfig

from .layout import text
from .report import Line

Section = dict[str, Any]

CLOUD_TTS = {"edge_tts": "edge", "elevenlabs_tts": "elevenlabs", "azure_tts": "azure"}
PLACEHOLDER = re.compile(r"your|api[ _-]?key|^x+$", re.I)
ELEVENLABS_RATES = (16000, 22050, 24000, 44100)
AZURE_PITCH_LIMIT = 50  # percent, either way
AZURE_RATES = (0.5, 2.0)


def import_cloud_tts(
    engine: str, entry: dict[str, Any], fallback: Section, fallback_text: str
) -> tuple[Section, list[Line]]:
    """Kagura's `tts` section for one of those entries, and its line."""
    provider = CLOUD_TTS[engine]
    settings, notes = {"edge": _edge, "elevenlabs": _elevenlabs, "azure": _azure}[provider](entry)
    voice = str(settings.get("voice") or settings.get("voice_id") or "default voice")
    source = f"{engine}: {text(entry, 'voice') or text(entry, 'voice_id') or '-'}"
    try:
        TTSConfig(provider=provider, **{provider: settings})  # type: ignore[arg-type]
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.errors()[0]["loc"])
        note = f"tts.{where} would not be accepted: {exc.errors()[0]['msg']}; set it by hand"
        return fallback, [Line("TTS", source, fallback_text, note, False)]
    line = Line("TTS", source, f"tts.provider {provider}: {voice}", "; ".join(notes))
    return {"provider": provider, provider: settings}, [line]


def _edge(entry: dict[str, Any]) -> tuple[Section, list[str]]:
    settings: Section = {}
    if voice := text(entry, "voice"):
        settings["voice"] = voice
    return settings, ["Microsoft's free online voices: the server needs the internet"]


def _key(entry: dict[str, Any], provider: str, env: str) -> tuple[Section, list[str]]:
    key = text(entry, "api_key")
    if key and not PLACEHOLDER.search(key):
        return {"api_key": key}, []
    return {}, [f"no key imported: set {env} (or tts.{provider}.api_key)"]


def _number(entry: dict[str, Any], key: str) -> float | None:
    """A number, also when written as text ("26", "26%")."""
    value = entry.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip().rstrip("%")) if value is not None else None
    except ValueError:
        return None


def _elevenlabs(entry: dict[str, Any]) -> tuple[Section, list[str]]:
    settings, notes = _key(entry, "elevenlabs", ElevenLabsConfig.KEY_ENV)
    if voice_id := text(entry, "voice_id"):
        settings["voice_id"] = voice_id
    else:
        notes.append("no voice_id: set tts.elevenlabs.voice_id (a default voice speaks)")
    if model := text(entry, "model_id"):
        settings["model_id"] = model
    for name in ("stability", "similarity_boost", "style"):
        value = _number(entry, name)
        if value is not None:
            settings[name] = min(1.0, max(0.0, value))
    if isinstance(entry.get("use_speaker_boost"), bool):
        settings["use_speaker_boost"] = entry["use_speaker_boost"]
    output = text(entry, "output_format")
    match = re.fullmatch(r"pcm_(\d+)", output)
    if match and int(match.group(1)) in ELEVENLABS_RATES:
        settings["sample_rate"] = int(match.group(1))
    elif output:
        notes.append(f"output_format {output} not used: Kagura streams raw PCM (pcm_24000)")
    return settings, notes


def _azure(entry: dict[str, Any]) -> tuple[Section, list[str]]:
    settings, notes = _key(entry, "azure", AzureConfig.KEY_ENV)
    for name in ("region", "voice"):
        if value := text(entry, name):
            settings[name] = value
    pitch = _number(entry, "pitch")
    if pitch is not None:
        settings["pitch"] = round(min(AZURE_PITCH_LIMIT, max(-AZURE_PITCH_LIMIT, pitch)))
        if abs(pitch) > AZURE_PITCH_LIMIT:
            notes.append(f"pitch {pitch:g}% limited to ±{AZURE_PITCH_LIMIT}%")
    rate = _number(entry, "rate")
    if rate is not None:
        settings["rate"] = min(AZURE_RATES[1], max(AZURE_RATES[0], rate))
    return settings, notes
