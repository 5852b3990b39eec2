"""`[emotion]` tags: the LLM writes them, the model performs them, TTS never speaks them."""

from __future__ import annotations

from collections.abc import Mapping

from .text import TAG, strip_tags

__all__ = ["find_tags", "prompt_instructions", "strip_tags"]


def find_tags(text: str, known: Mapping[str, object]) -> list[str]:
    """The known tags in `text`, in order, as they are spelled in `known`.

    Matching ignores case; a tag that is not known is dropped (it is still stripped from
    the spoken text by `strip_tags`).
    """
    lowered = {key.lower(): key for key in known}
    found = (lowered.get(m.group(1).lower()) for m in TAG.finditer(text))
    return [key for key in found if key is not None]


def prompt_instructions(emotion_map: Mapping[str, int | str]) -> str:
    """The sentence that teaches the LLM which tags exist for the current model."""
    if not emotion_map:
        return ""
    keys = ", ".join(f"[{key}]" for key in emotion_map)
    return (
        f"You can show feelings by writing one of these tags before a sentence: {keys}. "
        "Use only these tags and never explain them."
    )
