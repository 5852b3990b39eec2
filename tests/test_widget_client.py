"""The sender client against servers that misbehave: refusals stop it, quick drops slow it
down, a bug in frame handling does not end its thread, and no send outlives a disconnect."""

from __future__ import annotations

import asyncio
import time

import pytest
from websockets.sync.server import ServerConnection

import kagura.widget as widget_api
from kagura.config import KaguraConfig
from kagura.widget import WidgetClient, WidgetServer

from .widget_helpers import ScriptedServer, wait_for


def never_answers(ws: ServerConnection) -> None:
    for _ in ws:
        pass


def refuses(ws: ServerConnection) -> None:  # like `auth.accept` for a wrong token
    ws.close(4401, "wrong token")


def drops(ws: ServerConnection) -> None:
    ws.close(1011, "going down again")


def greets(ws: ServerConnection) -> None:
    ws.send('{"type": "heartbeat-ack"}')
    never_answers(ws)


async def test_asend_returns_soon_after_disconnect() -> None:
    with ScriptedServer(never_answers) as server:
        client = WidgetClient(server.url)
        assert await asyncio.to_thread(client.connect, 10)
        pending = asyncio.ensure_future(client.asend_status("will never get a receipt"))
        await asyncio.sleep(0.3)  # the send is on the wire, awaiting the receipt
        started = time.monotonic()
        await asyncio.to_thread(client.disconnect)
        assert await asyncio.wait_for(pending, 10) is False
        assert time.monotonic() - started < 3, "it waited for the receipt timeout"
        assert await client.asend_status("after") is False


def test_a_refusing_server_is_not_retried() -> None:
    with ScriptedServer(refuses) as server:
        client = WidgetClient(server.url)
        try:
            client.connect(3)  # the handshake succeeds; the close comes right after
            wait_for(lambda: client.stopped, 5, "the client to give up")
            time.sleep(2.5)  # the old client reconnected about twice a second, forever
            assert server.connections == 1
            assert client.stopped and client.refused == "close 4401: wrong token"
            assert client.send_status("refused") is False
        finally:
            client.disconnect()


def test_a_wrong_token_on_the_standalone_server_stops_the_client() -> None:
    config = KaguraConfig.model_validate({"system": {"auth_token": "right"}})
    server = WidgetServer.from_config(config, host="0.0.0.0", port=0).start()
    client = WidgetClient(f"ws://127.0.0.1:{server.port}", token="wrong")
    try:
        started = time.monotonic()
        assert client.connect(5) is False
        assert time.monotonic() - started < 2, "connect waited although it was refused"
        assert client.refused is not None and client.refused.startswith("HTTP 401")
    finally:
        client.disconnect()
        server.stop()


def test_backoff_grows_when_the_server_drops_at_once() -> None:
    with ScriptedServer(drops) as server:
        client = WidgetClient(server.url)
        try:
            client.connect(1)
            time.sleep(4)  # backoff 0.5, 1, 2 s: 4 connections; without growth 8 or more
            assert server.connections <= 5
            assert not client.stopped and client.refused is None
        finally:
            client.disconnect()


def test_a_bug_in_frame_handling_does_not_end_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_: object) -> None:
        raise RuntimeError("a bug")

    with ScriptedServer(greets) as server:
        client = WidgetClient(server.url)
        monkeypatch.setattr(client, "_dispatch", broken)
        try:
            client.connect(5)
            wait_for(lambda: server.connections >= 2, 10, "the client to reconnect")
            assert not client.stopped
        finally:
            client.disconnect()


def test_the_module_client_is_replaced_once_stopped_but_not_when_refused() -> None:
    with ScriptedServer(refuses) as refusing, ScriptedServer(never_answers) as quiet:
        refused = widget_api.get_ws_client(refusing.url)
        try:
            wait_for(lambda: refused.stopped, 5, "the client to give up")
            assert refused.refused is not None
            assert widget_api.get_ws_client(refusing.url) is refused
            working = widget_api.get_ws_client(quiet.url)
            assert working is not refused and working.connected
            working.disconnect()
            assert widget_api.get_ws_client(quiet.url) is not working
        finally:
            widget_api.get_ws_client(quiet.url).disconnect()


def test_a_bad_url_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="not a ws:// or wss:// URL"):
        WidgetClient("http://127.0.0.1:8765")
