"""Bilibili's HTTP bootstrap: who we are, which room, which danmaku servers, which token.

1. `nav` (web API): the logged-in uid when a `SESSDATA` cookie is set (else 0), and the
   WBI keys, refreshed every 12 hours and whenever a signed call answers -352;
2. `finger/spi` (web API): the `buvid3`/`buvid4` cookies a browser would carry (Bilibili
   refuses clients without them), sent on every later call and in the auth packet;
3. `Room/get_info` (live API): a short room id → the real one;
4. `getDanmuInfo` (live API, WBI-signed): the danmaku token and the server list. When it
   fails, the anonymous fallback server is used (names masked) with a warning.

Every call sends the same browser User-Agent as the WebSocket. Endpoints come from config
or flags (`--web-api`, `--live-api`), so a local fake can stand in for Bilibili.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

from kagura.config import BilibiliConfig
from kagura.live.platform import Fatal
from kagura.live.settings import ssl_context

from . import wbi

log = logging.getLogger(__name__)

NAV = "/x/web-interface/nav"
FINGER = "/x/frontend/finger/spi"
ROOM_INFO = "/room/v1/Room/get_info"
DANMU_INFO = "/xlive/web-room/v1/index/getDanmuInfo"
WBI_REFRESH_S = 12 * 3600
BAD_SIGNATURE = -352
NOT_LOGGED_IN = -101
NO_SUCH_ROOM = {1, 60004}  # get_info: "未找到该房间" / "直播间不存在"
REFERER = "https://live.bilibili.com/"


class ApiError(Exception):
    """A Bilibili call that failed (web, live or open platform API); the text names the
    endpoint and what came back, `code` is Bilibili's own when it answered one."""

    def __init__(self, endpoint: str, problem: str, code: int | None = None) -> None:
        super().__init__(f"{endpoint}: {problem}")
        self.code = code


def answer_data(response: httpx.Response, endpoint: str, whose: str) -> Any:
    """The `data` of a Bilibili answer (JSON, `code` 0); `ApiError` naming `endpoint` for an
    HTTP error, an answer that is not `whose` JSON, or any other code."""
    if response.status_code != 200:
        raise ApiError(endpoint, f"HTTP {response.status_code}")
    try:
        answer = response.json()
        code = int(answer["code"])
    except (ValueError, KeyError, TypeError):
        raise ApiError(endpoint, f"the answer is not {whose} JSON") from None
    if code != 0:
        message = str(answer.get("message", ""))[:100]
        raise ApiError(endpoint, f"code {code} ({message})", code)
    return answer.get("data")


@dataclass(frozen=True)
class Bootstrap:
    """Everything the auth packet and the connection need."""

    uid: int
    buvid: str
    room_id: int  # the real id
    token: str  # "" on the anonymous fallback
    urls: tuple[str, ...]

    def auth(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "uid": self.uid,
            "roomid": self.room_id,
            "protover": 3,
            "platform": "web",
            "type": 2,
            "buvid": self.buvid,
        }
        if self.token:
            body["key"] = self.token
        return body


