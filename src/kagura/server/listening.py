"""What both endpoints need to hear a speaker: the recorded-utterance buffer of the
`mic-audio-data` form, and a voice input for the streamed forms (`raw-audio-data` and
binary PCM frames) wired to the server's shared engines and to one conversation's turns."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kagura.conversation.events import Segment, TurnStarted
from kagura.engines.asr import SAMPLE_RATE, FloatAudio
from kagura.runtime import Runtime
from kagura.stage.events import StageEvent
from kagura.voice import Sink, VoiceEngines, VoiceInput


def voice_input(runtime: Runtime, sink: Sink, audible: Callable[[], bool], name: str) -> VoiceInput:
    """A voice input for one speaker; `audible()` is true while a reply may be playing."""
    engines = VoiceEngines(runtime.config, runtime.asr, runtime.end_of_turn)
    return VoiceInput(engines, sink, audible, name)


def follow_reply(voice: VoiceInput | None, event: StageEvent) -> None:
    """Keep a voice input's echo reference on the reply being spoken."""
    if voice is None:
        return
    if isinstance(event, TurnStarted):
        voice.reply_started()
    elif isinstance(event, Segment):
        voice.character_said(event.speech)


class MicBuffer:
    """The utterance being recorded, capped at `max_seconds` (the oldest audio is dropped)."""

    def __init__(self, max_seconds: float) -> None:
        self._limit = int(max_seconds * SAMPLE_RATE)
        self._chunks: list[FloatAudio] = []
        self._size = 0

    def extend(self, samples: list[float]) -> None:
        chunk = np.clip(np.asarray(samples, dtype=np.float64), -1.0, 1.0).astype(np.float32)
        self._chunks.append(chunk)
        self._size += chunk.size
        while self._size - self._chunks[0].size >= self._limit and len(self._chunks) > 1:
            self._size -= self._chunks.pop(0).size

    def take(self) -> FloatAudio:
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
        self._chunks, self._size = [], 0
        return audio[-self._limit :]
