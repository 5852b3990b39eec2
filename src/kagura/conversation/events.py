"""What a turn tells its listeners, as typed events beside the wire messages.

The wire messages (`control`, `audio`, ...) are for clients; code that reacts to a turn —
the stage announcing the inputs it answers, the widget channel relaying the finished reply
— gets these instead, so nobody re-reads a dict it did not build or strips tags twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kagura.audio import Speech


@dataclass(frozen=True, slots=True)
class TurnStarted:
    """`conversation-chain-start` has just been sent."""


@dataclass(frozen=True, slots=True)
class SegmentDelivered:
    """One segment's `audio` message has been sent."""

    index: int
    text: str  # as displayed, without `[emotion]` tags
    expressions: tuple[int | str, ...]
    motions: tuple[dict[str, Any], ...]
    # What was sent to be played (None: display only); voice input listens for its echo.
    speech: Speech | None = None


@dataclass(frozen=True, slots=True)
class ReplyComplete:
    """`backend-synth-complete`: every segment has been sent; `text` is the whole reply
    without tags, its segments joined as displayed (spaces between English sentences,
    none in Chinese)."""

    text: str


@dataclass(frozen=True, slots=True)
class TurnEnded:
    """`conversation-chain-end` has just been sent."""

    interrupted: bool


TurnEvent = TurnStarted | SegmentDelivered | ReplyComplete | TurnEnded
Listener = Callable[[TurnEvent], None]
