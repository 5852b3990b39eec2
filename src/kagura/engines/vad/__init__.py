"""Voice activity detection, chosen by `vad.provider` (silero is the only one for now).

What is done with the probabilities (speech start, pauses, the end of a turn) is
`kagura.voice.endpoint`'s job; an engine here only hears windows of audio.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kagura.config import VADConfig
from kagura.engines.registry import Registry

from .base import SpeechModel

log = logging.getLogger(__name__)

__all__ = ["PROVIDERS", "SpeechModel", "create"]

PROVIDERS: Registry[Callable[[], SpeechModel]] = Registry(
    "vad",
    {
        "silero": "kagura.engines.vad.silero:SileroModel",
    },
)


_first_use = True


def create(config: VADConfig) -> SpeechModel:
    """A model for one audio stream: VAD state belongs to one speaker, never shared.

    Nothing is loaded at start-up: the first stream of audio loads the library (the caller
    runs this in a worker thread, so the event loop never waits for it).
    """
    global _first_use
    if _first_use:
        _first_use = False
        log.info("loading the %s voice activity detector for its first use", config.provider)
    return PROVIDERS.resolve(config.provider)()
