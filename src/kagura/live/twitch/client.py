"""`kagura live twitch`: Twitch chat, IRC over a WebSocket, one connection for all channels.

A session connects (TLS), asks for the tags and commands capabilities, logs in — with an
OAuth token (`PASS oauth:…` and the account's `NICK`) or anonymously as `justinfan<digits>`,
which reads every public chat — waits for the welcome (`001`), then joins every channel in
one `JOIN`. A `NOTICE` instead of the welcome is a refused login: reconnecting cannot fix
that, so the process stops with a message naming the setting. Server `PING`s are answered;
the client also PINGs every `ping_s` so that a quiet chat still feeds the watchdog (Twitch
itself pings only every five minutes). `RECONNECT` (the server going down for maintenance)
ends the session; the runner connects again. What the handlers remember (who said what,
mystery gifts being counted off) outlives sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection

from kagura.config import TwitchConfig
from kagura.link import safe_url
from kagura.live.platform import Fatal, Link, LivePlatform, stop
from kagura.live.problems import ProblemLog
from kagura.live.settings import ssl_context

from .commands import PLATFORM, Chat, commands
from .irc import CAPABILITIES, IrcError, Line, lines, oauth, parse

log = logging.getLogger(__name__)

OPEN_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 2.0
LOGIN_TIMEOUT_S = 15.0  # for the welcome (001) after the login lines
MAX_FRAME_BYTES = 2**20
TOKEN_SETTING = "live.twitch.token (or the TWITCH_TOKEN environment variable)"


class Reconnect(Exception):
    """The server asked us to reconnect (`RECONNECT`)."""


class TwitchChat(LivePlatform):
    name = PLATFORM

    def __init__(self, config: TwitchConfig, token: str = "") -> None:
        self.config = config
        self.token = token
        self.channels = list(config.channels)
        self.label = "twitch " + ", ".join(f"#{channel}" for channel in self.channels)
        secure = urlsplit(config.irc_url).scheme == "wss"
        self._ssl = ssl_context(config.ca_file) if secure else None
        self.chat = Chat(shared_chat=config.shared_chat)
        self._problems = ProblemLog(log, f"{self.label}: skipped")
        self.notices = ProblemLog(log, f"{self.label}: server notices", logging.INFO)

    async def run(self, link: Link) -> None:
        nick = self.config.login.lower() if self.token else f"justinfan{secrets.randbelow(10**6)}"
        options: dict[str, Any] = {"ssl": self._ssl} if self._ssl else {}
        async with websockets.connect(
            self.config.irc_url,
            open_timeout=OPEN_TIMEOUT_S,
            close_timeout=CLOSE_TIMEOUT_S,
            ping_interval=None,  # IRC has its own PING
            max_size=MAX_FRAME_BYTES,
            **options,
        ) as ws:
            await ws.send(f"CAP REQ :{CAPABILITIES}")
            if self.token:
                await ws.send(f"PASS {oauth(self.token)}")  # never logged
            await ws.send(f"NICK {nick}")
            session = _Session(self, ws, link, nick)
            with contextlib.suppress(Reconnect):
                await session.serve()
                return
            log.info("%s: Twitch asked for a reconnect (RECONNECT)", self.label)

    @property
    def problems(self) -> int:
        return self._problems.count

    def problem(self, what: str) -> None:
        self._problems(what)


class _Session:
    def __init__(self, chat: TwitchChat, ws: ClientConnection, link: Link, nick: str) -> None:
        self.platform = chat
        self.ws = ws
        self.link = link
        self.nick = nick
        self.welcomed = False

    async def serve(self) -> None:
        """Read until the connection ends; raises `Fatal` on a refused login, `Reconnect`."""
        pinging: asyncio.Task[None] | None = None
        try:
            async with asyncio.timeout(LOGIN_TIMEOUT_S) as deadline:
                async for frame in self.ws:
                    self.link.alive()
                    if not isinstance(frame, str):
                        self.platform.problem(f"a binary frame of {len(frame)} bytes")
                        continue
                    for raw in lines(frame):
                        try:
                            line = parse(raw)
                        except IrcError as exc:
                            self.platform.problem(str(exc))
                            continue
                        await self.handle(line)
                    if self.welcomed and pinging is None:
                        deadline.reschedule(None)
                        pinging = asyncio.create_task(self._ping())
        except TimeoutError:
            where = safe_url(self.platform.config.irc_url)
            raise TimeoutError(f"no welcome from {where} within {LOGIN_TIMEOUT_S:g} s") from None
        finally:
            await stop(pinging)

    async def handle(self, line: Line) -> None:
        platform = self.platform
        match line.command:
            case "PING":
                await self.ws.send(f"PONG :{line.params[-1] if line.params else 'tmi.twitch.tv'}")
            case "PONG":
                pass  # the answer to our PING: life, already noted
            case "001":
                self.welcomed = True
                how = " (anonymous, read-only)" if not platform.token else ""
                self.link.connected(f"logged in as {self.nick}{how}")
                await self.ws.send("JOIN " + ",".join(f"#{c}" for c in platform.channels))
            case "CAP":
                if "NAK" in line.params:
                    log.warning(
                        "%s: Twitch refused the capabilities %s: names, ids and bits will be "
                        "missing",
                        platform.label,
                        line.text,
                    )
            case "NOTICE":
                self.notice(line)
            case "JOIN":
                if line.login == self.nick:
                    log.info("%s: joined #%s", platform.label, line.channel)
            case "RECONNECT":
                raise Reconnect
            case _:
                for item in commands.dispatch(platform.chat, line.command, line):
                    self.link.emit(item)

    def notice(self, line: Line) -> None:
        if not self.welcomed:
            raise Fatal(
                f"Twitch refused the login of {self.nick!r}: {line.text}. Check "
                f"{TOKEN_SETTING} — an OAuth token of the account live.twitch.login, with the "
                "chat:read scope — or remove the token and the login to read anonymously."
            )
        kind = line.tags.get("msg-id", "")
        where = f"#{line.channel}" if line.channel else "Twitch"
        if kind in ("msg_channel_suspended", "msg_banned", "msg_requires_verified_phone_number"):
            log.warning("%s: %s says: %s (%s)", self.platform.label, where, line.text, kind)
        else:
            self.platform.notices(f"{where} says: {line.text[:200]}")

    async def _ping(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await asyncio.sleep(self.platform.config.ping_s)
                await self.ws.send("PING :tmi.twitch.tv")
