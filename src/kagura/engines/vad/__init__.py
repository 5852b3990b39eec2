"""Voice activity detection, chosen by `vad.provider` (silero is the only one for now)."""

from __future__ import annotations

from kagura.config import VADConfig

from .detector import SpeechEnded, SpeechStarted, VADEvent, VoiceActivityDetector

__all__ = ["SpeechEnded", "SpeechStarted", "VADEvent", "VoiceActivityDetector", "create"]


def create(config: VADConfig, max_seconds: float) -> VoiceActivityDetector:
    """A detector for one audio stream: VAD state belongs to one speaker, never shared."""
    from .silero import SileroModel

    return VoiceActivityDetector(SileroModel(), config, max_seconds)
