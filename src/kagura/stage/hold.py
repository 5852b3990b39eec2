"""The streamer has the floor: who is speaking on the stage right now, and for how long.

Each admin voice input says when its speaker starts talking (and again at every new stretch
of speech) and when nothing of theirs is pending any more (the turn was submitted, or turned
out to be the character's own echo, or was dropped). While anyone holds the floor, the stage
starts nothing but the streamer's own lane. A hold nobody ends (a voice input that never
said "stopped") must not silence the stage for good: it lapses after `limit_s` without
news, with one log line.

Pure and synchronous, with an injected clock.
"""

from __future__ import annotations

import logging

from .policy import Clock

log = logging.getLogger(__name__)


class StreamerHold:
    def __init__(self, clock: Clock, limit_s: float) -> None:
        self.clock = clock
        self.limit_s = limit_s
        self._since: dict[str, float] = {}  # speaker → when they last (re)started talking

    def speaking(self, who: str, speaking: bool) -> None:
        """`who` started (or goes on) talking, or has stopped."""
        if speaking:
            self._since[who] = self.clock()
        else:
            self._since.pop(who, None)

    @property
    def active(self) -> bool:
        """Someone holds the floor (lapsed holds are let go here)."""
        now = self.clock()
        for who, since in list(self._since.items()):
            if now - since > self.limit_s:
                del self._since[who]
                log.warning(
                    "stage: %s was speaking for over %.0f s without a word of it ending; "
                    "the stage answers chat again",
                    who,
                    self.limit_s,
                )
        return bool(self._since)

    def remaining_s(self) -> float:
        """Seconds until the earliest hold lapses (0 with none)."""
        if not self._since:
            return 0.0
        return max(0.0, self.limit_s - (self.clock() - min(self._since.values())))
