"""LLM engines, chosen by `llm.provider`."""

from __future__ import annotations

from kagura.config import LLMConfig

from .base import ChatMessage, ImagePart, LLMEngine, TextPart, text_of

__all__ = ["ChatMessage", "ImagePart", "LLMEngine", "TextPart", "create", "text_of"]


def create(config: LLMConfig) -> LLMEngine:
    """Build the engine named by the config; imports stay lazy so unused engines cost nothing."""
    if config.provider == "openai":
        from .openai_compat import OpenAICompatibleLLM

        return OpenAICompatibleLLM(config)
    from .smollm2 import SmolLM2

    return SmolLM2(config)
