"""One speaker's voice input: audio frames in, interruptions and finished utterances out.

A chain of small stages, each with one job:

    frames ─► Endpointer (VAD, pre-roll, pauses) ─► end of turn (Smart Turn, or silence)
                    │                                  └─► transcript (ASR, begun at the pause)
                    └─► barge-in (while the character speaks: long enough? its own echo?)

and events for the owner (a private session or the stage): `Interruption` (the speaker
talks over the reply), `Utterance` (a finished turn, transcribed) and `Speaking` (the
speaker has the floor, or no longer: the stage yields to the streamer). Everything
that blocks (VAD, the end-of-turn model, ASR, the echo check) runs off the event loop;
every buffer is bounded by `asr.max_seconds`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import numpy as np

from kagura.audio import Speech
from kagura.config import KaguraConfig
from kagura.engines import vad
from kagura.engines.asr import SAMPLE_RATE, ASREngine, FloatAudio
from kagura.engines.endpointing import EndOfTurnModel
from kagura.engines.errors import EngineError

from .echo import EchoReference
from .endpoint import EndOfTurn, Endpointer, Paused, Resumed, SpeechStarted

log = logging.getLogger(__name__)

# Barge-in is judged again after this much more speech (the streamer may start talking
# over an echo that was rightly ignored a moment before).
MIN_JUDGE_STEP_MS = 100.0


@dataclass(frozen=True)
class Interruption:
    """The speaker talks over the character's reply: stop it."""


@dataclass(frozen=True)
class TurnTiming:
    """When each stage of a turn was done, in `time.perf_counter()` seconds: where the
    time between the end of speech and the transcript went (logged; the benchmark reads it)."""

    paused: float  # the pause that ended the turn was heard (the turn's end for "recorded")
    ended: float  # the turn was found to be over
    transcribed: float  # its transcript was ready
    model_s: float = 0.0  # the end-of-turn model's time on that pause (0: not asked)


@dataclass(frozen=True)
class Utterance:
    """A finished turn and what was said in it (never empty)."""

    text: str
    audio: FloatAudio
    reason: str  # what ended the turn: "model", "silence", "length" or "recorded"
    timing: TurnTiming | None = None


@dataclass(frozen=True)
class Speaking:
    """The speaker started talking (`True`: at every new stretch of their own speech, not
    the character's echo), or nothing of theirs is pending any more (`False`: the turn was
    delivered, failed, was empty, or turned out to be the character's voice)."""

    speaking: bool


@dataclass(frozen=True)
class VoiceFailed:
    """Transcription failed; `message` is for the speaker's client."""

    message: str


VoiceEvent = Interruption | Utterance | Speaking | VoiceFailed
Sink = Callable[[VoiceEvent], None]


@dataclass(frozen=True)
class VoiceEngines:
    """What a voice input uses, shared by every speaker of a server."""

    config: KaguraConfig
    asr: ASREngine
    end_of_turn: EndOfTurnModel


class _Transcript:
    """A transcription under way for the audio up to one pause."""

    def __init__(self, pause: int, task: asyncio.Task[str]) -> None:
        self.pause = pause
        self.task = task


