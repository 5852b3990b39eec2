"""Bilibili's HTTP bootstrap: who we are, which room, which danmaku servers, which token.

1. `nav` (web API): the logged-in uid when a `SESSDATA` cookie is set (else 0), and the
   WBI keys, refreshed every 12 hours and whenever a signed call answers -352;
2. `finger/spi` (web API): the `buvid3`/`buvid4` cookies a browser would carry, sent on
   every later call and in the auth packet;
3. `Room/get_info` (live API): a short room id → the real one;
4. `getDanmuInfo` (live API, WBI-signed): the danmaku token and the server list.

Only reading the danmaku matters; every step before it is a side service that Bilibili's
risk control may refuse (HTTP 412, -352) or that may be down. Each degrades instead of
blocking, with one warning when it starts failing (and a line when it works again): no
`nav` → anonymous (names masked) and unsigned; no buvid from `finger/spi` → the home
page's `buvid3` cookie, else none; no real room id → the id as given; `getDanmuInfo`
refusing the signature even with fresh keys → asked unsigned, then the anonymous fallback
server. A failed side service is asked again at a later bootstrap, not at every one.

Every call sends the same browser User-Agent as the WebSocket. Endpoints come from config
or flags (`--web-api`, `--live-api`, `--home-url`), so a local fake can stand in.
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

from . import login_file, wbi

log = logging.getLogger(__name__)

NAV = "/x/web-interface/nav"
FINGER = "/x/frontend/finger/spi"
ROOM_INFO = "/room/v1/Room/get_info"
DANMU_INFO = "/xlive/web-room/v1/index/getDanmuInfo"
WBI_REFRESH_S = 12 * 3600
SIDE_RETRY_S = 600.0  # a failing side service (nav, buvid) is asked again after this
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
        raise ApiError(endpoint, f"HTTP {response.status_code}{_code_in(response)}")
    try:
        answer = response.json()
        code = int(answer["code"])
    except (ValueError, KeyError, TypeError):
        raise ApiError(endpoint, f"the answer is not {whose} JSON") from None
    if code != 0:
        message = str(answer.get("message", ""))[:100]
        raise ApiError(endpoint, f"code {code} ({message})", code)
    return answer.get("data")


def _code_in(response: httpx.Response) -> str:
    """ " (code -412: 请求被拦截)" when an error answer still carries Bilibili's code."""
    try:
        answer = response.json()
        return f" (code {int(answer['code'])}: {str(answer.get('message', ''))[:60]})"
    except (ValueError, KeyError, TypeError):
        return ""


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
        cookies = login_file.cookies_for(config)  # config's SESSDATA, else the login file's
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
        self._buvid_at = -SIDE_RETRY_S  # monotonic time of the last attempt
        self._nav_failed_at: float | None = None
        self._real_ids: dict[int, int] = {}
        self._lock = asyncio.Lock()
        self._failing: dict[str, str] = {}  # side service → why it fails (logged once)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def bootstrap(self, room_id: int) -> Bootstrap:
        async with self._lock:  # several rooms starting at once make one nav / buvid call
            await self._ensure_session()
        real_id = await self.real_id(room_id)
        token, urls = await self._danmaku_servers(real_id)
        return Bootstrap(self._uid or 0, self._buvid, real_id, token, urls)

    # -- side services: each failure degrades, once logged ----------------------------------

    def _failed(self, service: str, why: str, instead: str) -> None:
        if service not in self._failing:
            log.warning("%s failed (%s); %s", service, why, instead)
        self._failing[service] = why

    def _works(self, service: str) -> None:
        if self._failing.pop(service, None) is not None:
            log.info("%s works again", service)

    async def _ensure_session(self) -> None:
        now = time.monotonic()
        nav_due = self._uid is None or now - self._wbi_at > WBI_REFRESH_S
        if self._nav_failed_at is not None:
            nav_due = now - self._nav_failed_at > SIDE_RETRY_S
        if nav_due:
            try:
                await self._nav()
            except ApiError as exc:
                self._nav_failed_at = now
                self._uid = self._uid or 0
                self._failed(
                    "the login check (nav)",
                    str(exc),
                    "reading anonymously: viewer names are masked, calls are not WBI-signed",
                )
            else:
                self._nav_failed_at = None
                self._works("the login check (nav)")
        if not self._buvid and now - self._buvid_at > SIDE_RETRY_S:
            self._buvid_at = now
            await self._fetch_buvid()

    # -- the calls ---------------------------------------------------------------------

    async def _get(self, base: str, path: str, params: dict[str, Any] | None = None) -> Any:
        """`data` of a JSON answer with code 0; `ApiError` naming the endpoint otherwise."""
        endpoint = f"{base}{path}"
        try:
            response = await self.http.get(endpoint, params=params)
        except httpx.HTTPError as exc:
            raise ApiError(endpoint, f"cannot reach it ({_describe(exc)})") from None
        data = answer_data(response, endpoint, "Bilibili's")
        if not isinstance(data, dict):
            raise ApiError(endpoint, "no data in the answer")
        return data

    async def _nav(self) -> None:
        """Login state and WBI keys. `nav` answers -101 when not logged in, and still
        carries the WBI keys then."""
        endpoint = f"{self.web}{NAV}"
        try:
            response = await self.http.get(endpoint)
        except httpx.HTTPError as exc:
            raise ApiError(endpoint, f"cannot reach it ({_describe(exc)})") from None
        if response.status_code != 200:
            raise ApiError(endpoint, f"HTTP {response.status_code}{_code_in(response)}")
        try:
            answer = response.json()
            data = answer.get("data") or {}
            images = data["wbi_img"]
            self._wbi_key = wbi.mixin_key(images["img_url"], images["sub_url"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ApiError(endpoint, f"no WBI keys in the answer ({_describe(exc)})") from None
        self._wbi_at = time.monotonic()
        logged_in = answer.get("code") == 0 and bool(data.get("isLogin"))
        uid = int(data.get("mid") or 0) if logged_in else 0
        if self._uid is None:
            if logged_in:
                log.info("logged in to Bilibili as uid %d", uid)
            elif self.http.cookies.get("SESSDATA"):
                log.warning(
                    "a SESSDATA cookie is set (live.bilibili.sessdata or the login file) but "
                    "Bilibili says it is not logged in: expired? Log in again with `kagura live "
                    "bilibili login`; viewer names will be masked"
                )
        self._uid = uid

    async def _fetch_buvid(self) -> None:
        """buvid3 (and buvid4) from `finger/spi`; else from the home page's cookie; else
        none: the danmaku server takes a connection without it."""
        try:
            data = await self._get(self.web, FINGER)
            buvid3, buvid4 = str(data.get("b_3") or ""), str(data.get("b_4") or "")
            if not buvid3:
                raise ApiError(f"{self.web}{FINGER}", "no buvid3 in the answer")
        except ApiError as finger_error:
            buvid3, buvid4 = await self._home_buvid(), ""
            if not buvid3:
                self._failed(
                    "the buvid cookie (finger/spi, then the home page)",
                    str(finger_error),
                    "going on without one",
                )
                return
            log.info("buvid from the home page (%s)", finger_error)
        self.http.cookies.set("buvid3", buvid3)
        if buvid4:
            self.http.cookies.set("buvid4", buvid4)
        self._buvid = buvid3
        self._works("the buvid cookie (finger/spi, then the home page)")

    async def _home_buvid(self) -> str:
        """The `buvid3` cookie the home page sets for a browser ("" when it does not)."""
        try:
            response = await self.http.get(self.config.home_url)
        except httpx.HTTPError:
            return ""
        for name, value in response.cookies.items():
            if name == "buvid3":
                return value
        return ""

    async def real_id(self, room_id: int) -> int:
        """The room's real id (a short id resolved once; the id as given if the lookup fails)."""
        if room_id not in self._real_ids:
            try:
                data = await self._get(self.live, ROOM_INFO, {"room_id": room_id})
                real_id = int(data["room_id"])
            except ApiError as exc:
                if exc.code in NO_SUCH_ROOM:
                    raise Fatal(f"Bilibili room {room_id} does not exist ({exc})") from None
                self._failed("the room lookup (Room/get_info)", str(exc), "using the id as given")
                return room_id  # not kept: asked again at the next bootstrap
            except (KeyError, TypeError, ValueError):
                self._failed("the room lookup (Room/get_info)", "no room_id", "using the id")
                return room_id
            self._works("the room lookup (Room/get_info)")
            self._real_ids[room_id] = real_id
        return self._real_ids[room_id]

    async def _danmaku_servers(self, real_id: int) -> tuple[str, tuple[str, ...]]:
        """Token and servers from `getDanmuInfo`: signed (fresh keys once on -352), else
        unsigned, else the anonymous fallback server."""
        problems = []
        for signed in (True, False) if self._wbi_key else (False,):
            try:
                found = await self._danmu_info(real_id, signed)
            except (ApiError, httpx.HTTPError) as exc:
                problems.append(_describe(exc))
                continue
            self._works("getDanmuInfo")
            return found
        self._failed(
            "getDanmuInfo",
            "; ".join(problems),
            f"using the anonymous fallback server {self.config.fallback_url} (viewer names masked)",
        )
        return "", (self.config.fallback_url,)

    async def _danmu_info(self, real_id: int, signed: bool) -> tuple[str, tuple[str, ...]]:
        params: dict[str, Any] = {"id": real_id, "type": 0}
        try:
            data = await self._get(self.live, DANMU_INFO, self._signed(params, signed))
        except ApiError as exc:
            if exc.code != BAD_SIGNATURE or not signed:
                raise
            log.info("getDanmuInfo refused the WBI signature (-352); refreshing the keys")
            async with self._lock:
                await self._nav()
            data = await self._get(self.live, DANMU_INFO, self._signed(params, signed))
        urls = tuple(
            f"wss://{host['host']}:{host.get('wss_port') or 443}/sub"
            for host in data.get("host_list") or ()
            if isinstance(host, dict) and host.get("host")
        )
        if not urls:
            raise ApiError(f"{self.live}{DANMU_INFO}", "an empty host_list")
        return str(data.get("token") or ""), urls

    def _signed(self, params: dict[str, Any], signed: bool) -> dict[str, Any]:
        return wbi.sign(params, self._wbi_key) if signed else dict(params)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]
