"""Bilibili's passport, as a browser speaks to it: QR-code login and the cookie refresh.

QR-code login (web): `qrcode/generate` gives the URL to draw and its key; `qrcode/poll`
answers, in `data.code`, 86101 (not scanned), 86090 (scanned, not confirmed), 86038
(expired) or 0 (logged in: the cookies in Set-Cookie, `data.refresh_token` beside them).

Cookie refresh: `cookie/info` says whether the cookies should be refreshed; the
"correspond path" (the hex of `refresh_<ms>` encrypted with Bilibili's RSA key, OAEP and
SHA-256) opens a page on www whose `<div id="1-name">` holds `refresh_csrf`;
`cookie/refresh` trades the old refresh token for new cookies and a new token; and
`confirm/refresh`, with the new cookies and the old token, retires the old ones.

Cookies go in a `Cookie` header built from the login, never into a shared jar: the
answers set them for `.bilibili.com`, which a jar would keep and send twice (or, for a
stand-in on 127.0.0.1, drop). Nothing here logs a cookie, a token or a csrf value.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from kagura.config import BilibiliConfig
from kagura.live.settings import ssl_context

from .api import REFERER, ApiError, answer_data
from .login_file import Login

QR_GENERATE = "/x/passport-login/web/qrcode/generate"
QR_POLL = "/x/passport-login/web/qrcode/poll"
COOKIE_INFO = "/x/passport-login/web/cookie/info"
COOKIE_REFRESH = "/x/passport-login/web/cookie/refresh"
CONFIRM_REFRESH = "/x/passport-login/web/confirm/refresh"
CORRESPOND = "/correspond/1/"
NAV = "/x/web-interface/nav"

QR_SUCCESS, QR_WAITING, QR_SCANNED, QR_EXPIRED = 0, 86101, 86090, 86038
_REFRESH_CSRF = re.compile(r'<div id="1-name">\s*([^<\s]+)\s*</div>')


@dataclass(frozen=True)
class Poll:
    code: int  # one of QR_*, or another code Bilibili answered
    message: str
    login: Login | None  # on QR_SUCCESS


def correspond_path(public_key_b64: str, timestamp_ms: int) -> str:
    """The hex of `refresh_<timestamp_ms>` encrypted with the refresh key (RSA-OAEP,
    SHA-256), as the browser computes it."""
    key = load_der_public_key(base64.b64decode(public_key_b64))
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("live.bilibili.refresh_key is not an RSA public key")
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    return key.encrypt(f"refresh_{timestamp_ms}".encode(), oaep).hex()


def set_cookies(headers: Iterable[str]) -> dict[str, str]:
    """name → value of each Set-Cookie header (attributes such as Domain ignored)."""
    found = {}
    for header in headers:
        name, _, value = header.split(";", 1)[0].partition("=")
        if name.strip():
            found[name.strip()] = value.strip()
    return found


class Passport:
    """The passport calls, on one HTTP client with the web client's User-Agent and CA."""

    def __init__(self, config: BilibiliConfig) -> None:
        self.config = config
        self.base = config.passport_api.rstrip("/")
        self.www = config.home_url.rstrip("/")
        self.web = config.web_api.rstrip("/")
        never_kept = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        self.http = httpx.AsyncClient(
            verify=ssl_context(config.ca_file),
            timeout=config.http_timeout_s,
            headers={"User-Agent": config.user_agent, "Referer": REFERER},
            cookies=never_kept,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _call(
        self,
        method: str,
        url: str,
        login: Login | None = None,
        params: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
        where: str = "",
    ) -> httpx.Response:
        """One call; `ApiError` naming the URL (without its query; or `where`) when it cannot
        be made."""
        headers = {}
        if login is not None:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in login.cookies.items())
        try:
            return await self.http.request(method, url, params=params, data=form, headers=headers)
        except httpx.HTTPError as exc:
            problem = f"cannot reach it ({type(exc).__name__}: {exc})"[:200]
            raise ApiError(where or url, problem) from None

    async def _data(self, method: str, path: str, login: Login | None = None, **kw: Any) -> Any:
        url = f"{self.base}{path}"
        response = await self._call(method, url, login, **kw)
        data = answer_data(response, url, "the passport's")
        return data if isinstance(data, dict) else {}

    # -- QR-code login -------------------------------------------------------------------

    async def qr_generate(self) -> tuple[str, str]:
        """(the URL the QR code shows, the key to poll with)."""
        data = await self._data("GET", QR_GENERATE)
        url, key = str(data.get("url") or ""), str(data.get("qrcode_key") or "")
        if not url or not key:
            raise ApiError(f"{self.base}{QR_GENERATE}", "no url or qrcode_key in the answer")
        return url, key

    async def qr_poll(self, key: str) -> Poll:
        url = f"{self.base}{QR_POLL}"
        response = await self._call("GET", url, params={"qrcode_key": key})
        data = answer_data(response, url, "the passport's")
        if not isinstance(data, dict) or "code" not in data:
            raise ApiError(url, "no data.code in the answer")
        code, message = int(data["code"]), str(data.get("message") or "")[:100]
        if code != QR_SUCCESS:
            return Poll(code, message, None)
        login = Login().with_cookies(
            set_cookies(response.headers.get_list("set-cookie")),
            str(data.get("refresh_token") or ""),
        )
        if not login.cookies.get("SESSDATA"):
            raise ApiError(url, "logged in, but no SESSDATA cookie came with the answer")
        return Poll(code, message, login)

    async def who(self, login: Login) -> str:
        """"name (uid N)" of the account `login` is for, from `nav` ("uid N" if it fails)."""
        url = f"{self.web}{NAV}"
        try:
            data = answer_data(await self._call("GET", url, login), url, "Bilibili's")
            return f"{data['uname']} (uid {int(data['mid'])})"
        except (ApiError, KeyError, TypeError, ValueError):
            return f"uid {login.uid}"

    # -- cookie refresh --------------------------------------------------------------------

    async def needs_refresh(self, login: Login) -> tuple[bool, int]:
        """(whether Bilibili wants the cookies refreshed, its timestamp in ms)."""
        data = await self._data("GET", COOKIE_INFO, login, params={"csrf": login.csrf})
        timestamp = int(data.get("timestamp") or time.time() * 1000)
        return bool(data.get("refresh")), timestamp

    async def refresh_csrf(self, login: Login, timestamp_ms: int) -> str:
        path = correspond_path(self.config.refresh_key, timestamp_ms)
        where = f"{self.www}{CORRESPOND}…"
        response = await self._call("GET", f"{self.www}{CORRESPOND}{path}", login, where=where)
        if response.status_code != 200:
            raise ApiError(where, f"HTTP {response.status_code}")
        found = _REFRESH_CSRF.search(response.text)
        if found is None:
            raise ApiError(where, 'no <div id="1-name"> (refresh_csrf) in the page')
        return found.group(1)

    async def refresh(self, login: Login, refresh_csrf: str) -> Login:
        """New cookies and refresh token for `login` (the old ones stay valid until
        `confirm`)."""
        url = f"{self.base}{COOKIE_REFRESH}"
        form = {
            "csrf": login.csrf,
            "refresh_csrf": refresh_csrf,
            "source": "main_web",
            "refresh_token": login.refresh_token,
        }
        response = await self._call("POST", url, login, form=form)
        data = answer_data(response, url, "the passport's")
        token = str((data or {}).get("refresh_token") or "") if isinstance(data, dict) else ""
        fresh = set_cookies(response.headers.get_list("set-cookie"))
        if not token or not fresh.get("SESSDATA") or not fresh.get("bili_jct"):
            raise ApiError(url, "no new cookies or refresh_token in the answer")
        return login.with_cookies(fresh, token)

    async def confirm(self, fresh: Login, old_refresh_token: str) -> None:
        """Tell Bilibili the new cookies arrived: it retires the old ones."""
        form = {"csrf": fresh.csrf, "refresh_token": old_refresh_token}
        await self._data("POST", CONFIRM_REFRESH, fresh, form=form)