class VoiceInput:
    """One speaker (one connection). `audible()` tells whether the character's reply may be
    playing where this speaker's microphone can hear it."""

    def __init__(
        self, engines: VoiceEngines, sink: Sink, audible: Callable[[], bool], name: str
    ) -> None:
        self._engines = engines
        self._config = engines.config
        self._sink = sink
        self._audible = audible
        self._name = name
        self._lock = asyncio.Lock()
        self._endpointer: Endpointer | None = None
        self.echo = EchoReference()
        self._tasks: set[asyncio.Task[None]] = set()
        self._early: _Transcript | None = None
        # When the latest pause was heard, and the model's time on it.
        self._paused_at = 0.0
        self._model_s = 0.0
        # Who has the floor: the current stretch of speech is the speaker's own (`_live`),
        # or turns of theirs are still being transcribed (`_pending`); `_speaking` is what
        # the owner was told last.
        self._live = False
        self._pending = 0
        self._speaking = False
        self._reset_segment()

    def _reset_segment(self) -> None:
        self._judged_at_ms = 0.0
        self._overlaps_reply = False  # the segment began while the character spoke
        self._echo = False  # the last judgement: the character's own voice
        self._interrupted = False

    # -- the character's side ----------------------------------------------------------

    def reply_started(self) -> None:
        """A new reply: the echo reference starts over."""
        self.echo.clear()

    def character_said(self, speech: Speech | None) -> None:
        """One segment of the reply was sent to be played."""
        if speech is not None and len(speech.samples):
            self.echo.add(speech)

    # -- the speaker's side ------------------------------------------------------------

    async def feed(self, samples: FloatAudio) -> None:
        """A frame of 16 kHz mono audio, in order. Returns once it has been heard (the
        end-of-turn model and ASR go on in the background)."""
        audio = np.clip(np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)
        async with self._lock:
            endpointer = await self._ready()
            events = await asyncio.to_thread(endpointer.feed, audio.astype(np.float32))
            for event in events:
                self._on(event)
            if endpointer.in_speech and self._overlaps_reply:
                await self._judge(endpointer)

    def recorded(self, audio: FloatAudio) -> None:
        """A whole utterance recorded by the client (`mic-audio-data` … `mic-audio-end`):
        transcribed and reported like a turn the server ended itself."""
        seconds = audio.size / SAMPLE_RATE
        ended = EndOfTurn(audio, 0.0, seconds, "recorded")
        now = time.perf_counter()
        self._pending += 1
        self._report(fresh=True)
        self._spawn(self._deliver(ended, self._start_transcript(audio), False, now, now))

    async def _ready(self) -> Endpointer:
        if self._endpointer is None:
            config = self._config
            model = await asyncio.to_thread(vad.create, config.vad)
            self._endpointer = Endpointer(model, config.vad, config.voice, config.asr.max_seconds)
        return self._endpointer

    def _on(self, event: SpeechStarted | Paused | Resumed | EndOfTurn) -> None:
        match event:
            case SpeechStarted():
                self._reset_segment()
                # Over the reply, or over its wait for the first audio: judged either way
                # (with nothing played yet, nothing can be its echo).
                self._overlaps_reply = self._audible()
                # Over the reply it may be the character's echo: the speaker's once judged.
                self._claim(not self._overlaps_reply)
            case Paused():
                self._paused(event)
            case Resumed():
                self._early = None  # the transcript of the audio so far is not the turn's
            case EndOfTurn():
                self._ended(event)

    async def _judge(self, endpointer: Endpointer) -> None:
        """While the character speaks: is this speech the streamer (interrupt) or the
        character's own voice from the speakers (ignore)? Judged once enough strong speech
        was heard, and again as more comes."""
        barge_in = self._config.voice.barge_in
        step = max(float(barge_in.min_speech_ms), MIN_JUDGE_STEP_MS)
        heard = endpointer.strong_speech_ms
        if heard < max(float(barge_in.min_speech_ms), self._judged_at_ms + step):
            return
        self._judged_at_ms = heard
        if barge_in.echo_similarity < 1.0:
            similarity = await asyncio.to_thread(self.echo.similarity, endpointer.segment())
            self._echo = similarity >= barge_in.echo_similarity
            log.debug("%s: speech over the reply, echo similarity %.2f", self._name, similarity)
        self._claim(not self._echo)
        if not self._echo and not self._interrupted and barge_in.enabled and self._audible():
            self._interrupted = True
            self._sink(Interruption())

    def _paused(self, event: Paused) -> None:
        if not event.again:
            self._paused_at, self._model_s = time.perf_counter(), 0.0
        if self._echo:
            return
        voice = self._config.voice
        running = self._early is not None and not self._early.task.done()
        if voice.early_transcription and not running and not event.again:
            self._early = _Transcript(event.pause, self._start_transcript(event.audio))
        if voice.turn.provider != "silence":
            self._spawn(self._decide(event))

    async def _decide(self, event: Paused) -> None:
        """Ask the end-of-turn model; end the turn if it says the speaker has finished."""
        started = time.perf_counter()
        try:
            probability = await self._engines.end_of_turn.probability(event.audio)
        except EngineError as exc:
            log.warning("end of turn: %s; silence decides instead", exc)
            return
        elapsed_ms = 1000 * (time.perf_counter() - started)
        if event.pause == self.pauses_heard:
            self._model_s += elapsed_ms / 1000
        if probability is None or probability < self._config.voice.turn.threshold:
            log.debug("%s: pause %d, turn not over (p=%s)", self._name, event.pause, probability)
            return
        async with self._lock:
            if self._endpointer is None:
                return
            ended = self._endpointer.end_turn(event.pause)
            log.debug(
                "%s: the model found the turn over in %.0f ms (p=%.2f)%s",
                self._name,
                elapsed_ms,
                probability,
                "" if ended else "; the turn ends if this pause lasts voice.turn.min_pause_ms",
            )
            if ended is not None:
                self._ended(ended)

    @property
    def pauses_heard(self) -> int:
        return self._endpointer.pauses if self._endpointer is not None else 0

    def _ended(self, ended: EndOfTurn) -> None:
        now = time.perf_counter()
        paused_at = self._paused_at if ended.reason in ("model", "silence") else now
        early, judged_echo = self._early, self._echo
        unjudged = self._overlaps_reply and self._judged_at_ms == 0.0
        self._early = None
        self._reset_segment()
        self._live = False
        if judged_echo:
            log.debug("%s: ignored the character's own voice (%s)", self._name, ended.reason)
            self._report()
            return
        self._pending += 1  # the floor stays theirs until their words are delivered
        self._report()
        if early is not None and ended.reason != "length":
            transcript = early.task
        else:
            transcript = self._start_transcript(ended.audio)
        self._spawn(self._deliver(ended, transcript, unjudged, paused_at, now))

    def _start_transcript(self, audio: FloatAudio) -> asyncio.Task[str]:
        task = asyncio.create_task(self._transcribe(audio))
        # A transcript nobody waits for any more (the speaker went on) fails quietly.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        return task

    async def _is_echo(self, audio: FloatAudio) -> bool:
        """Speech that overlapped the reply but was never judged (too little of it to
        interrupt) is still checked before it is answered."""
        threshold = self._config.voice.barge_in.echo_similarity
        if threshold >= 1.0:
            return False
        return await asyncio.to_thread(self.echo.similarity, audio) >= threshold

    async def _transcribe(self, audio: FloatAudio) -> str:
        async with asyncio.timeout(self._config.asr.timeout_s):
            return await self._engines.asr.transcribe(audio)

    def _claim(self, live: bool) -> None:
        """The current stretch of speech is (or, judged an echo, is not) the speaker's."""
        fresh = live and not self._live
        self._live = live
        self._report(fresh)

    def _report(self, fresh: bool = False) -> None:
        """Tell the owner who has the floor when it changes, and at each fresh stretch of
        speech (a long monologue keeps the owner's hold from lapsing)."""
        speaking = self._live or self._pending > 0
        if speaking != self._speaking or (speaking and fresh):
            self._speaking = speaking
            self._sink(Speaking(speaking))

    async def _deliver(
        self,
        ended: EndOfTurn,
        transcript: asyncio.Task[str],
        unjudged: bool,
        paused_at: float,
        decided: float,
    ) -> None:
        try:
            await self._deliver_turn(ended, transcript, unjudged, paused_at, decided)
        finally:
            self._pending -= 1
            self._report()

    async def _deliver_turn(
        self,
        ended: EndOfTurn,
        transcript: asyncio.Task[str],
        unjudged: bool,
        paused_at: float,
        decided: float,
    ) -> None:
        if unjudged and await self._is_echo(ended.audio):
            log.debug("%s: ignored the character's own voice (%s)", self._name, ended.reason)
            transcript.cancel()
            return
        try:
            text = (await transcript).strip()
        except (EngineError, TimeoutError) as exc:
            message = str(exc) if isinstance(exc, EngineError) else "timed out"
            log.warning("%s: transcription failed: %s", self._name, message)
            self._sink(VoiceFailed(f"ASR failed: {message}"))
            return
        timing = TurnTiming(paused_at, decided, time.perf_counter(), self._model_s)
        log.debug(
            "%s: turn (%s, %.1f s of audio) ended %.0f ms after its pause (model %.0f ms), "
            "transcribed %.0f ms after it ended: %r",
            self._name,
            ended.reason,
            ended.audio.size / SAMPLE_RATE,
            1000 * (timing.ended - timing.paused),
            1000 * timing.model_s,
            1000 * max(0.0, timing.transcribed - timing.ended),
            text[:60],
        )
        if text:
            self._sink(Utterance(text, ended.audio, ended.reason, timing))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("voice input of %s failed", self._name, exc_info=task.exception())

    async def aclose(self) -> None:
        """The speaker left: stop what is still pending for them."""
        for task in list(self._tasks):
            task.cancel()
        if self._early is not None:
            self._early.task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
