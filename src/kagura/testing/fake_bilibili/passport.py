"""The fake Bilibili passport: QR-code login and the web cookie refresh.

QR codes advance only when the test says so (`PassportState.advance`: "scanned",
"confirmed", "expired"), so each state the client must report is held as long as the
test needs. A confirmed code sets the cookies the way passport.bilibili.com does
(Set-Cookie for `.bilibili.com`, `refresh_token` in `data`) and registers the new
`SESSDATA` with the web API's `nav`.

The refresh is checked as strictly as the real one: `cookie/info` needs a known
`SESSDATA`; the correspond page needs a path that decrypts, with the fake's own RSA key,
to `refresh_<ms>` of about now (else 404); `cookie/refresh` needs the session's `bili_jct`
as csrf (-111), the `refresh_csrf` of its page and its current refresh token (86095);
`confirm/refresh` needs the new session's csrf and the old refresh token, and then
retires the old cookies. `refuse` makes an endpoint answer an error code instead.
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .web_api import WebApiState

QR_GENERATE = "/x/passport-login/web/qrcode/generate"
QR_POLL = "/x/passport-login/web/qrcode/poll"
COOKIE_INFO = "/x/passport-login/web/cookie/info"
COOKIE_REFRESH = "/x/passport-login/web/cookie/refresh"
CONFIRM_REFRESH = "/x/passport-login/web/confirm/refresh"
CORRESPOND = "/correspond/1/{path}"
QR_CODES = {"waiting": 86101, "scanned": 86090, "expired": 86038, "confirmed": 0}
QR_MESSAGES = {86101: "未扫码", 86090: "二维码已扫码未确认", 86038: "二维码已失效", 0: ""}
CORRESPOND_TOLERANCE_MS = 20 * 60 * 1000
COOKIE_DOMAIN = ".bilibili.com"
SCAN_URL = "https://passport.bilibili.com/h5-app/passport/login/scan"


@dataclass
class Session:
    """One logged-in browser: its cookies and refresh token."""

    uid: int
    sessdata: str = field(default_factory=lambda: f"{secrets.token_hex(8)}%2C{int(time.time())}")
    bili_jct: str = field(default_factory=lambda: secrets.token_hex(16))
    refresh_token: str = field(default_factory=lambda: secrets.token_hex(16))
    needs_refresh: bool = False
    refresh_csrf: str = ""  # handed out by the correspond page
    replaces: Session | None = None  # the session a refresh made this one from, until confirmed

    def cookies(self) -> dict[str, str]:
        return {
            "SESSDATA": self.sessdata,
            "bili_jct": self.bili_jct,
            "DedeUserID": str(self.uid),
            "DedeUserID__ckMd5": secrets.token_hex(8),
        }


@dataclass
class PassportState:
    web: WebApiState
    uid: int
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024)
    )
    qr_codes: dict[str, str] = field(default_factory=dict)  # key → one of QR_CODES
    polls: dict[str, int] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)  # SESSDATA → session
    refuse: dict[str, int] = field(default_factory=dict)  # endpoint path → code answered
    refreshed: int = 0
    confirmed: list[str] = field(default_factory=list)  # old refresh tokens confirmed
    calls: dict[str, int] = field(default_factory=dict)

    @property
    def public_key_b64(self) -> str:
        """The public half, as `live.bilibili.refresh_key` takes it (base64 DER)."""
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def latest(self) -> str:
        return list(self.qr_codes)[-1]

    def advance(self, state: str) -> None:
        """Move the newest QR code to `state` (the phone scanned it, confirmed, or it
        expired)."""
        assert state in QR_CODES, state
        self.qr_codes[self.latest()] = state

    def issue(self, needs_refresh: bool = False) -> Session:
        """A logged-in session, known to `nav` (and to sending danmaku) as well."""
        session = Session(self.uid, needs_refresh=needs_refresh)
        self.sessions[session.sessdata] = session
        self.web.sessdata_uids[session.sessdata] = self.uid
        self.web.bili_jcts[session.sessdata] = session.bili_jct  # replies in chat work too
        return session

    def retire(self, session: Session) -> None:
        self.sessions.pop(session.sessdata, None)
        self.web.sessdata_uids.pop(session.sessdata, None)
        self.web.bili_jcts.pop(session.sessdata, None)


def _answer(data: object = None, code: int = 0, message: str = "0") -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "ttl": 1, "data": data})


def _with_cookies(response: Response, session: Session) -> Response:
    for name, value in session.cookies().items():
        response.set_cookie(name, value, max_age=15_552_000, path="/", domain=COOKIE_DOMAIN)
    return response


async def _form(request: Request) -> dict[str, str]:
    """The urlencoded form body (parsed by hand: Starlette's parser needs python-multipart)."""
    if request.headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded":
        return {}
    return dict(parse_qsl((await request.body()).decode()))


def routes(state: PassportState) -> list[Route]:
    def begin(request: Request) -> tuple[Session | None, Response | None]:
        """Count the call; the caller's session, or the answer that refuses it."""
        path = request.url.path
        if path.startswith("/correspond/"):
            path = "/correspond/1/"
        state.calls[path] = state.calls.get(path, 0) + 1
        if path in state.refuse:
            return None, _answer(None, state.refuse[path], "refused")
        return state.sessions.get(request.cookies.get("SESSDATA", "")), None

    async def qr_generate(request: Request) -> Response:
        begin(request)
        key = secrets.token_hex(16)
        state.qr_codes[key] = "waiting"
        url = f"{SCAN_URL}?navhide=1&qrcode_key={key}&from="
        return _answer({"url": url, "qrcode_key": key})

    async def qr_poll(request: Request) -> Response:
        _, refused = begin(request)
        if refused is not None:
            return refused
        key = request.query_params.get("qrcode_key", "")
        if key not in state.qr_codes:
            return _answer({"url": "", "refresh_token": "", "timestamp": 0, "code": 86038,
                            "message": QR_MESSAGES[86038]})  # fmt: skip
        state.polls[key] = state.polls.get(key, 0) + 1
        code = QR_CODES[state.qr_codes[key]]
        if code != 0:
            return _answer({"url": "", "refresh_token": "", "timestamp": 0, "code": code,
                            "message": QR_MESSAGES[code]})  # fmt: skip
        del state.qr_codes[key]  # a key logs in once
        session = state.issue()
        data = {"url": "https://passport.biligame.com/crossDomain?...", "code": 0,
                "refresh_token": session.refresh_token, "timestamp": int(time.time() * 1000),
                "message": ""}  # fmt: skip
        return _with_cookies(_answer(data), session)

    async def cookie_info(request: Request) -> Response:
        session, refused = begin(request)
        if refused is not None:
            return refused
        if session is None:
            return _answer(None, -101, "账号未登录")
        timestamp = int(time.time() * 1000)
        return _answer({"refresh": session.needs_refresh, "timestamp": timestamp})

    async def correspond(request: Request) -> Response:
        session, refused = begin(request)
        if refused is not None or session is None:
            return PlainTextResponse("not found", status_code=404)
        oaep = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
        try:
            plain = state.key.decrypt(bytes.fromhex(request.path_params["path"]), oaep).decode()
            stamp = int(plain.removeprefix("refresh_")) if plain.startswith("refresh_") else -1
        except ValueError:
            stamp = -1
        if abs(stamp - time.time() * 1000) > CORRESPOND_TOLERANCE_MS:
            return PlainTextResponse("not found", status_code=404)
        session.refresh_csrf = secrets.token_hex(16)
        page = f'<html><body><div id="1-name">{session.refresh_csrf}</div></body></html>'
        return HTMLResponse(page)

    async def logged_in(request: Request) -> tuple[Session, dict[str, str]] | Response:
        """The session and form of a POST that must come from a login with its CSRF token;
        else the refusal Bilibili answers."""
        session, refused = begin(request)
        if refused is not None:
            return refused
        form = await _form(request)
        if session is None:
            return _answer(None, -101, "账号未登录")
        if form.get("csrf") != session.bili_jct:
            return _answer(None, -111, "csrf 校验失败")
        return session, form

    async def cookie_refresh(request: Request) -> Response:
        checked = await logged_in(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        if (
            not session.refresh_csrf
            or form.get("refresh_csrf") != session.refresh_csrf
            or form.get("refresh_token") != session.refresh_token
            or form.get("source") != "main_web"
        ):
            return _answer(None, 86095, "refresh_csrf 错误或 refresh_token 与 cookie 不匹配")
        fresh = state.issue()
        fresh.replaces = session
        session.refresh_csrf = ""
        state.refreshed += 1
        data = {"status": 0, "message": "", "refresh_token": fresh.refresh_token}
        return _with_cookies(_answer(data), fresh)

    async def confirm_refresh(request: Request) -> Response:
        checked = await logged_in(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        old = session.replaces
        if old is None or form.get("refresh_token") != old.refresh_token:
            return _answer(None, -400, "请求错误")
        state.retire(old)
        session.replaces = None
        state.confirmed.append(old.refresh_token)
        return _answer(None)

    return [
        Route(QR_GENERATE, qr_generate),
        Route(QR_POLL, qr_poll),
        Route(COOKIE_INFO, cookie_info),
        Route(CORRESPOND, correspond),
        Route(COOKIE_REFRESH, cookie_refresh, methods=["POST"]),
        Route(CONFIRM_REFRESH, confirm_refresh, methods=["POST"]),
    ]
