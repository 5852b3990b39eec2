"""The LLM interface: chat messages in, an async stream of text chunks out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal, Protocol, TypedDict


class ImagePart(TypedDict):
    type: Literal["image_url"]
    image_url: dict[str, str]  # {"url": "data:image/...;base64,..."}


class TextPart(TypedDict):
    type: Literal["text"]
    text: str


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    # Plain text, or (the new input only) text plus images for vision models.
    content: str | list[TextPart | ImagePart]


def text_of(message: ChatMessage) -> str:
    """A message's text, for engines that cannot see images."""
    content = message["content"]
    if isinstance(content, str):
        return content
    return " ".join(part["text"] for part in content if part["type"] == "text")


class LLMEngine(Protocol):
    """Streams a reply so that speech can start while the model is still writing."""

    async def load(self) -> None:
        """Load the model or check the server once, so the first turn is not slowed down."""

    def stream(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        """Yield the reply in chunks; closing the iterator stops generation at once."""
        ...

    async def prepare(self, messages: list[ChatMessage]) -> None:
        """Get ready for a request that will start with `messages`, while nobody waits.

        A local model reads them into its cache now (after a memory trim that takes about a
        second); engines that cannot do anything useful here do nothing.
        """

    async def aclose(self) -> None:
        """Release the model or the HTTP client."""
