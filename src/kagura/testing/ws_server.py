"""A WebSocket server on a loopback port, for the fakes that speak WebSocket.

Runs on the caller's event loop (a fake's `BackgroundLoop`), like `HttpsServer`. Port 0
takes a free one; a fixed port lets a fake stop and start again where its clients look
for it, like a restarted server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import websockets
from websockets.asyncio.server import Server, ServerConnection

STOP_TIMEOUT_S = 5.0

Handler = Callable[[ServerConnection], Awaitable[None]]


class WebSocketServer:
    """`handler` serves each connection; `options` go to `websockets.serve` (e.g. `ssl`)."""

    def __init__(self, handler: Handler, port: int = 0, **options: Any) -> None:
        self.handler = handler
        self.port = port
        self.options = options
        self._server: Server | None = None

    async def start(self) -> None:
        self._server = await websockets.serve(self.handler, "127.0.0.1", self.port, **self.options)
        self.port = next(iter(self._server.sockets)).getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close every connection (1001, going away)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), STOP_TIMEOUT_S)


async def broadcast(connections: Iterable[ServerConnection], frame: str | bytes) -> int:
    """Send `frame` to each of `connections`; returns how many got it (one that is closing
    is passed over)."""
    sent = 0
    for ws in list(connections):
        with contextlib.suppress(websockets.ConnectionClosed):
            await ws.send(frame)
            sent += 1
    return sent
