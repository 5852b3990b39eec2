"""A line in a Bilibili room's chat, sent as the logged-in account (`msg/send`).

It needs the account's `SESSDATA` and `bili_jct` cookies (the second is the CSRF token the
form repeats). Bilibili answers 10030 / 10031 when lines come too often (sent again later),
-101 when the cookies are not a login, -111 when the CSRF token is wrong, and 1003 when
the account may not speak in the room: those end posting, with what to do.
"""

from __future__ import annotations

import time

from kagura.config import BilibiliConfig
from kagura.live.chat_out import ChatOut, PostingRefused, TooFast
from kagura.live.replies import ChatReplies

from .api import ApiError, BilibiliApi, answer_data
from .commands import PLATFORM

SEND = "/msg/send"
WHITE = 16_777_215
TOO_FAST = {10030, 10031}  # "您发送弹幕的频率过快" / the same line again too soon
REFUSALS = {
    -101: "Bilibili says the account is not logged in: log in again (kagura live bilibili "
    "login) or set a fresh live.bilibili.sessdata",
    -111: "Bilibili refused the CSRF token: live.bilibili.bili_jct must be the same login's "
    "bili_jct cookie",
    1003: "the account may not send danmaku in this room (muted or banned?)",
}


class BilibiliPoster:
    """Sends lines to one room through the shared API client (its cookies, its agent)."""

    def __init__(self, api: BilibiliApi, room_id: int) -> None:
        self.api = api
        self.room_id = room_id

    async def __call__(self, line: str) -> None:
        csrf = self.api.http.cookies.get("bili_jct") or ""
        if not csrf:
            raise PostingRefused(
                "no bili_jct cookie: set live.bilibili.bili_jct (a secret, like sessdata) or "
                "log in with a QR code"
            )
        real_id = await self.api.real_id(self.room_id)
        endpoint = f"{self.api.live}{SEND}"
        form = {
            "bubble": "0",
            "msg": line,
            "color": str(WHITE),
            "mode": "1",
            "room_type": "0",
            "jumpfrom": "0",
            "fontsize": "25",
            "rnd": str(int(time.time())),
            "roomid": str(real_id),
            "csrf": csrf,
            "csrf_token": csrf,
        }
        try:
            response = await self.api.http.post(endpoint, data=form)
            answer_data(response, endpoint, "Bilibili's")
        except ApiError as exc:
            if exc.code in TOO_FAST:
                raise TooFast(str(exc)) from None
            if exc.code in REFUSALS:
                raise PostingRefused(f"{REFUSALS[exc.code]} ({exc})") from None
            raise


def chat_replies(
    api: BilibiliApi, config: BilibiliConfig, proxy_url: str, token: str
) -> ChatReplies:
    """The session that posts the character's replies in the first room's chat."""
    room_id = config.room_ids[0]
    label = f"bilibili replies to room {room_id}"
    out = ChatOut(
        BilibiliPoster(api, room_id),
        label=label,
        max_chars=config.reply_max_chars,
        interval_s=config.reply_interval_s,
        max_pending=config.reply_max_pending,
    )
    return ChatReplies(PLATFORM, label, proxy_url, token, out)
