"""The widget server: the hub behind a `websockets` listener, callable from any thread.

The seed's users call it from their own pipelines, which may be plain scripts, asyncio
programs or worker threads. So the server runs on its own thread and event loop (`start()`),
or on the caller's loop (`await start_here()`, as `kagura serve` does), and every `send_*`
hops onto that loop: directly when already on it, else through `run_coroutine_threadsafe`
with a timeout, so no caller can stall on a busy or dead server.

Its listener checks every handshake like `kagura serve` does (`access.py`): Host and origin,
a token when it listens beyond this machine, and how many connections one address has open.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import ssl
import threading
from collections import Counter
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from kagura.auth import REFUSAL_STATUS, AuthSettings, Refused
from kagura.config import KaguraConfig, WidgetConfig
from kagura.protocol import widget as m

from .access import admit, peer_kind, require_token, widget_auth
from .hub import MAX_FRAME_BYTES, DeliveryReport, WidgetHub, serve_peer

log = logging.getLogger(__name__)

T = TypeVar("T")
CALL_TIMEOUT_S = 5.0  # longest a caller on another thread waits for the server's loop
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
CLOSE_WAIT_S = 5.0  # connections that do not answer the close handshake are dropped after it

Message = m.Broadcastable | dict[str, Any]


class WidgetServer:
    def __init__(
        self,
        config: WidgetConfig | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
        ssl_context: ssl.SSLContext | None = None,
        auth: AuthSettings | None = None,
    ) -> None:
        """`auth` defaults to the rules for `host` with the `KAGURA_AUTH_TOKEN` token."""
        self.config = config or WidgetConfig()
        self.host = host or self.config.host
        self.port = self.config.port if port is None else port
        self.ssl_context = ssl_context
        self.auth = auth or widget_auth(self.host, self.config)
        self.hub: WidgetHub | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Server | None = None
        self._open: Counter[str] = Counter()  # connections open per remote address
        self._releases: set[asyncio.Task[None]] = set()

    @classmethod
    def from_config(
        cls, config: KaguraConfig, *, host: str | None = None, token: str = "", **kw: Any
    ) -> WidgetServer:
        """The `widget` section, with its certificate paths resolved like every config path,
        and the main server's token (`token`, else `system.auth_token`, else the env)."""
        widget = config.widget
        host = host or widget.host
        auth = widget_auth(
            host,
            widget,
            token=token or config.system.auth_token,
            require_on_loopback=config.system.require_token_on_loopback,
        )
        context = None
        if widget.ssl_certfile:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            keyfile = config.resolve_path(widget.ssl_keyfile) if widget.ssl_keyfile else None
            context.load_cert_chain(config.resolve_path(widget.ssl_certfile), keyfile)
        return cls(widget, host=host, ssl_context=context, auth=auth, **kw)

    @property
    def url(self) -> str:
        scheme = "wss" if self.ssl_context else "ws"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self.hub is not None and self._loop is not None and not self._loop.is_closed()

    @property
    def clients(self) -> int:
        """Connected widgets (senders not counted)."""
        return self.hub.widgets if self.hub is not None else 0

    @property
    def connections(self) -> int:
        """Connections open on the listener, handshakes under way included."""
        if self._loop is None or self._on_loop():
            return sum(self._open.values())

        async def count() -> int:  # read on the server's loop, which changes it
            return sum(self._open.values())

        return self._call(count, 0)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, timeout_s: float = START_TIMEOUT_S) -> WidgetServer:
        """Run on a new daemon thread with its own event loop; returns once listening."""
        if self.running:
            return self
        loop = asyncio.new_event_loop()
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()

        def run() -> None:
            asyncio.set_event_loop(loop)
            task = loop.create_task(self.start_here())
            task.add_done_callback(lambda t: _settle(ready, t))
            try:
                loop.run_forever()
            finally:
                finish_tasks(loop)
                loop.close()

        self._thread = threading.Thread(target=run, name="kagura-widget", daemon=True)
        self._thread.start()
        try:
            ready.result(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    async def start_here(self, *, listen: bool = True) -> None:
        """Run on the current event loop; `listen=False` only makes the hub (for an app that
        carries it on its own endpoint, like `/widget-ws`). Raises `WidgetAuthError` rather
        than listen beyond loopback without a token."""
        if listen:
            require_token(self.auth, self.host)
        self._loop = asyncio.get_running_loop()
        self.hub = WidgetHub(self.config)
        if listen:
            self._server = await serve(
                self._handle,
                self.host,
                self.port,
                ssl=self.ssl_context,
                process_request=self._check_request,
                max_size=MAX_FRAME_BYTES,
            )
            sockets = list(self._server.sockets)
            if sockets and self.port == 0:
                self.port = int(sockets[0].getsockname()[1])
            log.info("widget channel on %s", self.url)

    async def astop(self) -> None:
        if self.hub is not None:
            self.hub.close_all()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), CLOSE_WAIT_S)
            self._server = None

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop a server started with `start()` (from any thread but its own)."""
        loop, thread = self._loop, self._thread
        if thread is None or loop is None:
            return
        if not loop.is_closed():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self.astop(), loop).result(timeout_s)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout_s)
        self._thread = None
        self.hub = None

    # -- sending -----------------------------------------------------------------------

    def send(self, message: Message, *, wait_ack_s: float = 0) -> DeliveryReport:
        """Broadcast `message` to every widget; with `wait_ack_s`, wait (at most that long)
        for their acknowledgements. Raises `ProtocolError` for an invalid message."""
        checked = m.broadcastable(message)
        if not self.running:
            return DeliveryReport(checked.id or "", 0, 0)
        if self._on_loop():
            if wait_ack_s > 0:
                raise RuntimeError("on the server's own loop, use `await asend(...)`")
            assert self.hub is not None
            return self.hub.publish(checked).report
        return self._call(lambda: self._publish(checked, wait_ack_s), wait_ack_s)

    async def asend(self, message: Message, *, wait_ack_s: float = 0) -> DeliveryReport:
        """`send` for async code, on this server's loop or any other."""
        checked = m.broadcastable(message)
        if not self.running:
            return DeliveryReport(checked.id or "", 0, 0)
        if self._on_loop():
            return await self._publish(checked, wait_ack_s)
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(self._publish(checked, wait_ack_s), self._loop)
        async with asyncio.timeout(CALL_TIMEOUT_S + wait_ack_s):
            return await asyncio.wrap_future(future)

    def send_llm_response(self, response: str, duration: int = 8000) -> bool:
        """Show a finished reply for `duration` ms; False when no widget is connected."""
        message = m.LLMResponse(type="llm_response", content=response, duration=duration)
        return self.send(message).sent > 0

    def send_status(self, status: str) -> bool:
        """Show a status line (below replies in priority); False when no widget is connected."""
        return self.send(m.Status(type="status", content=status)).sent > 0

    def send_expression(self, name: str | None = None, index: int | None = None) -> bool:
        return self.send({"type": "expression", "name": name, "index": index}).sent > 0

    def send_motion(self, group: str, index: int | None = None) -> bool:
        return self.send({"type": "motion", "group": group, "index": index}).sent > 0

    async def asend_llm_response(self, response: str, duration: int = 8000) -> bool:
        message = m.LLMResponse(type="llm_response", content=response, duration=duration)
        return (await self.asend(message)).sent > 0

    async def asend_status(self, status: str) -> bool:
        return (await self.asend(m.Status(type="status", content=status))).sent > 0

    # -- internals ---------------------------------------------------------------------

    async def _publish(self, message: m.Broadcastable, wait_ack_s: float) -> DeliveryReport:
        if self.hub is None:
            return DeliveryReport(message.id or "", 0, 0)
        delivery = self.hub.publish(message)
        return await delivery.wait(wait_ack_s) if wait_ack_s > 0 else delivery.report

    def _on_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    def _call(self, work: Callable[[], Coroutine[Any, Any, T]], extra_s: float) -> T:
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(work(), self._loop)
        try:
            return future.result(CALL_TIMEOUT_S + extra_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError("the widget server did not answer in time") from None

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse before the upgrade (HTTP 400/401/403), with the reason as the body."""
        try:
            admit(self.auth, request.path, request.headers.raw_items())
        except Refused as refused:
            client = connection.remote_address[0] if connection.remote_address else "?"
            log.warning("widget channel: refused %s: %s", client, refused.reason)
            status = REFUSAL_STATUS.get(refused.code, HTTPStatus.FORBIDDEN)
            return connection.respond(status, refused.reason + "\n")
        return self._count(connection)

    def _count(self, connection: ServerConnection) -> Response | None:
        """One more connection from its address, released when it is lost (however far its
        handshake got); refused (HTTP 429) past `max_connections_per_address`."""
        address = str(connection.remote_address[0]) if connection.remote_address else "?"
        limit = self.config.max_connections_per_address
        if self._open[address] >= limit:
            log.warning("widget channel: refused %s: %d connections open already", address, limit)
            reason = f"too many connections from this address (at most {limit})\n"
            return connection.respond(HTTPStatus.TOO_MANY_REQUESTS, reason)
        self._open[address] += 1
        release = asyncio.get_running_loop().create_task(self._release(connection, address))
        self._releases.add(release)
        release.add_done_callback(self._releases.discard)
        return None

    async def _release(self, connection: ServerConnection, address: str) -> None:
        try:
            await connection.wait_closed()
        finally:
            self._open[address] -= 1
            if self._open[address] <= 0:
                del self._open[address]

    async def _handle(self, connection: ServerConnection) -> None:
        request = connection.request
        kind = peer_kind(urlsplit(request.path).query if request else "") or "widget"
        assert self.hub is not None

        async def receive() -> str | bytes | None:
            try:
                return await connection.recv()
            except ConnectionClosed:
                return None

        async def close(code: int, reason: str) -> None:
            await connection.close(code, reason)

        await serve_peer(self.hub, kind, receive, connection.send, close)


def _settle(future: concurrent.futures.Future[None], task: asyncio.Task[None]) -> None:
    if task.cancelled():
        future.set_exception(RuntimeError("the widget server did not start"))
    elif (exc := task.exception()) is not None:
        future.set_exception(exc)
    else:
        future.set_result(None)


def finish_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what still runs on a stopped loop (bounded), so nothing is destroyed pending
    and every caller waiting on one of its tasks from another thread gets an answer."""
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.wait(tasks, timeout=CLOSE_WAIT_S))
    # A task that ended just as the loop stopped has its done callbacks (the answer to a
    # `run_coroutine_threadsafe` caller) still queued: one more turn runs them.
    loop.run_until_complete(asyncio.sleep(0))
