"""A local stand-in for Bilibili: the HTTP APIs (web, live, open platform, passport) and
the danmaku WebSocket server, over TLS with a test certificate.

    with FakeBilibili(tmp_path, rooms={7: 21452505}) as fake:
        # kagura live bilibili --room 7 --web-api {fake.api_url} --live-api {fake.api_url}
        #                      --ca-file {fake.ca_file}
        fake.push(messages.danmaku("hello", 42, "Alice"), compression="brotli")

The client under test never knows: every endpoint it uses comes from its flags, and the
danmaku server's address from `getDanmuInfo` (or the open platform's `start`), as it
would from Bilibili. The fake runs on its own loop in a background thread.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from kagura.testing.https import HttpsServer
from kagura.testing.tls import TlsFake

from . import messages, wire
from .danmaku import DanmakuServer
from .open_api import OpenApiState
from .open_api import routes as open_routes
from .passport import PassportState
from .passport import routes as passport_routes
from .web_api import WebApiState
from .web_api import routes as web_routes

__all__ = ["FakeBilibili", "messages", "wire"]

SESSDATA = "fake-sessdata-cookie"
BILI_JCT = "fake-bili-jct-csrf"
UID = 4242
OPEN_KEY_ID = "fake-access-key-id"
OPEN_SECRET = "fake-access-key-secret"
OPEN_APP_ID = 1650000000
IDENTITY_CODE = "FAKEIDCODE"


class FakeBilibili(TlsFake):
    loop_name = "fake-bilibili"

    def __init__(
        self,
        workdir: Path,
        *,
        rooms: dict[int, int] | None = None,
        open_room: int = 21452505,
    ) -> None:
        super().__init__(workdir)
        self.workdir = workdir
        self.web = WebApiState(
            rooms=rooms or {21452505: 21452505},
            sessdata_uids={SESSDATA: UID},
            bili_jcts={SESSDATA: BILI_JCT},
        )
        self.passport = PassportState(self.web, UID)
        self.open = OpenApiState(OPEN_KEY_ID, OPEN_SECRET, OPEN_APP_ID, IDENTITY_CODE, open_room)
        self.danmaku = DanmakuServer(self._check_auth, self.certificates.server_context())
        self._http: HttpsServer | None = None

    # -- what a client is given ------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """Base URL of every HTTP API (web, live and open platform share the server)."""
        assert self._http is not None, "the fake is not running"
        return self._http.url

    # -- lifecycle -------------------------------------------------------------------------

    async def _start(self) -> None:
        await self.danmaku.start()
        self.open.danmaku_url = self.danmaku.url
        app = Starlette(
            routes=[
                *web_routes(self.web, lambda: self.danmaku.port),
                *open_routes(self.open),
                *passport_routes(self.passport),
            ]
        )
        self._http = HttpsServer(app, self.certificates)
        await self._http.start()

    async def _stop(self) -> None:
        await self.danmaku.stop()
        if self._http is not None:
            await self._http.stop()

    # -- driving it ------------------------------------------------------------------------

    def push(
        self, *commands: dict[str, Any], compression: str | None = None, room: int | None = None
    ) -> int:
        """One frame holding `commands` (several packets back to back, or one compressed
        batch of them) to every connected client (of real room id `room`, if given);
        returns how many got it."""
        packets = [wire.command(command) for command in commands]
        frame = wire.batch(packets, compression) if compression else b"".join(packets)
        return self.send_frame(frame, room)

    def send_frame(self, frame: bytes | str, room: int | None = None) -> int:
        return int(self._loop().run(self.danmaku.send(frame, room)))

    def cut(self, *commands: dict[str, Any], compression: str = "brotli") -> int:
        """Cut every client off halfway through a frame holding `commands`."""
        frame = wire.batch([wire.command(command) for command in commands], compression)
        return self._loop().run(self.danmaku.cut(frame))

    def connected(self) -> int:
        return int(self.read(lambda: self.danmaku.authenticated))

    def _check_auth(self, body: str) -> int:
        if self.open.check_auth(body) == 0:
            return 0
        try:
            auth = json.loads(body)
        except ValueError:
            return -101
        if not isinstance(auth, dict):
            return -101
        if auth.get("roomid") not in self.web.rooms.values():
            return -101
        # No key: an anonymous connection, which the real server accepts (names masked).
        return 0 if "key" not in auth or auth["key"] in self.web.tokens else -101
