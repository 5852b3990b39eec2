"""Voice activity detection, chosen by `vad.provider` (silero is the only one for now)."""

from __future__ import annotations

from collections.abc import Callable

from kagura.config import VADConfig
from kagura.engines.registry import Registry

from .detector import SpeechEnded, SpeechModel, SpeechStarted, VADEvent, VoiceActivityDetector

__all__ = [
    "PROVIDERS",
    "SpeechEnded",
    "SpeechStarted",
    "VADEvent",
    "VoiceActivityDetector",
    "create",
]

# A provider here is the speech model; every one is wrapped in the same detector.
PROVIDERS: Registry[Callable[[], SpeechModel]] = Registry(
    "vad",
    {
        "silero": "kagura.engines.vad.silero:SileroModel",
    },
)


def create(config: VADConfig, max_seconds: float) -> VoiceActivityDetector:
    """A detector for one audio stream: VAD state belongs to one speaker, never shared."""
    model = PROVIDERS.resolve(config.provider)()
    return VoiceActivityDetector(model, config, max_seconds)
