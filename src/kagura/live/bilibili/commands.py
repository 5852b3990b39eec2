"""Bilibili web commands (`{"cmd": ...}`) → stage events, one handler per command.

Amounts are in CNY: gift prices come in gold coins (1000 = ¥1), super chats in yuan.
Silver gifts are free and marked so. A gift may arrive twice, as `SEND_GIFT` (JSON) and
as `SEND_GIFT_V2` (protobuf), and so may an interaction (`INTERACT_WORD` / `_V2`): each is
passed on once, keyed by its transaction id. `USER_TOAST_MSG(_V2)` repeats `GUARD_BUY`
and `SUPER_CHAT_MESSAGE_JPN` translates `SUPER_CHAT_MESSAGE`; both are ignored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kagura.live.events import Item, LiveEvent, withdrawals
from kagura.live.platform import CommandTable, Recent

from . import proto

log = logging.getLogger(__name__)

PLATFORM = "bilibili"
CNY = "CNY"
GOLD_PER_CNY = 1000
EMOTICON = 1  # dm_type of a sticker danmaku
ENTER, FOLLOW = 1, 2  # INTERACT_WORD msg_type (3, a share, is not passed on)

Command = dict[str, Any]


@dataclass
class Room:
    """What the handlers of one room's connection share."""

    room_id: int
    mirrored: bool = False  # pass on DANMU_MSG_MIRROR
    recent: Recent = field(default_factory=Recent)
    masked_warned: bool = False


commands: CommandTable[Room, Command] = CommandTable(PLATFORM)
commands.ignore(
    "SUPER_CHAT_MESSAGE_JPN",
    "USER_TOAST_MSG",
    "USER_TOAST_MSG_V2",
    "WATCHED_CHANGE",
    "ONLINE_RANK_COUNT",
    "ONLINE_RANK_V2",
    "ONLINE_RANK_V3",
    "STOP_LIVE_ROOM_LIST",
    "LIKE_INFO_V3_UPDATE",
)


def handle(room: Room, command: Any) -> list[Item]:
    """The events of one command; `cmd` suffixes (`DANMU_MSG:4:0:2:2:2:0`) are dropped."""
    if not isinstance(command, dict):
        return []
    name = str(command.get("cmd", "")).partition(":")[0]
    return commands.dispatch(room, name, command)


def _event(room: Room, kind: Any, uid: Any, uname: Any, **fields: Any) -> LiveEvent:
    return LiveEvent(
        platform=PLATFORM,
        kind=kind,
        user_name=str(uname or ""),
        user_id=int(uid) if uid else None,
        room=room.room_id,
        **fields,
    )


@commands.on("DANMU_MSG")
def _danmaku(room: Room, command: Command) -> Iterator[Item]:
    info = command["info"]
    meta, text, user = info[0], str(info[1]), info[2]
    if not text.strip():
        return
    if len(meta) > 12 and meta[12] == EMOTICON:
        text = f"(emoticon: {text})"
    uid, uname = user[0], user[1]
    yield _event(
        room, "danmaku", uid, uname, text=text, id=_danmaku_id(meta, uid), ts=meta[4] / 1000
    )


@commands.on("DANMU_MSG_MIRROR")
def _mirrored(room: Room, command: Command) -> Iterator[Item]:
    if room.mirrored:
        yield from _danmaku(room, command)


def _danmaku_id(meta: list[Any], uid: Any) -> str:
    """`extra.id_str` when the server sends it, else sender, time and random number."""
    if len(meta) > 15 and isinstance(meta[15], dict):
        extra = meta[15].get("extra")
        try:
            id_str = (json.loads(extra) if isinstance(extra, str) else extra or {}).get("id_str")
        except (ValueError, AttributeError):
            id_str = None
        if id_str:
            return f"dm:{id_str}"
    return f"dm:{uid}:{meta[4]}:{meta[5]}"


@commands.on("SEND_GIFT")
def _gift(room: Room, command: Command) -> Iterator[Item]:
    data = command["data"]
    yield from _gift_event(
        room,
        uid=data["uid"],
        uname=data["uname"],
        name=data["giftName"],
        num=data["num"],
        coin_type=data["coin_type"],
        total_coin=data["total_coin"],
        tid=str(data.get("tid") or ""),
        ts=data.get("timestamp"),
        gift_id=data.get("giftId"),
    )


@commands.on("SEND_GIFT_V2")
def _gift_v2(room: Room, command: Command) -> Iterator[Item]:
    message = proto.decode("SendGiftV2", command["data"]["pb"])
    for gift in message.gift_list:
        yield from _gift_event(
            room,
            uid=message.uid,
            uname=message.uname,
            name=gift.gift_name,
            num=gift.num,
            coin_type=gift.coin_type,
            total_coin=gift.total_coin,
            tid=gift.tid,
            ts=gift.timestamp,
            gift_id=gift.gift_id,
        )


