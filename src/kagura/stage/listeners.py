"""Who hears the stage: subscribers to its events, and how many listen where.

The stage publishes typed events; the server's edge subscribes and decides which client
hears what. The stage only needs to know how many are listening (pages, widgets): idle talk
is for an audience, never for an empty room.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from .events import StageEvent

log = logging.getLogger(__name__)

Subscriber = Callable[[StageEvent], None]


class Subscribers:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Hear every event of the stage, in order, until the returned function is called.

        Subscribers are called synchronously on the event loop: they must not block (queue
        the work), and a subscriber's error is logged, never raised into the turn."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, event: StageEvent) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:  # a subscriber's bug must not break the turn
                log.exception("stage subscriber failed on %s", type(event).__name__)


class Audience:
    """Listeners by where they listen (stage pages, widgets): counts, not connections, set
    by whoever holds those connections."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def set(self, where: str, count: int) -> bool:
        """`count` listen at `where` now; True when they are the first anyone has."""
        before = self.total
        if count > 0:
            self._counts[where] = count
        else:
            self._counts.pop(where, None)
        return before == 0 and self.total > 0

    @property
    def total(self) -> int:
        return sum(self._counts.values())

    def by_place(self) -> dict[str, int]:
        return dict(self._counts)
