"""The VAD interface: one window of 16 kHz audio → the probability that it is speech."""

from __future__ import annotations

from typing import Protocol

from kagura.engines.asr.base import FloatAudio


class SpeechModel(Protocol):
    """Stateful (it hears a stream): one per speaker, never shared."""

    window: int  # samples per call

    def probability(self, window: FloatAudio) -> float: ...
