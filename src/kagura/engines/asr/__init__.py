"""ASR engines, chosen by `asr.provider`."""

from __future__ import annotations

from kagura.config import ASRConfig

from .base import SAMPLE_RATE, ASREngine, FloatAudio

__all__ = ["SAMPLE_RATE", "ASREngine", "FloatAudio", "create"]


def create(config: ASRConfig) -> ASREngine:
    """Build the engine named by the config; imports stay lazy so unused engines cost nothing."""
    if config.provider == "openai":
        from .openai_compat import OpenAICompatibleASR

        return OpenAICompatibleASR(config)
    from .whisper import WhisperASR

    return WhisperASR(config)
