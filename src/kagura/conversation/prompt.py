"""Build the chat messages for one turn: persona, emotion tags, memory, the new input."""

from __future__ import annotations

from collections.abc import Mapping

from kagura.config import CharacterConfig
from kagura.engines.llm import ChatMessage

from .expressions import prompt_instructions
from .memory import ConversationMemory


def system_prompt(character: CharacterConfig, emotion_map: Mapping[str, int | str]) -> str:
    parts = [character.persona.strip(), prompt_instructions(emotion_map)]
    return "\n\n".join(part for part in parts if part)


def build_messages(
    character: CharacterConfig,
    emotion_map: Mapping[str, int | str],
    memory: ConversationMemory,
) -> list[ChatMessage]:
    """The system prompt followed by memory, which already ends with the new user input."""
    messages: list[ChatMessage] = [
        {"role": "system", "content": system_prompt(character, emotion_map)}
    ]
    messages.extend({"role": m.role, "content": m.content} for m in memory.messages())
    return messages
