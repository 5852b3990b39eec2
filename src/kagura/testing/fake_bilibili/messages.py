"""Commands shaped like the ones Bilibili's servers send (web and open platform).

Field layouts follow the protocol notes and captured messages: positional `info` arrays for
danmaku, the JSON and protobuf gift forms, super chats and their deletion, guards,
interactions, likes and notices. Each builder takes only what a test varies.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from .wire import b64, pb_bytes, pb_int

Command = dict[str, Any]


def danmaku(
    text: str,
    uid: int,
    uname: str,
    *,
    ts_ms: int = 1_732_200_000_000,
    rnd: int = 1_732_199_000,
    id_str: str = "",
    emoticon: bool = False,
    mirror: bool = False,
) -> Command:
    extra = {"send_from_me": False, "mode": 0, "dm_type": int(emoticon), "content": text}
    if id_str:
        extra["id_str"] = id_str
    meta = [
        0, 1, 25, 16777215, ts_ms, rnd, 0, f"{zlib.crc32(str(uid).encode()):08x}", 0, 0, 0,
        "", int(emoticon), "{}", "{}",
        {"mode": 0, "extra": json.dumps(extra, ensure_ascii=False),
         "user": {"uid": uid, "base": {"name": uname, "face": ""}}},
        {"activity_identity": "", "activity_source": 0, "not_show": 0}, 0,
    ]  # fmt: skip
    info = [
        meta, text, [uid, uname, 0, 0, 0, 10000, 1, ""], [], [12, 0, 6406234, ">50000", 0],
        ["", ""], 0, 0, None, {"ts": ts_ms // 1000, "ct": "3C5A1F2B"}, 0, 0, None, None, 0,
        105, [0], None,
    ]  # fmt: skip
    name = "DANMU_MSG_MIRROR" if mirror else "DANMU_MSG:4:0:2:2:2:0"
    return {"cmd": name, "info": info, "dm_v2": ""}


def gift(
    uid: int,
    uname: str,
    name: str,
    num: int,
    *,
    price: int,
    coin_type: str = "gold",
    tid: str,
    gift_id: int = 31036,
    ts: int = 1_732_200_000,
) -> Command:
    data = {
        "giftName": name, "num": num, "uname": uname, "face": "", "guard_level": 0,
        "uid": uid, "timestamp": ts, "giftId": gift_id, "giftType": 0,
        "gift_info": {"img_basic": ""}, "action": "投喂", "price": price, "rnd": tid,
        "coin_type": coin_type, "total_coin": price * num, "tid": tid,
        "medal_info": {"medal_level": 0, "medal_name": "", "anchor_roomid": 0, "target_id": 0},
        "blind_gift": None,
    }  # fmt: skip
    return {"cmd": "SEND_GIFT", "data": data}


def gift_v2(
    uid: int,
    uname: str,
    gifts: list[dict[str, Any]],
) -> Command:
    """`SEND_GIFT_V2`: `gifts` are dicts of name, num, price, coin_type, tid (and gift_id,
    ts). Unknown fields (face, medal info, gift type, picture) are included, as the real
    messages carry them."""
    items = b""
    for item in gifts:
        body = (
            pb_int(1, item.get("gift_id", 31036))
            + pb_bytes(2, item["name"])
            + pb_int(3, item["num"])
            + pb_int(4, 0)
            + pb_int(5, item["price"])
            + pb_int(7, item["price"] * item["num"])
            + pb_bytes(8, item.get("coin_type", "gold"))
            + pb_bytes(9, item["tid"])
            + pb_int(10, item.get("ts", 1_732_200_000))
            + pb_bytes(12, item["tid"])
            + pb_bytes(18, "投喂")
            + pb_bytes(35, pb_bytes(1, "https://i0.hdslb.com/gift.png"))
        )
        items += pb_bytes(10, body)
    medal = pb_int(1, 0) + pb_int(5, 3) + pb_bytes(6, "粉丝")
    message = pb_int(1, uid) + pb_bytes(2, uname) + pb_bytes(3, "") + pb_int(5, 0)
    message += pb_bytes(8, medal) + items
    return {"cmd": "SEND_GIFT_V2", "data": {"pb": b64(message)}}


def super_chat(
    sc_id: int, uid: int, uname: str, price: int, message: str, *, start: int = 1_732_200_000
) -> Command:
    data = {
        "id": sc_id, "uid": uid, "price": price, "rate": 1000, "message": message,
        "message_trans": "", "start_time": start, "end_time": start + 60, "time": 60,
        "gift": {"gift_id": 12000, "gift_name": "醒目留言", "num": 1},
        "user_info": {"uname": uname, "face": "", "guard_level": 0, "user_level": 20},
        "background_bottom_color": "#2A60B2", "background_color": "#EDF5FF",
        "background_icon": "", "background_image": "", "background_price_color": "#7497CD",
    }  # fmt: skip
    return {"cmd": "SUPER_CHAT_MESSAGE", "data": data, "roomid": 0}


def super_chat_jpn(sc_id: int, uid: int, uname: str, price: int, message: str) -> Command:
    command = super_chat(sc_id, uid, uname, price, message)
    command["cmd"] = "SUPER_CHAT_MESSAGE_JPN"
    command["data"]["message_jpn"] = message
    return command


def super_chat_delete(*ids: int) -> Command:
    return {"cmd": "SUPER_CHAT_MESSAGE_DELETE", "data": {"ids": list(ids)}, "roomid": 0}


def guard_buy(
    uid: int, uname: str, level: int, *, num: int = 1, price: int = 198_000, start: int = 1
) -> Command:
    names = {1: "总督", 2: "提督", 3: "舰长"}
    data = {
        "uid": uid, "username": uname, "guard_level": level, "num": num, "price": price,
        "gift_id": 10000 + level, "gift_name": names[level], "start_time": start,
        "end_time": start,
    }  # fmt: skip
    return {"cmd": "GUARD_BUY", "data": data}


def user_toast_v2(uid: int, uname: str, level: int) -> Command:
    """The richer twin of `GUARD_BUY`, sent for the same purchase."""
    data = {
        "sender_uinfo": {"uid": uid, "base": {"name": uname}},
        "guard_info": {"guard_level": level},
        "pay_info": {"price": 198_000, "num": 1},
    }
    return {"cmd": "USER_TOAST_MSG_V2", "data": data}


def interact_word(uid: int, uname: str, msg_type: int, *, ts: int = 1_732_200_000) -> Command:
    data = {"uid": uid, "uname": uname, "msg_type": msg_type, "timestamp": ts, "roomid": 0}
    return {"cmd": "INTERACT_WORD", "data": data}


def interact_word_v2(uid: int, uname: str, msg_type: int, *, ts: int = 1_732_200_000) -> Command:
    uinfo = pb_bytes(2, pb_bytes(2, "https://i0.hdslb.com/face.jpg"))
    message = pb_int(1, uid) + pb_bytes(2, uname) + pb_int(5, msg_type) + pb_int(7, ts)
    message += pb_bytes(22, uinfo)
    return {"cmd": "INTERACT_WORD_V2", "data": {"dmscore": 12, "pb": b64(message)}}


def like(uid: int, uname: str) -> Command:
    data = {"uid": uid, "uname": uname, "like_text": "为主播点赞了", "like_icon": ""}
    return {"cmd": "LIKE_INFO_V3_CLICK", "data": data}


def log_in_notice() -> Command:
    data = {
        "notice_msg": "为保护用户隐私，未登录无法查看他人昵称",
        "image_web": "",
        "image_app": "",
    }
    return {"cmd": "LOG_IN_NOTICE", "data": data}


def watched_change(num: int) -> Command:
    return {"cmd": "WATCHED_CHANGE", "data": {"num": num, "text_small": str(num)}}


def live(room: int, live_time: int = 1_700_000_000) -> Command:
    """The room went live (Bilibili sends it once with `live_time`, often again without)."""
    return {
        "cmd": "LIVE",
        "live_key": "613001234567890",
        "live_platform": "pc",
        "live_model": 0,
        "roomid": room,
        "live_time": live_time,
    }


def preparing(room: int) -> Command:
    """The room stopped streaming (its id as a string, as Bilibili sends it)."""
    return {"cmd": "PREPARING", "roomid": str(room)}


# -- the open platform --------------------------------------------------------------------


def _open_user(open_id: str, uname: str) -> dict[str, Any]:
    return {"open_id": open_id, "union_id": f"U_{open_id}", "uname": uname, "uface": ""}


def open_danmaku(msg_id: str, open_id: str, uname: str, text: str, room_id: int) -> Command:
    data = {
        **_open_user(open_id, uname), "timestamp": 1_732_200_000, "room_id": room_id,
        "msg": text, "msg_id": msg_id, "guard_level": 0, "fans_medal_wearing_status": False,
        "fans_medal_name": "", "fans_medal_level": 0, "emoji_img_url": "", "dm_type": 0,
        "glory_level": 0, "reply_open_id": "", "reply_uname": "", "is_admin": 0,
    }  # fmt: skip
    return {"cmd": "LIVE_OPEN_PLATFORM_DM", "data": data}


def open_gift(
    msg_id: str, open_id: str, uname: str, name: str, num: int, price: int, paid: bool, room: int
) -> Command:
    data = {
        **_open_user(open_id, uname), "room_id": room, "gift_id": 31036, "gift_name": name,
        "gift_num": num, "price": price, "r_price": price, "paid": paid,
        "fans_medal_level": 0, "fans_medal_name": "", "fans_medal_wearing_status": False,
        "guard_level": 0, "timestamp": 1_732_200_000, "msg_id": msg_id, "gift_icon": "",
        "anchor_info": {"uid": 1, "open_id": "anchor", "union_id": "", "uname": "主播",
                        "uface": ""},
    }  # fmt: skip
    return {"cmd": "LIVE_OPEN_PLATFORM_SEND_GIFT", "data": data}


def open_super_chat(
    msg_id: str, message_id: int, open_id: str, uname: str, rmb: int, text: str, room: int
) -> Command:
    data = {
        **_open_user(open_id, uname), "room_id": room, "message_id": message_id,
        "message": text, "rmb": rmb, "timestamp": 1_732_200_000, "start_time": 1_732_200_000,
        "end_time": 1_732_200_060, "guard_level": 0, "fans_medal_level": 0,
        "fans_medal_name": "", "fans_medal_wearing_status": False, "msg_id": msg_id,
    }  # fmt: skip
    return {"cmd": "LIVE_OPEN_PLATFORM_SUPER_CHAT", "data": data}


def open_super_chat_delete(msg_id: str, room: int, *message_ids: int) -> Command:
    data = {"room_id": room, "message_ids": list(message_ids), "msg_id": msg_id}
    return {"cmd": "LIVE_OPEN_PLATFORM_SUPER_CHAT_DEL", "data": data}


def open_guard(msg_id: str, open_id: str, uname: str, level: int, price: int, room: int) -> Command:
    data = {
        "user_info": _open_user(open_id, uname), "guard_level": level, "guard_num": 1,
        "guard_unit": "月", "price": price, "fans_medal_level": 0, "fans_medal_name": "",
        "fans_medal_wearing_status": False, "room_id": room, "msg_id": msg_id,
        "timestamp": 1_732_200_000,
    }  # fmt: skip
    return {"cmd": "LIVE_OPEN_PLATFORM_GUARD", "data": data}


def open_like(msg_id: str, open_id: str, uname: str, room: int) -> Command:
    data = {
        **_open_user(open_id, uname), "timestamp": 1_732_200_000, "room_id": room,
        "like_text": "为主播点赞了", "like_count": 3, "fans_medal_wearing_status": False,
        "fans_medal_name": "", "fans_medal_level": 0, "msg_id": msg_id,
    }  # fmt: skip
    return {"cmd": "LIVE_OPEN_PLATFORM_LIKE", "data": data}


def open_enter(msg_id: str, open_id: str, uname: str, room: int) -> Command:
    data = {**_open_user(open_id, uname), "room_id": room, "timestamp": 1_732_200_000,
            "msg_id": msg_id}  # fmt: skip
    return {"cmd": "LIVE_OPEN_PLATFORM_LIVE_ROOM_ENTER", "data": data}


def open_interaction_end(game_id: str) -> Command:
    return {"cmd": "LIVE_OPEN_PLATFORM_INTERACTION_END", "data": {"game_id": game_id,
            "timestamp": 1_732_200_000}}  # fmt: skip
