"""Voice activity detection, chosen by `vad.provider` (silero is the only one for now)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from kagura.config import VADConfig
from kagura.engines.registry import Registry

from .detector import SpeechEnded, SpeechModel, SpeechStarted, VADEvent, VoiceActivityDetector

log = logging.getLogger(__name__)

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


_first_use = True


def create(config: VADConfig, max_seconds: float) -> VoiceActivityDetector:
    """A detector for one audio stream: VAD state belongs to one speaker, never shared.

    Nothing is loaded at start-up: the first stream of audio loads the library (the caller
    runs this in a worker thread, so the event loop never waits for it).
    """
    global _first_use
    if _first_use:
        _first_use = False
        log.info("loading the %s voice activity detector for its first use", config.provider)
    model = PROVIDERS.resolve(config.provider)()
    return VoiceActivityDetector(model, config, max_seconds)
