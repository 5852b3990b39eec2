"""Any server with an OpenAI-compatible `/embeddings` endpoint (Ollama, vLLM, OpenAI...)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import openai

from kagura.config import EmbeddingsConfig
from kagura.engines.errors import EngineError
from kagura.engines.openai_client import BEARER, explain, make_client

from .base import MAX_TEXT_CHARS, Vectors, normalized

SETTING = "memory.embeddings.openai.base_url"
BACKFILL_TIMEOUT_S = 30.0  # a batch of notes may take a while; a turn's query has its own


class OpenAICompatibleEmbeddings:
    def __init__(self, config: EmbeddingsConfig) -> None:
        self._settings = config.openai
        self.model_id = f"openai:{self._settings.model}"
        self._client = make_client(
            self._settings.base_url, self._settings.api_key, BACKFILL_TIMEOUT_S
        )

    async def load(self) -> None:
        """Nothing to load: the server owns the model."""

    async def embed(self, texts: Sequence[str], *, query: bool = False) -> Vectors:
        if not texts:
            return normalized([[0.0]])[:0]
        settings = self._settings
        try:
            answer: Any = await self._client.post(
                "/embeddings",
                body={
                    "model": settings.model,
                    "input": [text[:MAX_TEXT_CHARS] for text in texts],
                    "encoding_format": "float",
                },
                cast_to=object,
                options=BEARER,
            )
        except openai.OpenAIError as exc:
            raise EngineError(
                explain(exc, what="embeddings", base_url=settings.base_url, setting=SETTING)
            ) from exc
        return normalized(_vectors(answer, len(texts), settings.base_url))

    async def aclose(self) -> None:
        await self._client.close()


def _vectors(answer: Any, count: int, base_url: str) -> list[list[float]]:
    """The vectors of an `/embeddings` answer in input order; `EngineError` on anything else."""
    try:
        rows = sorted(answer["data"], key=lambda row: int(row["index"]))
        vectors = [[float(x) for x in row["embedding"]] for row in rows]
    except (TypeError, KeyError, ValueError) as exc:
        raise EngineError(f"embeddings server at {base_url} sent an unexpected answer") from exc
    if len(vectors) != count or len({len(v) for v in vectors}) != 1 or not vectors[0]:
        raise EngineError(
            f"embeddings server at {base_url} sent {len(vectors)} vectors of mixed or no "
            f"length for {count} texts"
        )
    return vectors
