"""The output guard: every segment of a reply is screened before anyone hears it.

Live means public: whatever the LLM writes may be heard by thousands. So the guard sits
between the segmenter and the viewers, the one place every spoken word passes: a segment
that fails is never shown, sent to the widgets, or remembered as said. What the viewers
hear instead is `safety.on_block`'s choice: the reply ends there (`cut`), or the segment
becomes the replacement line and the reply goes on (`replace`).

Two screens, one after the other:

- the lists (`ListGuard`), in microseconds, before a segment is synthesised;
- the optional guard model (`safety.guard`), which takes a network round trip. Its verdict
  starts as the segment leaves the lists and runs while the segment is synthesised (and
  while the segments before it play); the segment is published only once it has passed.
  So the model costs the first audio no more than the part of its latency the synthesis
  does not hide, and the later segments nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from kagura.audio import Speech
from kagura.config import SafetyConfig
from kagura.engines.llm import ChatMessage, text_of
from kagura.safety import UNAVAILABLE, GuardModel, ListGuard, Match

from .speech import Speak, Spoken, aclose, speak_in_order
from .text import CJK, TAG, has_speech, join_pieces, separator, strip_tags

log = logging.getLogger(__name__)

Withhold = Callable[[str, Match], None]
# The reply so far, as the guard model reads it: enough for context, never unbounded.
MAX_CONTEXT_CHARS = 4000
# What the lists read before each segment: a word split over several short segments by
# punctuation fits in it, and so does the segment before any real one.
LIST_CONTEXT_CHARS = 160


class SegmentGuard:
    """`safety`'s rules over the server's lists (`Runtime.lists`, built once: the default
    lists take a moment) and its guard model (`Runtime.guard_model`, None when off)."""

    def __init__(
        self, lists: ListGuard, config: SafetyConfig, model: GuardModel | None = None
    ) -> None:
        self.lists = lists
        self.config = config
        self.model = model

    def check(self, segment: str, before: str = "") -> Match | None:
        """Why `segment` must not be said by the lists (its emotion tags aside), or None;
        `before`: the segments said just before it (joined by `join_pieces`), read with it."""
        alone = self.lists.check(strip_tags(segment))
        if alone is not None or not before:
            return alone
        # Also as the pages show it, one text with what came before (joined as `join_pieces`
        # joins segments): a word split over segments is completed here. Alone as well, since
        # the join may glue it to the word before ("stream!ｄｕｍｂａｓｓ").
        text, said = TAG.sub(" ", segment), TAG.sub(" ", before)
        return self.lists.check(text, before=said + separator(said, text))

    def replacement(self, segment: str) -> str:
        """The line said instead of `segment`, in its language."""
        lines = self.config.replacement_line
        return lines.zh if CJK.search(segment) else lines.en

    def screening(self) -> Screening:
        """The screening of one reply."""
        return Screening(self)


@dataclass
class _Pending:
    """A guard model verdict under way: the segments of the reply it was asked about."""

    task: asyncio.Task[str | None]
    context: list[str]


class Screening:
    """One reply through both screens. `screen` goes before synthesis (the lists, and the
    start of each model verdict); `judged` after it (the verdict awaited, in order)."""

    def __init__(self, guard: SegmentGuard) -> None:
        self._guard = guard
        self._user: str | None = None
        self._context: list[str] = []  # each segment as it went to synthesis, without tags
        self._pending: dict[int, _Pending] = {}
        self._said: dict[int, str] = {}  # what was said at each index, once judged
        self._replaced: set[int] = set()  # indexes the model withheld
        self._passed: list[str] = []  # the latest segments that passed the lists, as written

    def heard(self, messages: list[ChatMessage]) -> None:
        """The request the reply answers (its last user message), for the model's context."""
        users = [text_of(m) for m in messages if m["role"] == "user"]
        self._user = users[-1] if users else None

    async def screen(self, segments: AsyncIterator[str], withhold: Withhold) -> AsyncIterator[str]:
        """The segments that may be synthesised, in order; `withhold` is told of each that
        may not. A cut closes the segments before it, so the LLM stops writing what nobody
        hears."""
        guard = self._guard
        try:
            async for segment in segments:
                match = guard.check(segment, self._before())
                if match is None:
                    self._passed.append(segment)
                    self._start(segment)
                    yield segment
                    continue
                withhold(segment, match)
                if guard.config.on_block == "cut":
                    return
                line = guard.replacement(segment)
                self._passed.clear()  # what led up to the withheld word is not read again
                self._start(line, trusted=True)  # the streamer's own line: not asked about
                yield line
        finally:
            await aclose(segments)

    def _before(self) -> str:
        """The latest segments that passed, whole, within `LIST_CONTEXT_CHARS`."""
        taken: list[str] = []
        size = 0
        for segment in reversed(self._passed):
            if taken and size + len(segment) > LIST_CONTEXT_CHARS:
                break
            taken.append(segment)
            size += len(segment)
        del self._passed[: len(self._passed) - len(taken)]
        return join_pieces(reversed(taken))

    def _start(self, segment: str, *, trusted: bool = False) -> None:
        """Ask the model about `segment` now, in the context of the reply so far."""
        model = self._guard.model
        if model is None:
            return
        index = len(self._context)
        self._context.append(strip_tags(segment))
        if trusted or not has_speech(segment):
            return
        context = list(self._context)
        task = asyncio.create_task(model.check(self._user, _joined(context)))
        self._pending[index] = _Pending(task, context)

    def judged(
        self, spoken: AsyncIterator[Spoken], withhold: Withhold, speak: Speak, timeout_s: float
    ) -> AsyncIterator[Spoken]:
        """`spoken` (the synthesised segments, in order), each once the model let it pass.
        A withheld segment's audio is discarded; with `cut` the reply ends there (closing
        `spoken` cancels the synthesis under way and stops the LLM), with `replace` the
        replacement line is synthesised and said in its place. Without a model: `spoken`."""
        if self._guard.model is None:
            return spoken
        return self._judged(spoken, withhold, speak, timeout_s)

    async def _judged(
        self, spoken: AsyncIterator[Spoken], withhold: Withhold, speak: Speak, timeout_s: float
    ) -> AsyncIterator[Spoken]:
        dropped = -1  # a withheld segment, whose later parts are dropped as they come
        try:
            async for item in spoken:
                if item.part > 0:  # judged with its first part
                    if item.index != dropped:
                        yield item
                    continue
                rule = await self._verdict(item.index)
                if rule is None:
                    self._said[item.index] = strip_tags(item.text)
                    yield item
                    continue
                withhold(item.text, Match(rule, item.text))
                if self._guard.config.on_block == "cut":
                    return
                dropped = item.index
                self._replaced.add(item.index)
                async for replaced in self._replace(item, speak, timeout_s):
                    yield replaced
        finally:
            await aclose(spoken)
            for pending in self._pending.values():
                pending.task.cancel()

    async def _verdict(self, index: int) -> str | None:
        pending = self._pending.pop(index, None)
        if pending is None:
            return None
        rule = await _outcome(pending.task)
        if rule is None or not any(j in self._replaced for j in range(index)):
            return rule
        # Its context held a segment the model has since withheld: judge it on what was
        # actually said before it, or one unsafe sentence would take the rest with it.
        said = [self._said.get(j, "") for j in range(index)] + pending.context[-1:]
        model = self._guard.model
        assert model is not None
        return await model.check(self._user, _joined(said))

    async def _replace(
        self, item: Spoken, speak: Speak, timeout_s: float
    ) -> AsyncIterator[Spoken]:
        """The replacement line for `item`, synthesised as any segment is (same errors)."""
        line = self._guard.replacement(item.text)
        self._said[item.index] = line

        def say(_: int, text: str) -> AsyncIterator[Speech]:
            return speak(item.index, text)

        spoken = speak_in_order(_one(line), say, concurrency=1, timeout_s=timeout_s)
        try:
            async for replaced in spoken:
                yield dataclasses.replace(replaced, index=item.index)
        finally:
            await aclose(spoken)


async def _outcome(task: asyncio.Task[str | None]) -> str | None:
    """The verdict's rule; a bug in asking is no verdict, never a pass."""
    try:
        return await task
    except Exception:
        log.exception("safety: asking the guard model failed unexpectedly")
        return UNAVAILABLE


def _joined(context: list[str]) -> str:
    return join_pieces(context)[-MAX_CONTEXT_CHARS:]


async def _one(text: str) -> AsyncIterator[str]:
    yield text
