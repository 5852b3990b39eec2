"""The ASR interface: 16 kHz mono audio in, text out."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16000
FloatAudio = npt.NDArray[np.float32]


class ASREngine(Protocol):
    async def load(self) -> None:
        """Load the model once, at start-up."""

    async def transcribe(self, audio: FloatAudio) -> str:
        """Transcribe 16 kHz mono float audio (-1..1); raise `EngineError` on failure."""
        ...

    async def aclose(self) -> None:
        """Release the model or the HTTP client."""
