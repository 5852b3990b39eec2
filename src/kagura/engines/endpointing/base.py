"""The end-of-turn interface: the speech so far → how likely the speaker has finished."""

from __future__ import annotations

from typing import Protocol

from kagura.engines.asr.base import FloatAudio

# Smart Turn hears at most the last 8 s of a turn; callers need not keep more for it.
MAX_SECONDS = 8.0


class EndOfTurnModel(Protocol):
    async def load(self) -> None:
        """Load the model (once; the first call to `probability` also does)."""

    async def probability(self, audio: FloatAudio) -> float | None:
        """How likely the turn is complete (0..1) after `audio` (16 kHz mono, ending in the
        pause); None when the model has no opinion and silence alone decides."""
        ...

    async def aclose(self) -> None:
        """Release the model."""
