"""A fake danmaku WebSocket server (TLS): auth, heartbeats, and whatever a test pushes.

It speaks the real protocol byte for byte: the first frame must be an auth packet, which
`check_auth` judges (0, or an error code that is answered and then the connection closed);
heartbeats are answered with the real server's quirk (the echoed body after a packet
length that leaves it out). Tests push frames to every authenticated connection, cut a
connection in the middle of a frame, or stop answering heartbeats.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections import deque
from collections.abc import Callable
from typing import Any

import websockets
from websockets.asyncio.server import ServerConnection
from websockets.frames import Frame, Opcode

from kagura.testing.ws_server import WebSocketServer, broadcast

from . import wire

AUTH_WAIT_S = 5.0

CheckAuth = Callable[[Any], int]
KEPT = 1_000  # of each record a test reads


class DanmakuServer:
    def __init__(self, check_auth: CheckAuth, ssl_context: ssl.SSLContext) -> None:
        self.check_auth = check_auth
        # The latest auth bodies and heartbeats received (JSON decoded when it is JSON):
        # bounded, as a demo room runs for days (`kagura live demo`).
        self.auths: deque[Any] = deque(maxlen=KEPT)
        self.connects = 0
        self.heartbeats = 0
        self.heartbeat_bodies: deque[bytes] = deque(maxlen=KEPT)
        self.answer_heartbeats = True
        self.popularity = 12345
        self.user_agents: set[str] = set()
        self._live: dict[ServerConnection, Any] = {}  # authenticated → its room id
        self._server = WebSocketServer(
            self._serve, ssl=ssl_context, compression=None, ping_interval=None
        )

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        return f"wss://127.0.0.1:{self.port}/sub"

    @property
    def authenticated(self) -> int:
        """Connections authenticated and still open."""
        return len(self._live)

    async def start(self) -> None:
        await self._server.start()

    async def stop(self) -> None:
        await self._server.stop()

    async def _serve(self, ws: ServerConnection) -> None:
        self.connects += 1
        if ws.request is not None:
            self.user_agents.add(ws.request.headers.get("User-Agent", ""))
        try:
            first = await asyncio.wait_for(ws.recv(), AUTH_WAIT_S)
        except (TimeoutError, websockets.ConnectionClosed):
            return
        packets = wire.parse(first) if isinstance(first, bytes) else []
        if not packets or packets[0][0] != wire.OP_AUTH:
            await ws.close(1008, "auth packet expected")
            return
        try:
            body: Any = json.loads(packets[0][2])
        except ValueError:
            body = packets[0][2].decode(errors="replace")
        self.auths.append(body)
        code = self.check_auth(packets[0][2].decode(errors="replace"))
        await ws.send(wire.auth_reply(code))
        if code != 0:
            await ws.close()
            return
        self._live[ws] = body.get("roomid") if isinstance(body, dict) else None
        try:
            async for frame in ws:
                if isinstance(frame, bytes):
                    await self._heartbeats(ws, frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            self._live.pop(ws, None)

    async def _heartbeats(self, ws: ServerConnection, frame: bytes) -> None:
        for op, _, body in wire.parse(frame):
            if op == wire.OP_HEARTBEAT:
                self.heartbeats += 1
                self.heartbeat_bodies.append(body)
                if self.answer_heartbeats:
                    await ws.send(wire.heartbeat_reply(self.popularity, body))

    async def send(self, frame: bytes | str, room: int | None = None) -> int:
        """Send one WebSocket frame to every authenticated connection (of `room`, if
        given); returns how many got it."""
        wanted = [ws for ws, room_id in self._live.items() if room is None or room_id == room]
        return await broadcast(wanted, frame)

    async def cut(self, frame: bytes) -> int:
        """Send the first half of a WebSocket frame holding `frame`, then drop the TCP
        connection: the client is cut off in the middle of a batch."""
        cut = 0
        for ws in list(self._live):
            raw = Frame(Opcode.BINARY, frame).serialize(mask=False, extensions=[])
            ws.transport.write(raw[: len(raw) // 2])
            await asyncio.sleep(0.05)  # let the half frame leave before the connection dies
            ws.transport.abort()
            cut += 1
        return cut
