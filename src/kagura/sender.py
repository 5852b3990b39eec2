"""One connection's outgoing frames: a bounded queue drained in order by one writer.

Turns and broadcasts never await a socket: they `put` serialised frames and move on. A
client that stops reading fills its queue (or takes longer than the send timeout for one
frame) and is closed with 1013 "try again later", instead of slowing the turn or, on the
stage and the widget channel, every other client. The sender knows nothing of the library
that carries the connection: it is given `send` and `close`, so `/client-ws`, `/proxy-ws`,
the stage broadcast, `/widget-ws` and the standalone widget server all share these rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from starlette import status

from .bounded import BoundedQueue, QueueClosed

log = logging.getLogger(__name__)

WS_1000_NORMAL_CLOSURE = status.WS_1000_NORMAL_CLOSURE
WS_1001_GOING_AWAY = status.WS_1001_GOING_AWAY
WS_1013_TRY_AGAIN_LATER = status.WS_1013_TRY_AGAIN_LATER
TOO_SLOW_REASON = "client too slow; reconnect"
QUEUE_FRAMES = 256
# Audio frames are large (base64 WAV, up to ~600 kB): the byte budget is what bounds memory.
QUEUE_BYTES = 16 * 2**20
SEND_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 5.0

Send = Callable[[str], Awaitable[None]]
Close = Callable[[int, str], Awaitable[None]]


class BoundedSender:
    def __init__(
        self,
        name: str,
        send: Send,
        close: Close,
        *,
        limit: int = QUEUE_FRAMES,
        max_bytes: int = QUEUE_BYTES,
        send_timeout_s: float = SEND_TIMEOUT_S,
        close_timeout_s: float = CLOSE_TIMEOUT_S,
    ) -> None:
        self.name = name
        self._send = send
        self._close = close
        self._queue: BoundedQueue[str] = BoundedQueue(limit, max_bytes=max_bytes, size=len)
        self._send_timeout_s = send_timeout_s
        self._close_timeout_s = close_timeout_s
        self._sending: asyncio.Task[None] | None = None
        # What the writer does once the queue is done: close with this code, or just stop.
        self._close_with: tuple[int, str] | None = None
        self.overflowed = False

    @property
    def closed(self) -> bool:
        """Nothing more will be accepted (finished, closing or given up on)."""
        return self._queue.closed

    def put(self, frame: str) -> bool:
        """Queue a frame without waiting; a full queue gives up on the client (1013)."""
        if self._queue.closed:
            return False
        if self._queue.offer(frame):
            return True
        self._give_up("is not reading")
        return False

    def finish(self, code: int | None = None, reason: str = "") -> None:
        """Send what is queued, then stop; with `code`, also close the connection."""
        if not self._queue.closed:
            if code is not None:
                self._close_with = (code, reason)
            self._queue.close()

    def _give_up(self, why: str) -> None:
        if self.overflowed:
            return
        self.overflowed = True
        log.warning("client %s %s; disconnecting it", self.name, why)
        self._queue.clear()
        self._close_with = (WS_1013_TRY_AGAIN_LATER, TOO_SLOW_REASON)
        self._queue.close()
        if self._sending is not None:
            self._sending.cancel()  # the writer may be stuck on a socket nobody reads

    async def run(self) -> None:
        """The writer: frames in order until finished or given up on, then the close."""
        try:
            while True:
                frame = await self._queue.get()
                self._sending = asyncio.ensure_future(self._send(frame))
                try:
                    async with asyncio.timeout(self._send_timeout_s):
                        await self._sending
                finally:
                    self._sending = None
        except QueueClosed:
            pass
        except TimeoutError:
            self._give_up(f"took over {self._send_timeout_s:g} s to take one frame")
        except asyncio.CancelledError:
            if not self.overflowed:  # cancelled from outside, not by giving up
                raise
        except Exception as exc:  # a vanished client is routine, not an error
            log.debug("send to %s stopped: %r", self.name, exc)
            return
        if self._close_with is not None:
            code, reason = self._close_with
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self._close_timeout_s):
                    await self._close(code, reason)
