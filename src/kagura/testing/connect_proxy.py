"""An HTTPS proxy on loopback that sends a real service's host name to a local fake.

A client that reaches a hosted API by its real name (`https://api.fish.audio`) is pointed at
this proxy the ordinary way (`HTTPS_PROXY`), and trusts the fake's test CA the ordinary way
(`SSL_CERT_FILE`): the client's code, its URL and its TLS are the same as in production.

    with ConnectProxy({"api.fish.audio:443": fake.port}) as proxy:
        # HTTPS_PROXY=proxy.url SSL_CERT_FILE=ca_file
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from .background import BackgroundFake

MAX_HEADER_BYTES = 8192
PIPE_CHUNK = 65536


class ConnectProxy(BackgroundFake):
    """Answers `CONNECT host:port` for the routes it knows (tunnelled to a loopback port)
    and 403 for any other, so nothing leaves the machine; `asked` lists what was asked."""

    loop_name = "connect-proxy"

    def __init__(self, routes: Mapping[str, int]) -> None:
        super().__init__()
        self.routes = dict(routes)
        self.port = 0
        self._asked: list[str] = []
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def asked(self) -> list[str]:
        return self.read(lambda: list(self._asked))

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        method, _, rest = head[:MAX_HEADER_BYTES].decode("latin-1").partition(" ")
        target = rest.split(" ", 1)[0]
        self._asked.append(target)
        port = self.routes.get(target) if method == "CONNECT" else None
        if port is None:
            writer.write(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(
            _pipe(reader, upstream_writer), _pipe(upstream_reader, writer), return_exceptions=True
        )


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(PIPE_CHUNK):
            sink.write(data)
            await sink.drain()
    finally:
        with contextlib.suppress(Exception):
            sink.close()


__all__ = ["ConnectProxy"]