def _gift_event(
    room: Room,
    *,
    uid: Any,
    uname: Any,
    name: Any,
    num: Any,
    coin_type: Any,
    total_coin: Any,
    tid: str,
    ts: Any,
    gift_id: Any,
) -> Iterator[Item]:
    key = tid or f"{uid}:{ts}:{gift_id}:{num}"
    if room.recent.seen(("gift", key)):
        return  # the same gift in its other form
    free = coin_type != "gold"
    count = int(num)
    yield _event(
        room,
        "gift",
        uid,
        uname,
        label=f"{name} x{count}" if count > 1 else str(name),
        amount=None if free else int(total_coin) / GOLD_PER_CNY,
        currency=None if free else CNY,
        free=free,
        id=f"gift:{key}",
        ts=float(ts) if ts else None,
    )


@commands.on("SUPER_CHAT_MESSAGE")
def _super_chat(room: Room, command: Command) -> Iterator[Item]:
    data = command["data"]
    yield _event(
        room,
        "superchat",
        data["uid"],
        data["user_info"]["uname"],
        text=str(data["message"]),
        amount=float(data["price"]),
        currency=CNY,
        id=f"sc:{data['id']}",
        ts=data.get("start_time"),
    )


@commands.on("SUPER_CHAT_MESSAGE_DELETE")
def _super_chat_deleted(room: Room, command: Command) -> Iterator[Item]:
    ids = command["data"]["ids"]
    yield from withdrawals(PLATFORM, [f"sc:{value}" for value in ids])


@commands.on("GUARD_BUY")
def _guard(room: Room, command: Command) -> Iterator[Item]:
    data = command["data"]
    num = int(data.get("num") or 1)
    name = str(data["gift_name"])
    yield _event(
        room,
        "guard",
        data["uid"],
        data["username"],
        label=f"{name} x{num}" if num > 1 else name,
        amount=int(data["price"]) * num / GOLD_PER_CNY,
        currency=CNY,
        id=f"guard:{data['uid']}:{data.get('start_time')}:{data['guard_level']}",
        ts=data.get("start_time"),
    )


@commands.on("INTERACT_WORD")
def _interact(room: Room, command: Command) -> Iterator[Item]:
    data = command["data"]
    yield from _interaction(
        room, data["uid"], data["uname"], data["msg_type"], data.get("timestamp")
    )


@commands.on("INTERACT_WORD_V2")
def _interact_v2(room: Room, command: Command) -> Iterator[Item]:
    message = proto.decode("InteractWordV2", command["data"]["pb"])
    yield from _interaction(room, message.uid, message.uname, message.msg_type, message.timestamp)


def _interaction(room: Room, uid: Any, uname: Any, msg_type: Any, ts: Any) -> Iterator[Item]:
    kind = {ENTER: "enter", FOLLOW: "follow"}.get(int(msg_type))
    key = f"{uid}:{msg_type}:{ts}"
    if kind is None or room.recent.seen(("interact", key)):
        return
    yield _event(room, kind, uid, uname, id=f"{kind}:{key}", ts=float(ts) if ts else None)


@commands.on("LIKE_INFO_V3_CLICK")
def _like(room: Room, command: Command) -> Iterator[Item]:
    data = command["data"]
    yield _event(room, "like", data["uid"], data["uname"], text=str(data.get("like_text", "")))


@commands.on("LOG_IN_NOTICE")
def _masked(room: Room, command: Command) -> Iterator[Item]:
    if not room.masked_warned:
        room.masked_warned = True
        log.warning(
            "room %d: Bilibili hides viewer names on this connection (LOG_IN_NOTICE: it is "
            "not logged in). Log in with `kagura live bilibili login` (a QR code), or set "
            "live.bilibili.sessdata to the SESSDATA cookie of any Bilibili account, to see "
            "names. Carrying on.",
            room.room_id,
        )
    return iter(())


@commands.on("LIVE", "PREPARING")
def _live(room: Room, command: Command) -> Iterator[Item]:
    """The room went live, or stopped: the stage opens or closes the show (Bilibili may
    send `LIVE` twice; the stage opens a show once)."""
    live = str(command.get("cmd")).startswith("LIVE")
    log.info("room %d %s", room.room_id, "is live" if live else "stopped streaming")
    yield LiveEvent(platform=PLATFORM, kind="live_start" if live else "live_end", room=room.room_id)
