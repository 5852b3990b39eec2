"""Is this the character's own voice coming back through the microphone?

The server knows exactly what the character said: the audio of every segment it sent. While
a reply plays, speech in the microphone is compared with that audio; a close match (high
normalised cross-correlation at some delay) is the character hearing itself, not the
streamer. Browser echo cancellation removes most echo before it gets here; this catches
what it leaves and clients without it (a program playing the reply next to the
microphone, or the audio fed straight back). The streamer talking over the reply mixes a
second voice in, which lowers the match below the threshold, so barge-in still works.
"""

from __future__ import annotations

import numpy as np

from kagura.audio import Speech, resample
from kagura.engines.asr.base import SAMPLE_RATE, FloatAudio

# The reply audio kept: a stage reply is one to three sentences, a private one may be longer.
MAX_REFERENCE_S = 30.0
# The microphone audio compared: enough to be sure, short enough to be cheap.
MAX_PROBE_S = 1.5
# Reference stretches quieter than this (relative to the probe's energy per sample) are
# pauses between sentences: a match there would be noise matching silence.
MIN_RELATIVE_ENERGY = 1e-3


def to_16k(speech: Speech) -> FloatAudio:
    """TTS audio (any rate, 16-bit) as 16 kHz floats."""
    return resample(speech.samples / np.float32(32768.0), speech.sample_rate, SAMPLE_RATE)


class EchoReference:
    """The character's voice of the reply being played, bounded to `MAX_REFERENCE_S`.

    Every speaker's input keeps one from the moment it connects (a microphone may open in
    the middle of a reply), so adding a segment only keeps it: the conversion to 16 kHz
    waits until speech over the reply is actually judged."""

    def __init__(self, max_seconds: float = MAX_REFERENCE_S) -> None:
        self._limit = int(max_seconds * SAMPLE_RATE)
        self._segments: list[Speech] = []
        self._size = 0  # in 16 kHz samples
        self._converted: FloatAudio | None = None

    def add(self, speech: Speech) -> None:
        self._segments.append(speech)
        self._size += len(speech.samples) * SAMPLE_RATE // speech.sample_rate
        while len(self._segments) > 1 and self._size - self._first_size() >= self._limit:
            self._size -= self._first_size()
            self._segments.pop(0)
        self._converted = None

    def _first_size(self) -> int:
        first = self._segments[0]
        return len(first.samples) * SAMPLE_RATE // first.sample_rate

    def clear(self) -> None:
        self._segments, self._size, self._converted = [], 0, None

    def __len__(self) -> int:
        return self._size

    def _audio(self) -> FloatAudio:
        if self._converted is None:
            parts = [to_16k(speech) for speech in self._segments]
            joined = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
            self._converted = joined[-self._limit :]
        return self._converted

    def similarity(self, heard: FloatAudio) -> float:
        """The best normalised cross-correlation (0..1) of `heard` with the reference at
        any delay; 0 when there is nothing to compare."""
        probe = np.asarray(heard[-int(MAX_PROBE_S * SAMPLE_RATE) :], dtype=np.float64)
        audio = self._audio()
        if probe.size < SAMPLE_RATE // 10 or audio.size == 0:
            return 0.0
        # The probe may begin before the reply did (the pre-roll, a microphone's latency):
        # silence in front of the reference lets it line up there too.
        reference = np.concatenate([np.zeros(probe.size - 1), audio.astype(np.float64)])
        probe = probe - probe.mean()
        probe_energy = float(probe @ probe)
        if probe_energy <= 0.0:
            return 0.0
        size = 1 << int(np.ceil(np.log2(reference.size + probe.size)))
        spectrum = np.fft.rfft(reference, size) * np.conj(np.fft.rfft(probe, size))
        lags = reference.size - probe.size + 1
        products = np.fft.irfft(spectrum, size)[:lags]
        squares = np.concatenate([[0.0], np.cumsum(reference * reference)])
        window_energy = squares[probe.size :] - squares[:lags]
        floor = MIN_RELATIVE_ENERGY * probe_energy
        usable = window_energy > floor
        if not usable.any():
            return 0.0
        scores = np.abs(products[usable]) / np.sqrt(window_energy[usable] * probe_energy)
        return float(min(1.0, scores.max()))
