"""Per-message problems of a platform client, logged without flooding the log.

A hostile or broken server can send thousands of unreadable messages a second; one line
each would bury everything else (and fill the disk). The first few are logged in full, so
the cause can be seen; after that one line every `LOG_EVERY` with the count so far.
"""

from __future__ import annotations

import logging

LOGGED_IN_FULL = 5
LOG_EVERY = 1_000


class ProblemLog:
    """Counts one kind of problem of one client, and logs it at a bounded rate."""

    def __init__(self, logger: logging.Logger, label: str, level: int = logging.WARNING) -> None:
        self._log = logger
        self.label = label
        self.level = level
        self.count = 0

    def __call__(self, what: str) -> None:
        self.count += 1
        if self.count <= LOGGED_IN_FULL:
            self._log.log(self.level, "%s: %s (%d so far)", self.label, what, self.count)
            if self.count == LOGGED_IN_FULL:
                self._log.log(self.level, "%s: further ones counted, logged every %d",
                              self.label, LOG_EVERY)
        elif self.count % LOG_EVERY == 0:
            self._log.log(self.level, "%s: %d so far (the latest: %s)", self.label, self.count,
                          what)
