"""One turn: the sequence around the speech stages, in explicit phases, told as events.

started → hear (ASR) → prompt → reply (LLM) → segments in order → reply complete → (bounded)
wait for the clients' playback acknowledgement → record → ended. What is heard, asked and
recorded differs between an answer and a canned line; that is the `TurnScript`'s part.
Everything else happens here, once, and every path, errors and interruption included, ends
with `TurnEnded`. The turn publishes typed events only (`events`); what a client receives is
decided and encoded at the edge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from kagura.audio import Speech
from kagura.config import KaguraConfig
from kagura.engines.cpu import cpu
from kagura.engines.errors import EngineError
from kagura.engines.llm import ChatMessage
from kagura.engines.tts import TTSEngine, speak
from kagura.live2d import ModelInfo
from kagura.safety import Match

from .events import (
    Failure,
    Publish,
    ReplyComplete,
    Segment,
    Transcription,
    TurnEnded,
    TurnEvent,
    TurnStarted,
    Withheld,
)
from .expressions import find_tags, strip_tags
from .guard import SegmentGuard
from .report import FirstAudio, TurnReport
from .segmenter import Segmenter
from .speech import Playhead, Spoken, aclose, segments, speak_in_order, with_deadlines
from .text import join_pieces, separator

log = logging.getLogger(__name__)

# How long a second interrupt waits for the first one's memory and history writes.
RECORD_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Heard:
    """The input's text; `spoken`: transcribed from speech, so shown back to the speaker."""

    text: str
    spoken: bool = False


