"""The fake Bilibili HTTP API a web danmaku client bootstraps from.

`nav` (login state by `SESSDATA`, WBI keys either way), `finger/spi` (buvid cookies), the
home page (which sets a `buvid3` cookie, as www.bilibili.com does for browsers),
`Room/get_info` (short → real room id) and `getDanmuInfo`, which checks the WBI signature
and the `buvid3` cookie like the real one: a wrong or missing signature, stale keys or no
buvid get code -352. The signature check uses the client's mixin function, whose result
the unit tests pin to Bilibili's published example.

Any endpoint can be made to refuse as Bilibili's risk control does (`WebApiState.refuse`):
HTTP 412 with a -412 body, code -352, an answer that never comes, or garbage.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from kagura.live.bilibili.wbi import mixin_key

WTS_TOLERANCE_S = 300
HOME = "/"
NAV = "/x/web-interface/nav"
FINGER = "/x/frontend/finger/spi"
ROOM_INFO = "/room/v1/Room/get_info"
DANMU_INFO = "/xlive/web-room/v1/index/getDanmuInfo"
SEND = "/msg/send"
MAX_DANMAKU_CHARS = 20  # an ordinary account's limit
HANG_S = 30.0  # a "timeout" refusal: longer than any client waits
# How an endpoint refuses: Bilibili's risk control (HTTP 412, -412 in the body), a refused
# signature or buvid (-352), silence, or a body that is not JSON.
REFUSALS = ("412", "-352", "timeout", "garbage")


@dataclass
class WebApiState:
    rooms: dict[int, int]  # any id a viewer may type → the real id
    sessdata_uids: dict[str, int]  # valid SESSDATA cookies → their uid
    img_key: str = "7cd084941338484aae1ad9425b84077c"
    sub_key: str = "4932caff0ff746eab6f01bf08b70ac45"
    tokens: set[str] = field(default_factory=set)  # danmaku tokens handed out
    buvids: set[str] = field(default_factory=set)
    danmu_info_fails: bool = False  # answer getDanmuInfo with an error (fallback test)
    refuse: dict[str, str] = field(default_factory=dict)  # endpoint path → one of REFUSALS
    bili_jcts: dict[str, str] = field(default_factory=dict)  # SESSDATA → its CSRF cookie
    sent: list[tuple[int, str]] = field(default_factory=list)  # danmaku posted: (room, text)
    send_interval_s: float = 1.0  # a second line sooner than this gets 10030
    too_fast: int = 0  # answer the next this many lines with 10030 whatever their pace
    last_sent_at: float = 0.0
    unsigned_danmu_info: bool = False  # getDanmuInfo also answers without a WBI signature
    calls: dict[str, int] = field(default_factory=dict)
    refused_signatures: int = 0
    user_agents: set[str] = field(default_factory=set)

    def rotate_wbi(self) -> None:
        """New WBI keys, as Bilibili rotates them: signatures with the old ones get -352."""
        self.img_key, self.sub_key = secrets.token_hex(16), secrets.token_hex(16)


def _answer(data: Any = None, code: int = 0, message: str = "0") -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "ttl": 1, "data": data})


async def _refusal(request: Request, how: str) -> Response:
    if how == "412":
        return JSONResponse({"code": -412, "message": "请求被拦截", "ttl": 1}, status_code=412)
    if how == "-352":
        return _answer(None, -352, "-352")
    if how == "timeout":  # until the client gives up (the fake's stop is not held up)
        deadline = time.monotonic() + HANG_S
        while time.monotonic() < deadline and not await request.is_disconnected():
            await asyncio.sleep(0.05)
        return _answer(None, -500, "too late")
    return PlainTextResponse("<html>risk control</html>", media_type="text/html")


def routes(state: WebApiState, danmaku_port: Callable[[], int]) -> list[Route]:
    def count(request: Request) -> None:
        state.calls[request.url.path] = state.calls.get(request.url.path, 0) + 1
        state.user_agents.add(request.headers.get("user-agent", ""))

    def refused(endpoint: Callable[[Request], Any]) -> Callable[[Request], Any]:
        """The endpoint, unless the test made it refuse."""

        async def answer(request: Request) -> Response:
            how = state.refuse.get(request.url.path)
            if how is not None:
                count(request)
                return await _refusal(request, how)
            response: Response = await endpoint(request)
            return response

        return answer

    async def nav(request: Request) -> JSONResponse:
        count(request)
        images = {
            "img_url": f"https://i0.hdslb.com/bfs/wbi/{state.img_key}.png",
            "sub_url": f"https://i0.hdslb.com/bfs/wbi/{state.sub_key}.png",
        }
        uid = state.sessdata_uids.get(request.cookies.get("SESSDATA", ""))
        if uid is None:
            return _answer({"isLogin": False, "wbi_img": images}, -101, "账号未登录")
        return _answer({"isLogin": True, "mid": uid, "uname": "tester", "wbi_img": images})

    async def finger(request: Request) -> JSONResponse:
        count(request)
        buvid3 = f"{secrets.token_hex(16).upper()}infoc"
        state.buvids.add(buvid3)
        return _answer({"b_3": buvid3, "b_4": f"{secrets.token_hex(16).upper()}-buvid4"})

    async def home(request: Request) -> Response:
        count(request)
        buvid3 = f"{secrets.token_hex(16).upper()}infoc"
        state.buvids.add(buvid3)
        response = PlainTextResponse("<html>bilibili</html>", media_type="text/html")
        response.set_cookie("buvid3", buvid3, max_age=86400 * 365, path="/")
        return response

    async def send(request: Request) -> JSONResponse:
        """`msg/send`: a logged-in account's danmaku, checked as Bilibili checks it."""
        count(request)
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode()).items()}
        sessdata = request.cookies.get("SESSDATA", "")
        if sessdata not in state.sessdata_uids:
            return _answer(None, -101, "账号未登录")
        csrf = str(form.get("csrf", ""))
        if csrf != state.bili_jcts.get(sessdata) or csrf != request.cookies.get("bili_jct"):
            return _answer(None, -111, "csrf 校验失败")
        text, room = str(form.get("msg", "")), int(str(form.get("roomid", "0")) or 0)
        if room not in state.rooms.values():
            return _answer(None, -400, "room not found")
        if not text or len(text) > MAX_DANMAKU_CHARS:
            return _answer(None, 1003212, "超出限制长度")
        now = time.monotonic()
        if state.too_fast > 0 or now - state.last_sent_at < state.send_interval_s:
            state.too_fast = max(0, state.too_fast - 1)
            return _answer(None, 10030, "您发送弹幕的频率过快")
        state.last_sent_at = now
        state.sent.append((room, text))
        return JSONResponse({"code": 0, "data": [], "message": "", "msg": ""})

    async def room_info(request: Request) -> JSONResponse:
        count(request)
        real = state.rooms.get(int(request.query_params.get("room_id", "0") or 0))
        if real is None:
            return _answer(None, 1, "未找到该房间")
        return _answer({"room_id": real, "short_id": 0, "uid": 777, "live_status": 1})

    async def danmu_info(request: Request) -> JSONResponse:
        count(request)
        params = dict(request.query_params)
        unsigned = state.unsigned_danmu_info and "w_rid" not in params
        key = mixin_key(f"/{state.img_key}.png", f"/{state.sub_key}.png")
        if not unsigned and not _signed(params, key):
            state.refused_signatures += 1
            return _answer(None, -352, "-352")
        if request.cookies.get("buvid3") not in state.buvids:
            return _answer(None, -352, "-352")
        if state.danmu_info_fails or int(params.get("id", 0)) not in state.rooms.values():
            return _answer(None, -400, "invalid room")
        token = secrets.token_urlsafe(24)
        state.tokens.add(token)
        port = danmaku_port()
        hosts = [{"host": "127.0.0.1", "port": 2243, "wss_port": port, "ws_port": 2244}]
        return _answer({"group": "live", "refresh_rate": 100, "max_delay": 5000,
                        "token": token, "host_list": hosts})  # fmt: skip

    return [
        Route(HOME, refused(home)),
        Route(NAV, refused(nav)),
        Route(FINGER, refused(finger)),
        Route(ROOM_INFO, refused(room_info)),
        Route(DANMU_INFO, refused(danmu_info)),
        Route(SEND, refused(send), methods=["POST"]),
    ]


def _signed(params: dict[str, str], key: str) -> bool:
    w_rid = params.pop("w_rid", "")
    try:
        fresh = abs(time.time() - int(params.get("wts", "0"))) < WTS_TOLERANCE_S
    except ValueError:
        return False
    ordered = {name: params[name] for name in sorted(params)}
    expected = hashlib.md5((urlencode(ordered, quote_via=quote) + key).encode()).hexdigest()
    return fresh and secrets.compare_digest(w_rid, expected)
