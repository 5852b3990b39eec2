"""One WebSocket client of `kagura serve`, from handshake to teardown, for every endpoint.

`/client-ws` and `/proxy-ws` differ in what they do with messages, not in how a connection
lives: accepted (or refused with a close code and the reason), greeted with the connect
sequence, fed through one receive loop, and torn down (bounded) when either side goes away.
Everything the server says goes through the connection's bounded sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket, WebSocketDisconnect

from kagura import permissions
from kagura.auth import CLOSE_FORBIDDEN, AuthSettings, Grant, Handshake, Refused, Role
from kagura.logs import RateLimitedLog
from kagura.permissions import Endpoint
from kagura.protocol import client as incoming
from kagura.protocol import outgoing as out
from kagura.sender import QUEUE_FRAMES, BoundedSender

log = logging.getLogger(__name__)
# Client mistakes are the client's to fix: one line each, and never a flood.
mistakes = RateLimitedLog(log)

Handle = Callable[[incoming.Incoming], Awaitable[None]]
TEARDOWN_TIMEOUT_S = 5.0
# Frames larger than this are parsed in a worker thread: decoding a frame of a few hundred
# kilobytes takes long enough to delay every other client's audio.
OFF_LOOP_BYTES = 64 * 1024


def handshake(connection: HTTPConnection) -> Handshake:
    return Handshake.of(connection.headers.items(), connection.url.query)


def auth_settings(connection: HTTPConnection) -> AuthSettings:
    """The app's rules, loaded once when the app was built."""
    settings: AuthSettings = connection.app.state.auth
    return settings


def check(connection: HTTPConnection) -> Role:
    """The caller's role, or `Refused`."""
    return auth_settings(connection).check(handshake(connection))


async def accept(websocket: WebSocket, endpoint: Endpoint | None = None) -> Role | None:
    """Accept the connection; a refused one is closed with a code and reason (→ None).

    With `endpoint`, the role must also be one that may connect there."""
    granted = await admit(websocket, endpoint)
    return None if granted is None else granted.role


async def admit(websocket: WebSocket, endpoint: Endpoint | None = None) -> Grant | None:
    """`accept`, with what the token granted besides the role (a platform it is bound to)."""
    try:
        granted = auth_settings(websocket).grant(handshake(websocket))
        role = granted.role
        if endpoint is not None and not permissions.may_connect(endpoint, role):
            raise Refused(CLOSE_FORBIDDEN, f"the {role.value} role may not use {endpoint.value}")
    except Refused as refused:
        client = websocket.client.host if websocket.client else "?"
        log.warning("refused %s from %s: %s", websocket.url.path, client, refused.reason)
        await websocket.accept()
        await websocket.close(refused.code, refused.reason)
        return None
    await websocket.accept()
    return granted


async def parse(frame: str | bytes) -> incoming.Incoming:
    """`incoming.parse`, off the event loop when the frame is large."""
    if len(frame) > OFF_LOOP_BYTES:
        return await asyncio.to_thread(incoming.parse, frame)
    return incoming.parse(frame)


class Connection:
    """One accepted client of `endpoint` with `role`: what it may send is decided here, by
    `kagura.permissions`, before any handler sees the message."""

    def __init__(
        self,
        websocket: WebSocket,
        name: str,
        endpoint: Endpoint,
        role: Role,
        limit: int = QUEUE_FRAMES,
    ) -> None:
        self.websocket = websocket
        self.name = name
        self.endpoint = endpoint
        self.role = role
        self.sender = BoundedSender(name, websocket.send_text, self._close, limit=limit)

    def send(self, message: out.Message) -> bool:
        return self.sender.put(out.frame(message))

    def greet(self, model_and_conf: out.Message) -> None:
        """The connect sequence the original frontend expects (protocol §1.3)."""
        self.send(out.group_update())
        self.send(out.full_text(out.CONNECTED_TEXT))
        self.send(model_and_conf)
        self.send(out.control("start-mic"))

    async def serve(self, handle: Handle) -> None:
        """Receive until the client goes away or the sender gives up on it; then let the
        writer send what is queued (bounded) and stop."""
        writer = asyncio.create_task(self.sender.run())
        try:
            await self._receive_loop(handle)
        finally:
            self.sender.finish()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(writer, TEARDOWN_TIMEOUT_S)

    async def _receive_loop(self, handle: Handle) -> None:
        """Bad frames get an `error` naming the problem and the connection stays open; a bug
        in one handler is logged and reported without ending the connection."""
        while not self.sender.closed:
            try:
                frame = await self.websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                return
            if frame["type"] == "websocket.disconnect":
                return
            text = frame.get("text")
            try:
                message = await parse(text if text is not None else frame.get("bytes", b""))
            except incoming.ProtocolError as exc:
                mistakes.warning("bad frame from %s: %s", self.name, exc)
                self.send(out.error(str(exc)))
                continue
            refused = permissions.refusal(self.endpoint, self.role, message.type)
            if refused is not None:
                self.send(out.error(refused))
                continue
            try:
                await handle(message)
            except Exception:
                log.exception("handling %s failed", message.type)
                self.send(out.error(f"internal error while handling {message.type!r}"))

    async def _close(self, code: int, reason: str) -> None:
        await self.websocket.close(code, reason)
