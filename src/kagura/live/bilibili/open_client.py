"""`kagura live bilibili-open`: the streamer's room through the official open platform.

The app session ("game") outlives WebSocket sessions: it is started once, kept alive by
its own heartbeat task, and started anew only when Bilibili ends it (a heartbeat answered
7003, or `LIVE_OPEN_PLATFORM_INTERACTION_END`). `close` always calls `end`, which the
runner does at every exit, SIGTERM included, so the streamer can start again at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from kagura.config import BilibiliOpenConfig
from kagura.live.events import Item, LiveEvent, withdrawals
from kagura.live.platform import CommandTable, Fatal, Link, LivePlatform, Recent
from kagura.live.settings import ssl_context

from .api import ApiError
from .commands import CNY, EMOTICON, GOLD_PER_CNY, PLATFORM
from .connection import DanmakuConnection
from .open_api import GAME_GONE, Game, OpenApi

log = logging.getLogger(__name__)

PREFIX = "LIVE_OPEN_PLATFORM_"
GUARD_NAMES = {1: "总督", 2: "提督", 3: "舰长"}  # governor, admiral, captain


class GameOver(Exception):
    """Bilibili ended the app session: start a new one."""


@dataclass
class OpenRoom:
    room_id: int
    game_id: str
    recent: Recent = field(default_factory=Recent)
    ended: asyncio.Event = field(default_factory=asyncio.Event)


commands: CommandTable[OpenRoom, dict[str, Any]] = CommandTable("bilibili-open")
commands.ignore(f"{PREFIX}DM_MIRROR")


def handle(room: OpenRoom, command: Any) -> list[Item]:
    if not isinstance(command, dict):
        return []
    data = command.get("data")
    if not isinstance(data, dict):
        return []
    msg_id = str(data.get("msg_id") or "")
    if msg_id and room.recent.seen(msg_id):
        return []  # delivered again after a reconnect
    return commands.dispatch(room, str(command.get("cmd", "")), data)


def _event(room: OpenRoom, kind: Any, data: dict[str, Any], **fields: Any) -> LiveEvent:
    user = data.get("user_info")
    if not isinstance(user, dict):
        user = data
    return LiveEvent(
        platform=PLATFORM,
        kind=kind,
        user_name=str(user.get("uname") or ""),
        user_id=str(user.get("open_id") or "") or None,
        room=room.room_id,
        ts=data.get("timestamp"),
        **fields,
    )


@commands.on(f"{PREFIX}DM")
def _danmaku(room: OpenRoom, data: dict[str, Any]) -> Iterator[Item]:
    text = str(data["msg"])
    if text.strip():
        if data.get("dm_type") == EMOTICON:
            text = f"(emoticon: {text})"
        yield _event(room, "danmaku", data, text=text, id=f"open:{data['msg_id']}")


@commands.on(f"{PREFIX}SEND_GIFT")
def _gift(room: OpenRoom, data: dict[str, Any]) -> Iterator[Item]:
    num = int(data["gift_num"])
    name = str(data["gift_name"])
    paid = bool(data["paid"])
    value = int(data.get("r_price") or data.get("price") or 0) * num / GOLD_PER_CNY
    yield _event(
        room,
        "gift",
        data,
        label=f"{name} x{num}" if num > 1 else name,
        amount=value if paid else None,
        currency=CNY if paid else None,
        free=not paid,
        id=f"open:{data['msg_id']}",
    )


@commands.on(f"{PREFIX}SUPER_CHAT")
def _super_chat(room: OpenRoom, data: dict[str, Any]) -> Iterator[Item]:
    yield _event(
        room,
        "superchat",
        data,
        text=str(data["message"]),
        amount=float(data["rmb"]),
        currency=CNY,
        id=f"sc:{data['message_id']}",
    )


@commands.on(f"{PREFIX}SUPER_CHAT_DEL")
def _super_chat_deleted(room: OpenRoom, data: dict[str, Any]) -> Iterator[Item]:
    yield from withdrawals(PLATFORM, [f"sc:{value}" for value in data["message_ids"]])


@commands.on(f"{PREFIX}GUARD")
def _guard(room: OpenRoom, data: dict[str, Any]) -> Iterator[Item]:
    level = int(data["guard_level"])
    num, unit = int(data.get("guard_num") or 1), str(data.get("guard_unit") or "")
    name = GUARD_NAMES.get(level, "guard")
    yield _event(
        room,
        "guard",
        data,
        label=f"{name} x{num}{unit}" if num > 1 else name,
        amount=int(data["price"]) / GOLD_PER_CNY,
        currency=CNY,
        id=f"open:{data['msg_id']}",
    )


@commands.on(f"{PREFIX}LIKE")
def _like(room: OpenRoom, data: dict[str, Any]) -> Iterator[Item]:
    yield _event(room, "like", data, text=str(data.get("like_text") or ""))


@commands.on(f"{PREFIX}LIVE_ROOM_ENTER")
def _enter(room: OpenRoom, data: dict[str, Any]) -> Iterator[Item]:
    yield _event(room, "enter", data)


@commands.on(f"{PREFIX}LIVE_START")
def _live_start(room: OpenRoom, data: dict[str, Any]) -> Iterator[Item]:
    log.info("room %d is live: %s", room.room_id, str(data.get("title", ""))[:80])
    return iter(())


@commands.on(f"{PREFIX}LIVE_END")
def _live_end(room: OpenRoom, data: dict[str, Any]) -> Iterator[Item]:
    log.info("room %d stopped streaming", room.room_id)
    return iter(())


@commands.on("LIVE_OPEN_PLATFORM_INTERACTION_END")
def _interaction_end(room: OpenRoom, data: dict[str, Any]) -> Iterator[Item]:
    if str(data.get("game_id")) == room.game_id:
        room.ended.set()
    return iter(())


class BilibiliOpen(LivePlatform):
    name = PLATFORM

    def __init__(self, config: BilibiliOpenConfig, api: OpenApi) -> None:
        self.config = config
        self.api = api
        self.label = "bilibili open platform"
        self._ssl = ssl_context(config.ca_file)
        self._room: OpenRoom | None = None
        self._game: Game | None = None
        self._beating: asyncio.Task[None] | None = None
        self._sessions = 0

    async def run(self, link: Link) -> None:
        if self._game is None or self._room is None or self._room.ended.is_set():
            await self._start()
        assert self._game is not None and self._room is not None
        game, room = self._game, self._room
        connection = DanmakuConnection(
            game.urls[self._sessions % len(game.urls)],
            game.auth_body,
            label=self.label,
            heartbeat_s=self.config.heartbeat_s,
            user_agent="kagura-live",
            ssl_context=self._ssl,
        )
        self._sessions += 1
        serving = asyncio.create_task(connection.serve(link, lambda c: handle(room, c)))
        ended = asyncio.create_task(room.ended.wait())
        try:
            await asyncio.wait([serving, ended], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (serving, ended):
                task.cancel()
            await asyncio.wait([serving, ended])
        if room.ended.is_set():
            raise GameOver("Bilibili ended the open-platform session; starting a new one")
        serving.result()  # the connection's own ending or failure

    async def _start(self) -> None:
        await self._stop_heartbeats()
        game = await self.api.start()
        self._game = game
        self._room = OpenRoom(game.room_id, game.game_id)
        self._beating = asyncio.create_task(self._heartbeats(self._room))
        log.info(
            "open platform session %s started in room %d (%s)",
            game.game_id,
            game.room_id,
            game.anchor,
        )

    async def _heartbeats(self, room: OpenRoom) -> None:
        while not room.ended.is_set():
            await asyncio.sleep(self.config.game_heartbeat_s)
            try:
                await self.api.heartbeat(room.game_id)
            except ApiError as exc:
                if exc.code in GAME_GONE:
                    log.warning("open platform: the session expired (%s); starting a new one", exc)
                    room.ended.set()
                else:
                    log.warning("open platform heartbeat failed: %s", exc)
            except httpx.HTTPError as exc:
                log.warning("open platform heartbeat failed: %s", type(exc).__name__)

    async def _stop_heartbeats(self) -> None:
        if self._beating is not None:
            self._beating.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._beating
            self._beating = None

    async def close(self) -> None:
        """End the app session (always, at every exit) so the room is free at once."""
        await self._stop_heartbeats()
        game, self._game = self._game, None
        if game is not None:
            try:
                await self.api.end(game.game_id)
                log.info("open platform session %s ended", game.game_id)
            except (ApiError, Fatal, httpx.HTTPError) as exc:
                log.warning("open platform: ending session %s failed: %s", game.game_id, exc)
