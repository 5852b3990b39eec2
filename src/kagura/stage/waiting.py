"""What waits in the stage's queue, and what is taken from it in one turn."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from .addressing import Address
from .events import ChatEvent, Lane


@dataclass(frozen=True, slots=True)
class Batch:
    """Events answered in one turn; `template`: a canned thank-you, not an LLM reply;
    `greeting`: a burst of hellos, answered with one line."""

    lane: Lane
    events: tuple[ChatEvent, ...]
    template: bool = False
    greeting: bool = False


@dataclass(slots=True)
class Waiting:
    """A queued event: since when (`at`, the policy's clock), its id for the streamer's
    Skip and Next, and whom it addresses."""

    event: ChatEvent
    at: float
    id: int = 0
    address: Address = Address.ORDINARY


def take_from(waiting: deque[Waiting], chosen: list[Waiting]) -> tuple[ChatEvent, ...]:
    """Remove `chosen` (items of `waiting`) and return their events, in order."""
    for item in chosen:
        waiting.remove(item)
    return tuple(item.event for item in chosen)


def view(item: Waiting, now: float, *, pinned: bool = False) -> dict[str, Any]:
    """One waiting item as the streamer's queue panel shows it."""
    event = item.event
    return {
        "id": item.id,
        "viewer": event.user_name,
        "platform": event.platform,
        "text": event.text,
        "label": event.label,
        "lane": event.lane.key,
        "kind": event.kind,
        "age_s": round(now - item.at, 1),
        "addressed": item.address is Address.ADDRESSED,
        "greeting": item.address is Address.GREETING,
        "next": pinned,
    }
