"""What was dropped, and why, in words a streamer reads: the last few drops with the
viewer, the text and the reason, for the stage page's queue panel.

Counters say how often ("expired: 3"); this says which message ("Lin's question expired
after 30 s"), so a lost question leaves a trace the streamer can see. Bounded: only the
latest `MAX_DROPS` are kept.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from kagura.clipping import clip

from .events import ChatEvent

MAX_DROPS = 50
MAX_SHOWN_CHARS = 120
# Reasons whose text is not repeated here: what the safety lists or the streamer's own
# filters kept off the stream is in the safety log (admin), never shown again in passing.
WITHHELD_TEXT = frozenset({"blocked_word", "unsafe", "banned", "blocked_user"})
# Not worth a line: a platform's redelivery or a viewer's repeated spam, counted only.
UNLISTED = frozenset({"duplicate"})


@dataclass(frozen=True, slots=True)
class Drop:
    event: ChatEvent
    reason: str
    at: float
    waited_s: float | None  # how long it had waited (None: refused on arrival)


class DropLog:
    def __init__(self, limit: int = MAX_DROPS) -> None:
        self._drops: deque[Drop] = deque(maxlen=limit)

    def record(self, event: ChatEvent, reason: str, at: float, waited_s: float | None) -> None:
        if reason not in UNLISTED:
            self._drops.append(Drop(event, reason, at, waited_s))

    def view(self, now: float) -> list[dict[str, Any]]:
        """The latest drops, newest first."""
        return [self._row(drop, now) for drop in reversed(self._drops)]

    @staticmethod
    def _row(drop: Drop, now: float) -> dict[str, Any]:
        withheld = drop.reason in WITHHELD_TEXT
        return {
            "viewer": drop.event.user_name,
            "platform": drop.event.platform,
            "text": "" if withheld else clip(drop.event.text, MAX_SHOWN_CHARS),
            "label": "" if withheld else clip(drop.event.label, MAX_SHOWN_CHARS),
            "lane": drop.event.lane.key,
            "kind": drop.event.kind,
            "reason": drop.reason,
            "ago_s": round(now - drop.at, 1),
            "waited_s": None if drop.waited_s is None else round(drop.waited_s, 1),
        }
