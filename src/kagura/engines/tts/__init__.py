"""TTS engines, chosen by `tts.provider`."""

from __future__ import annotations

from collections.abc import Callable

from kagura.config import TTSConfig
from kagura.engines.registry import Registry

from .base import StreamingTTS, TTSEngine, speak

__all__ = ["PROVIDERS", "StreamingTTS", "TTSEngine", "create", "speak"]

PROVIDERS: Registry[Callable[[TTSConfig], TTSEngine]] = Registry(
    "tts",
    {
        "espeak": "kagura.engines.tts.espeak:EspeakTTS",
        "openai": "kagura.engines.tts.openai_compat:OpenAICompatibleTTS",
        "piper": "kagura.engines.tts.piper:PiperTTS",
    },
)


def create(config: TTSConfig) -> TTSEngine:
    """Build the engine named by `tts.provider`; only that engine's module is imported."""
    return PROVIDERS.resolve(config.provider)(config)
