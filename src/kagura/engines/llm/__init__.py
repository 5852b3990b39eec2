"""LLM engines, chosen by `llm.provider`."""

from __future__ import annotations

from collections.abc import Callable

from kagura.config import LLMConfig
from kagura.engines.registry import Registry

from .base import ChatMessage, ImagePart, LLMEngine, TextPart, text_of

__all__ = ["PROVIDERS", "ChatMessage", "ImagePart", "LLMEngine", "TextPart", "create", "text_of"]

PROVIDERS: Registry[Callable[[LLMConfig], LLMEngine]] = Registry(
    "llm",
    {
        "openai": "kagura.engines.llm.openai_compat:OpenAICompatibleLLM",
        "smollm2": "kagura.engines.llm.smollm2:SmolLM2",
    },
)


def create(config: LLMConfig) -> LLMEngine:
    """Build the engine named by `llm.provider`; only that engine's module is imported."""
    return PROVIDERS.resolve(config.provider)(config)
