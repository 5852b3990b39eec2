"""ASR engines, chosen by `asr.provider`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kagura.config import ASRConfig
from kagura.engines.registry import Registry

from .base import SAMPLE_RATE, ASREngine, FloatAudio

__all__ = ["PROVIDERS", "SAMPLE_RATE", "ASREngine", "FloatAudio", "create"]

PROVIDERS: Registry[Callable[[ASRConfig, Sequence[str]], ASREngine]] = Registry(
    "asr",
    {
        "openai": "kagura.engines.asr.openai_compat:OpenAICompatibleASR",
        "pocketsphinx": "kagura.engines.asr.pocketsphinx:PocketsphinxASR",
        "whisper": "kagura.engines.asr.whisper:WhisperASR",
    },
)


def create(config: ASRConfig, names: Sequence[str] = ()) -> ASREngine:
    """Build the engine named by `asr.provider`; only that engine's module is imported.

    `names` are the character's names (its name and aliases): engines that can be told what
    words to expect are, so that the name is heard as itself (unless `asr.name_hint` is off)."""
    return PROVIDERS.resolve(config.provider)(config, names if config.name_hint else ())
