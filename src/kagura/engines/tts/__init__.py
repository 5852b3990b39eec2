"""TTS engines, chosen by `tts.provider`."""

from __future__ import annotations

from collections.abc import Callable

from kagura.config import TTSConfig
from kagura.engines.registry import Registry

from .base import StreamingTTS, TTSEngine

__all__ = ["PROVIDERS", "StreamingTTS", "TTSEngine", "create"]

PROVIDERS: Registry[Callable[[TTSConfig], TTSEngine]] = Registry(
    "tts",
    {
        "azure": "kagura.engines.tts.azure:AzureTTS",
        "edge": "kagura.engines.tts.edge:EdgeTTS",
        "elevenlabs": "kagura.engines.tts.elevenlabs:ElevenLabsTTS",
        "espeak": "kagura.engines.tts.espeak:EspeakTTS",
        "openai": "kagura.engines.tts.openai_compat:OpenAICompatibleTTS",
        "piper": "kagura.engines.tts.piper:PiperTTS",
    },
)


def create(config: TTSConfig) -> TTSEngine:
    """Build the engine named by `tts.provider`; only that engine's module is imported."""
    return PROVIDERS.resolve(config.provider)(config)