class TurnScript(Protocol):
    """The part of a turn that differs between an answer and a canned line."""

    proactive: bool  # the character speaks unasked

    async def hear(self) -> Heard:
        """The input's text (transcribed when spoken)."""
        ...

    async def prompt(self, text: str) -> list[ChatMessage]:
        """The chat messages for the reply (remembering the input as it goes)."""
        ...

    def reply(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        """The reply's text, in chunks; closing it stops generation."""
        ...

    def replied(self, report: TurnReport) -> None:
        """The reply is complete and its audio is playing: get ready for the next turn."""

    async def record(self, report: TurnReport) -> None:
        """Remember what was said; runs before chain end, also when interrupted."""


def describe(exc: BaseException) -> str:
    """An engine error's own message; anything else by its type, for the client to show."""
    if isinstance(exc, EngineError):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class PlaybackAck:
    """Counts the first `frontend-playback-complete` after `backend-synth-complete`.

    The original frontend sends a burst of acknowledgements, and a client that plays nothing
    acknowledges at once, possibly before we start waiting. Opening the gate just before
    `backend-synth-complete` keeps that early ack and ignores stale ones from a previous turn.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._open = False

    def expect(self) -> None:
        self._event.clear()
        self._open = True

    def acknowledge(self) -> bool:
        if not self._open:
            return False
        self._event.set()
        return True

    async def wait(self, timeout_s: float) -> bool:
        try:
            async with asyncio.timeout(timeout_s):
                await self._event.wait()
            return True
        except TimeoutError:
            return False
        finally:
            self._open = False


@dataclass(frozen=True)
class Performer:
    """What a turn speaks and performs with: the character's model, the voice, and the guard
    that screens every segment before the voice says it."""

    model: ModelInfo
    tts: TTSEngine
    guard: SegmentGuard


class Turn:
    def __init__(
        self,
        *,
        config: KaguraConfig,
        performer: Performer,
        publish: Publish,
        playback: PlaybackAck,
        max_sentences: int = 0,
    ) -> None:
        self._config = config
        self._model = performer.model
        self._tts = performer.tts
        self._screening = performer.guard.screening()
        self._publish = publish
        self._playback = playback
        self.report = TurnReport()
        conversation = config.conversation
        self._playhead = Playhead()
        self._segmenter = Segmenter(
            conversation.max_segment_chars,
            short_words=conversation.short_sentence_words,
            merge_ahead_s=conversation.merge_ahead_s,
            max_sentences=max_sentences,
            ahead=self._playhead.ahead_s,
        )
        self._shown: list[str] = []
        self._started = time.monotonic()
        self._timeline = FirstAudio(self._started)
        self._last_chunk = self._started

    async def run(self, script: TurnScript) -> TurnReport:
        """Run to the end; on cancellation (interrupt) close the turn and re-raise.

        On every path `TurnEnded` is published exactly once, after the turn has been recorded.
        """
        self._tell(TurnStarted(script.proactive))
        completed = False
        try:
            messages = await self._prepare(script)
            if messages is not None:
                self._screening.heard(messages)
                await self._deliver(script.reply(messages))
                self.report.reply = self._segmenter.transcript()
                self._replied(script)
            self._playback.expect()  # before the clients hear the reply is complete
            self._tell(ReplyComplete(join_pieces(self._shown)))
            completed = True
            self.report.acknowledged = await self._playback.wait(self._ack_timeout())
        except asyncio.CancelledError:
            self.report.interrupted = True
            raise
        finally:
            self.report.reply = self._segmenter.transcript()
            try:
                await self._record(script)
            finally:
                self._tell(TurnEnded(self.report.interrupted, completed))
        return self.report

    def _replied(self, script: TurnScript) -> None:
        try:
            script.replied(self.report)
        except Exception:  # getting ready for the next turn must not break this one
            log.exception("preparing the next turn failed")

    def _tell(self, event: TurnEvent) -> None:
        try:
            self._publish(event)
        except Exception:  # a listener's bug must not break the turn
            log.exception("publishing %s failed", type(event).__name__)

    async def _record(self, script: TurnScript) -> None:
        """Record the turn. A second interrupt meanwhile waits (bounded) for the recording,
        so what was said is never lost, and is then honoured."""
        recording = asyncio.ensure_future(script.record(self.report))
        try:
            await asyncio.shield(recording)
        except asyncio.CancelledError:
            await asyncio.wait([recording], timeout=RECORD_TIMEOUT_S)
            raise
        except Exception:
            log.exception("recording the turn failed")

    async def _prepare(self, script: TurnScript) -> list[ChatMessage] | None:
        """Hear the input and build the prompt; a failure is reported under its own name.
        None: nothing to answer (a failure, or speech that was heard as nothing)."""
        try:
            heard = await script.hear()
        except Exception as exc:
            self._fail("ASR", exc)
            return None
        if heard.spoken:
            self._tell(Transcription(heard.text))
            if not heard.text.strip():
                return None
        try:
            return await script.prompt(heard.text)
        except Exception as exc:
            self._fail("prompt", exc)
            return None

    def _fail(self, stage: str, exc: Exception) -> None:
        """Report a failed stage to the clients; the turn goes on to its normal end."""
        message = describe(exc)
        if not isinstance(exc, EngineError | TimeoutError):
            log.error("%s failed unexpectedly", stage, exc_info=exc)
        else:
            log.warning("%s failed: %s", stage, message)
        self.report.error = message
        self._tell(Failure(f"{stage} failed: {message}"))

    async def _deliver(self, reply: AsyncIterator[str]) -> None:
        """Stream the reply out, segment by segment, keeping the playhead up to date."""
        llm_settings = self._config.llm
        chunks = with_deadlines(
            reply, llm_settings.first_token_timeout_s, llm_settings.stream_idle_timeout_s
        )
        # The lists screen each segment before synthesis, the guard model (if any) judges it
        # meanwhile: a segment leaves here only once both let it pass.
        timeout_s = self._config.tts.segment_timeout_s
        synthesised = speak_in_order(
            self._screening.screen(
                segments(self._recorded(chunks), self._segmenter), self._withhold
            ),
            self._speak,
            concurrency=self._config.tts.max_concurrency,
            timeout_s=timeout_s,
            first_alone=self._tts.runs_locally,
        )
        spoken_stream = self._screening.judged(synthesised, self._withhold, self._speak, timeout_s)
        self._started = self._timeline.requested = time.monotonic()
        try:
            async for spoken in spoken_stream:
                self._segment(spoken)
                if spoken.speech is not None and len(spoken.speech.samples):
                    self.report.audio_s += spoken.speech.duration_s
                    self._playhead.add(spoken.speech.duration_s)
                    if self.report.first_audio_s is None:
                        now = time.monotonic()
                        self.report.first_audio_s = now - self._started
                        if spoken.index == 0:  # the segment the timeline followed
                            self._timeline.published = now
        except Exception as exc:
            self._fail("LLM", exc)
        finally:
            await aclose(spoken_stream)
        if self.report.first_audio_s is not None and log.isEnabledFor(logging.DEBUG):
            # Once the reply is out, never on the first audio's way: a log line costs time.
            log.debug(
                "first audio %r: %s (first token %.0f ms after the request)",
                self.report.delivered[0] if self.report.delivered else "",
                self._timeline.describe(),
                1000 * (self.report.first_token_s or 0),
            )

    def _withhold(self, segment: str, match: Match) -> None:
        """A segment the guard stopped: told to whoever audits (never shown), and the reply
        remembered without it."""
        log.warning("safety: withheld a segment of %d characters (%s)", len(segment), match.rule)
        self.report.withheld.append(match.rule)
        self._tell(Withheld(segment, match.rule))

    def _segment(self, spoken: Spoken) -> None:
        if spoken.error:
            self._tell(Failure(f"TTS failed: {spoken.error}"))
        character = self._config.character
        if spoken.part > 0:  # more audio of the segment before: nothing to show or perform
            if spoken.speech is not None:
                self._tell(
                    Segment(
                        index=spoken.index,
                        text="",
                        shown="",
                        separator="",
                        speech=spoken.speech,
                        expressions=(),
                        motions=(),
                        speaker=character.name,
                        avatar=character.avatar,
                        part=spoken.part,
                    )
                )
            return
        tags = find_tags(spoken.text, self._model.emotionMap)
        shown = strip_tags(spoken.text)
        # A client that appends each segment's text as it arrives (the Open-LLM-VTuber
        # frontend) then reads "here. I'm glad", and Chinese without stray spaces.
        gap = separator(self._shown[-1], shown) if self._shown and shown else ""
        segment = Segment(
            index=spoken.index,
            text=spoken.text,
            shown=shown,
            separator=gap,
            speech=spoken.speech,
            expressions=tuple(self._model.emotionMap[tag] for tag in tags),
            motions=tuple(self._model.motions_for(tags)),
            speaker=character.name,
            avatar=character.avatar,
        )
        self._tell(segment)
        self.report.delivered.append(spoken.text)
        if shown:
            self._shown.append(shown)

    async def _speak(self, index: int, text: str) -> AsyncIterator[Speech]:
        """TTS hears the text without tags; the segment still carries them.

        The first segment is what everyone is waiting for: a local TTS gets the cores for it
        (and the timeline notes when its clause was complete and how long its first piece
        took).
        """
        pieces = speak(self._tts, strip_tags(text))
        try:
            if index > 0:
                async for piece in pieces:
                    yield piece
                return
            self._timeline.clause = self._last_chunk
            started = time.monotonic()
            with cpu.urgent() if self._tts.runs_locally else contextlib.nullcontext():
                async for piece in pieces:
                    if self._timeline.synthesis is None:
                        self._timeline.synthesis = (started, time.monotonic())
                    yield piece
        finally:
            await aclose(pieces)

    async def _recorded(self, chunks: AsyncIterator[str]) -> AsyncIterator[str]:
        try:
            async for chunk in chunks:
                self._last_chunk = time.monotonic()
                if self.report.first_token_s is None:
                    self.report.first_token_s = self._last_chunk - self._started
                yield chunk
        finally:
            await aclose(chunks)

    def _ack_timeout(self) -> float:
        """Remaining audio time plus a margin: a client that never acks cannot stall us."""
        conversation = self._config.conversation
        remaining = self._playhead.ahead_s() + conversation.playback_margin_s
        return min(conversation.playback_timeout_max_s, remaining)
