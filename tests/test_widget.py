"""The widget channel without a browser: a real server on a loopback port, real WebSocket
clients, calls from plain threads, from async code and from another process's client."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus

import kagura.widget as widget_api
from kagura.config import KaguraConfig, WidgetConfig
from kagura.protocol.widget import Status
from kagura.testing.ports import free_port
from kagura.widget import ProtocolError, WidgetClient, WidgetServer
from kagura.widget.hub import WidgetHub
from tests.support.stage import stalled_client

from .widget_helpers import Widget, self_signed_cert, wait_for


@pytest.fixture
def server() -> Iterator[WidgetServer]:
    running = WidgetServer(WidgetConfig(ack_timeout_s=2, replay_messages=0), port=0).start()
    try:
        yield running
    finally:
        running.stop()


def widgets(server: WidgetServer, n: int) -> list[Widget]:
    connected = [Widget(server.url) for _ in range(n)]
    wait_for(lambda: server.clients == n, 10, f"{n} widgets")
    return connected


def test_broadcast_reaches_every_widget_and_false_without_any(server: WidgetServer) -> None:
    assert server.send_llm_response("nobody listens") is False
    assert server.send_status("nobody") is False
    pages = widgets(server, 3)
    assert server.send_llm_response("Hello, everyone!", duration=3000) is True
    assert server.send_status("thinking") is True
    for page in pages:
        reply = page.recv()
        assert reply["type"] == "llm_response" and reply["content"] == "Hello, everyone!"
        assert reply["duration"] == 3000 and reply["id"]
        assert page.recv() | {"id": None} == {"type": "status", "content": "thinking", "id": None}
        page.close()


def test_dead_and_stalled_clients_are_removed(server: WidgetServer) -> None:
    config = WidgetConfig(client_queue_messages=4, replay_messages=0, max_content_chars=60_000)
    small = WidgetServer(config, port=0).start()
    try:
        gone, alive = widgets(small, 2)
        gone.close()
        wait_for(lambda: small.clients == 1, 10, "the closed widget to be removed")
        assert small.send(widget_status("still here")).sent == 1
        assert alive.recv()["content"] == "still here"

        stalled = asyncio.run(_stalled(small.url))
        wait_for(lambda: small.clients == 2, 10, "the stalled widget")
        text = "x" * 60_000
        for _ in range(300):  # up to 18 MB: more than the socket buffers hold
            small.send(widget_status(text))
            if small.clients == 1:
                break
        assert small.clients == 1, "the widget that never reads was not disconnected"
        stalled.close()
        small.send(widget_status("after"))
        while (frame := alive.recv())["content"] != "after":
            assert frame["content"] == text  # the reader got everything, in order
    finally:
        small.stop()


async def _stalled(url: str) -> socket.socket:
    return await stalled_client(url + "/")


def widget_status(text: str) -> dict[str, str]:
    return {"type": "status", "content": text}


def test_calls_from_plain_threads_and_async_code(server: WidgetServer) -> None:
    (page,) = widgets(server, 1)
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda i=i: results.append(server.send_status(f"thread {i}")))
        for i in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == [True] * 4

    async def from_another_loop() -> bool:
        return await server.asend_llm_response("from asyncio", duration=1000)

    assert asyncio.run(from_another_loop()) is True
    assert server.hub is not None and server._loop is not None

    async def on_the_servers_loop() -> bool:  # sync call on the server's own loop
        return server.send_status("from the server's loop")

    same = asyncio.run_coroutine_threadsafe(on_the_servers_loop(), server._loop)
    assert same.result(10) is True
    seen = sorted(page.recv()["content"] for _ in range(6))
    assert seen == sorted(
        [*(f"thread {i}" for i in range(4)), "from asyncio", "from the server's loop"]
    )


def test_module_level_api_is_a_singleton() -> None:
    port = free_port()
    widget_api.install_server(None)
    first = widget_api.get_ws_server(WidgetConfig(port=port))
    try:
        assert widget_api.get_ws_server() is first and first.port == port
        assert widget_api.send_llm_response("no one yet") is False
        page = Widget(f"ws://127.0.0.1:{port}")
        wait_for(lambda: first.clients == 1, 10, "the widget")
        assert widget_api.send_llm_response("Hi!") is True
        assert widget_api.send_status("ok") is True
        frames = [page.recv() for _ in range(3)]
        assert [(f["content"], "replay" in f) for f in frames] == [
            ("no one yet", True),  # the default config replays the last messages
            ("Hi!", False),
            ("ok", False),
        ]
    finally:
        first.stop()
        widget_api.install_server(None)


def test_client_sends_and_reconnects_when_the_server_comes_back() -> None:
    port = free_port()
    quiet = WidgetConfig(replay_messages=0)
    first = WidgetServer(quiet, port=port).start()
    client = WidgetClient(f"ws://127.0.0.1:{port}")
    try:
        assert client.connect(10)
        assert client.send_llm_response("no widget yet") is False
        page = Widget(first.url)
        wait_for(lambda: first.clients == 1, 10, "the widget")
        assert client.send_llm_response("Hello from my pipeline", duration=2000) is True
        assert page.recv()["content"] == "Hello from my pipeline"
        assert first.clients == 1, "a sender must not count as a widget"

        first.stop()
        wait_for(lambda: not client.connected, 10, "the client to notice")
        assert client.send_status("server down") is False
        second = WidgetServer(quiet, port=port).start()
        try:
            page = Widget(second.url)
            wait_for(lambda: client.connected, 20, "the client to reconnect")
            wait_for(lambda: second.clients == 1, 10, "the widget")
            assert client.send_status("back again") is True
            assert page.recv()["content"] == "back again"
        finally:
            second.stop()
    finally:
        client.disconnect()
        first.stop()
    assert client.stopped and not client.connected


def test_acknowledgements_give_the_sender_a_delivery_report(server: WidgetServer) -> None:
    acking, silent = widgets(server, 2)

    def ack_one() -> None:
        message = acking.recv()
        acking.send({"type": "ack", "id": message["id"]})

    thread = threading.Thread(target=ack_one)
    thread.start()
    report = server.send({"type": "status", "content": "did you get it?"}, wait_ack_s=10)
    thread.join(10)
    # The silent widget never acks: the report comes at the ack timeout (2 s), not at 10 s.
    assert (report.sent, report.acked, report.complete) == (2, 1, False)
    silent.close()
    wait_for(lambda: server.clients == 1, 10, "the silent widget to go")

    client = WidgetClient(server.url)
    try:
        assert client.connect(10)
        thread = threading.Thread(target=ack_one)
        thread.start()
        report = client.send({"type": "llm_response", "content": "ack me"}, wait_ack_s=10)
        thread.join(10)
        assert report is not None and (report.sent, report.acked, report.complete) == (1, 1, True)
    finally:
        client.disconnect()


def test_a_late_widget_gets_the_recent_messages_replayed() -> None:
    late = WidgetServer(WidgetConfig(replay_messages=2), port=0).start()
    try:
        for text in ("one", "two", "three"):
            assert late.send_status(text) is False  # nobody there yet
        page = Widget(late.url)
        replayed = [page.recv(), page.recv()]
        assert [m["content"] for m in replayed] == ["two", "three"]
        assert all(m["replay"] is True for m in replayed)
        late.send_status("live")
        assert "replay" not in page.recv()
    finally:
        late.stop()


async def test_replay_is_bounded_by_age() -> None:
    now = [0.0]
    hub = WidgetHub(WidgetConfig(replay_messages=10, replay_max_age_s=60), clock=lambda: now[0])
    hub.publish(Status(content="old"))
    now[0] = 50
    hub.publish(Status(content="fresh"))
    now[0] = 100
    sent: list[str] = []

    async def send(frame: str) -> None:
        sent.append(frame)

    async def close(code: int, reason: str) -> None:
        return None

    peer = hub.connect("widget", send, close)
    peer.close(1000, "")
    await asyncio.wait_for(peer.sender.run(), 1)  # sends what was queued, then stops
    assert [json.loads(frame)["content"] for frame in sent] == ["fresh"]


def test_bad_frames_get_clear_errors_and_the_connection_stays(server: WidgetServer) -> None:
    (page,) = widgets(server, 1)
    for frame, expected in [
        ("not json", "not valid JSON"),
        (b"\x00\x01", "binary frames"),
        ('["a list"]', "JSON object"),
        ('{"type": "dance"}', "unknown message type 'dance'"),
        ('{"type": "llm_response"}', "content"),
        ('{"type": "llm_response", "content": "x", "duration": -1}', "duration"),
        ('{"type": "expression"}', "name or an index"),
    ]:
        page.send(frame)
        error = page.recv()
        assert error["type"] == "error" and expected in error["message"], (frame, error)
    sender = Widget(server.url + "/?kind=sender")
    sender.send({"type": "status", "content": "y" * 5000})
    assert "longer than 2000" in sender.recv()["message"]
    assert server.send_status("still fine") is True
    assert page.recv()["content"] == "still fine"
    with pytest.raises(ProtocolError, match="unknown message type"):
        server.send({"type": "dance"})


def test_wss_when_a_certificate_is_configured(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path)
    config = KaguraConfig.model_validate(
        {"widget": {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}}
    )
    secure = WidgetServer.from_config(config, host="127.0.0.1", port=0).start()
    try:
        assert secure.url.startswith("wss://")
        trust = ssl.create_default_context(cafile=str(cert))
        page = Widget(secure.url, ssl=trust)
        client = WidgetClient(secure.url, ssl_context=trust)
        try:
            assert client.connect(10)
            wait_for(lambda: secure.clients == 1, 10, "the widget")
            assert client.send_llm_response("over TLS") is True
            assert page.recv()["content"] == "over TLS"
        finally:
            client.disconnect()
        with pytest.raises(ssl.SSLError):
            Widget(secure.url, ssl=ssl.create_default_context())  # an untrusted certificate
    finally:
        secure.stop()


def test_browser_origins_are_checked() -> None:
    config = WidgetConfig(allowed_origins=["https://studio.example"])
    guarded = WidgetServer(config, port=0).start()
    try:
        with pytest.raises(InvalidStatus) as refused:
            Widget(guarded.url, origin="https://evil.example")
        assert refused.value.response.status_code == 403
        Widget(guarded.url, origin="https://studio.example").close()
        Widget(guarded.url, origin="http://localhost:8000").close()
        with pytest.raises(InvalidStatus):
            Widget(guarded.url + "/?kind=spy")
    finally:
        guarded.stop()
