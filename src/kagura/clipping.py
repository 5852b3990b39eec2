"""Text cut to a length for display, logs and limits, with the cut shown.

One rule everywhere: the result is at most `limit` characters, the ellipsis included, so a
field's limit holds for what was clipped too.
"""

from __future__ import annotations

ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """`text`, or its first `limit - 1` characters and "…" when it is longer than `limit`."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + ELLIPSIS


def one_line(text: str, limit: int) -> str:
    """`text` on one line (every run of white space one space), clipped to `limit`."""
    return clip(" ".join(text.split()), limit)
