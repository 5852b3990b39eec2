"""Per-message problems of a platform client, logged without flooding the log.

A hostile or broken server can send thousands of unreadable messages a second; one line
each would bury everything else (and fill the disk). Each kind of problem is logged in full
the first time it is met (up to `KINDS_LOGGED` kinds), so its cause can be seen; after that
problems are only counted, with one line every `LOG_EVERY` giving the count so far.
"""

from __future__ import annotations

import logging
import re

KINDS_LOGGED = 10
LOG_EVERY = 1_000
_KIND_CHARS = 48
_DIGITS = re.compile(r"\d+")


class ProblemLog:
    """Counts one client's problems of one sort, and logs them at a bounded rate."""

    def __init__(self, logger: logging.Logger, label: str, level: int = logging.WARNING) -> None:
        self._log = logger
        self.label = label
        self.level = level
        self.count = 0
        self._kinds: set[str] = set()

    def __call__(self, what: str) -> None:
        self.count += 1
        kind = _DIGITS.sub("#", what)[:_KIND_CHARS]  # "claims 123 bytes" ~ "claims 456 bytes"
        if kind not in self._kinds and len(self._kinds) < KINDS_LOGGED:
            self._kinds.add(kind)
            self._log.log(self.level, "%s: %s (%d so far)", self.label, what, self.count)
        elif self.count % LOG_EVERY == 0:
            self._log.log(
                self.level, "%s: %d so far (the latest: %s)", self.label, self.count, what
            )
