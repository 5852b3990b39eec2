"""The LLM interface: chat messages in, an async stream of text chunks out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal, Protocol, TypedDict


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


class LLMEngine(Protocol):
    """Streams a reply so that speech can start while the model is still writing."""

    async def load(self) -> None:
        """Load the model or check the server once, so the first turn is not slowed down."""

    def stream(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        """Yield the reply in chunks; closing the iterator stops generation at once."""
        ...

    async def aclose(self) -> None:
        """Release the model or the HTTP client."""
