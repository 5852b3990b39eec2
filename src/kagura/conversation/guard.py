"""The output guard: every segment of a reply is screened before it is synthesised.

Live means public: whatever the LLM writes may be heard by thousands. So the guard sits
between the segmenter and TTS, the one place every spoken word passes: a segment that fails
is never synthesised, shown, sent to the widgets, or remembered as said. What the viewers
hear instead is `safety.on_block`'s choice: the reply ends there (`cut`), or the segment
becomes the replacement line and the reply goes on (`replace`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

from kagura.config import SafetyConfig
from kagura.safety import ListGuard, Match

from .speech import aclose
from .text import CJK, strip_tags

log = logging.getLogger(__name__)

Withhold = Callable[[str, Match], None]


class SegmentGuard:
    """`safety`'s rules over the server's lists (`Runtime.lists`, built once: the default
    lists take a moment)."""

    def __init__(self, lists: ListGuard, config: SafetyConfig) -> None:
        self.lists = lists
        self.config = config

    def check(self, segment: str) -> Match | None:
        """Why `segment` must not be said (its emotion tags aside), or None."""
        return self.lists.check(strip_tags(segment))

    def replacement(self, segment: str) -> str:
        """The line said instead of `segment`, in its language."""
        lines = self.config.replacement_line
        return lines.zh if CJK.search(segment) else lines.en

    async def screen(self, segments: AsyncIterator[str], withhold: Withhold) -> AsyncIterator[str]:
        """The segments that may be said, in order; `withhold` is told of each that may not.
        A cut closes the segments before it, so the LLM stops writing what nobody hears."""
        try:
            async for segment in segments:
                match = self.check(segment)
                if match is None:
                    yield segment
                    continue
                withhold(segment, match)
                if self.config.on_block == "cut":
                    return
                yield self.replacement(segment)
        finally:
            await aclose(segments)
