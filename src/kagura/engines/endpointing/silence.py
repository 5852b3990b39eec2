"""No model: a turn ends after `voice.turn.silence_timeout_ms` of silence, nothing sooner."""

from __future__ import annotations

from kagura.config import EndOfTurnConfig
from kagura.engines.asr.base import FloatAudio


class SilenceOnly:
    def __init__(self, config: EndOfTurnConfig) -> None:
        self._config = config

    async def load(self) -> None:
        """Nothing to load."""

    async def probability(self, audio: FloatAudio) -> float | None:
        return None

    async def aclose(self) -> None:
        """Nothing to release."""
