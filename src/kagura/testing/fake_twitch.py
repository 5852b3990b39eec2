"""A local stand-in for Twitch chat: IRC over a WebSocket, over TLS with a test certificate.

    with FakeTwitch(tmp_path, tokens={"s3cret": "kagura_bot"}) as twitch:
        # kagura live twitch --channel foo --irc-url {twitch.url} --ca-file {twitch.ca_file}
        twitch.send("foo", privmsg("foo", "alice", "hello"), privmsg("foo", "bob", "hi"))

It speaks the protocol as Twitch does: `CAP REQ` is acknowledged, `PASS oauth:<token>` +
`NICK` must name the token's account (else `NOTICE * :Login authentication failed` and the
connection is closed), `justinfan<digits>` logs in anonymously, the welcome is several
lines in one frame, `JOIN #a,#b` joins each channel (JOIN, ROOMSTATE and NAMES lines),
`PING` is answered with `PONG`. Tests push lines (several per frame), ping the client, ask
it to reconnect, or cut it off. The lines are written here, tags escaped by this module's
own code, so a mistake in the client's parser shows up as a failing test.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets
from websockets.asyncio.server import ServerConnection

from kagura.testing.tls import TlsFake
from kagura.testing.ws_server import WebSocketServer, broadcast

ANONYMOUS = re.compile(r"^justinfan\d+$")
RECONNECT_GRACE_S = 2.0  # the real server closes a while after RECONNECT
_ESCAPES = {";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"}


def escape(value: str) -> str:
    return "".join(_ESCAPES.get(char, char) for char in value)


def room_id(channel: str) -> str:
    """A stable numeric id for a channel, as Twitch's `room-id` tag carries."""
    return str(zlib.crc32(channel.encode()) % 10**9)


def tagged(tags: dict[str, Any], rest: str) -> str:
    block = ";".join(f"{key}={escape(str(value))}" for key, value in tags.items())
    return f"@{block} {rest}"


def _user_tags(login: str, display_name: str | None, user_id: str | None) -> dict[str, Any]:
    return {
        "badge-info": "",
        "badges": "",
        "color": "#1E90FF",
        "display-name": display_name if display_name is not None else login.capitalize(),
        "emotes": "",
        "mod": 0,
        "subscriber": 0,
        "turbo": 0,
        "user-id": user_id or room_id(f"user:{login}"),
        "user-type": "",
    }


def privmsg(
    channel: str,
    login: str,
    text: str,
    *,
    display_name: str | None = None,
    user_id: str | None = None,
    msg_id: str | None = None,
    bits: int | None = None,
    ts_ms: int = 1_732_200_000_000,
    **extra: Any,
) -> str:
    tags = _user_tags(login, display_name, user_id)
    if bits is not None:
        tags["bits"] = bits
    tags |= {"first-msg": 0, "flags": "", "id": msg_id or str(uuid.uuid4())}
    tags |= {"room-id": room_id(channel), "tmi-sent-ts": ts_ms, **extra}
    return tagged(tags, f":{login}!{login}@{login}.tmi.twitch.tv PRIVMSG #{channel} :{text}")


def usernotice(
    channel: str,
    login: str,
    kind: str,
    *,
    display_name: str | None = None,
    text: str | None = None,
    msg_id: str | None = None,
    system_msg: str = "",
    **params: Any,
) -> str:
    """`params` become `msg-param-<name>` tags (underscores as dashes)."""
    tags = _user_tags(login, display_name, None)
    tags |= {"id": msg_id or str(uuid.uuid4()), "login": login, "msg-id": kind}
    tags |= {f"msg-param-{name.replace('_', '-')}": value for name, value in params.items()}
    tags |= {"room-id": room_id(channel), "system-msg": system_msg, "tmi-sent-ts": 1}
    trailing = f" :{text}" if text is not None else ""
    return tagged(tags, f":tmi.twitch.tv USERNOTICE #{channel}{trailing}")


