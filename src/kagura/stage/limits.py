"""The stage's bounded memories of recent chat: what was said (de-duplication) and how fast
each viewer writes (the rate limit).

A flood of distinct viewers or long messages must not grow these without limit: each is an
insertion-ordered map that forgets its oldest entries past a fixed size, and texts are kept
as 8-byte fingerprints, never as copies of the chat.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

from kagura.config import StageConfig


class Bounded(OrderedDict[Any, Any]):
    """Insertion-ordered memory that forgets its oldest entries past `limit`."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def remember(self, key: Any, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)

    def forget_older(self, cutoff: float) -> None:
        """Drop entries whose value (a time) is before `cutoff`: they can match nothing."""
        while self and next(iter(self.values())) < cutoff:
            self.popitem(last=False)


class RateLimit:
    """A token bucket per viewer: `user_burst` messages at once, refilled at
    `user_rate_per_min` (0: no limit). The config is read each time: it may be replaced."""

    def __init__(self, config: StageConfig, limit: int) -> None:
        self.config = config
        self._buckets = Bounded(limit)  # user -> (tokens, when)

    def take(self, user: str, now: float) -> bool:
        """Whether `user` may send one more message now (and count it)."""
        rate = self.config.user_rate_per_min / 60.0
        if rate <= 0:
            return True
        burst = float(self.config.user_burst)
        tokens, then = self._buckets.get(user, (burst, now))
        tokens = min(burst, tokens + (now - then) * rate)
        if tokens < 1.0:
            self._buckets.remember(user, (tokens, now))
            return False
        self._buckets.remember(user, (tokens - 1.0, now))
        return True


def fingerprint(scope: str, text: str) -> bytes:
    """8 bytes stand for a viewer's (normalised) text or a message id: a flood of long
    messages must not turn the de-duplication memory into a copy of the chat."""
    key = f"{scope}\x00{' '.join(text.casefold().split())}".encode()
    return hashlib.blake2b(key, digest_size=8).digest()
