"""The one runner every platform client shares.

It runs the platform sessions (one per room or channel) and the link to `/proxy-ws`
side by side, so that either side can fail and come back without the other noticing:

- each platform session is supervised: when it ends, fails, or shows no life for
  `live.watchdog_s` (listeners that silently die after an hour are the classic failure),
  it is cancelled and started again after a jittered exponential backoff;
- events wait in a bounded outbox while the stage is away and are sent, in order and
  once, when it is back (the oldest are dropped first when it is full, and counted);
- every event carries an id (the platform's, or one made here), so that even a resend
  after a connection died mid-send is dropped by the stage as a duplicate;
- SIGINT and SIGTERM stop the sessions, let each platform close (e.g. the open
  platform's `end` call), flush the outbox briefly and exit 0; so does the end of the
  last platform that has `Finished` (a stream that ended);
- one status line per `live.status_interval_s`, with what each platform adds to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import time
import uuid
from collections.abc import Sequence
from typing import Any

from kagura.backoff import Backoff

from .events import Item, LiveEvent
from .outbox import Outbox
from .platform import Fatal, Finished, LivePlatform
from .proxy import ProxyLink, ProxyRefused
from .settings import RunnerSettings

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FATAL = 2
STOP_TIMEOUT_S = 5.0  # for a cancelled session to close its connection
CLOSE_TIMEOUT_S = 5.0  # for the platforms' own clean-up (e.g. an `end` call)
FLUSH_TIMEOUT_S = 3.0  # for the last buffered events to reach the stage at shutdown
MAX_WATCH_PERIOD_S = 1.0


class _Session:
    """The `Link` of one platform session: what it reports, and when it last showed life."""

    def __init__(self, runner: Runner, platform: LivePlatform) -> None:
        self.runner = runner
        self.platform = platform
        self.last_alive = time.monotonic()
        self.connected_at: float | None = None

    def emit(self, item: Item) -> None:
        self.alive()
        self.runner.accept(item)

    def alive(self) -> None:
        self.last_alive = time.monotonic()

    def connected(self, description: str) -> None:
        self.connected_at = self.last_alive = time.monotonic()
        log.info("%s: %s", self.platform.label, description)


class Runner:
    def __init__(self, platforms: Sequence[LivePlatform], settings: RunnerSettings) -> None:
        if not platforms:
            raise ValueError("nothing to run: no platform sessions")
        self.platforms = list(platforms)
        self.settings = settings
        self.outbox = Outbox(settings.buffer_events)
        self.proxy = ProxyLink(settings, self.outbox)
        self.received = 0
        self.skipped = 0
        self.reconnects = 0
        self.watchdog_fired = 0
        self._connected: set[str] = set()
        self._id_prefix = f"kagura-{uuid.uuid4().hex[:8]}-"
        self._next_id = 0
        self._stopping: asyncio.Event | None = None
        self._name = platforms[0].name

    # -- events ------------------------------------------------------------------------

    def accept(self, item: Item) -> None:
        """An event from a session: counted, filtered, given an id, queued for the stage."""
        if isinstance(item, LiveEvent):
            if (item.kind == "enter" and not self.settings.forward_entries) or (
                item.kind == "like" and not self.settings.forward_likes
            ):
                self.skipped += 1
                return
            if item.id is None:
                self._next_id += 1
                item = dataclasses.replace(item, id=f"{self._id_prefix}{self._next_id}")
        self.received += 1
        self.outbox.put(item)

    # -- running -----------------------------------------------------------------------

    def stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()

    async def run(self) -> int:
        """Run until SIGINT/SIGTERM (exit code 0) or a fatal problem (2)."""
        self._stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop)
        proxy = asyncio.create_task(self.proxy.run(), name="proxy")
        sessions = [asyncio.create_task(self._supervise(p), name=p.label) for p in self.platforms]
        status = asyncio.create_task(self._report())
        stopping = asyncio.create_task(self._stopping.wait())
        code = EXIT_OK
        try:
            running: set[asyncio.Task[Any]] = {proxy, stopping, *sessions}
            while True:
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    exc = None if task.cancelled() else task.exception()
                    if isinstance(exc, (Fatal, ProxyRefused)):
                        log.error("%s", exc)
                        code = EXIT_FATAL
                    elif exc is not None:
                        log.error("stopping after an unexpected error", exc_info=exc)
                        code = EXIT_FATAL
                finished = done <= set(sessions) and code == EXIT_OK
                if not (finished and running & set(sessions)):
                    break  # a stop, a failure, or the last platform has finished
            log.info("stopping")
            self._stopping.set()
        finally:
            await self._shutdown(sessions, proxy, [status, stopping])
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
        return code

    async def _shutdown(
        self, sessions: list[asyncio.Task[None]], proxy: asyncio.Task[None], others: list[Any]
    ) -> None:
        for task in sessions:
            task.cancel()
        await asyncio.wait(sessions, timeout=STOP_TIMEOUT_S)
        closing = [asyncio.create_task(p.close()) for p in self.platforms]
        _, late = await asyncio.wait(closing, timeout=CLOSE_TIMEOUT_S)
        for task in late:
            task.cancel()
        for task in closing:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.warning("closing failed: %s", task.exception())
        if not proxy.done():
            await self.proxy.flush(FLUSH_TIMEOUT_S)
        for task in [proxy, *others]:
            task.cancel()
        await asyncio.wait([proxy, *others], timeout=STOP_TIMEOUT_S)
        log.info("%s", self.status_line())

    async def _supervise(self, platform: LivePlatform) -> None:
        """Run `platform`'s sessions one after another, for as long as the process runs."""
        settings = self.settings
        backoff = Backoff(settings.backoff_initial_s, settings.backoff_max_s)
        while True:
            session = _Session(self, platform)
            task = asyncio.create_task(platform.run(session))
            try:
                reason = await self._watch(task, session)
            except Finished as done:
                log.info("%s: %s", platform.label, done)
                return
            finally:
                self._connected.discard(platform.label)
                if not task.done():
                    task.cancel()
                    await asyncio.wait([task], timeout=STOP_TIMEOUT_S)
            connected_at = session.connected_at
            delay = backoff.after(None if connected_at is None else time.monotonic() - connected_at)
            self.reconnects += 1
            log.warning("%s: %s; reconnecting in %.1f s", platform.label, reason, delay)
            await asyncio.sleep(delay)

    async def _watch(self, task: asyncio.Task[None], session: _Session) -> str:
        """Wait for the session to end; cancel it when it shows no life for too long.
        Returns why it ended; a `Fatal` problem is raised."""
        limit = self.settings.watchdog_s
        period = min(MAX_WATCH_PERIOD_S, limit / 4)
        label = session.platform.label
        while True:
            done, _ = await asyncio.wait([task], timeout=period)
            if session.connected_at is not None:
                self._connected.add(label)
            if done:
                if task.cancelled():
                    return "the session was cancelled"
                exc = task.exception()
                if isinstance(exc, (Fatal, Finished)):
                    raise exc
                if exc is None:
                    return "the connection ended"
                return f"{type(exc).__name__}: {str(exc)[:200]}".rstrip(": ")
            silent = time.monotonic() - session.last_alive
            if silent > limit:
                self.watchdog_fired += 1
                return f"nothing received for {silent:.1f} s (watchdog)"

    # -- status ------------------------------------------------------------------------

    def status_line(self) -> str:
        proxy = self.proxy
        stage = "connected" if proxy.connected else "unreachable"
        if self._stopping is not None and self._stopping.is_set():
            stage = "closed"
        line = (
            f"{self._name}: events in {self.received}, sent {proxy.sent}, "
            f"buffered {len(self.outbox)}, dropped {self.outbox.dropped}, "
            f"skipped {self.skipped}; connected {len(self._connected)}/{len(self.platforms)}, "
            f"reconnects {self.reconnects} (watchdog {self.watchdog_fired}); stage {stage}, "
            f"reconnects {proxy.reconnects}"
        )
        extra = [status for status in (p.status() for p in self.platforms) if status]
        return "; ".join([line, *extra])

    async def _report(self) -> None:
        interval = self.settings.status_interval_s
        if interval <= 0:
            return
        while True:
            await asyncio.sleep(interval)
            log.info("%s", self.status_line())
