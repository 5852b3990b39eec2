"""What goes on air, and when: the stream delay between the stage and the pages OBS shows.

Broadcast television keeps a few seconds between the studio and the transmitter, and a person
with a cut button. So does the stage: its events reach `live` subscribers (the streamer's own
page) at once, and `delayed` subscribers (page-role pages — the OBS overlay — and the widget
channel) `stage.stream_delay_s` later, in order and with their original spacing, so audio,
subtitles and expressions stay in sync on the delayed pages. The first audio on the streamer's
page is not delayed at all.

`cut` drops what is still waiting, so it never airs, and says how many finished replies went
with it (the stage takes them back from memory and history); the reply the delayed pages are
in the middle of is stopped there. The delay lives here, at the edge, because it is about
who sees what when — the stage's turns run at the streamer's pace, unaware of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kagura.conversation.events import TurnEnded, TurnStarted
from kagura.stage.events import Cut, StageEvent
from kagura.stage.listeners import Subscriber
from kagura.stage.stage import Stage

log = logging.getLogger(__name__)

# Events inside the delay: a minute of replies is a few hundred. Beyond this the oldest go
# on air early rather than be lost or grow the line without limit.
MAX_WAITING = 4096


@dataclass(frozen=True, slots=True)
class _Waiting:
    due: float  # `time.monotonic()` when it goes on air
    reply: int  # the reply it belongs to (0: between replies, e.g. a new character)
    event: StageEvent


class Airing:
    def __init__(
        self, stage: Stage, delay_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stage = stage
        self.delay_s = delay_s
        self._clock = clock
        self._live: list[Subscriber] = []
        self._delayed: list[Subscriber] = []
        self._line: deque[_Waiting] = deque()
        self._reply = 0  # the number of the latest reply the stage started
        self._in_reply = False
        self._cut_upto = 0  # replies up to this one never go on air (what is left of them)
        self._on_air = 0  # the reply the delayed pages are in the middle of (0: none)
        self._owed_end = 0  # a cut reply whose end the delayed pages still need
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.cuts = 0
        self.panics = 0
        self.early = 0  # events sent before their time because the line was full
        self._unsubscribe = stage.subscribe(self._on_event)

    @property
    def delays(self) -> bool:
        return self.delay_s > 0

    def subscribe(self, subscriber: Subscriber, *, delayed: bool) -> Callable[[], None]:
        """Hear the stage's events at once, or (`delayed`) as they go on air."""
        subscribers = self._delayed if delayed else self._live
        subscribers.append(subscriber)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                subscribers.remove(subscriber)

        return unsubscribe

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        if self.delays and self._task is None:
            self._task = asyncio.create_task(self._release_when_due())

    async def stop(self) -> None:
        self._unsubscribe()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- the streamer's buttons ------------------------------------------------------------

    def cut(self, *, panic: bool = False) -> int:
        """Nothing still waiting goes on air: the delayed pages stop what they are playing
        and never receive the rest. Returns how many finished replies were still (partly)
        waiting, for the stage to take back; the reply in progress is the stage's to stop."""
        waiting = {item.reply for item in self._line if item.reply}
        finished = {item.reply for item in self._line if isinstance(item.event, TurnEnded)}
        end_waiting = [
            item.event
            for item in self._line
            if self._on_air and item.reply == self._on_air and isinstance(item.event, TurnEnded)
        ]
        self._line.clear()
        self._changed.set()
        self._cut_upto = self._reply
        if panic:
            self.panics += 1
        else:
            self.cuts += 1
        self._send(self._delayed, Cut(panic))
        if end_waiting:  # the pages in the middle of a reply hear it end, as always
            self._send(self._delayed, end_waiting[0])
            self._on_air = 0
        elif self._on_air:
            self._owed_end = self._on_air  # sent when the stage ends it
        return len(waiting & finished)

    def stats(self) -> dict[str, Any]:
        return {
            "stream_delay_s": self.delay_s,
            "waiting_events": len(self._line),
            "waiting_replies": len({item.reply for item in self._line if item.reply}),
            "next_on_air_s": round(max(0.0, self._line[0].due - self._clock()), 3)
            if self._line
            else None,
            "cuts": self.cuts,
            "panics": self.panics,
            "sent_early": self.early,
        }

    # -- the line ----------------------------------------------------------------------

    def _on_event(self, event: StageEvent) -> None:
        if isinstance(event, Cut):
            self._send(self._live, event)  # the delayed pages heard theirs from `cut`
            return
        if isinstance(event, TurnStarted):
            self._reply += 1
            self._in_reply = True
        reply = self._reply if self._in_reply else 0
        if isinstance(event, TurnEnded):
            self._in_reply = False
        self._send(self._live, event)
        if reply and reply <= self._cut_upto:
            if reply == self._owed_end and isinstance(event, TurnEnded):
                self._owed_end = self._on_air = 0
                self._send(self._delayed, event)
            return  # what is left of a cut reply
        if not self.delays:
            self._air(reply, event)
            return
        if len(self._line) >= MAX_WAITING:
            if not self.early:
                log.warning("stream delay: over %d events waiting; sending early", MAX_WAITING)
            self.early += 1
            oldest = self._line.popleft()
            self._air(oldest.reply, oldest.event)
        self._line.append(_Waiting(self._clock() + self.delay_s, reply, event))
        if len(self._line) == 1:
            self._changed.set()  # the releaser was waiting for a first event

    def _air(self, reply: int, event: StageEvent) -> None:
        if isinstance(event, TurnStarted):
            self._on_air = reply
        elif isinstance(event, TurnEnded):
            self._on_air = 0
        self._send(self._delayed, event)

    async def _release_when_due(self) -> None:
        while True:
            self._changed.clear()
            if not self._line:
                await self._changed.wait()
                continue
            wait_s = self._line[0].due - self._clock()
            if wait_s > 0:
                # Only a cut changes the head of the line: wake for that, or when it is due.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait_s):
                        await self._changed.wait()
                continue
            item = self._line.popleft()
            self._air(item.reply, item.event)

    def _send(self, subscribers: list[Subscriber], event: StageEvent) -> None:
        for subscriber in list(subscribers):
            try:
                subscriber(event)
            except Exception:  # one listener's bug must not keep the others off the air
                log.exception("airing subscriber failed on %s", type(event).__name__)
