"""Logging that is safe to leave on during a stream: no secrets, no floods.

Browsers must put the token in the URL (`?token=...`), and uvicorn logs every URL; the
filter here recognises secret parameters the way the server parses them — names
percent-decoded, any case, `&` or `;` separated — so `?tok%65n=...` is redacted like
`?token=...`. Client mistakes (bad frames) are worth a line, not a traceback, and a client
sending thousands of them must not fill the disk: `RateLimitedLog` says how many it held back.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from urllib.parse import unquote_plus

SECRET_PARAMETERS = frozenset(
    {"token", "access_token", "api_key", "apikey", "key"}
    | {"sessdata", "bili_jct", "csrf", "csrf_token", "refresh_token", "refresh_csrf"}  # Bilibili
    | {"client_secret", "device_code"}  # OAuth forms
)
REDACTED = "***"
# One `name=value` pair of a query string (or a form body) as it appears in a log line.
_PAIR = re.compile(r"(?P<sep>[?&;])(?P<name>[^=&;\s\"'?#]+)=(?P<value>[^&;\s\"'#]*)")


def redact(text: str) -> str:
    """`text` with the value of every secret query parameter replaced by `***`."""

    def replace(match: re.Match[str]) -> str:
        name = unquote_plus(match["name"]).strip().lower()
        if name not in SECRET_PARAMETERS:
            return match.group()
        return f"{match['sep']}{match['name']}={REDACTED}"

    return _PAIR.sub(replace, text)


class RedactSecrets(logging.Filter):
    """Rewrites any record whose message carries a secret parameter."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "=" in message:
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        return True


class RateLimitedLog:
    """At most `burst` lines per `per_s` seconds; the next line that gets through says how
    many were held back meanwhile."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        burst: int = 5,
        per_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._burst = burst
        self._per_s = per_s
        self._clock = clock
        self._window_start = clock()
        self._in_window = 0
        self.suppressed = 0

    def warning(self, message: str, *args: object) -> bool:
        """Log one line if the budget allows; returns whether it was logged."""
        now = self._clock()
        if now - self._window_start >= self._per_s:
            self._window_start, self._in_window = now, 0
        if self._in_window >= self._burst:
            self.suppressed += 1
            return False
        self._in_window += 1
        if self.suppressed:
            message += " (%d similar lines held back)"
            args = (*args, self.suppressed)
            self.suppressed = 0
        self._logger.warning(message, *args)
        return True
