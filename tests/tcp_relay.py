"""A TCP relay that counts what crosses it: put between a client process and a server to
see how many bytes the server sent that client, without touching either."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Self


class CountingRelay:
    """Listens on a free loopback port and relays every connection to `port`; `downstream`
    counts the bytes sent from the server to the clients. Runs on its own thread."""

    def __init__(self, port: int) -> None:
        self.target_port = port
        self.port = 0
        self.connections = 0
        self._downstream = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def downstream(self) -> int:
        with self._lock:
            return self._downstream

    def __enter__(self) -> Self:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _listen(self) -> asyncio.Server:
        return await asyncio.start_server(self._relay, "127.0.0.1", 0)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        tasks = [
            asyncio.create_task(self._pipe(reader, up_writer, count=False)),
            asyncio.create_task(self._pipe(up_reader, writer, count=True)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        for stream in (writer, up_writer):
            stream.close()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, count: bool
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                if count:
                    with self._lock:
                        self._downstream += len(data)
                writer.write(data)
                await writer.drain()
