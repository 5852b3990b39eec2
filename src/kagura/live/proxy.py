"""The platform client's side of `/proxy-ws`: send the outbox in order, stay connected.

The stage broadcasts every turn to every client, platform clients included, and closes a
client that stops reading; so the link reads everything and drops it, keeping only the
stage's `error` replies for the log. When the stage goes away the outbox keeps filling
(bounded) and the link reconnects with jittered backoff; a refusal of the token itself
(close codes 4400/4401/4403) cannot be cured by retrying and ends the process with a
message that says which token to use.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import websockets
from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection

from .backoff import Backoff
from .events import Item
from .outbox import Outbox
from .settings import RunnerSettings, safe_url, with_role

log = logging.getLogger(__name__)

REFUSED_CODES = {4400: "bad request", 4401: "wrong or missing token", 4403: "forbidden"}
# Turn audio is broadcast to platform clients too (base64 WAV, well under this).
MAX_INCOMING_BYTES = 32 * 2**20
ERROR_FRAME_MAX_CHARS = 4096  # longer frames are turn payloads, never an `error`
MAX_ERRORS_LOGGED = 20
OPEN_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 2.0
PING_S = 20.0
USER_AGENT = "kagura-live"


class ProxyRefused(Exception):
    """The stage refused this client's token or role: retrying cannot help."""


class ProxyLink:
    def __init__(self, settings: RunnerSettings, outbox: Outbox) -> None:
        self.settings = settings
        self.outbox = outbox
        self.url = with_role(settings.proxy_url)
        self.connected = False
        self.reconnects = 0
        self.sent = 0
        self.invalid = 0
        self.rejected = 0
        self._ws: ClientConnection | None = None

    async def run(self) -> None:
        """Connect, send, reconnect; returns never (cancel it), raises `ProxyRefused`."""
        settings = self.settings
        backoff = Backoff(settings.backoff_initial_s, settings.backoff_max_s)
        headers = {"Authorization": f"Bearer {settings.token}"} if settings.token else {}
        where = safe_url(settings.proxy_url)
        while True:
            problem = ""
            try:
                async with websockets.connect(
                    self.url,
                    additional_headers=headers,
                    user_agent_header=USER_AGENT,
                    max_size=MAX_INCOMING_BYTES,
                    open_timeout=OPEN_TIMEOUT_S,
                    close_timeout=CLOSE_TIMEOUT_S,
                    ping_interval=PING_S,
                    ping_timeout=PING_S,
                ) as ws:
                    self._ws, self.connected = ws, True
                    backoff.reset()
                    log.info(
                        "connected to the stage at %s (%d events waiting)", where, len(self.outbox)
                    )
                    problem = await self._serve(ws)
            except websockets.InvalidStatus as exc:
                problem = f"HTTP {exc.response.status_code}"
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                problem = _describe(exc)
            finally:
                self._ws, self.connected = None, False
            delay = backoff.next_delay()
            self.reconnects += 1
            log.warning(
                "stage at %s: %s; %d events buffered, reconnecting in %.1f s",
                where,
                problem,
                len(self.outbox),
                delay,
            )
            await asyncio.sleep(delay)

    async def _serve(self, ws: ClientConnection) -> str:
        """Send and read until the connection ends; returns why it ended."""
        sender = asyncio.create_task(self._send_all(ws))
        reader = asyncio.create_task(self._read_all(ws))
        try:
            await asyncio.wait([sender, reader], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sender, reader):
                task.cancel()
            await asyncio.wait([sender, reader])
        for task in (reader, sender):
            exc = task.exception() if not task.cancelled() else None
            if isinstance(exc, ProxyRefused):
                raise exc
        close = ws.protocol.close_rcvd
        if close is not None and close.code in REFUSED_CODES:
            raise ProxyRefused(
                f"the stage at {safe_url(self.settings.proxy_url)} refused this client "
                f"({close.code} {REFUSED_CODES[close.code]}: {close.reason}). Use the platform "
                "token that `kagura tokens` prints: --token, live.token or "
                "KAGURA_PLATFORM_TOKEN."
            )
        if close is not None:
            return f"closed ({close.code} {close.reason})".strip()
        return "connection lost"

    async def _send_all(self, ws: ClientConnection) -> None:
        while True:
            item = await self.outbox.get()
            frame = self._frame(item)
            if frame is None:
                continue
            try:
                await ws.send(frame)
            except BaseException:
                self.outbox.put_back(item)
                raise
            self.sent += 1

    def _frame(self, item: Item) -> str | None:
        try:
            return json.dumps(item.message(), ensure_ascii=False)
        except ValidationError as exc:  # a platform module's bug: skip the event, say so
            self.invalid += 1
            log.warning("skipped an event the stage would refuse: %s", exc.errors()[:1])
            return None

    async def _read_all(self, ws: ClientConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for frame in ws:
                if isinstance(frame, str) and len(frame) <= ERROR_FRAME_MAX_CHARS:
                    self._note_error(frame)

    def _note_error(self, frame: str) -> None:
        try:
            message = json.loads(frame)
        except ValueError:
            return
        if isinstance(message, dict) and message.get("type") == "error":
            self.rejected += 1
            if self.rejected <= MAX_ERRORS_LOGGED:
                log.warning("the stage answered: %s", str(message.get("message"))[:200])

    async def flush(self, timeout_s: float) -> None:
        """At shutdown: give the outbox up to `timeout_s` to drain, then close."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while len(self.outbox) and self.connected:
                    await asyncio.sleep(0.02)
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), CLOSE_TIMEOUT_S)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:200]
