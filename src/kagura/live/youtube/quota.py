"""The daily quota budget: poll as often as YouTube allows, slow down rather than run out.

A Google Cloud project gets a daily quota of API units (10,000 by default) that resets at
midnight Pacific Time, and every call costs some: `videos.list` 1, `search.list` 100,
`liveChatMessages.list` 5. Polling chat every few seconds would use it up in a few hours,
after which nothing is read until the next day. So calls are spaced: a call costing `c`
comes at least `c × H / R` seconds after the previous one, where `R` is what is left today
and `H` is `budget_hours` (or the time until the reset, if that is sooner). At that pace
the units left would last `H` more hours; as they run low the pace slows, so the budget
decays but never runs out. YouTube's own `pollingIntervalMillis` is a floor on top.

Posting replies (`liveChatMessages.insert`, with the streamer's login) spends from the same
day, but only from its own share (`reply_share` of the day's units): reading paces itself on
the rest, so however many replies are posted, reading never runs short. A reply that would
overspend the share is not posted (`can_reply`).

What was spent today (and on replies) is kept in a small ledger file, under a fingerprint of
the key (never the key itself), so that a restarted client does not start the day afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from datetime import time as day_start
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

HOUR_S = 3600.0
try:
    PACIFIC: Any = ZoneInfo("America/Los_Angeles")
except ZoneInfoNotFoundError:  # no time-zone data (Windows without tzdata): standard time
    PACIFIC = timezone(timedelta(hours=-8), "PST")


class QuotaBudget:
    def __init__(
        self,
        per_day: int,
        hours: float,
        key: str,
        ledger: Path | None = None,
        clock: Callable[[], float] = time.time,
        reply_share: float = 0.0,
    ) -> None:
        self.per_day = per_day
        self.hours = hours
        self.ledger = ledger
        self.clock = clock
        self.reply_units = int(per_day * reply_share)  # the most replies may spend a day
        self._fingerprint = hashlib.sha256(key.encode()).hexdigest()[:16]
        self._day = self._today()
        self.spent, self.replies_spent = self._load()
        self._blocked_until = 0.0
        self._ledger_failed = False

    # -- the day -----------------------------------------------------------------------

    def _today(self) -> str:
        return datetime.fromtimestamp(self.clock(), PACIFIC).date().isoformat()

    def _roll(self) -> None:
        today = self._today()
        if today != self._day:
            self._day, self.spent, self.replies_spent, self._blocked_until = today, 0, 0, 0.0

    def until_reset(self) -> float:
        """Seconds until the quota resets (midnight Pacific Time)."""
        now = datetime.fromtimestamp(self.clock(), PACIFIC)
        midnight = datetime.combine(now.date() + timedelta(days=1), day_start(0), tzinfo=PACIFIC)
        return max(1.0, midnight.timestamp() - self.clock())

    # -- spending ----------------------------------------------------------------------

    @property
    def remaining(self) -> int:
        """Units left today for reading: the replies' whole share is kept apart."""
        self._roll()
        reading = self.spent - self.replies_spent
        return max(0, self.per_day - self.reply_units - reading)

    @property
    def replies_left(self) -> int:
        self._roll()
        return max(0, min(self.reply_units - self.replies_spent, self.per_day - self.spent))

    def charge(self, cost: int) -> None:
        self._roll()
        self.spent += cost
        self._save()

    def can_reply(self, cost: int) -> bool:
        return self.replies_left >= cost

    def charge_reply(self, cost: int) -> None:
        self._roll()
        self.spent += cost
        self.replies_spent += cost
        self._save()

    def spacing(self, cost: int) -> float:
        """Seconds to leave between calls costing `cost`, so that what is left lasts."""
        left = self.remaining
        if left < cost:
            return self.until_reset()
        return cost * min(self.hours * HOUR_S, self.until_reset()) / left

    def exhausted(self, wait_s: float) -> float:
        """YouTube said the quota is used up: no call for `wait_s` (or until the reset, if
        sooner). Returns the wait."""
        wait = min(wait_s, self.until_reset())
        self._blocked_until = self.clock() + wait
        return wait

    def blocked_for(self) -> float:
        self._roll()
        return max(0.0, self._blocked_until - self.clock())

    def summary(self) -> str:
        replies = f" ({self.replies_spent} on replies)" if self.reply_units else ""
        return f"quota {self.spent}/{self.per_day} units today{replies}"

    # -- the ledger --------------------------------------------------------------------

    def _load(self) -> tuple[int, int]:
        """What was spent today, in all and on replies (a ledger from before replies has
        only the first)."""
        if self.ledger is None:
            return 0, 0
        try:
            entry = json.loads(self.ledger.read_text("utf-8")).get(self._fingerprint, {})
            if entry.get("day") != self._day:
                return 0, 0
            return int(entry["spent"]), int(entry.get("replies", 0))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return 0, 0

    def _save(self) -> None:
        if self.ledger is None:
            return
        try:
            book = json.loads(self.ledger.read_text("utf-8"))
        except (OSError, ValueError):
            book = {}
        if not isinstance(book, dict):
            book = {}
        book[self._fingerprint] = {
            "day": self._day,
            "spent": self.spent,
            "replies": self.replies_spent,
        }
        temporary = self.ledger.with_suffix(f".{os.getpid()}.tmp")
        try:
            self.ledger.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(book), "utf-8")
            temporary.replace(self.ledger)
        except OSError as exc:
            if not self._ledger_failed:
                self._ledger_failed = True
                log.warning(
                    "cannot keep the quota ledger %s (%s): a restart will count the day's "
                    "quota from zero",
                    self.ledger,
                    exc,
                )
            with contextlib.suppress(OSError):
                temporary.unlink()
