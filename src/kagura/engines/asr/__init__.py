"""ASR engines, chosen by `asr.provider`."""

from __future__ import annotations

from collections.abc import Callable

from kagura.config import ASRConfig
from kagura.engines.registry import Registry

from .base import SAMPLE_RATE, ASREngine, FloatAudio

__all__ = ["PROVIDERS", "SAMPLE_RATE", "ASREngine", "FloatAudio", "create"]

PROVIDERS: Registry[Callable[[ASRConfig], ASREngine]] = Registry(
    "asr",
    {
        "openai": "kagura.engines.asr.openai_compat:OpenAICompatibleASR",
        "pocketsphinx": "kagura.engines.asr.pocketsphinx:PocketsphinxASR",
        "whisper": "kagura.engines.asr.whisper:WhisperASR",
    },
)


def create(config: ASRConfig) -> ASREngine:
    """Build the engine named by `asr.provider`; only that engine's module is imported."""
    return PROVIDERS.resolve(config.provider)(config)
