"""The seed's module-level API: one server and one client per process, made on first use.

A pipeline adds two lines — `from kagura.widget import send_llm_response` and a call after
each reply — and every open widget page shows it. Inside `kagura serve` the running app
installs its own server here, so the same calls reach the pages of `/widget-ws`.
"""

from __future__ import annotations

import threading

from kagura.config import WidgetConfig

from .client import DEFAULT_URL, WidgetClient
from .server import WidgetServer

_lock = threading.Lock()
_server: WidgetServer | None = None
_client: WidgetClient | None = None
_client_args: tuple[str, str | None] = ("", None)
CLIENT_CONNECT_WAIT_S = 3.0


def get_ws_server(
    config: WidgetConfig | None = None, *, host: str | None = None, port: int | None = None
) -> WidgetServer:
    """The process's widget server, started on its own thread on first call (the arguments
    only matter then; default `ws://127.0.0.1:8765`)."""
    global _server
    with _lock:
        if _server is None or not _server.running:
            _server = WidgetServer(config, host=host, port=port).start()
        return _server


def install_server(server: WidgetServer | None) -> None:
    """Make `server` (already running, e.g. on `kagura serve`'s loop) the singleton; None
    forgets it."""
    global _server
    with _lock:
        _server = server


def send_llm_response(response: str, duration: int = 8000) -> bool:
    """Show a finished reply on every widget for `duration` ms; False when none is connected."""
    return get_ws_server().send_llm_response(response, duration)


def send_status(status: str) -> bool:
    """Show a status line on every widget; False when none is connected."""
    return get_ws_server().send_status(status)


def get_ws_client(url: str = DEFAULT_URL, *, token: str | None = None) -> WidgetClient:
    """The process's client of a widget server in another process, connected on first call
    (waiting up to 3 s, so the first send already finds the connection). A client that
    stopped is replaced; one the server refused is kept (its sends return False at once,
    `refused` says why) until it is asked for with another URL or token."""
    global _client, _client_args
    with _lock:
        if _client is None or (
            _client.stopped and (_client.refused is None or _client_args != (url, token))
        ):
            _client, _client_args = WidgetClient(url, token=token), (url, token)
            _client.connect(CLIENT_CONNECT_WAIT_S)
        return _client
