"""What the LLM remembers of a conversation: recent messages within a token budget.

The history store keeps everything; memory is the bounded window the model sees, so a long
stream never grows the prompt (or RAM) without limit.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

from .text import CJK


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate: about 4 characters per token, one per CJK character."""
    cjk = len(CJK.findall(text))
    return cjk + (len(text) - cjk + 3) // 4 + 1


@dataclass(frozen=True)
class Memory:
    role: Literal["user", "assistant"]
    content: str
    tokens: int


class ConversationMemory:
    """A deque of messages trimmed from the oldest end to stay within `budget_tokens`."""

    def __init__(self, budget_tokens: int) -> None:
        self._budget = budget_tokens
        self._items: deque[Memory] = deque()
        self._tokens = 0

    def add(self, role: Literal["user", "assistant"], content: str) -> None:
        item = Memory(role, content, estimate_tokens(content))
        self._items.append(item)
        self._tokens += item.tokens
        # Always keep the newest message, even if it alone is over budget.
        while self._tokens > self._budget and len(self._items) > 1:
            self._tokens -= self._items.popleft().tokens

    def clear(self) -> None:
        self._items.clear()
        self._tokens = 0

    def messages(self) -> list[Memory]:
        return list(self._items)

    @property
    def tokens(self) -> int:
        return self._tokens
