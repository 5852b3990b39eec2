"""What the LLM remembers of a conversation: recent messages within a token budget.

The history store keeps everything; memory is the bounded window the model sees, so a long
stream never grows the prompt (or RAM) without limit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from kagura.memory import ViewerKey

from .text import CJK

# Who wrote each line of an input message: the viewers behind it (empty: nobody's, e.g. the
# streamer's words, a header, or a message loaded from a history, which is unattributed).
LineOwners = tuple[frozenset[ViewerKey], ...]
# What remains of an input whose every line was a forgotten viewer's.
FORGOTTEN_LINE = "(a viewer's words, removed at their request)"


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate: about 4 characters per token, one per CJK character."""
    cjk = len(CJK.findall(text))
    return cjk + (len(text) - cjk + 3) // 4 + 1


@dataclass(frozen=True)
class Memory:
    role: Literal["user", "assistant"]
    content: str
    tokens: int
    # One entry per line of `content` when the lines are viewers' (the stage): a viewer who
    # asks to be forgotten is found by identity, never by the name a line shows.
    owners: LineOwners = ()


# When memory overflows it is cut down to this share of its budget at once.
LOW_WATER = 0.5
# After a reply, this share of the budget is kept free for the next input: memory is trimmed
# when the reply is added, while its audio plays, rather than when the next input arrives,
# so the trimmed prompt can be read into the LLM's cache before anyone waits for it.
HEADROOM = 0.125


class ConversationMemory:
    """A deque of messages trimmed from the oldest end to stay within `budget_tokens`.

    Trimming happens in one large cut rather than one message per turn: every LLM server
    (llama.cpp, vLLM, Ollama, OpenAI) reuses the computed prompt prefix between requests, and
    a prompt that loses its oldest message on every turn has a new prefix every time. With
    the embedded model that costs seconds per turn (measured: 4.2 s to the first token for a
    full 1,000-token memory, against 0.1 s with the prefix reused). The turn after a trim
    still has a new prefix: `after()` tells in advance what it will be, so the embedded
    model can read it while the reply before it is playing.
    """

    def __init__(self, budget_tokens: int) -> None:
        self._budget = budget_tokens
        self._items: deque[Memory] = deque()
        self._tokens = 0
        # Told what a trim dropped (long-term memory summarises it instead of forgetting).
        self.on_trim: Callable[[list[Memory]], None] | None = None

    def add(
        self, role: Literal["user", "assistant"], content: str, owners: LineOwners = ()
    ) -> Memory:
        """Append a message (trimming the oldest when over budget); returns it, so it can
        be replaced later (`replace`). `owners`: who wrote each line (see `Memory`); kept
        only when it has one entry per line."""
        if owners and len(owners) != content.count("\n") + 1:
            owners = ()
        item = Memory(role, content, estimate_tokens(content), owners)
        self._items.append(item)
        self._tokens += item.tokens
        limit = self._budget if role == "user" else self._budget - int(self._budget * HEADROOM)
        if self._tokens > limit:
            dropped = self._trim(int(self._budget * LOW_WATER))
            if dropped and self.on_trim is not None:
                self.on_trim(dropped)
        return item

    def replace(self, item: Memory, content: str) -> bool:
        """Say `content` instead of `item` (this very message, if memory still holds it):
        a reply the streamer cut is not remembered as said."""
        for index, held in enumerate(self._items):
            if held is item:
                new = Memory(item.role, content, estimate_tokens(content))  # not theirs now
                self._items[index] = new
                self._tokens += new.tokens - item.tokens
                return True
        return False

    def after(
        self, role: Literal["user", "assistant"], content: str, owners: LineOwners = ()
    ) -> list[Memory]:
        """The messages memory will hold after `add(role, content)`; memory is unchanged."""
        future = ConversationMemory(self._budget)
        future._items = deque(self._items)
        future._tokens = self._tokens
        future.add(role, content, owners)
        return future.messages()

    def _trim(self, target: int) -> list[Memory]:
        # Keep the newest message even if it alone is over budget, and start on a user
        # message: some chat templates refuse a conversation that opens with the assistant.
        dropped: list[Memory] = []
        while len(self._items) > 1 and (
            self._tokens > target or self._items[0].role == "assistant"
        ):
            dropped.append(self._items.popleft())
            self._tokens -= dropped[-1].tokens
        return dropped

    def redact(self, key: ViewerKey, placeholder: str = FORGOTTEN_LINE) -> int:
        """Remove the lines `key` wrote (a viewer who asked to be forgotten), found by who
        wrote them, never by the name they show: a namesake's lines stay. A message left
        empty reads `placeholder`. Returns the lines removed."""
        removed = 0
        for index, item in enumerate(self._items):
            kept = without(item, key, placeholder)
            if kept is item:
                continue
            removed += sum(key in owners for owners in item.owners)
            self._items[index] = kept
            self._tokens += kept.tokens - item.tokens
        return removed

    def clear(self) -> None:
        self._items.clear()
        self._tokens = 0

    def messages(self) -> list[Memory]:
        return list(self._items)

    @property
    def tokens(self) -> int:
        return self._tokens


def without(item: Memory, key: ViewerKey, placeholder: str = FORGOTTEN_LINE) -> Memory:
    """`item` without the lines `key` wrote (`item` itself when it has none of theirs); a
    message left with no line of anyone's reads `placeholder`."""
    if item.role != "user" or not any(key in owners for owners in item.owners):
        return item
    pairs = [
        (line, owners)
        for line, owners in zip(item.content.split("\n"), item.owners, strict=True)
        if key not in owners
    ]
    if not any(owners for _, owners in pairs):  # only a header, or nothing, is left
        return Memory("user", placeholder, estimate_tokens(placeholder))
    content = "\n".join(line for line, _ in pairs)
    return Memory("user", content, estimate_tokens(content), tuple(o for _, o in pairs))
