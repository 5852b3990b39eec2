"""A WebSocket client that speaks the `/client-ws` protocol, for tests and benchmarks."""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import Any

import websockets


class ProtocolClient:
    def __init__(self, url: str, max_size: int | None = 64 * 2**20) -> None:
        self.url = url
        self._max_size = max_size
        self._ws: Any = None

    async def __aenter__(self) -> ProtocolClient:
        self._ws = await websockets.connect(self.url, max_size=self._max_size)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._ws.close()

    @property
    def ws(self) -> Any:
        return self._ws

    async def send(self, message: dict[str, Any]) -> None:
        await self._ws.send(json.dumps(message))

    async def send_raw(self, frame: str | bytes) -> None:
        await self._ws.send(frame)

    async def recv(self, timeout: float = 30) -> dict[str, Any]:
        frame = await asyncio.wait_for(self._ws.recv(), timeout)
        message: dict[str, Any] = json.loads(frame)
        return message

    async def recv_until(
        self, kind: str, text: str | None = None, timeout: float = 60
    ) -> list[dict[str, Any]]:
        """Every message up to and including the first of `kind` (and `text`, for control)."""
        seen: list[dict[str, Any]] = []
        async with asyncio.timeout(timeout):
            while True:
                message = await self.recv(timeout)
                seen.append(message)
                if message["type"] == kind and (text is None or message.get("text") == text):
                    return seen

    async def connect_sequence(self) -> list[dict[str, Any]]:
        return await self.recv_until("control", "start-mic", timeout=15)

    async def turn(
        self, text: str, *, ack: bool = True, timeout: float = 60
    ) -> list[dict[str, Any]]:
        """Send `text-input` and collect the turn up to `conversation-chain-end`.

        With `ack`, acknowledge playback on `backend-synth-complete`, as a frontend that
        played everything would.
        """
        await self.send({"type": "text-input", "text": text})
        return await self.collect_turn(ack=ack, timeout=timeout)

    async def collect_turn(self, *, ack: bool = True, timeout: float = 60) -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        async with asyncio.timeout(timeout):
            while True:
                message = await self.recv(timeout)
                seen.append(message)
                if message["type"] == "backend-synth-complete" and ack:
                    await self.send({"type": "frontend-playback-complete"})
                if message == {"type": "control", "text": "conversation-chain-end"}:
                    return seen
