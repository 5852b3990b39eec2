"""An ASGI app served over HTTPS on a free loopback port, for the fakes of HTTP APIs.

Runs on the caller's event loop (a fake's `BackgroundLoop`), with the test certificate, so
the client under test reaches it exactly as it would reach the real service, TLS included.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import uvicorn

from kagura.testing.tls import Certificates

STOP_TIMEOUT_S = 5.0


class HttpsServer:
    """Started again after `stop()`, it listens on the same port, as a restarted server."""

    def __init__(self, app: Any, certificates: Certificates) -> None:
        self.app = app
        self.certificates = certificates
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    async def start(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_config=None,
            log_level=None,
            ssl_certfile=str(self.certificates.cert_file),
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)

    async def stop(self, *, at_once: bool = False) -> None:
        """Stop serving; `at_once` drops open connections instead of waiting for them (an
        idle TLS keep-alive waits for a client that is not reading: seconds)."""
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            self._server.force_exit = at_once
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, STOP_TIMEOUT_S)
