"""What the guard model's tests share: the words the fake guard is scripted to judge, and
what a page was said. (The fake guard itself is the `guard` fixture, in conftest.py.)"""

from __future__ import annotations

from typing import Any

GUARD_KEY = "sk-guard-secret-7f3a"
QWEN = "Qwen3Guard-Gen-0.6B"
LLAMA = "llama-guard3:1b"
SAID_ALL = ["Hello there.", " Let us have a beer.", " Bye now."]


def said(messages: list[dict[str, Any]]) -> list[str]:
    """What each segment showed (more audio of a segment, from a voice that streams, has none)."""
    return [
        m["display_text"]["text"] for m in messages if m["type"] == "audio" and m["display_text"]
    ]
