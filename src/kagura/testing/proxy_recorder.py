"""A stand-in for the stage's `/proxy-ws` that records what platform clients send.

For the tests that must count every message exactly (none lost, none twice, in order)
across restarts of the stage. Each frame is validated with the stage's own parser
(`kagura.protocol.client.parse`), so whatever is recorded the real stage would accept;
the token is checked as the real server checks it (close 4401 when wrong). It can be
stopped and started again on the same port, like a restarted `kagura serve`.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any, Self

import websockets
from websockets.asyncio.server import ServerConnection

from kagura.protocol.client import ProtocolError, parse
from kagura.testing.background import BackgroundLoop
from kagura.testing.ports import free_port
from kagura.testing.ws_server import WebSocketServer


class ProxyRecorder:
    def __init__(self, token: str = "") -> None:
        self.token = token
        self.port = free_port()
        self.messages: list[dict[str, Any]] = []
        self.invalid: list[str] = []
        self.connections = 0
        self.refused = 0
        self.paths: list[str] = []
        self._server = WebSocketServer(self._serve, self.port)
        self._background = BackgroundLoop("proxy-recorder")

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/proxy-ws"

    def start(self) -> Self:
        self._background.run(self._server.start())
        return self

    def stop(self) -> None:
        """Close every connection (1001 going away) and stop listening."""
        self._background.run(self._server.stop())

    def close(self) -> None:
        self.stop()
        self._background.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def snapshot(self) -> list[dict[str, Any]]:
        return list(self._background.call(lambda: list(self.messages)))

    def ids(self) -> list[str]:
        """The `source.id` of every `text-input` received, in order."""
        return [
            str(m["source"]["id"])
            for m in self.snapshot()
            if m["type"] == "text-input" and "id" in m.get("source", {})
        ]

    async def _serve(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        self.paths.append(request.path)
        presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if self.token and presented != self.token:
            self.refused += 1
            await ws.close(4401, "wrong token")
            return
        self.connections += 1
        with contextlib.suppress(websockets.ConnectionClosed):
            async for frame in ws:
                try:
                    parse(frame)
                except ProtocolError as exc:
                    self.invalid.append(str(exc))
                    continue
                self.messages.append(json.loads(frame))
