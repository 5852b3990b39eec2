"""The streaming stages of a reply: LLM chunks → segments → speech, delivered in order.

Each stage is an async iterator feeding the next, so the first clause reaches TTS while the
LLM is still writing, and the first audio leaves while later segments are still being
synthesised. Closing the last stage closes every stage before it (interruption).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from kagura.audio import Speech
from kagura.bounded import BoundedQueue
from kagura.engines.errors import EngineError

from .segmenter import Segmenter
from .text import has_speech

log = logging.getLogger(__name__)

# Segments waiting for their turn to be delivered: synthesis may run this far ahead.
MAX_AHEAD = 16
# Pieces of one segment waiting to be delivered; the readers of streamed audio make pieces
# of at least 0.1 s and at most 120 s a segment, so a well-behaved engine never fills it.
MAX_PIECES = 1280


class Playhead:
    """Where the listener is in the reply's audio, as if each segment played the moment it
    arrived, right after the one before it. Tells how much audio is still ahead of them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._end: float | None = None  # when the audio sent so far will have played

    def add(self, seconds: float) -> None:
        """A segment of `seconds` was sent; it plays after the one before, or now."""
        now = self._clock()
        self._end = max(now, self._end if self._end is not None else now) + seconds

    def ahead_s(self) -> float:
        """Seconds of audio sent but not yet played (0 before the first audio)."""
        return 0.0 if self._end is None else max(0.0, self._end - self._clock())


@dataclass(frozen=True)
class Spoken:
    """A segment's audio as it will be delivered, with its text and any TTS error.

    An engine that streams delivers a segment in several pieces: `part` 0 carries the
    segment (its text is shown and performed with it), later parts only more of its audio."""

    index: int
    text: str
    speech: Speech | None
    error: str | None = None
    part: int = 0


# Speaks one segment (its index, its text) piece by piece, in order.
Speak = Callable[[int, str], AsyncIterator[Speech]]


def whole(speak: Callable[[int, str], Awaitable[Speech]]) -> Speak:
    """A `Speak` for a function that returns the segment's speech in one piece."""

    async def pieces(index: int, text: str) -> AsyncIterator[Speech]:
        yield await speak(index, text)

    return pieces


async def with_deadlines(
    chunks: AsyncIterator[str], first_s: float, idle_s: float
) -> AsyncIterator[str]:
    """Fail a stream that is slow to start or stalls, so no turn can hang on the LLM."""
    timeout, setting = first_s, "llm.first_token_timeout_s"
    try:
        while True:
            try:
                async with asyncio.timeout(timeout):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise EngineError(
                    f"the LLM sent nothing for {timeout:g} s; giving up ({setting})"
                ) from None
            timeout, setting = idle_s, "llm.stream_idle_timeout_s"
            yield chunk
    finally:
        await aclose(chunks)


async def segments(chunks: AsyncIterator[str], segmenter: Segmenter) -> AsyncIterator[str]:
    """Group chunks into segments. If the stream breaks, what was received is still spoken;
    once the segmenter has all the reply it wants, the LLM is stopped."""
    try:
        async for chunk in chunks:
            for piece in segmenter.feed(chunk):
                yield piece
            if segmenter.done:
                break
    except Exception:
        # Whatever broke the stream, what arrived before it is still said.
        for piece in segmenter.flush():
            yield piece
        raise
    finally:
        await aclose(chunks)
    for piece in segmenter.flush():
        yield piece


async def speak_in_order(
    texts: AsyncIterator[str],
    speak: Speak,
    *,
    concurrency: int,
    timeout_s: float,
    first_alone: bool = False,
) -> AsyncIterator[Spoken]:
    """Synthesise up to `concurrency` segments at once and yield them strictly in order.

    The semaphore wakes waiters first-come first-served and segments arrive in order, so the
    segment that plays next always gets the next free slot: later segments get ready early
    without ever delaying the first. A streaming engine's pieces of the segment that plays
    next are yielded as they come; a later segment's wait in its own queue. An error from
    `texts` (the LLM) is raised only after every segment received before it was delivered.

    With `first_alone`, nothing more is read from `texts` while the first segment is being
    synthesised: a synthesis on this machine's cores runs without the stream's parsing and
    segmenting beside it (what arrives meanwhile waits in the socket, and is read at once
    after). The later segments lose nothing when they are synthesised one at a time anyway.
    """
    slots = asyncio.Semaphore(concurrency)
    # Bounds the segments in flight; closing it always works, even from a producer that is
    # being cancelled, so the consumer can never wait for an end that is not coming.
    pending: BoundedQueue[tuple[asyncio.Task[None], BoundedQueue[Spoken]]] = BoundedQueue(
        MAX_AHEAD
    )

    async def synthesise(index: int, text: str, out: BoundedQueue[Spoken]) -> None:
        part = 0
        error: str | None = None
        try:
            if not has_speech(text):
                await out.put(Spoken(index, text, None))  # only tags: performed, not spoken
                return
            async with slots:
                try:
                    async with asyncio.timeout(timeout_s):
                        async for speech in speak(index, text):
                            await out.put(Spoken(index, text, speech, part=part))
                            part += 1
                except TimeoutError:
                    error = f"TTS took over {timeout_s:g} s (tts.segment_timeout_s)"
                except EngineError as exc:
                    error = str(exc)
                except Exception as exc:  # a bug or a library error: this segment, not the turn
                    log.error("TTS failed unexpectedly for %r", text, exc_info=exc)
                    error = f"{type(exc).__name__}: {exc}"
            if error is not None or part == 0:
                await out.put(Spoken(index, text, None, error, part=part))
        finally:
            out.close()

    async def produce() -> None:
        try:
            index = 0
            async for text in texts:
                out: BoundedQueue[Spoken] = BoundedQueue(MAX_PIECES)
                task = asyncio.create_task(synthesise(index, text, out))
                try:
                    await pending.put((task, out))
                except BaseException:
                    task.cancel()
                    raise
                if index == 0 and first_alone:
                    await asyncio.wait([task])
                index += 1
        finally:
            pending.close()

    producer = asyncio.create_task(produce())
    current: asyncio.Task[None] | None = None
    try:
        async for current, pieces in pending:
            async for spoken in pieces:
                yield spoken
            await current
        await producer  # re-raises the LLM's error, after the segments before it
    finally:
        producer.cancel()
        if current is not None:
            current.cancel()  # a segment still streaming when the listener stopped
        for leftover, _ in pending.clear():
            leftover.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await producer
        # The producer may have been cancelled before its loop closed the stream: close it
        # now, so the segmenter and the LLM stop at once, not when the garbage collector runs.
        await aclose(texts)


async def aclose(iterator: AsyncIterator[Any]) -> None:
    """Close an async generator now, so the stage before it stops working (interruption)."""
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()
