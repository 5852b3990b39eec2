"""Turn a stream of audio chunks into speech-start and speech-end events.

The browser streams raw microphone audio; the server decides when the streamer starts
talking (to interrupt the character) and when they stop (to transcribe and answer).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from kagura.config import VADConfig
from kagura.engines.asr.base import SAMPLE_RATE, FloatAudio


class SpeechModel(Protocol):
    window: int

    def probability(self, window: FloatAudio) -> float: ...


@dataclass(frozen=True)
class SpeechStarted:
    pass


@dataclass(frozen=True)
class SpeechEnded:
    audio: FloatAudio


VADEvent = SpeechStarted | SpeechEnded


class VoiceActivityDetector:
    """Hysteresis over per-window probabilities; every buffer is bounded."""

    def __init__(self, model: SpeechModel, config: VADConfig, max_seconds: float) -> None:
        self._model = model
        self._config = config
        self._window = model.window
        self._window_ms = 1000 * self._window / SAMPLE_RATE
        pad_windows = max(1, int(config.speech_pad_ms / self._window_ms))
        self._preroll: deque[FloatAudio] = deque(maxlen=pad_windows)
        self._max_windows = max(1, int(max_seconds * 1000 / self._window_ms))
        self._pending = np.zeros(0, dtype=np.float32)
        self._segment: list[FloatAudio] = []
        self._speech_ms = 0.0
        self._silence_ms = 0.0
        self._started = False

    def feed(self, samples: FloatAudio) -> list[VADEvent]:
        """Process a chunk of any length; return the events it completes, in order."""
        audio = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32)])
        usable = len(audio) - len(audio) % self._window
        self._pending = audio[usable:]
        events: list[VADEvent] = []
        for start in range(0, usable, self._window):
            event = self._step(audio[start : start + self._window])
            if event is not None:
                events.append(event)
        return events

    def _step(self, window: FloatAudio) -> VADEvent | None:
        probability = self._model.probability(window)
        in_segment = bool(self._segment)
        if not in_segment:
            if probability < self._config.threshold:
                self._preroll.append(window)
                return None
            self._segment = [*self._preroll, window]
            self._preroll.clear()
            self._speech_ms = self._window_ms
            self._silence_ms = 0.0
            return self._maybe_start()

        self._segment.append(window)
        # A lower threshold to stay in speech than to enter it avoids flapping mid-word.
        if probability >= self._config.threshold - 0.15:
            self._speech_ms += self._window_ms
            self._silence_ms = 0.0
        else:
            self._silence_ms += self._window_ms
        if (
            self._silence_ms >= self._config.min_silence_ms
            or len(self._segment) >= self._max_windows
        ):
            return self._finish()
        return self._maybe_start()

    def _maybe_start(self) -> VADEvent | None:
        # Only a sustained sound counts as speech, so a click never interrupts the character.
        if not self._started and self._speech_ms >= self._config.min_speech_ms:
            self._started = True
            return SpeechStarted()
        return None

    def _finish(self) -> VADEvent | None:
        started, segment = self._started, self._segment
        self._segment, self._started = [], False
        self._speech_ms = self._silence_ms = 0.0
        if not started:
            return None
        return SpeechEnded(np.concatenate(segment))

    def reset(self) -> None:
        self._pending = np.zeros(0, dtype=np.float32)
        self._segment, self._started = [], False
        self._preroll.clear()
