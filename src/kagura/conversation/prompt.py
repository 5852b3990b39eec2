"""Build the chat messages for one turn: persona, emotion tags, reply length, memory, input."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kagura.config import CharacterConfig
from kagura.engines.llm import ChatMessage, ImagePart, TextPart

from .expressions import prompt_instructions
from .framing import VIEWER_RULES
from .memory import Memory

_NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def length_instructions(max_sentences: int) -> str:
    """The sentence that asks for a reply of one to `max_sentences` sentences (0: none)."""
    if max_sentences <= 0:
        return ""
    if max_sentences == 1:
        return "Answer in one sentence."
    if max_sentences == 2:
        return "Answer in one or two sentences."
    most = _NUMBERS[max_sentences - 1] if max_sentences <= len(_NUMBERS) else str(max_sentences)
    return f"Answer in one to {most} sentences."


def system_prompt(
    character: CharacterConfig,
    emotion_map: Mapping[str, int | str],
    max_sentences: int = 0,
    *,
    viewers: bool = False,
) -> str:
    """Persona, reply length, emotion tags and, for a conversation with viewers (the stage),
    how their chat is framed. The same for every turn of a conversation: the model can
    reuse it."""
    parts = [
        character.persona.strip(),
        length_instructions(max_sentences),
        prompt_instructions(emotion_map),
    ]
    if viewers:
        parts.append(VIEWER_RULES)
    return "\n\n".join(part for part in parts if part)


def build_messages(
    character: CharacterConfig,
    emotion_map: Mapping[str, int | str],
    memory: Sequence[Memory],
    images: Sequence[str] = (),
    max_sentences: int = 0,
    *,
    viewers: bool = False,
) -> list[ChatMessage]:
    """The system prompt followed by memory, which already ends with the new user input.

    `images` (data URLs) go with the new input only: memory keeps words, not pictures, so
    the prompt stays small and bounded.
    """
    messages: list[ChatMessage] = [
        {
            "role": "system",
            "content": system_prompt(character, emotion_map, max_sentences, viewers=viewers),
        }
    ]
    messages.extend({"role": m.role, "content": m.content} for m in memory)
    last = messages[-1]
    if images and last["role"] == "user" and isinstance(last["content"], str):
        parts: list[TextPart | ImagePart] = [{"type": "text", "text": last["content"]}]
        parts += [{"type": "image_url", "image_url": {"url": url}} for url in images]
        messages[-1] = {"role": "user", "content": parts}
    return messages
