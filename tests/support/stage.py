"""Stage clients for tests and the stage benchmark: roles, tokens, chat events, a watcher,
a watched page and a viewer beside it, what a widget gets, the stage's stats, a client that
never reads."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import websockets

from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess

CHAIN_START = {"type": "control", "text": "conversation-chain-start"}
CHAIN_END = {"type": "control", "text": "conversation-chain-end"}


def stage_url(server: KaguraProcess, path: str = "/proxy-ws", **query: str | None) -> str:
    params = urlencode({k: v for k, v in query.items() if v is not None})
    return f"ws://127.0.0.1:{server.port}{path}" + (f"?{params}" if params else "")


class StageClient(ProtocolClient):
    """A `/proxy-ws` client with a role (and optionally a token, headers)."""

    def __init__(
        self,
        server: KaguraProcess,
        role: str | None = "admin",
        *,
        token: str | None = None,
        path: str = "/proxy-ws",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(stage_url(server, path, role=role, token=token))
        self._headers = headers or {}

    async def __aenter__(self) -> StageClient:
        # No client-side queue limit: a test client that reads nothing must still close at
        # once (a full queue would pause reading, and the close handshake would time out).
        self._ws = await websockets.connect(
            self.url, max_size=64 * 2**20, max_queue=None, additional_headers=self._headers
        )
        return self

    async def chat(
        self, text: str, user: str | None = None, kind: str = "danmaku", **extra: Any
    ) -> None:
        source: dict[str, Any] = {"platform": "bilibili", "kind": kind, **extra}
        if user is not None:
            source["user"] = {"name": user, "id": f"id-{user}"}
        await self.send({"type": "text-input", "text": text, "source": source})

    async def quiet(self, seconds: float = 0.5) -> list[dict[str, Any]]:
        """Whatever arrives within `seconds` (nothing, when the client is left alone)."""
        seen = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while True:
                    seen.append(await self.recv(seconds))
        return seen


class Watcher:
    """Reads a client in the background, keeps every message, acks playback if asked."""

    def __init__(self, client: StageClient, *, ack: bool = True) -> None:
        self.client = client
        self.ack = ack
        self.seen: list[tuple[float, dict[str, Any]]] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Watcher:
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                message = json.loads(await self.client.ws.recv())
                self.seen.append((time.monotonic(), message))
                if self.ack and message["type"] == "backend-synth-complete":
                    await self.client.send({"type": "frontend-playback-complete"})

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [message for _, message in self.seen]

    def count(self, predicate: Callable[[dict[str, Any]], bool]) -> int:
        return sum(1 for message in self.messages if predicate(message))

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], n: int = 1, timeout: float = 30
    ) -> None:
        async with asyncio.timeout(timeout):
            while self.count(predicate) < n:
                await asyncio.sleep(0.02)

    async def wait_turns(self, n: int, timeout: float = 30) -> None:
        await self.wait_for(lambda message: message == CHAIN_END, n, timeout)


@contextlib.asynccontextmanager
async def watched_page(server: KaguraProcess) -> AsyncIterator[Watcher]:
    """A stage page, greeted, whose every message a `Watcher` keeps (acknowledging playback
    as a page that played it would)."""
    async with StageClient(server, "page") as page:
        await page.connect_sequence()
        async with Watcher(page) as seen:
            yield seen


@contextlib.asynccontextmanager
async def viewer_and_page(server: KaguraProcess) -> AsyncIterator[tuple[StageClient, Watcher]]:
    """A platform client, greeted, to send viewers' events; and a page whose every message a
    `Watcher` keeps: what the audience sees of them."""
    async with (
        StageClient(server, "platform") as platform,
        StageClient(server, "page") as page,
        Watcher(page) as seen,
    ):
        await platform.connect_sequence()
        yield platform, seen


async def widget_reply(
    server: KaguraProcess, text: str, user: str = "Ann"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`text` from viewer `user` on the stage, as a widget on `/widget-ws` gets it: its
    frames up to the finished reply (`llm_response`, acknowledged), and the admin's turn."""
    async with (
        websockets.connect(stage_url(server, "/widget-ws")) as widget,
        StageClient(server) as admin,
    ):
        await admin.connect_sequence()
        await admin.chat(text, user=user)
        frames: list[dict[str, Any]] = []
        async with asyncio.timeout(30):
            while not frames or frames[-1]["type"] != "llm_response":
                frame = json.loads(await widget.recv())
                if not frame.get("replay"):  # earlier replies, for a widget joining late
                    frames.append(frame)
        await widget.send(json.dumps({"type": "ack", "id": frames[-1]["id"]}))
        turn = await admin.collect_turn(timeout=30)
    return frames, turn


async def stage_stats(server: KaguraProcess) -> dict[str, Any]:
    """The stage's counters and state (`GET /stage/stats`, as an admin on loopback)."""
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as http:
        response = await http.get("/stage/stats")
    assert response.status_code == 200, response.text
    stats: dict[str, Any] = response.json()
    return stats


def user_messages(chat_requests: list[dict[str, Any]]) -> list[str]:
    """The new user message of each LLM request, in the order the LLM got them."""
    return [request["messages"][-1]["content"] for request in chat_requests]


async def stalled_client(url: str) -> socket.socket:
    """A raw TCP client that completes the WebSocket handshake and then never reads."""
    host, _, rest = url.removeprefix("ws://").partition(":")
    port, _, path = rest.partition("/")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, (host, int(port)))
    request = (
        f"GET /{path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    response = b""
    async with asyncio.timeout(10):
        while b"\r\n\r\n" not in response:
            response += await loop.sock_recv(sock, 1)  # byte by byte: read no frame
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock
