"""A canned reply spoken through the normal turn: small gifts get thanked without the LLM.

`CannedReply` stands where the LLM engine stands, so the thank-you is segmented, voiced,
broadcast and acknowledged exactly like any other reply, with no second copy of that logic.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from kagura.engines.llm import ChatMessage


class CannedReply:
    """An `LLMEngine` that always "writes" the same text, at once."""

    def __init__(self, text: str) -> None:
        self.text = text

    async def load(self) -> None:
        return None

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        yield self.text

    async def aclose(self) -> None:
        return None
