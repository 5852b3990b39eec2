"""The platform client's side of `/proxy-ws`: send the outbox in order, stay connected.

The stage sends a platform client only its greeting, errors and acknowledgements (never the
show), so the link accepts small frames (`kagura.link.LIVE`) and reads every frame to log
the stage's `error` replies (bounded). When the stage goes away the outbox keeps filling
(bounded) and the link reconnects with `kagura.link`'s policy; a refusal of the token
itself (close 4400/4401/4403) cannot be cured by retrying and ends the process with a
message that says which token to use.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from kagura.backoff import Backoff
from kagura.link import CLOSE_TIMEOUT_S, LIVE, Refusal, connect, keep_connected, safe_url

from .events import Item
from .outbox import Outbox
from .problems import ProblemLog
from .settings import RunnerSettings, with_role

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 200


class ProxyRefused(Exception):
    """The stage refused this client's token or role: retrying cannot help."""


class ProxyLink:
    def __init__(self, settings: RunnerSettings, outbox: Outbox) -> None:
        self.settings = settings
        self.outbox = outbox
        self.where = safe_url(settings.proxy_url)
        self.connected = False
        self.reconnects = 0
        self.sent = 0
        self._invalid = ProblemLog(log, "skipped events the stage would refuse")
        self._rejected = ProblemLog(log, "the stage answered")
        self._ws: ClientConnection | None = None

    async def run(self) -> None:
        """Connect, send, reconnect; returns never (cancel it), raises `ProxyRefused`."""
        settings = self.settings
        opening = functools.partial(
            connect, with_role(settings.proxy_url), token=settings.token, client=LIVE
        )
        backoff = Backoff(settings.backoff_initial_s, settings.backoff_max_s)
        try:
            await keep_connected(opening, self._serve, backoff, self._retrying)
        except Refusal as refusal:
            raise ProxyRefused(
                f"the stage at {self.where} refused this client: {refusal.explained()}. Use "
                "the platform token that `kagura tokens` prints: --token, live.token or "
                "KAGURA_PLATFORM_TOKEN."
            ) from None

    def _retrying(self, problem: str, delay: float) -> None:
        self.reconnects += 1
        log.warning(
            "stage at %s: %s; %d events buffered, reconnecting in %.1f s",
            self.where,
            problem,
            len(self.outbox),
            delay,
        )

    async def _serve(self, ws: ClientConnection) -> None:
        """Send and read until the connection ends."""
        self._ws, self.connected = ws, True
        log.info("connected to the stage at %s (%d events waiting)", self.where, len(self.outbox))
        sender = asyncio.create_task(self._send_all(ws))
        reader = asyncio.create_task(self._read_all(ws))
        try:
            await asyncio.wait([sender, reader], return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._ws, self.connected = None, False
            for task in (sender, reader):
                task.cancel()
            await asyncio.wait([sender, reader])
        for task in (sender, reader):  # a lost connection is said by `why_it_ended`
            exc = None if task.cancelled() else task.exception()
            if exc is not None and not isinstance(exc, ConnectionClosed):
                raise exc

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
            self._invalid(str(exc.errors()[:1]))
            return None

    async def _read_all(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for frame in ws:
                if isinstance(frame, str):
                    self._note_error(frame)

    def _note_error(self, frame: str) -> None:
        try:
            message = json.loads(frame)
        except ValueError:
            return
        if isinstance(message, dict) and message.get("type") == "error":
            self._rejected(str(message.get("message"))[:MAX_ERROR_CHARS])

    @property
    def invalid(self) -> int:
        return self._invalid.count

    @property
    def rejected(self) -> int:
        return self._rejected.count

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
