"""A connection's bounded send queue, drained by its own writer task.

Turns never await a socket: they put serialised frames here and move on. A client that stops
reading fills its queue and is disconnected, instead of slowing the turn (or, on the
stage, every other client).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket, WebSocketState

log = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 1013  # "try again later": the client fell too far behind
# Audio frames are large (base64 WAV, up to ~600 kB): the byte budget is what bounds memory.
MAX_QUEUED_BYTES = 16 * 2**20
SEND_TIMEOUT_S = 10.0


class Outbox:
    def __init__(
        self,
        websocket: WebSocket,
        name: str,
        limit: int = 256,
        max_bytes: int = MAX_QUEUED_BYTES,
        send_timeout_s: float = SEND_TIMEOUT_S,
    ) -> None:
        self._websocket = websocket
        self._name = name
        # `limit` and `max_bytes` bound the frames; the queue itself always takes the end marker.
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._limit = limit
        self._max_bytes = max_bytes
        self._send_timeout_s = send_timeout_s
        self._frames = 0
        self._bytes = 0
        self.overflowed = False

    def put(self, frame: str) -> bool:
        """Queue a frame without waiting; on overflow, schedule a close and drop the frame."""
        if self.overflowed:
            return False
        if self._frames >= self._limit or self._bytes + len(frame) > self._max_bytes:
            self._give_up("is not reading")
            return False
        self._frames += 1
        self._bytes += len(frame)
        self._queue.put_nowait(frame)
        return True

    def _give_up(self, why: str) -> None:
        if not self.overflowed:
            self.overflowed = True
            log.warning("client %s %s; disconnecting it", self._name, why)
            self._queue.put_nowait(None)  # wakes the writer, which closes

    def finish(self) -> None:
        """Let the writer send what is queued, then stop."""
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)

    async def run(self) -> None:
        """Send frames in order until finished, overflowed or the socket goes away."""
        try:
            while not self.overflowed and (frame := await self._queue.get()) is not None:
                self._frames -= 1
                self._bytes -= len(frame)
                async with asyncio.timeout(self._send_timeout_s):
                    await self._websocket.send_text(frame)
        except TimeoutError:
            self._give_up(f"took over {self._send_timeout_s:g} s to take one frame")
        except Exception as exc:  # a vanished client is routine, not an error
            log.debug("send to %s stopped: %r", self._name, exc)
            return
        if self.overflowed and self._websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await self._websocket.close(CLOSE_TOO_SLOW, "client too slow; reconnect")
