"""`kagura live youtube`: a YouTube live chat, polled through the Data API v3.

The stream is a video id, or a channel id whose current live stream is found by search
(100 quota units, so while the channel is not live it looks every `check_interval_s`, no
more often than the budget allows). The video's `activeLiveChatId` is then polled: never
sooner after an answer than the answer's `pollingIntervalMillis`, nor than the quota budget
allows (`quota.QuotaBudget`), following the page tokens so nothing is read twice or
missed, across errors and reconnects alike. The first page holds chat from before the
client started; only its last `backlog_s` seconds are passed on.

When YouTube says `quotaExceeded`, the client says so and pauses (`quota_error_wait_s`, or
until the reset). When the stream goes offline (`offlineAt`, a `chatEndedEvent`, or the
errors `liveChatEnded` / `liveChatNotFound`), it says so, tells the stage (`live_end`: the
show's goodbye) and either exits cleanly or, for a channel with `on_end: wait`, waits for
the channel's next stream. Lines this client posted itself (`own`) are not passed on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from kagura.config import YouTubeConfig
from kagura.live.events import LiveEvent
from kagura.live.platform import Fatal, Finished, Link, LivePlatform, idle

from .api import COST, MESSAGES, SEARCH, VIDEOS, ApiError, Page, YouTubeApi
from .items import CHAT_ENDED, PLATFORM, Stream, items, published
from .own import OwnMessages

log = logging.getLogger(__name__)

ENDED = {"liveChatEnded", "liveChatNotFound", "liveChatDisabled"}
TOO_SOON = "rateLimitExceeded"
QUOTA = "quotaExceeded"
SLOWER_LOGGED = 1.25  # a slower pace is logged again once it is this much slower
ENDED_REMEMBERED = 64  # streams a search may still return just after they ended


class YouTubeChat(LivePlatform):
    name = PLATFORM

    def __init__(
        self, config: YouTubeConfig, api: YouTubeApi, own: OwnMessages | None = None
    ) -> None:
        self.config = config
        self.api = api
        self.own = own
        self.over = asyncio.Event()  # set when reading is over for good (replies end too)
        self.budget = api.budget
        self.channel_id = config.channel_id
        where = f"channel {self.channel_id}" if self.channel_id else f"video {config.video_id}"
        self.label = f"youtube {where}"
        self.video_id = config.video_id
        self.chat_id = ""
        self.page_token = ""
        self.stream = Stream(self.video_id)
        self.polls = 0
        self._interval_s: float | None = None  # YouTube's last pollingIntervalMillis
        self._spacing_s = 0.0  # what the client used last: that, or slower for the budget
        self._logged_spacing_s = 0.0
        self._answered_at = float("-inf")  # monotonic time of the last answer
        self._ended_videos: deque[str] = deque(maxlen=ENDED_REMEMBERED)
        self._read_any = False
        self._said_waiting = False
        self._over = ""  # how the stream ended, once it has and nothing else is awaited

    # -- the status line -----------------------------------------------------------------

    def status(self) -> str:
        state = self._over or "waiting for a live stream"
        if (blocked := self.budget.blocked_for()) > 0:
            state = f"paused for the quota ({blocked / 60:.0f} min left)"
        elif self.chat_id and self._spacing_s:
            slowed = " (slowed by the quota budget)" if self._slowed() else ""
            state = f"polling every {self._spacing_s:.3g} s{slowed}"
        return f"youtube {self.budget.summary()}, {self.polls} polls, {state}"

    def _slowed(self) -> bool:
        """Whether the budget, not YouTube, sets the pace (known after the first answer)."""
        return self._interval_s is not None and self._spacing_s > self._interval_s + 1e-6

    # -- a session -----------------------------------------------------------------------

    async def run(self, link: Link) -> None:
        while True:
            try:
                if not self.chat_id:
                    await self._find_chat(link)
                link.connected(f"reading the live chat of video {self.video_id}")
                how = await self._read(link)
                # The broadcast ended: the stage closes the show (sent before exiting).
                video = self.video_id
                link.emit(LiveEvent(PLATFORM, "live_end", id=f"live_end:{video}", room=video))
                self._ended(how)
            except ApiError as exc:
                if exc.reason != QUOTA:
                    raise
                self._quota_exceeded()  # whichever call it was: pause, then carry on

    async def _find_chat(self, link: Link) -> None:
        while True:
            await self._wait_for_quota(link)
            if self.channel_id and not self.video_id:
                self.video_id = await self.api.live_video(self.channel_id) or ""
                if not self.video_id or self.video_id in self._ended_videos:
                    self.video_id = ""
                    await self._wait_for_stream(link, f"channel {self.channel_id} is not live")
                    continue
            video = await self.api.video(self.video_id)
            if video is None:
                raise Fatal(
                    f"there is no YouTube video {self.video_id!r}: check --video or "
                    "live.youtube.video_id"
                )
            if not video.is_live_stream:
                raise Fatal(f"YouTube video {self.video_id} is not a live stream")
            if video.ended_at:
                if self.channel_id:  # a search may still find a stream that just ended
                    self._ended_videos.append(self.video_id)
                    self.video_id = ""
                    await self._wait_for_stream(link, f"channel {self.channel_id} is not live")
                    continue
                message = f"the stream of video {self.video_id} ended at {video.ended_at}"
                if self._read_any:
                    self.over.set()
                    raise Finished(f"{message}; exiting")
                raise Fatal(f"{message}: nothing to read. Pass a live or upcoming stream.")
            if not video.chat_id:
                await self._wait_for_stream(
                    link, f"video {self.video_id} has no live chat yet (not started, or chat off)"
                )
                continue
            self.chat_id, self.page_token = video.chat_id, ""
            self.stream = Stream(self.video_id)
            self._said_waiting = False
            title = video.title[:80]
            log.info("%s: found the live chat of %r (video %s)", self.label, title, self.video_id)
            return

    async def _wait_for_stream(self, link: Link, why: str) -> None:
        cost = COST[SEARCH] if not self.video_id else COST[VIDEOS]
        wait = max(self.config.check_interval_s, self.budget.spacing(cost))
        if not self._said_waiting:
            self._said_waiting = True
            log.info("%s: %s; looking again every %.3g s", self.label, why, wait)
        await idle(link, wait)

    async def _read(self, link: Link) -> str:
        """Poll until the stream is over; returns how it ended."""
        while True:
            await self._pace(link)
            try:
                page = await self.api.messages(self.chat_id, self.page_token)
            except ApiError as exc:
                self._answered_at = time.monotonic()
                if exc.reason in ENDED:
                    return f"the live chat is over ({exc.reason})"
                if exc.reason == TOO_SOON:
                    log.warning("%s: YouTube says the poll came too soon", self.label)
                    continue
                raise
            self._answered_at = time.monotonic()
            self.polls += 1
            self._read_any = True
            link.alive()
            ended = self._pass_on(link, page)
            if page.next_page_token:
                self.page_token = page.next_page_token
            if ended:
                return "the live chat ended"
            if page.offline_at:
                return f"the stream went offline at {page.offline_at}"

    def _pass_on(self, link: Link, page: Page) -> bool:
        """Emit the page's events; returns whether the chat ended in it."""
        cutoff = time.time() - self.config.backlog_s if not self.page_token else None
        ended = False
        old = 0
        for item in page.items:
            kind = str((item.get("snippet") or {}).get("type", ""))
            ended = ended or kind == CHAT_ENDED
            if self.own is not None and self.own.ours(item):
                continue  # the character's own reply, posted by this client
            if cutoff is not None and (published(item) or cutoff) < cutoff:
                old += 1  # chat from before the client started
                continue
            for event in items.dispatch(self.stream, kind, item):
                link.emit(event)
        if old:
            log.info(
                "%s: left out %d chat messages older than %g s (live.youtube.backlog_s)",
                self.label,
                old,
                self.config.backlog_s,
            )
        self._interval_s = page.interval_s
        return ended

    def _ended(self, how: str) -> None:
        video, self.chat_id, self.page_token = self.video_id, "", ""
        if self.channel_id and self.config.on_end == "wait":
            log.info("%s: %s (video %s); waiting for the next stream", self.label, how, video)
            self._ended_videos.append(video)
            self.video_id = ""
            return
        hint = "" if not self.channel_id else " (live.youtube.on_end: wait waits for the next one)"
        self._over = "the stream is over"
        self.over.set()
        raise Finished(f"the stream of video {video} is over: {how}; exiting{hint}")

    # -- pacing --------------------------------------------------------------------------

    async def _pace(self, link: Link) -> None:
        """Wait until the next poll is due: YouTube's interval after its last answer, or
        longer when the budget says so (or while the quota is paused)."""
        await self._wait_for_quota(link)
        self._spacing_s = max(self._interval_s or 0.0, self.budget.spacing(COST[MESSAGES]))
        self._note_pace()
        wait = self._answered_at + self._spacing_s - time.monotonic()
        if wait > 0:
            await idle(link, wait)

    async def _wait_for_quota(self, link: Link) -> None:
        blocked = self.budget.blocked_for()
        if blocked > 0:
            await idle(link, blocked)

    def _quota_exceeded(self) -> None:
        wait = self.budget.exhausted(self.config.quota_error_wait_s)
        log.warning(
            "%s: YouTube says the API key's daily quota is used up (quotaExceeded); "
            "pausing for %.0f min (live.youtube.quota_error_wait_s, or until the quota resets "
            "at midnight Pacific Time). Other programs using the same key count too.",
            self.label,
            wait / 60,
        )

    def _note_pace(self) -> None:
        """Say when the budget slows polling down (and when it no longer does)."""
        spacing, logged = self._spacing_s, self._logged_spacing_s
        if self._slowed() and (not logged or spacing >= logged * SLOWER_LOGGED):
            self._logged_spacing_s = spacing
            log.warning(
                "%s: polling every %.3g s instead of YouTube's %.3g s, so that the %d quota "
                "units left today last (live.youtube.quota_per_day %d, budget_hours %g)",
                self.label,
                spacing,
                self._interval_s,
                self.budget.remaining,
                self.budget.per_day,
                self.budget.hours,
            )
        elif logged and not self._slowed():
            self._logged_spacing_s = 0.0
            log.info("%s: polling at YouTube's pace again (%.3g s)", self.label, spacing)
