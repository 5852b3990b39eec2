"""Connections that end: deadlines and limits below the application, on the TCP transport.

The application closes a client politely (`kagura.sender`), but a polite close waits for a
peer to read it, and some peers never read: a browser tab frozen in the background, a
crashed overlay, a hostile script. Left alone, each holds a socket, its kernel buffers and
a task for as long as it likes, and a connection that sends its request one byte a second
is never even handed to the application. So, for every connection uvicorn accepts:

- the request's headers (a WebSocket upgrade's included) must arrive within
  `system.handshake_timeout_s`;
- a connection that takes no data at all for `system.stalled_send_timeout_s` while the
  server has some for it is aborted, whatever the application is doing;
- once the application is done with a WebSocket, the socket is aborted if it has not
  closed within the close timeout;
- at most `system.max_connections_per_address` connections are open from one address.

Uvicorn takes protocol classes for HTTP and WebSocket connections; these are its own,
with the deadlines added.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from kagura.logs import RateLimitedLog
from kagura.sender import CLOSE_TIMEOUT_S

log = logging.getLogger(__name__)
cuts = RateLimitedLog(log)
refusals = RateLimitedLog(log)


@dataclass(frozen=True)
class Limits:
    handshake_timeout_s: float = 10.0
    stalled_send_timeout_s: float = 20.0
    max_per_address: int = 64
    close_timeout_s: float = CLOSE_TIMEOUT_S


class AddressCounter:
    """Open connections per remote address; a transport is counted from its first protocol
    (HTTP) until it is lost, whichever protocol then owns it (WebSocket)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()
        self._address: dict[int, str] = {}

    def admit(self, transport: asyncio.BaseTransport) -> bool:
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        if self._open[address] >= self.limit:
            return False
        self._open[address] += 1
        self._address[id(transport)] = address
        return True

    def release(self, transport: asyncio.BaseTransport) -> None:
        address = self._address.pop(id(transport), None)
        if address is not None:
            self._open[address] -= 1
            if self._open[address] <= 0:
                del self._open[address]

    def __len__(self) -> int:
        return sum(self._open.values())


class _Deadline:
    """One timer that aborts a transport unless cancelled first."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._timer: asyncio.TimerHandle | None = None

    def start(self, seconds: float, transport: asyncio.Transport, why: str) -> None:
        if self._timer is None:
            self._timer = self._loop.call_later(seconds, self._abort, transport, why)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _abort(self, transport: asyncio.Transport, why: str) -> None:
        self._timer = None
        if not transport.is_closing() or transport.get_write_buffer_size():
            peer = transport.get_extra_info("peername")
            cuts.warning("cut the connection from %s: %s", peer[0] if peer else "?", why)
            transport.abort()


class _StalledSends:
    """Cuts a connection whose peer takes no data for `stalled_s` while some is waiting:
    the transport says so by pausing writes, and resuming cancels the cut."""

    transport: asyncio.Transport
    stalled_s: float
    _stall: _Deadline

    def pause_writing(self) -> None:
        super().pause_writing()  # type: ignore[misc]
        why = f"took no data for {self.stalled_s:g} s"
        self._stall.start(self.stalled_s, self.transport, why)

    def resume_writing(self) -> None:
        super().resume_writing()  # type: ignore[misc]
        self._stall.cancel()


def protocols(limits: Limits) -> tuple[type[Any], type[Any]]:
    """Uvicorn's HTTP and WebSocket protocol classes with `limits` enforced; pass them as
    `uvicorn.run(..., http=..., ws=...)`. Each call has its own address counter."""
    counter = AddressCounter(limits.max_per_address)

    class GuardedWebSocket(_StalledSends, WebSocketsSansIOProtocol):
        stalled_s = limits.stalled_send_timeout_s

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self._stall = _Deadline(self.loop)
            self._ending = _Deadline(self.loop)

        def connection_lost(self, exc: Exception | None) -> None:
            self._stall.cancel()
            self._ending.cancel()
            counter.release(self.transport)
            super().connection_lost(exc)

        def keepalive_timeout(self) -> None:
            super().keepalive_timeout()
            self._ending.start(limits.close_timeout_s, self.transport, "no pong, no close")

        async def run_asgi(self) -> None:
            try:
                await super().run_asgi()
            finally:  # the application is done with it: the socket must not outlive that
                self._ending.start(limits.close_timeout_s, self.transport, "close not taken")

    class GuardedHttp(_StalledSends, HttpToolsProtocol):
        stalled_s = limits.stalled_send_timeout_s

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._head = _Deadline(self.loop)
            self._stall = _Deadline(self.loop)
            if not counter.admit(transport):
                refusals.warning("refused a connection: %d open from its address", counter.limit)
                transport.abort()
                return
            self._expect_headers()

        def _expect_headers(self) -> None:
            why = f"no request headers within {limits.handshake_timeout_s:g} s"
            self._head.start(limits.handshake_timeout_s, self.transport, why)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._expect_headers()  # the next request on a kept-alive connection

        def on_headers_complete(self) -> None:
            self._head.cancel()
            super().on_headers_complete()

        def handle_websocket_upgrade(self) -> None:
            self._head.cancel()
            self._stall.cancel()
            super().handle_websocket_upgrade()  # the WebSocket protocol owns it from here

        def connection_lost(self, exc: Exception | None) -> None:
            self._head.cancel()
            self._stall.cancel()
            counter.release(self.transport)
            super().connection_lost(exc)

    return GuardedHttp, GuardedWebSocket
