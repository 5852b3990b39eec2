"""Who to greet, and when: arrivals collected, greeted in batches, nobody twice a stream.

Pure and synchronous, with an injected clock, like the flood policy: whether a viewer is a
regular (long-term memory) and what the greeting says are the host's business
(`kagura.stage.host`). A viewer is known by their platform identity (platform and user id,
or `name:<name>` when the platform gives no id), never by a display name alone.

Bounded: at most `MAX_PENDING` arrivals wait (the oldest is dropped past it), an arrival
waits at most `ARRIVAL_TTL_S` (a greeting minutes late greets nobody who is listening), and
`MAX_GREETED` identities are remembered per stream (the oldest forgotten first).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kagura.memory import ViewerKey

Clock = Callable[[], float]

MAX_PENDING = 500
MAX_GREETED = 50_000  # identities greeted (or answered) this stream
ARRIVAL_TTL_S = 300.0


@dataclass(frozen=True, slots=True)
class Arrival:
    """A viewer who came in: who, by the name they go by, and when (the greeter's clock)."""

    key: ViewerKey
    name: str
    at: float


class Greeter:
    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._pending: OrderedDict[ViewerKey, Arrival] = OrderedDict()
        self._greeted: OrderedDict[ViewerKey, None] = OrderedDict()
        self._last = float("-inf")  # when the last greeting was taken
        self.greetings = 0  # greeting batches taken this stream
        self.dropped = 0  # arrivals dropped: too many waiting, or waited too long

    def arrive(self, key: ViewerKey, name: str) -> bool:
        """A viewer came in (an entry, a first message): True if they now wait for a
        greeting, False if they were greeted (or answered) this stream or already wait."""
        if key in self._greeted or key in self._pending:
            return False
        while len(self._pending) >= MAX_PENDING:
            self._pending.popitem(last=False)
            self.dropped += 1
        self._pending[key] = Arrival(key, name, self.clock())
        return True

    def answered(self, keys: Iterable[ViewerKey]) -> None:
        """These viewers were answered in a turn: that was their greeting."""
        for key in keys:
            self._pending.pop(key, None)
            self._mark(key)

    def withdraw(self, key: ViewerKey) -> None:
        """Not to be greeted after all (banned meanwhile, asked to be forgotten)."""
        self._pending.pop(key, None)

    def due_in(self, every_s: float, patience_s: float = 0.0) -> float | None:
        """Seconds until a greeting is due (0: now), or None when nobody waits: `every_s`
        after the last one, and once the oldest arrival has waited `patience_s`."""
        self._expire()
        if not self._pending:
            return None
        oldest = next(iter(self._pending.values())).at
        now = self.clock()
        return max(0.0, self._last + every_s - now, oldest + patience_s - now)

    def take(self, every_s: float, limit: int, patience_s: float = 0.0) -> list[Arrival]:
        """The next greeting's arrivals, oldest first (at most `limit`; the rest wait for
        the next one), or [] when none is due. Those taken are never greeted again."""
        wait = self.due_in(every_s, patience_s)
        if wait is None or wait > 0:
            return []
        taken: list[Arrival] = []
        while self._pending and len(taken) < limit:
            _, arrival = self._pending.popitem(last=False)
            self._mark(arrival.key)
            taken.append(arrival)
        self._last = self.clock()
        self.greetings += 1
        return taken

    def new_stream(self) -> None:
        """The show (re)starts: everyone may be greeted once more."""
        self._pending.clear()
        self._greeted.clear()
        self._last = float("-inf")
        self.greetings = 0

    @property
    def waiting(self) -> int:
        return len(self._pending)

    def _mark(self, key: ViewerKey) -> None:
        self._greeted[key] = None
        self._greeted.move_to_end(key)
        while len(self._greeted) > MAX_GREETED:
            self._greeted.popitem(last=False)

    def _expire(self) -> None:
        cutoff = self.clock() - ARRIVAL_TTL_S
        while self._pending and next(iter(self._pending.values())).at < cutoff:
            self._pending.popitem(last=False)
            self.dropped += 1
