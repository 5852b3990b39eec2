"""Any OpenAI-compatible chat-completions server, streamed through the `openai` SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from kagura.config import LLMConfig
from kagura.engines.errors import EngineError
from kagura.engines.openai_client import BEARER, explain, make_client

from .base import ChatMessage


class OpenAICompatibleLLM:
    def __init__(self, config: LLMConfig) -> None:
        self._config = config
        settings = config.openai
        # The SDK timeout bounds connecting and each read; the turn adds first-token and
        # idle deadlines on top, so a server that trickles bytes cannot hold a turn forever.
        self._client = make_client(
            settings.base_url,
            settings.api_key,
            max(settings.connect_timeout_s, config.first_token_timeout_s),
        )

    async def load(self) -> None:
        """Nothing to load: the server owns the model. The first turn reports a bad URL."""

    async def prepare(self, messages: list[ChatMessage]) -> None:
        """Nothing: servers keep their own prompt caches, and a request made only to warm
        one would be billed by the paid APIs."""

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        settings = self._config.openai
        try:
            response = await self._client.post(
                "/chat/completions",
                body={
                    **settings.extra_body,
                    "model": settings.model,
                    "messages": messages,
                    "stream": True,
                    "temperature": self._config.temperature,
                    "max_tokens": self._config.max_reply_tokens,
                },
                cast_to=ChatCompletion,
                options=BEARER,
                stream=True,
                stream_cls=openai.AsyncStream[ChatCompletionChunk],
            )
        except openai.OpenAIError as exc:
            raise EngineError(self._explain(exc)) from exc
        try:
            async for chunk in response:
                if not chunk.choices:
                    continue
                text = chunk.choices[0].delta.content
                if text:
                    yield text
        except openai.OpenAIError as exc:
            raise EngineError(self._explain(exc)) from exc
        except Exception as exc:  # a dropped connection surfaces as the HTTP library's error
            raise EngineError(
                f"the LLM stream from {settings.base_url} broke off: {type(exc).__name__}"
            ) from exc
        finally:
            await response.close()

    def _explain(self, exc: Exception) -> str:
        return explain(
            exc,
            what="LLM",
            base_url=self._config.openai.base_url,
            setting="llm.openai.base_url / llm.openai.model",
        )

    async def aclose(self) -> None:
        await self._client.close()