def clearmsg(channel: str, login: str, target: str, text: str) -> str:
    tags = {"login": login, "room-id": "", "target-msg-id": target, "tmi-sent-ts": 1}
    return tagged(tags, f":tmi.twitch.tv CLEARMSG #{channel} :{text}")


def clearchat(channel: str, login: str | None = None, duration_s: int | None = None) -> str:
    """A ban (or a timeout of `duration_s`) of `login`, or the whole chat cleared."""
    tags: dict[str, Any] = {"room-id": room_id(channel), "tmi-sent-ts": 1}
    if duration_s is not None:
        tags = {"ban-duration": duration_s, **tags}
    if login is None:
        return tagged(tags, f":tmi.twitch.tv CLEARCHAT #{channel}")
    tags["target-user-id"] = room_id(f"user:{login}")
    return tagged(tags, f":tmi.twitch.tv CLEARCHAT #{channel} :{login}")


@dataclass(eq=False)
class _Client:
    ws: ServerConnection
    number: int = 0  # the how-manieth connection this is (1 for the first)
    nick: str = ""
    password: str = ""
    channels: set[str] = field(default_factory=set)
    last_said: float = 0.0


class FakeTwitch(TlsFake):
    loop_name = "fake-twitch"

    def __init__(self, workdir: Path, *, tokens: dict[str, str] | None = None) -> None:
        super().__init__(workdir)
        self.tokens = tokens or {}  # valid OAuth tokens → their account's login
        self.connects = 0
        self.capabilities: list[str] = []
        self.logins: list[tuple[str, bool]] = []  # (nick, whether a PASS came first)
        self.passwords: list[str] = []
        self.joins: list[str] = []
        self.refused = 0
        self.client_pings = 0
        self.pongs: list[str] = []
        self.answer_pings = True
        self.said: list[tuple[str, str, str]] = []  # PRIVMSG from clients: (nick, channel, text)
        self.say_interval_s = 1.0  # a second line sooner gets NOTICE msg_ratelimit
        self._clients: set[_Client] = set()
        self._server = WebSocketServer(
            self._serve, ssl=self.certificates.server_context(), ping_interval=None
        )

    @property
    def url(self) -> str:
        return f"wss://127.0.0.1:{self._server.port}"

    # -- lifecycle -------------------------------------------------------------------------

    async def _start(self) -> None:
        await self._server.start()

    async def _stop(self) -> None:
        await self._server.stop()

    # -- driving it ------------------------------------------------------------------------

    def joined(self, channel: str, connection: int = 1) -> int:
        """Clients in `channel` right now, on their `connection`-th connection or later."""
        return int(
            self.read(
                lambda: sum(channel in c.channels and c.number >= connection for c in self._clients)
            )
        )

    def send(self, channel: str, *lines: str) -> int:
        """One frame holding `lines` to every client in `channel`; returns how many got it."""
        return int(self._loop().run(self._send(lambda c: channel in c.channels, lines)))

    def send_all(self, *lines: str) -> int:
        """One frame holding `lines` to every logged-in client."""
        return int(self._loop().run(self._send(lambda c: bool(c.nick), lines)))

    async def _send(self, wanted: Any, lines: tuple[str, ...]) -> int:
        frame = "\r\n".join(lines) + "\r\n"
        return await broadcast([c.ws for c in self._clients if wanted(c)], frame)

    def ping(self) -> int:
        return self.send_all("PING :tmi.twitch.tv")

    def reconnect(self) -> int:
        """`RECONNECT` to everyone; whoever was told and is still connected after a grace is
        cut off (a connection made since, the reconnect itself, is left alone)."""
        told: list[_Client] = self.read(lambda: list(self._clients))
        sent = self.send_all(":tmi.twitch.tv RECONNECT")

        async def close_late() -> None:
            await asyncio.sleep(RECONNECT_GRACE_S)
            for client in told:
                await client.ws.close(1001, "server restarting")

        self._loop().loop.call_soon_threadsafe(lambda: asyncio.ensure_future(close_late()))
        return sent

    # -- the server ------------------------------------------------------------------------

    async def _serve(self, ws: ServerConnection) -> None:
        self.connects += 1
        client = _Client(ws, number=self.connects)
        self._clients.add(client)
        try:
            async for frame in ws:
                for line in str(frame).split("\r\n"):
                    if line:
                        await self._receive(client, line)
        except websockets.ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)

    async def _receive(self, client: _Client, line: str) -> None:
        command, _, rest = line.partition(" ")
        ws = client.ws
        match command.upper():
            case "CAP":
                self.capabilities.append(rest)
                await ws.send(f":tmi.twitch.tv CAP * ACK :{rest.partition(':')[2]}\r\n")
            case "PASS":
                client.password = rest.strip()
                self.passwords.append(client.password)
            case "NICK":
                await self._login(client, rest.strip())
            case "JOIN":
                await self._join(client, rest)
            case "PING":
                self.client_pings += 1
                if self.answer_pings:
                    await ws.send(f":tmi.twitch.tv PONG tmi.twitch.tv {rest}\r\n")
            case "PONG":
                self.pongs.append(rest)
            case "PRIVMSG":
                await self._said(client, rest)

    async def _login(self, client: _Client, nick: str) -> None:
        self.logins.append((nick, bool(client.password)))
        token = client.password.removeprefix("oauth:")
        if client.password and (
            not client.password.startswith("oauth:") or self.tokens.get(token) != nick
        ):
            self.refused += 1
            await client.ws.send(":tmi.twitch.tv NOTICE * :Login authentication failed\r\n")
            await client.ws.close()
            return
        if not client.password and not ANONYMOUS.match(nick):
            self.refused += 1
            await client.ws.send(":tmi.twitch.tv NOTICE * :Improperly formatted auth\r\n")
            await client.ws.close()
            return
        client.nick = nick
        welcome = [
            f":tmi.twitch.tv 001 {nick} :Welcome, GLHF!",
            f":tmi.twitch.tv 002 {nick} :Your host is tmi.twitch.tv",
            f":tmi.twitch.tv 003 {nick} :This server is rather new",
            f":tmi.twitch.tv 004 {nick} :-",
            f":tmi.twitch.tv 375 {nick} :-",
            f":tmi.twitch.tv 372 {nick} :You are in a maze of twisty passages, all alike.",
            f":tmi.twitch.tv 376 {nick} :>",
        ]
        await client.ws.send("\r\n".join(welcome) + "\r\n")

    async def _said(self, client: _Client, rest: str) -> None:
        """A client's chat line: kept from a logged-in account at an allowed pace; Twitch
        ignores anonymous senders and refuses fast ones with a NOTICE."""
        target, _, text = rest.partition(" :")
        channel = target.strip().lstrip("#").lower()
        if not client.nick or ANONYMOUS.match(client.nick):
            return
        now = time.monotonic()
        if now - client.last_said < self.say_interval_s:
            notice = "Your message was not sent because you are sending messages too quickly."
            await client.ws.send(
                f"@msg-id=msg_ratelimit :tmi.twitch.tv NOTICE #{channel} :{notice}\r\n"
            )
            return
        client.last_said = now
        self.said.append((client.nick, channel, text))

    async def _join(self, client: _Client, rest: str) -> None:
        nick = client.nick
        for name in rest.strip().split(","):
            channel = name.strip().lstrip("#").lower()
            self.joins.append(channel)
            client.channels.add(channel)
            state = {"emote-only": 0, "followers-only": -1, "r9k": 0, "room-id": room_id(channel)}
            state |= {"slow": 0, "subs-only": 0}
            lines = [
                f":{nick}!{nick}@{nick}.tmi.twitch.tv JOIN #{channel}",
                tagged(state, f":tmi.twitch.tv ROOMSTATE #{channel}"),
                f":{nick}.tmi.twitch.tv 353 {nick} = #{channel} :{nick}",
                f":{nick}.tmi.twitch.tv 366 {nick} #{channel} :End of /NAMES list",
            ]
            await client.ws.send("\r\n".join(lines) + "\r\n")
