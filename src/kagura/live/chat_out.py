"""The character's replies posted in the platform's chat, for viewers without sound.

A reply becomes chat lines no longer than the platform allows, cut at sentence ends (then
at commas, then at spaces, then anywhere). Lines wait in a bounded queue and leave at most
one per `interval_s`, the pace the platform accepts; when replies come faster than that, the
oldest waiting lines are dropped and counted rather than queued without bound. A line the
platform refuses as too frequent is tried once more after a longer pause; a line the
platform cannot take for now (a budget spent, no live chat) is dropped and counted; a
refusal that cannot get better (not logged in, no permission) is said once, clearly, and
ends posting.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable

from .problems import ProblemLog

log = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"(?<=[.!?。！？…~～])\s*")
_CLAUSE_END = re.compile(r"(?<=[,;:，、；：])\s*")
RETRY_PAUSES = 2  # a too-frequent line waits this many intervals before its one retry


class TooFast(Exception):
    """The platform refused a line as sent too soon (it may be sent again later)."""


class LineDropped(Exception):
    """The platform cannot take this line now (a budget is spent, the chat is not live): it
    is dropped and counted, not retried; the message says why."""


class PostingRefused(Exception):
    """The platform refuses this account's lines for a reason time will not fix; the
    message says what to do."""


Post = Callable[[str], Awaitable[None]]


def chat_lines(text: str, max_chars: int) -> list[str]:
    """`text` as chat lines of at most `max_chars` characters, each a whole sentence when
    one fits."""
    lines: list[str] = []
    for sentence in _pieces(text.strip(), _SENTENCE_END):
        if len(sentence) <= max_chars:
            _join(lines, sentence, max_chars)
            continue
        for clause in _pieces(sentence, _CLAUSE_END):
            for part in _fit(clause, max_chars):
                _join(lines, part, max_chars)
    return lines


def _pieces(text: str, end: re.Pattern[str]) -> list[str]:
    return [piece.strip() for piece in end.split(text) if piece.strip()]


def _join(lines: list[str], piece: str, max_chars: int) -> None:
    """Add `piece` to the last line when both fit together (short sentences share a line)."""
    if lines:
        space = "" if _cjk(lines[-1][-1:]) or _cjk(piece[:1]) else " "
        joined = f"{lines[-1]}{space}{piece}"
        if len(joined) <= max_chars:
            lines[-1] = joined
            return
    lines.append(piece)


def _fit(text: str, max_chars: int) -> list[str]:
    """Cut at spaces where possible, else anywhere (Chinese has no spaces to cut at)."""
    parts: list[str] = []
    while len(text) > max_chars:
        cut = text.rfind(" ", 0, max_chars + 1)
        if cut <= 0:
            cut = max_chars
        parts.append(text[:cut].strip())
        text = text[cut:].strip()
    if text:
        parts.append(text)
    return parts


def _cjk(char: str) -> bool:
    return bool(char) and ("\u2e80" <= char <= "\u9fff" or "\uff00" <= char <= "\uffef")


class ChatOut:
    """Posts replies through `post` (the platform's send), one line per `interval_s`."""

    def __init__(
        self,
        post: Post,
        *,
        label: str,
        max_chars: int,
        interval_s: float,
        max_pending: int,
        closing: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._post = post
        self._closing = closing  # what the poster holds open (a connection)
        self.label = label
        self.max_chars = max_chars
        self.interval_s = interval_s
        self._lines: deque[str] = deque(maxlen=max_pending)
        self._ready = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self.posted = 0
        self.refused: str | None = None  # why posting has ended, if it has
        self._dropped = ProblemLog(log, f"{label}: reply lines dropped")
        self._failed = ProblemLog(log, f"{label}: reply lines not posted")

    @property
    def dropped(self) -> int:
        return self._dropped.count

    def reply(self, text: str) -> None:
        """Queue a finished reply's lines (the oldest waiting ones go if there is no room)."""
        if self.refused is not None:
            return
        for line in chat_lines(text, self.max_chars):
            if len(self._lines) == self._lines.maxlen:
                self._dropped("more waiting than live.*.reply_max_pending: the oldest went")
            self._lines.append(line)
        self._ready.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name=f"{self.label} chat lines")

    async def aclose(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
        if self._closing is not None:
            await self._closing()

    async def _run(self) -> None:
        while True:
            if not self._lines:
                self._ready.clear()
                await self._ready.wait()
                continue
            line = self._lines.popleft()
            try:
                await self._send(line)
            except PostingRefused as refused:
                self.refused = str(refused)
                log.error("%s: replies are no longer posted in chat: %s", self.label, refused)
                self._lines.clear()
                return
            await asyncio.sleep(self.interval_s)

    async def _send(self, line: str) -> None:
        for attempt in range(2):
            try:
                await self._post(line)
            except TooFast as exc:
                if attempt == 0:
                    await asyncio.sleep(self.interval_s * RETRY_PAUSES)
                    continue
                self._failed(f"too frequent twice ({exc})")
                return
            except PostingRefused:
                raise
            except LineDropped as exc:
                self._dropped(str(exc))
                return
            except Exception as exc:  # the network, an odd answer: this line only
                self._failed(f"{type(exc).__name__}: {str(exc)[:160]}")
                return
            self.posted += 1
            return
