"""The sender side: a program's connection to a widget server, kept up on its own thread.

A pipeline should not care whether the widget server restarted: the client reconnects with
backoff for as long as it is not disconnected, and while it is down `send_*` returns False at
once instead of blocking. Each message waits (bounded) for the server's receipt, which says
how many widgets it reached; with `wait_ack_s` it also waits for the delivery report.

It connects and reconnects as every Kagura client does (`kagura.link`): the backoff only
starts over after a connection has lived a while, so a server that accepts and drops at once
is not hammered; a refusal (wrong token, origin, role: HTTP 400/401/403 or close
4400/4401/4403) will not change by retrying, so the client stops and says why (`refused`).
Every wait is bounded, and a disconnect settles what was still in flight.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import ssl
import threading
import time
import uuid
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidURI
from websockets.uri import parse_uri

from kagura.backoff import Backoff
from kagura.link import (
    RECONNECT_INITIAL_S,
    RECONNECT_MAX_S,
    WIDGET_SENDER,
    Refusal,
    connect,
    keep_connected,
    with_query,
)
from kagura.protocol import outgoing as out
from kagura.protocol import widget as m

from .hub import DeliveryReport
from .server import Message, finish_tasks

log = logging.getLogger(__name__)

DEFAULT_URL = "ws://localhost:8765"
CONNECT_WAIT_S = 5.0  # how long `connect()` blocks its caller by default
REPLY_TIMEOUT_S = 5.0  # the server's receipt
MAX_PENDING = 256


def sender_url(url: str) -> str:
    """`url` with `kind=sender`, so the server does not send this program the broadcasts."""
    return with_query(url, "kind", "sender")


class WidgetClient:
    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        token: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.url = sender_url(url)
        try:
            parse_uri(self.url)
        except InvalidURI:
            raise ValueError(f"not a ws:// or wss:// URL: {url!r}") from None
        self.refused: str | None = None  # why the server refused us, once it has
        self._opening = partial(
            connect, self.url, token=token or "", client=WIDGET_SENDER, ssl_context=ssl_context
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: asyncio.Task[None] | None = None
        self._ws: ClientConnection | None = None
        self._connected = threading.Event()
        self._stopping = False
        self._receipts: dict[str, asyncio.Future[int]] = {}
        self._reports: dict[str, asyncio.Future[DeliveryReport]] = {}

    @property
    def connected(self) -> bool:
        return self._ws is not None

    @property
    def stopped(self) -> bool:
        """Disconnected, refused, or its thread ended: it will not connect again by itself."""
        return self._thread is None or not self._thread.is_alive()

    def connect(self, wait_s: float = CONNECT_WAIT_S) -> bool:
        """Start the connection thread (again, once stopped); wait up to `wait_s` for the
        connection (less when the server refuses it)."""
        if self.stopped:
            self._stopping, self.refused = False, None
            loop = self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._thread_main, args=(loop,), name="kagura-widget-client", daemon=True
            )
            self._thread.start()
        deadline = time.monotonic() + wait_s
        while not self._connected.wait(min(0.05, max(0.0, deadline - time.monotonic()))):
            if self.stopped or time.monotonic() >= deadline:
                return self._connected.is_set()
        return True

    def disconnect(self, timeout_s: float = 5.0) -> None:
        """Close the connection and stop reconnecting."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._stopping = True
        with contextlib.suppress(RuntimeError):  # the loop already ended
            loop.call_soon_threadsafe(self._cancel)
        thread.join(timeout_s)
        self._thread = None

    # -- sending -----------------------------------------------------------------------

    def send(self, message: Message, *, wait_ack_s: float = 0) -> DeliveryReport | None:
        """Send `message` for broadcast; the report (sent, acked) or None when not connected
        or the server did not answer. Raises `ProtocolError` when the server refused it."""
        checked = m.broadcastable(message)
        if self._on_loop():
            raise RuntimeError("on the client's own loop, use `await asend(...)`")
        future = self._submit(checked, wait_ack_s)
        if future is None:
            return None
        try:
            return future.result(_answer_bound(wait_ack_s))
        except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
            future.cancel()
            return None

    async def asend(self, message: Message, *, wait_ack_s: float = 0) -> DeliveryReport | None:
        """`send` for async code: None within the same bound when there is no answer."""
        checked = m.broadcastable(message)
        if self._on_loop():
            return await self._send(checked, wait_ack_s)
        future = self._submit(checked, wait_ack_s)
        if future is None:
            return None
        answer = asyncio.wrap_future(future)
        try:
            await asyncio.wait({answer}, timeout=_answer_bound(wait_ack_s))
        finally:
            if not answer.done():  # timed out, or the caller was cancelled
                future.cancel()
        return None if answer.cancelled() else answer.result()

    def send_llm_response(self, response: str, duration: int = 8000) -> bool:
        """Show a finished reply on the widgets; False when none got it."""
        message = m.LLMResponse(type="llm_response", content=response, duration=duration)
        return _reached(self.send(message))

    def send_status(self, status: str) -> bool:
        return _reached(self.send(m.Status(type="status", content=status)))

    def send_expression(self, name: str | None = None, index: int | None = None) -> bool:
        return _reached(self.send({"type": "expression", "name": name, "index": index}))

    def send_motion(self, group: str, index: int | None = None) -> bool:
        return _reached(self.send({"type": "motion", "group": group, "index": index}))

    async def asend_llm_response(self, response: str, duration: int = 8000) -> bool:
        message = m.LLMResponse(type="llm_response", content=response, duration=duration)
        return _reached(await self.asend(message))

    async def asend_status(self, status: str) -> bool:
        return _reached(await self.asend(m.Status(type="status", content=status)))

    # -- the connection thread -----------------------------------------------------------

    def _submit(
        self, message: m.Broadcastable, wait_ack_s: float
    ) -> concurrent.futures.Future[DeliveryReport | None] | None:
        """Hand the send to the client's loop; None when down, stopping or already closed."""
        loop = self._loop
        if loop is None or not self.connected or self._stopping:
            return None
        work = self._send(message, wait_ack_s)
        try:
            return asyncio.run_coroutine_threadsafe(work, loop)
        except RuntimeError:  # the loop closed meanwhile
            work.close()
            return None

    def _thread_main(self, loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        self._runner = loop.create_task(self._run())
        try:
            loop.run_until_complete(self._runner)
        except asyncio.CancelledError:
            pass
        finally:
            finish_tasks(loop)  # sends in flight end (cancelled), so their callers return
            loop.close()

    def _cancel(self) -> None:
        if self._runner is not None:
            self._runner.cancel()

    async def _run(self) -> None:
        backoff = Backoff(RECONNECT_INITIAL_S, RECONNECT_MAX_S)
        try:
            await keep_connected(self._opening, self._serve, backoff, _retrying)
        except Refusal as refusal:
            self.refused = str(refusal)
            log.error(
                "widget client: %s refused the connection (%s); not reconnecting. "
                "Check the token and the URL.",
                urlsplit(self.url).netloc,
                refusal.explained(),
            )

    async def _serve(self, ws: ClientConnection) -> None:
        """One connection, until it closes."""
        self._ws = ws
        self._connected.set()
        log.info("widget client connected to %s", urlsplit(self.url).netloc)
        try:
            async for frame in ws:
                self._on_frame(frame)
        except ConnectionClosed:
            pass
        finally:
            self._ws = None
            self._connected.clear()
            self._fail_pending()

    def _on_frame(self, frame: str | bytes) -> None:
        """Settle the send a frame answers; a malformed frame is logged and skipped."""
        try:
            self._dispatch(json.loads(frame))
        except (ValueError, AttributeError, KeyError, TypeError) as exc:
            log.warning("widget client: ignoring a malformed frame (%r)", exc)

    def _dispatch(self, data: dict[str, Any]) -> None:
        kind, message_id = data.get("type"), str(data.get("id") or "")
        if kind == "receipt" and (receipt := self._receipts.get(message_id)) is not None:
            if not receipt.done():
                receipt.set_result(int(data.get("sent", 0)))
        elif kind == "delivery" and (report := self._reports.get(message_id)) is not None:
            if not report.done():
                report.set_result(
                    DeliveryReport(message_id, int(data.get("sent", 0)), int(data.get("acked", 0)))
                )
        elif kind == "error":
            receipt = self._receipts.get(message_id) if message_id else None
            if receipt is not None and not receipt.done():
                receipt.set_exception(m.ProtocolError(str(data.get("message"))))
            else:
                log.warning("widget server: %s", data.get("message"))

    async def _send(self, message: m.Broadcastable, wait_ack_s: float) -> DeliveryReport | None:
        ws = self._ws
        if ws is None or len(self._receipts) >= MAX_PENDING:
            return None
        message_id = message.id or uuid.uuid4().hex[:16]
        loop = asyncio.get_running_loop()
        receipt: asyncio.Future[int] = loop.create_future()
        report: asyncio.Future[DeliveryReport] = loop.create_future()
        self._receipts[message_id] = receipt
        if wait_ack_s > 0:
            self._reports[message_id] = report
        try:
            await ws.send(out.frame({**m.wire(message), "id": message_id}))
            async with asyncio.timeout(REPLY_TIMEOUT_S):
                sent = await receipt
            if wait_ack_s > 0 and sent > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait_ack_s):
                        return await report
            return DeliveryReport(message_id, sent, 0)
        except (ConnectionClosed, TimeoutError, ConnectionError):
            return None
        finally:
            self._receipts.pop(message_id, None)
            self._reports.pop(message_id, None)
            if report.done() and not report.cancelled():
                report.exception()  # retrieved: no "never retrieved" warning

    def _fail_pending(self) -> None:
        futures: list[asyncio.Future[int] | asyncio.Future[DeliveryReport]] = [
            *self._receipts.values(),
            *self._reports.values(),
        ]
        for future in futures:
            if not future.done():
                future.set_exception(ConnectionError("the widget server went away"))

    def _on_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False


def _retrying(problem: str, delay: float) -> None:
    log.debug("widget client: %s; reconnecting in %.1f s", problem, delay)


def _answer_bound(wait_ack_s: float) -> float:
    """Longest a caller waits for a send: the receipt, the delivery report, a margin."""
    return REPLY_TIMEOUT_S + wait_ack_s + 1


def _reached(report: DeliveryReport | None) -> bool:
    return report is not None and report.sent > 0
