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


class Outbox:
    def __init__(self, websocket: WebSocket, name: str, limit: int = 256) -> None:
        self._websocket = websocket
        self._name = name
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(limit)
        self.overflowed = False

    def put(self, frame: str) -> bool:
        """Queue a frame without waiting; on overflow, schedule a close and drop the frame."""
        if self.overflowed:
            return False
        try:
            self._queue.put_nowait(frame)
            return True
        except asyncio.QueueFull:
            self.overflowed = True
            log.warning("client %s is not reading; disconnecting it", self._name)
            # Make room for the end marker so the writer wakes up and closes.
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()
            self._queue.put_nowait(None)
            return False

    def finish(self) -> None:
        """Let the writer send what is queued, then stop."""
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)

    async def run(self) -> None:
        """Send frames in order until finished, overflowed or the socket goes away."""
        try:
            while (frame := await self._queue.get()) is not None:
                await self._websocket.send_text(frame)
        except Exception as exc:  # a vanished client is routine, not an error
            log.debug("send to %s stopped: %r", self._name, exc)
            return
        if self.overflowed and self._websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self._websocket.close(CLOSE_TOO_SLOW, "client too slow; reconnect")
