"""TTS engines, chosen by `tts.provider`."""

from __future__ import annotations

from kagura.config import TTSConfig

from .base import TTSEngine

__all__ = ["TTSEngine", "create"]


def create(config: TTSConfig) -> TTSEngine:
    """Build the engine named by the config; imports stay lazy so unused engines cost nothing."""
    if config.provider == "openai":
        from .openai_compat import OpenAICompatibleTTS

        return OpenAICompatibleTTS(config)
    if config.provider == "espeak":
        from .espeak import EspeakTTS

        return EspeakTTS(config)
    from .piper import PiperTTS

    return PiperTTS(config)
