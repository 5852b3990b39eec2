"""The TTS interface: one segment of text in, its speech out."""

from __future__ import annotations

from typing import Protocol

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
