"""Endpointing: a stream of audio → speech start, pauses, and the end of each turn.

The first stage of voice input. Per window of audio the VAD says how likely it is speech;
this turns those probabilities into events, with hysteresis and bounded buffers:

- a pre-roll of the audio before speech was detected is kept, so the onset of the first
  word (which the detector needs a few windows to be sure of) is never cut;
- speech must last `vad.min_speech_ms` to count (a click or a cough does not start a turn);
- a pause of `vad.min_silence_ms` after speech is reported as `Paused`: the next stage asks
  the end-of-turn model whether the speaker has finished, and may end the turn at once
  (`end_turn`); as the pause goes on it is reported again every `voice.turn.recheck_ms`
  (a finished sentence sounds more finished with more silence after it, an unfinished
  one does not); a verdict of "finished" takes effect only once the pause has lasted
  `voice.turn.min_pause_ms` (a comma's pause after a clause that is a whole sentence
  sounds finished too, and is shorter); silence alone ends the turn after
  `voice.turn.silence_timeout_ms`;
- a turn longer than the buffer's limit ends where the limit is.

Synchronous and single-threaded: the caller feeds it from one place at a time.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from kagura.config import VADConfig, VoiceConfig
from kagura.engines.asr.base import SAMPLE_RATE, FloatAudio
from kagura.engines.vad import SpeechModel

# Staying in speech needs less than entering it: no flapping in the middle of a word.
HYSTERESIS = 0.15


@dataclass(frozen=True)
class SpeechStarted:
    """Speech has lasted `vad.min_speech_ms`: someone is talking."""


@dataclass(frozen=True)
class Paused:
    """Speech stopped for `vad.min_silence_ms`; `audio` is the turn so far (pause included)."""

    pause: int  # numbers the pauses of a stream: a later decision about this one names it
    audio: FloatAudio
    again: bool = False  # the same pause, longer: asked about once more


@dataclass(frozen=True)
class Resumed:
    """The speaker went on after pause number `pause`."""

    pause: int


@dataclass(frozen=True)
class EndOfTurn:
    """The turn is over. `audio` runs from the pre-roll to just after the last speech;
    `speech_start_s` and `speech_end_s` are where speech was heard, in seconds of the
    stream; `reason` is what ended it: "model", "silence" or "length"."""

    audio: FloatAudio
    speech_start_s: float
    speech_end_s: float
    reason: str
    audio_start_s: float = 0.0  # where `audio` begins in the stream


EndpointEvent = SpeechStarted | Paused | Resumed | EndOfTurn


class Endpointer:
    def __init__(
        self,
        model: SpeechModel,
        vad: VADConfig,
        voice: VoiceConfig,
        max_seconds: float,
    ) -> None:
        self._model = model
        self._vad = vad
        self._window = model.window
        self._window_ms = 1000 * self._window / SAMPLE_RATE
        self._silence_timeout_ms = max(voice.turn.silence_timeout_ms, vad.min_silence_ms)
        self._strong = voice.barge_in.threshold
        self._recheck_ms = voice.turn.recheck_ms
        self._min_pause_ms = voice.turn.min_pause_ms
        self._preroll: deque[FloatAudio] = deque(maxlen=round(voice.pre_roll_ms / self._window_ms))
        self._max_windows = max(1, int(max_seconds * 1000 / self._window_ms))
        self._pending = np.zeros(0, dtype=np.float32)
        self._position = 0  # samples heard since the stream began
        self._clear()
        self.pauses = 0

    def _clear(self) -> None:
        self._segment: list[FloatAudio] = []
        self._started = False
        self._paused = False
        self._speech_ms = 0.0
        self._silence_ms = 0.0
        self._next_check_ms = 0.0
        self._finished_pause = 0  # a pause the model found final, waiting for min_pause_ms
        # Speech heard at the barge-in threshold, for the next stage to judge.
        self.strong_speech_ms = 0.0
        self._segment_start = 0
        self._speech_start = 0
        self._speech_end = 0

    @property
    def in_speech(self) -> bool:
        """A turn has started and has not ended."""
        return self._started

    def segment(self) -> FloatAudio:
        """The audio of the turn so far (pre-roll included)."""
        if not self._segment:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(self._segment)

    def feed(self, samples: FloatAudio) -> list[EndpointEvent]:
        """Process a chunk of any length; return the events it completes, in order."""
        audio = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32)])
        usable = len(audio) - len(audio) % self._window
        self._pending = audio[usable:]
        events: list[EndpointEvent] = []
        for start in range(0, usable, self._window):
            event = self._step(audio[start : start + self._window])
            self._position += self._window
            if event is not None:
                events.append(event)
        return events

    def end_turn(self, pause: int) -> EndOfTurn | None:
        """End the turn at pause number `pause`, if the speaker has not gone on since: now
        if the pause has lasted `voice.turn.min_pause_ms`, else when it has (a later `feed`
        returns the `EndOfTurn`) unless the speaker goes on first."""
        if not (self._started and self._paused and pause == self.pauses):
            return None
        if self._silence_ms < self._min_pause_ms:
            self._finished_pause = pause
            return None
        return self._finish("model")

    def _step(self, window: FloatAudio) -> EndpointEvent | None:
        probability = self._model.probability(window)
        if not self._segment:
            if probability < self._vad.threshold:
                self._preroll.append(window)
                return None
            self._segment = [*self._preroll, window]
            self._segment_start = self._position - len(self._preroll) * self._window
            self._preroll.clear()
            self._speech_ms = self._window_ms
            self._speech_start = self._position
            self._speech_end = self._position + self._window
            self.strong_speech_ms = self._window_ms if probability >= self._strong else 0.0
            return self._maybe_start()

        self._segment.append(window)
        if probability >= self._vad.threshold - HYSTERESIS:
            return self._speech(probability)
        self._silence_ms += self._window_ms
        if not self._started:
            if self._silence_ms >= self._vad.min_silence_ms:
                self._clear()  # too short to be speech: forget it
            return None
        if len(self._segment) >= self._max_windows:
            return self._finish("length")
        if not self._paused and self._silence_ms >= self._vad.min_silence_ms:
            self._paused = True
            self.pauses += 1
            self._next_check_ms = self._silence_ms + self._recheck_ms
            return Paused(self.pauses, self.segment())
        if self._finished_pause == self.pauses and self._silence_ms >= self._min_pause_ms:
            return self._finish("model")
        if self._silence_ms >= self._silence_timeout_ms:
            return self._finish("silence")
        if self._paused and self._recheck_ms and self._silence_ms >= self._next_check_ms:
            self._next_check_ms += self._recheck_ms
            return Paused(self.pauses, self.segment(), again=True)
        return None

    def _speech(self, probability: float) -> EndpointEvent | None:
        self._speech_ms += self._window_ms
        self._silence_ms = 0.0
        self._speech_end = self._position + self._window
        if probability >= self._strong:
            self.strong_speech_ms += self._window_ms
        if len(self._segment) >= self._max_windows and self._started:
            return self._finish("length")
        if self._paused:
            self._paused = False
            self._finished_pause = 0
            return Resumed(self.pauses)
        return self._maybe_start()

    def _maybe_start(self) -> EndpointEvent | None:
        if not self._started and self._speech_ms >= self._vad.min_speech_ms:
            self._started = True
            return SpeechStarted()
        if not self._started and len(self._segment) >= self._max_windows:
            self._clear()  # never confirmed as speech: nothing to keep
        return None

    def _finish(self, reason: str) -> EndOfTurn:
        # Keep a pause's worth of silence after the last speech, not all of the wait.
        tail = int(self._vad.min_silence_ms * SAMPLE_RATE / 1000)
        keep = self._speech_end + tail - self._segment_start
        ended = EndOfTurn(
            audio=self.segment()[:keep],
            speech_start_s=self._speech_start / SAMPLE_RATE,
            speech_end_s=self._speech_end / SAMPLE_RATE,
            reason=reason,
            audio_start_s=self._segment_start / SAMPLE_RATE,
        )
        self._clear()
        return ended
