"""How long to wait before reconnecting: exponential, capped, with jitter.

Jitter matters when many clients lost the same server at once (a restart of `kagura serve`
or a platform's edge): without it they would all come back in the same instant, again
and again.
"""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """`initial`, then twice as long after each failure up to `maximum`; each delay is
    drawn between half and all of that ("equal jitter")."""

    def __init__(
        self, initial: float, maximum: float, rng: Callable[[], float] = random.random
    ) -> None:
        self.initial = initial
        self.maximum = maximum
        self.failures = 0
        self._rng = rng

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * 2.0 ** min(self.failures, 32))
        self.failures += 1
        return ceiling * (0.5 + 0.5 * self._rng())

    def reset(self) -> None:
        self.failures = 0
