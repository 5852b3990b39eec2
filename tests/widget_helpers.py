"""Helpers for the widget channel tests: a small sync widget client, a scripted server for
the sender client's tests, a standalone `kagura widget serve` process, and a self-signed
certificate made with `openssl`."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from websockets.sync.client import ClientConnection, connect
from websockets.sync.server import ServerConnection, serve

from kagura.testing.ports import free_port
from tests.support.server import KaguraProcess


class Widget:
    """A widget as the server sees one: a real WebSocket client that reads JSON frames."""

    def __init__(self, url: str, **kw: Any) -> None:
        self.ws: ClientConnection = connect(url, open_timeout=10, **kw).__enter__()

    def recv(self, timeout: float = 10) -> dict[str, Any]:
        frame = json.loads(self.ws.recv(timeout))
        assert isinstance(frame, dict)
        return frame

    def recv_type(self, kind: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            frame = self.recv(max(0.01, deadline - time.monotonic()))
            if frame.get("type") == kind:
                return frame

    def send(self, message: dict[str, Any] | str | bytes) -> None:
        self.ws.send(message if isinstance(message, str | bytes) else json.dumps(message))

    def close(self) -> None:
        self.ws.close()


class ScriptedServer:
    """A WebSocket server that treats every connection with `handler` and counts them."""

    def __init__(self, handler: Callable[[ServerConnection], None]) -> None:
        self.connections = 0

        def handle(ws: ServerConnection) -> None:
            self.connections += 1
            handler(ws)

        self._server = serve(handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._thread.join(10)


def wait_for(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, by the `openssl` command line."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


class WidgetProcess(KaguraProcess):
    """`kagura widget serve --http-port`: the standalone channel as a user runs it."""

    def __init__(self, workdir: Path, config: dict[str, Any]) -> None:
        super().__init__(workdir, config)
        self.config = config  # the widget server takes its ports from the command line
        self.http_port = free_port()
        self.log_path = workdir / "widget.log"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def page_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/widget?ws={self.ws_url}"

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "kagura", "widget", "serve", "-c", str(self.config_path)]
        return [*command, "--port", str(self.port), "--http-port", str(self.http_port)]

    def ready_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/widget/settings"