class BilibiliApi:
    """One per process: the rooms share its cookies, login and WBI keys."""

    def __init__(self, config: BilibiliConfig) -> None:
        self.config = config
        self.web = config.web_api.rstrip("/")
        self.live = config.live_api.rstrip("/")
        cookies = {"SESSDATA": config.sessdata} if config.sessdata else None
        self.http = httpx.AsyncClient(
            verify=ssl_context(config.ca_file),
            timeout=config.http_timeout_s,
            headers={"User-Agent": config.user_agent, "Referer": REFERER},
            cookies=cookies,
        )
        self._uid: int | None = None
        self._wbi_key = ""
        self._wbi_at = 0.0
        self._buvid = ""
        self._real_ids: dict[int, int] = {}
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def bootstrap(self, room_id: int) -> Bootstrap:
        async with self._lock:  # several rooms starting at once make one nav / buvid call
            await self._ensure_session()
        real_id = await self._real_id(room_id)
        try:
            token, urls = await self._danmu_info(real_id)
        except (ApiError, httpx.HTTPError) as exc:
            log.warning(
                "room %d: getDanmuInfo failed (%s); using the anonymous fallback server "
                "(viewer names masked)",
                real_id,
                _describe(exc),
            )
            token, urls = "", (self.config.fallback_url,)
        return Bootstrap(self._uid or 0, self._buvid, real_id, token, urls)

    # -- the calls ---------------------------------------------------------------------

    async def _get(self, base: str, path: str, params: dict[str, Any] | None = None) -> Any:
        """`data` of a JSON answer with code 0; `ApiError` naming the endpoint otherwise."""
        endpoint = f"{base}{path}"
        try:
            response = await self.http.get(endpoint, params=params)
        except httpx.HTTPError as exc:
            raise ApiError(endpoint, f"cannot reach it ({_describe(exc)})") from None
        return answer_data(response, endpoint, "Bilibili's")

    async def _ensure_session(self) -> None:
        if self._uid is None or time.monotonic() - self._wbi_at > WBI_REFRESH_S:
            await self._nav()
        if not self._buvid:
            await self._fetch_buvid()

    async def _nav(self) -> None:
        """Login state and WBI keys. `nav` answers -101 when not logged in, and still
        carries the WBI keys then."""
        endpoint = f"{self.web}{NAV}"
        try:
            response = await self.http.get(endpoint)
            answer = response.json()
            data = answer.get("data") or {}
            images = data["wbi_img"]
            self._wbi_key = wbi.mixin_key(images["img_url"], images["sub_url"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ApiError(endpoint, f"no WBI keys in the answer ({_describe(exc)})") from None
        self._wbi_at = time.monotonic()
        logged_in = answer.get("code") == 0 and bool(data.get("isLogin"))
        uid = int(data.get("mid") or 0) if logged_in else 0
        if self._uid is None:
            if logged_in:
                log.info("logged in to Bilibili as uid %d", uid)
            elif self.config.sessdata:
                log.warning(
                    "live.bilibili.sessdata is set but Bilibili says it is not logged in "
                    "(expired? copy a fresh SESSDATA cookie); viewer names will be masked"
                )
        self._uid = uid

    async def _fetch_buvid(self) -> None:
        data = await self._get(self.web, FINGER)
        buvid3, buvid4 = str(data.get("b_3") or ""), str(data.get("b_4") or "")
        if not buvid3:
            raise ApiError(f"{self.web}{FINGER}", "no buvid3 in the answer")
        self.http.cookies.set("buvid3", buvid3)
        if buvid4:
            self.http.cookies.set("buvid4", buvid4)
        self._buvid = buvid3

    async def _real_id(self, room_id: int) -> int:
        if room_id not in self._real_ids:
            try:
                data = await self._get(self.live, ROOM_INFO, {"room_id": room_id})
            except ApiError as exc:
                if exc.code in NO_SUCH_ROOM:
                    raise Fatal(f"Bilibili room {room_id} does not exist ({exc})") from None
                raise
            self._real_ids[room_id] = int(data["room_id"])
        return self._real_ids[room_id]

    async def _danmu_info(self, real_id: int) -> tuple[str, tuple[str, ...]]:
        params = {"id": real_id, "type": 0}
        try:
            data = await self._get(self.live, DANMU_INFO, wbi.sign(params, self._wbi_key))
        except ApiError as exc:
            if exc.code != BAD_SIGNATURE:
                raise
            log.info("getDanmuInfo refused the WBI signature (-352); refreshing the keys")
            async with self._lock:
                await self._nav()
            data = await self._get(self.live, DANMU_INFO, wbi.sign(params, self._wbi_key))
        urls = tuple(
            f"wss://{host['host']}:{host.get('wss_port') or 443}/sub"
            for host in data.get("host_list") or ()
            if isinstance(host, dict) and host.get("host")
        )
        if not urls:
            raise ApiError(f"{self.live}{DANMU_INFO}", "an empty host_list")
        return str(data.get("token") or ""), urls


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]
