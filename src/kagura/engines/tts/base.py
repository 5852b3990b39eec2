"""The TTS interface: one segment of text in, its speech out."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Protocol, runtime_checkable

from kagura.audio import Speech


class TTSEngine(Protocol):
    """Synthesises one segment; the turn runs several at once and delivers them in order."""

    # True when synthesis competes with a local LLM for this machine's cores.
    runs_locally: bool

    async def load(self) -> None:
        """Load the voice once, at start-up, never per request."""

    async def synthesize(self, text: str) -> Speech:
        """Speak `text`; raise `EngineError` with an actionable message on failure."""
        ...

    async def aclose(self) -> None:
        """Release the voice or the HTTP client."""


@runtime_checkable
class StreamingTTS(Protocol):
    """An engine whose server sends audio while it is still synthesising.

    The turn plays the first piece of a segment as soon as it arrives instead of waiting for
    the whole sentence; pieces are in order and gapless (`kagura.engines.tts.pcm` makes them
    from whatever the server sends). `synthesize` of such an engine is `collect(stream(...))`.
    """

    def stream(self, text: str) -> AsyncIterator[Speech]:
        """Speak `text` piece by piece; raise `EngineError` (before or between pieces)."""
        ...


async def speak(engine: TTSEngine, text: str) -> AsyncGenerator[Speech, None]:
    """`text` spoken piece by piece: as the engine streams it, or in one piece."""
    if isinstance(engine, StreamingTTS):
        async for piece in engine.stream(text):
            yield piece
    else:
        yield await engine.synthesize(text)
