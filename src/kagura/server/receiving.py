"""The receive loop every WebSocket endpoint shares: frames in, valid messages to a handler.

Bad frames are answered with an `error` naming the problem and the connection stays open; a
bug in one handler is logged and reported without ending the connection.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from . import messages as m
from .outbox import Outbox

log = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], None]
Handle = Callable[[m.ClientMessage], Awaitable[None]]
# Returns why a message is refused (for instance the sender's role), or None.
Refuse = Callable[[m.ClientMessage], str | None]


def error(message: str) -> dict[str, Any]:
    return {"type": "error", "message": message}


async def receive_loop(
    websocket: WebSocket, outbox: Outbox, send: Send, handle: Handle, refuse: Refuse | None = None
) -> None:
    """Until the client goes away or its outbox gives up on it."""
    while not outbox.overflowed:
        try:
            frame = await websocket.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if frame["type"] == "websocket.disconnect":
            return
        text = frame.get("text")
        if text is None:
            send(error("binary frames are not supported; send JSON text"))
            continue
        try:
            message = m.parse(text)
        except m.ProtocolError as exc:
            send(error(str(exc)))
            continue
        if refuse is not None and (reason := refuse(message)) is not None:
            send(error(reason))
            continue
        try:
            await handle(message)
        except Exception:
            log.exception("handling %s failed", message.type)
            send(error(f"internal error while handling {message.type!r}"))
