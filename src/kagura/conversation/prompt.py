"""Build the chat messages for one turn: persona, emotion tags, memory, the new input."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kagura.config import CharacterConfig
from kagura.engines.llm import ChatMessage, ImagePart, TextPart

from .expressions import prompt_instructions
from .framing import VIEWER_RULES
from .memory import ConversationMemory


def system_prompt(
    character: CharacterConfig, emotion_map: Mapping[str, int | str], *, viewers: bool = False
) -> str:
    """Persona, emotion tags and, for a conversation with viewers (the stage), how their
    chat is framed. The same for every turn of a conversation: the model can reuse it."""
    parts = [character.persona.strip(), prompt_instructions(emotion_map)]
    if viewers:
        parts.append(VIEWER_RULES)
    return "\n\n".join(part for part in parts if part)


def build_messages(
    character: CharacterConfig,
    emotion_map: Mapping[str, int | str],
    memory: ConversationMemory,
    images: Sequence[str] = (),
    *,
    viewers: bool = False,
) -> list[ChatMessage]:
    """The system prompt followed by memory, which already ends with the new user input.

    `images` (data URLs) go with the new input only: memory keeps words, not pictures, so
    the prompt stays small and bounded.
    """
    messages: list[ChatMessage] = [
        {"role": "system", "content": system_prompt(character, emotion_map, viewers=viewers)}
    ]
    messages.extend({"role": m.role, "content": m.content} for m in memory.messages())
    last = messages[-1]
    if images and last["role"] == "user" and isinstance(last["content"], str):
        parts: list[TextPart | ImagePart] = [{"type": "text", "text": last["content"]}]
        parts += [{"type": "image_url", "image_url": {"url": url}} for url in images]
        messages[-1] = {"role": "user", "content": parts}
    return messages
