"""Who may use the standalone widget server: the main server's Host, origin and token rules,
only senders publish, and a replay never overflows a late widget's queue."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from pydantic import ValidationError
from websockets.exceptions import InvalidStatus

from kagura.auth import TOKEN_ENV
from kagura.config import KaguraConfig, WidgetConfig
from kagura.widget import WidgetClient, WidgetServer
from kagura.widget.access import WidgetAuthError

from .widget_helpers import Widget, wait_for

TOKEN = "s3cret-widget-token"


@pytest.fixture(autouse=True)
def _no_env_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)


@pytest.fixture
def loopback() -> Iterator[WidgetServer]:
    running = WidgetServer(WidgetConfig(replay_messages=0), port=0).start()
    try:
        yield running
    finally:
        running.stop()


def refused_status(url: str, **kw: object) -> int:
    with pytest.raises(InvalidStatus) as refused:
        Widget(url, **kw)
    return refused.value.response.status_code


def test_dns_rebinding_host_is_refused_on_loopback(loopback: WidgetServer) -> None:
    """A page on evil.example whose name now resolves to 127.0.0.1: same "origin", bad Host."""
    for path in ("/", "/?kind=sender"):
        evil = f"ws://evil.example:{loopback.port}{path}"
        sock = socket.create_connection(("127.0.0.1", loopback.port), timeout=10)
        origin = f"http://evil.example:{loopback.port}"
        assert refused_status(evil, sock=sock, origin=origin) == 403
    assert loopback.clients == 0
    Widget(loopback.url, origin=f"http://localhost:{loopback.port}").close()


def test_one_address_may_hold_only_so_many_connections() -> None:
    """Past the cap a connection is refused before the upgrade (429); one that closes, or
    one refused earlier at its handshake, frees its place."""
    server = WidgetServer(WidgetConfig(max_connections_per_address=3), port=0).start()
    try:
        evil = f"ws://evil.example:{server.port}"
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        assert refused_status(evil, sock=sock) == 403  # counted, then released
        wait_for(lambda: server.connections == 0, 10, "the refused connection to be gone")
        widgets = [Widget(server.url) for _ in range(3)]
        assert refused_status(server.url) == 429
        widgets.pop().close()
        wait_for(lambda: server.connections == 2, 10, "the closed widget to be gone")
        widgets.append(Widget(server.url))
        assert server.connections == 3 and server.clients == 3
        for widget in widgets:
            widget.close()
    finally:
        server.stop()


def test_beyond_loopback_needs_a_token_to_start() -> None:
    with pytest.raises(WidgetAuthError, match=f"system.auth_token or {TOKEN_ENV}"):
        WidgetServer(WidgetConfig(), host="0.0.0.0", port=0).start()


def test_beyond_loopback_every_connection_needs_the_token() -> None:
    config = KaguraConfig.model_validate({"system": {"auth_token": TOKEN}})
    server = WidgetServer.from_config(config, host="0.0.0.0", port=0).start()
    url = f"ws://127.0.0.1:{server.port}"
    client = WidgetClient(url, token=TOKEN)
    try:
        assert refused_status(url) == 401
        assert refused_status(f"{url}/?token=wrong") == 401
        assert refused_status(f"{url}/?kind=sender") == 401
        page = Widget(f"{url}/?token={TOKEN}")
        wait_for(lambda: server.clients == 1, 10, "the widget with the token")
        assert client.connect(10)
        assert client.send_status("with the token") is True
        assert page.recv()["content"] == "with the token"
    finally:
        client.disconnect()
        server.stop()


def test_the_token_may_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    server = WidgetServer(WidgetConfig(), host="0.0.0.0", port=0).start()
    try:
        url = f"ws://127.0.0.1:{server.port}"
        assert refused_status(url) == 401
        Widget(url, additional_headers={"Authorization": f"Bearer {TOKEN}"}).close()
    finally:
        server.stop()


def test_a_widget_cannot_publish(loopback: WidgetServer) -> None:
    speaker, listener = Widget(loopback.url), Widget(loopback.url)
    wait_for(lambda: loopback.clients == 2, 10, "two widgets")
    speaker.send({"type": "llm_response", "content": "I am the character now", "id": "x1"})
    error = speaker.recv()
    assert error == {
        "type": "error",
        "message": "widgets may only send ack and heartbeat, not 'llm_response'",
        "id": "x1",
    }
    speaker.send({"type": "heartbeat"})
    assert speaker.recv() == {"type": "heartbeat-ack"}
    assert loopback.send_status("from the sender") is True
    assert listener.recv()["content"] == "from the sender"  # nothing from the other widget


def test_a_replay_longer_than_half_the_queue_is_rejected() -> None:
    with pytest.raises(ValidationError, match="at most half of client_queue_messages"):
        WidgetConfig(client_queue_messages=64, replay_messages=100)
    with pytest.raises(ValidationError, match="replay_messages"):
        KaguraConfig.model_validate({"widget": {"client_queue_messages": 8, "replay_messages": 5}})


def test_a_late_widget_with_a_full_replay_stays_connected() -> None:
    server = WidgetServer(WidgetConfig(client_queue_messages=8, replay_messages=4), port=0).start()
    try:
        for i in range(12):
            server.send_status(f"old {i}")
        page = Widget(server.url)
        assert [page.recv()["content"] for _ in range(4)] == [f"old {i}" for i in range(8, 12)]
        wait_for(lambda: server.clients == 1, 10, "the late widget")
        assert server.send_status("live") is True
        assert page.recv()["content"] == "live"
    finally:
        server.stop()
