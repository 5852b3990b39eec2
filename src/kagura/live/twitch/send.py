"""A line in a Twitch channel's chat (`PRIVMSG`), sent as the account of `live.twitch.token`.

Sending has its own IRC connection, opened at the first line and kept: the reading
connection's life (reconnects, the watchdog) stays its own. The token needs the `chat:edit`
scope. Twitch answers a refused line later, with a NOTICE (too fast, a duplicate, slow mode,
a ban): those are counted and logged at a bounded rate; a refused login ends posting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from kagura.config import TwitchConfig
from kagura.live.chat_out import ChatOut, PostingRefused
from kagura.live.problems import ProblemLog
from kagura.live.replies import ChatReplies
from kagura.live.settings import ssl_context

from .commands import PLATFORM
from .irc import IrcError, lines, oauth, parse

log = logging.getLogger(__name__)

LOGIN_TIMEOUT_S = 10.0
OPEN_TIMEOUT_S = 10.0
MAX_FRAME_BYTES = 2**20


class TwitchPoster:
    def __init__(self, config: TwitchConfig, token: str, channel: str, label: str) -> None:
        self.config = config
        self.token = token
        self.channel = channel
        self._ssl = ssl_context(config.ca_file) if config.irc_url.startswith("wss:") else None
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._notices = ProblemLog(log, f"{label}: Twitch refused a line")

    async def __call__(self, line: str) -> None:
        if not self.token:
            raise PostingRefused(
                "reading anonymously: set live.twitch.login and live.twitch.token (a token "
                "with the chat:edit scope) to post replies"
            )
        ws = self._ws
        if ws is None or self._reader is None or self._reader.done():
            ws = await self._open()
        await ws.send(f"PRIVMSG #{self.channel} :{' '.join(line.split())}")

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._ws is not None:
            await self._ws.close()
        self._ws = self._reader = None

    async def _open(self) -> ClientConnection:
        await self.aclose()
        options: dict[str, Any] = {"ssl": self._ssl} if self._ssl else {}
        ws = await websockets.connect(
            self.config.irc_url,
            open_timeout=OPEN_TIMEOUT_S,
            ping_interval=None,  # IRC's own PING, answered by the reader
            max_size=MAX_FRAME_BYTES,
            **options,
        )
        nick = self.config.login.lower()
        await ws.send("CAP REQ :twitch.tv/tags twitch.tv/commands")
        await ws.send(f"PASS {oauth(self.token)}")  # never logged
        await ws.send(f"NICK {nick}")
        welcomed = asyncio.get_running_loop().create_future()
        self._ws, self._reader = ws, asyncio.create_task(self._read(ws, welcomed))
        try:
            async with asyncio.timeout(LOGIN_TIMEOUT_S):
                await welcomed
        except TimeoutError:
            await self.aclose()
            raise TimeoutError(f"no welcome from Twitch within {LOGIN_TIMEOUT_S:g} s") from None
        await ws.send(f"JOIN #{self.channel}")
        return ws

    async def _read(self, ws: ClientConnection, welcomed: asyncio.Future[None]) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for frame in ws:
                for raw in lines(str(frame)):
                    try:
                        line = parse(raw)
                    except IrcError:
                        continue
                    if line.command == "PING":
                        await ws.send(f"PONG :{line.params[-1] if line.params else 'tmi'}")
                    elif line.command == "001" and not welcomed.done():
                        welcomed.set_result(None)
                    elif line.command == "NOTICE":
                        refusal = line.text
                        if "authentication failed" in refusal.lower() and not welcomed.done():
                            welcomed.set_exception(
                                PostingRefused(
                                    f"Twitch refused the login of {self.config.login!r}: "
                                    f"{refusal}. Check live.twitch.token (chat:edit scope)"
                                )
                            )
                        else:
                            kind = line.tags.get("msg-id", "notice")
                            self._notices(f"{kind}: {refusal[:160]}")
        if not welcomed.done():
            welcomed.set_exception(ConnectionError("Twitch closed the connection"))


def chat_replies(config: TwitchConfig, token: str, proxy_url: str, stage_token: str) -> ChatReplies:
    """The session that posts the character's replies in the first channel's chat."""
    channel = config.channels[0]
    label = f"twitch replies to #{channel}"
    poster = TwitchPoster(config, token, channel, label)
    out = ChatOut(
        poster,
        label=label,
        max_chars=config.reply_max_chars,
        interval_s=config.reply_interval_s,
        max_pending=config.reply_max_pending,
        closing=poster.aclose,
    )
    return ChatReplies(PLATFORM, label, proxy_url, stage_token, out)
