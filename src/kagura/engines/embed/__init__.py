"""Embedding engines, chosen by `memory.embeddings.provider` (`none` builds nothing)."""

from __future__ import annotations

from collections.abc import Callable

from kagura.config import EmbeddingsConfig
from kagura.engines.registry import Registry

from .base import EmbeddingEngine

__all__ = ["PROVIDERS", "EmbeddingEngine", "create"]

PROVIDERS: Registry[Callable[[EmbeddingsConfig], EmbeddingEngine]] = Registry(
    "memory.embeddings",
    {
        "local": "kagura.engines.embed.universal:UniversalSentenceEncoder",
        "openai": "kagura.engines.embed.openai_compat:OpenAICompatibleEmbeddings",
    },
)


def create(config: EmbeddingsConfig) -> EmbeddingEngine | None:
    """Build the engine named by `memory.embeddings.provider`; None for `none`."""
    if config.provider == "none":
        return None
    return PROVIDERS.resolve(config.provider)(config)
