"""One danmaku WebSocket session, shared by the web and the open-platform clients.

Auth packet first; the server's auth reply must come within `AUTH_TIMEOUT_S` and say code
0 (-101 means the token is stale: the next session bootstraps again). Then heartbeats
every `heartbeat_s`, and every frame read: packets split, batches opened, commands handed
to the platform's handlers, events to the runner. Anything unreadable is skipped with a
log line (`ProblemLog`: the first few, then a count) and the session carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection

from kagura.live.events import Item
from kagura.live.platform import Link, stop
from kagura.live.problems import ProblemLog

from .packets import HEARTBEAT_BODY, FrameError, Op, Packet, Ver, encode, unpack

log = logging.getLogger(__name__)

AUTH_TIMEOUT_S = 10.0
OPEN_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 2.0
MAX_FRAME_BYTES = 4 * 2**20

Handle = Callable[[Any], list[Item]]


class AuthRejected(Exception):
    """The danmaku server refused the auth packet."""


class DanmakuConnection:
    def __init__(
        self,
        url: str,
        auth: dict[str, Any] | str,
        *,
        label: str,
        heartbeat_s: float,
        user_agent: str,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self.url = url
        self.auth = auth
        self.label = label
        self.heartbeat_s = heartbeat_s
        self.user_agent = user_agent
        self.ssl_context = ssl_context if urlsplit(url).scheme == "wss" else None
        self._problems = ProblemLog(log, f"{label}: skipped")

    async def serve(self, link: Link, handle: Handle) -> None:
        """Connect and report until the connection ends (returns) or fails (raises)."""
        options: dict[str, Any] = {"ssl": self.ssl_context} if self.ssl_context else {}
        async with websockets.connect(
            self.url,
            user_agent_header=self.user_agent,
            open_timeout=OPEN_TIMEOUT_S,
            close_timeout=CLOSE_TIMEOUT_S,
            ping_interval=None,  # the protocol has its own heartbeats
            max_size=MAX_FRAME_BYTES,
            compression=None,
            **options,
        ) as ws:
            await ws.send(encode(Op.AUTH, self.auth))
            beating: asyncio.Task[None] | None = None
            try:
                async with asyncio.timeout(AUTH_TIMEOUT_S) as deadline:
                    async for frame in ws:
                        link.alive()
                        for packet in await self._packets(frame):
                            if packet.op == Op.AUTH_REPLY and beating is None:
                                self._check_auth(packet)
                                deadline.reschedule(None)
                                link.connected(f"connected to {urlsplit(self.url).netloc}")
                                beating = asyncio.create_task(self._beat(ws))
                            elif packet.op == Op.COMMAND:
                                for item in self._commands(packet, handle):
                                    link.emit(item)
            except TimeoutError:
                raise AuthRejected(f"no auth reply within {AUTH_TIMEOUT_S:g} s") from None
            finally:
                await stop(beating)

    async def _beat(self, ws: ClientConnection) -> None:
        packet = encode(Op.HEARTBEAT, HEARTBEAT_BODY)
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await ws.send(packet)
                await asyncio.sleep(self.heartbeat_s)

    def _check_auth(self, packet: Packet) -> None:
        try:
            code = int(packet.json()["code"])
        except (ValueError, KeyError, TypeError):
            raise AuthRejected(f"unreadable auth reply {packet.body[:80]!r}") from None
        if code != 0:
            why = " (stale token: fetching a new one)" if code == -101 else ""
            raise AuthRejected(f"auth refused with code {code}{why}")

    async def _packets(self, frame: str | bytes) -> list[Packet]:
        if isinstance(frame, str):
            self._problem(FrameError(f"unexpected text frame {frame[:60]!r}"))
            return []
        packets, problems = await unpack(frame)
        for problem in problems:
            self._problem(problem)
        return packets

    def _commands(self, packet: Packet, handle: Handle) -> list[Item]:
        if packet.ver != Ver.JSON:
            self._problem(FrameError(f"command packet of version {packet.ver}"))
            return []
        try:
            command = json.loads(packet.body)
        except (ValueError, RecursionError):
            self._problem(FrameError(f"command is not JSON: {packet.body[:60]!r}"))
            return []
        return handle(command)

    @property
    def problems(self) -> int:
        return self._problems.count

    def _problem(self, problem: FrameError) -> None:
        self._problems(str(problem))
