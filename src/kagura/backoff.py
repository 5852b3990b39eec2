"""How long to wait before reconnecting: exponential, capped, with jitter.

Jitter matters when many clients lost the same server at once (a restart of `kagura serve`
or a platform's edge): without it they would all come back in the same instant, again
and again. The backoff starts over only after a connection lived a while (`after`): a
server that accepts and drops at once would otherwise be retried at the shortest delay
forever.
"""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """`initial`, then twice as long after each failure up to `maximum`; each delay is
    drawn between half and all of that ("equal jitter"). A connection that lived
    `stable_s` (by default `maximum`) counts as a success."""

    def __init__(
        self,
        initial: float,
        maximum: float,
        *,
        stable_s: float | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not 0 < initial <= maximum:
            raise ValueError(f"backoff needs 0 < initial ({initial}) <= maximum ({maximum})")
        self.initial = initial
        self.maximum = maximum
        self.stable_s = maximum if stable_s is None else stable_s
        self.failures = 0
        self._rng = rng

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * 2.0 ** min(self.failures, 32))
        self.failures += 1
        return ceiling * (0.5 + 0.5 * self._rng())

    def reset(self) -> None:
        self.failures = 0

    def after(self, lived_s: float | None) -> float:
        """The delay after a connection that lived `lived_s` (None: it never opened); one
        that lived `stable_s` starts the backoff over."""
        if lived_s is not None and lived_s >= self.stable_s:
            self.reset()
        return self.next_delay()
