"""`kagura live bilibili`: one room over Bilibili's web danmaku protocol.

Each session bootstraps over HTTP (the shared `BilibiliApi`: login, WBI, buvid, room id,
token and servers), connects to the next server of the list (rotating on every
reconnect) and hands every command to the web command handlers. The room's memory of
recent gifts outlives sessions, so a gift replayed after a reconnect is not passed on
twice.
"""

from __future__ import annotations

from kagura.config import BilibiliConfig
from kagura.live.platform import Link, LivePlatform
from kagura.live.settings import ssl_context

from . import commands
from .api import BilibiliApi
from .commands import PLATFORM, Room
from .connection import DanmakuConnection


class BilibiliRoom(LivePlatform):
    name = PLATFORM

    def __init__(self, room_id: int, api: BilibiliApi, config: BilibiliConfig) -> None:
        self.room_id = room_id
        self.label = f"bilibili room {room_id}"
        self.api = api
        self.config = config
        self._ssl = ssl_context(config.ca_file)
        self._room: Room | None = None
        self._sessions = 0

    async def run(self, link: Link) -> None:
        boot = await self.api.bootstrap(self.room_id)
        if self._room is None or self._room.room_id != boot.room_id:
            self._room = Room(boot.room_id, mirrored=self.config.mirrored_danmaku)
        room = self._room
        url = boot.urls[self._sessions % len(boot.urls)]
        self._sessions += 1
        connection = DanmakuConnection(
            url,
            boot.auth(),
            label=self.label,
            heartbeat_s=self.config.heartbeat_s,
            user_agent=self.config.user_agent,
            ssl_context=self._ssl,
        )
        await connection.serve(link, lambda command: commands.handle(room, command))
