"""A stand-in for Google's OAuth 2.0 server: the device flow and token refresh, with Google's
wire format (form posts in, JSON out) and status codes.

`POST /device/code` (client_id, scope) answers a device code, a user code, the verification
URL, `expires_in` and `interval`; a scope the device flow does not allow is `invalid_scope`.
`POST /token` with the device grant answers `authorization_pending` (428) until the test
approves (`approve`, or by itself after `approve_after` polls), then the tokens once;
`access_denied` (403) after `deny`, `expired_token` (400, RFC 8628) after `expire` or the
code's lifetime, `slow_down` (403) for the next polls after `slow_down`, and for a poll that
came sooner than the interval (counted in `too_soon`: a client must never do that; after a
`slow_down` the interval grows by 5 s, as RFC 8628 says). A wrong client id or secret is
`invalid_client` (401). `POST /token` with `grant_type=refresh_token` answers a new access
token, or `invalid_grant` (400) for a refresh token revoked or never issued.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

CLIENT_ID = "1234-kagura-test.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-fake-oauth-client-secret"
YOUTUBE = "https://www.googleapis.com/auth/youtube"
DEVICE_SCOPES = {  # what Google's device flow allows
    "email", "openid", "profile",
    "https://www.googleapis.com/auth/drive.appdata", "https://www.googleapis.com/auth/drive.file",
    YOUTUBE, "https://www.googleapis.com/auth/youtube.readonly",
}  # fmt: skip
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
VERIFICATION_URL = "https://www.google.com/device"
SLOW_DOWN_S = 5.0


@dataclass
class DeviceGrant:
    device_code: str
    user_code: str
    scope: str
    interval_s: float
    expires_at: float  # monotonic
    state: str = "pending"  # "approved", "denied", "expired", "used"
    approve_after: int | None = None  # polls after which it approves by itself
    slow_downs: int = 0  # the next polls answer slow_down
    issued_at: float = field(default_factory=time.monotonic)
    polls: list[float] = field(default_factory=list)  # monotonic times
    too_soon: int = 0


class GoogleOAuth:
    def __init__(
        self,
        *,
        interval_s: float = 0.2,
        code_lifetime_s: float = 60.0,
        access_lifetime_s: float = 3599.0,
        approve_after: int | None = None,
    ) -> None:
        self.interval_s = interval_s  # Google says 5; a test needs less
        self.code_lifetime_s = code_lifetime_s
        self.access_lifetime_s = access_lifetime_s
        self.approve_after = approve_after
        self.clients = {CLIENT_ID: CLIENT_SECRET}
        self.grants: list[DeviceGrant] = []
        self.refresh_tokens: dict[str, str] = {}  # refresh token → scope
        self.access_tokens: dict[str, float] = {}  # access token → expiry (unix time)
        self.refreshes = 0
        self.refused: Counter[str] = Counter()

    def routes(self, prefix: str) -> list[Route]:
        return [
            Route(f"{prefix}/device/code", self._device_code, methods=["POST"]),
            Route(f"{prefix}/token", self._token, methods=["POST"]),
        ]

    # -- driving it ------------------------------------------------------------------------

    @property
    def latest(self) -> DeviceGrant:
        return self.grants[-1]

    def approve(self) -> None:
        self.latest.state = "approved"

    def deny(self) -> None:
        self.latest.state = "denied"

    def expire(self) -> None:
        self.latest.state = "expired"

    def slow_down(self, polls: int = 1) -> None:
        self.latest.slow_downs += polls

    def issue(self, scope: str = YOUTUBE, lifetime_s: float | None = None) -> dict[str, str]:
        """Tokens of a login made earlier: `access_token`, `refresh_token`, `expires_at`."""
        refresh = f"1//fake-refresh-{secrets.token_urlsafe(16)}"
        self.refresh_tokens[refresh] = scope
        access, expires_at = self._access(lifetime_s)
        return {"access_token": access, "refresh_token": refresh, "expires_at": str(expires_at)}

    def revoke_access(self) -> None:
        """Every access token stops working (YouTube answers 401); refresh tokens still do."""
        self.access_tokens.clear()

    def revoke_refresh(self) -> None:
        """The streamer revoked the app's access: refreshing answers invalid_grant."""
        self.refresh_tokens.clear()
        self.access_tokens.clear()

    def valid(self, access_token: str) -> bool:
        expiry = self.access_tokens.get(access_token)
        return expiry is not None and expiry > time.time()

    # -- the endpoints ---------------------------------------------------------------------

    def _error(self, status: int, error: str, description: str) -> JSONResponse:
        self.refused[error] += 1
        return JSONResponse({"error": error, "error_description": description}, status)

    def _access(self, lifetime_s: float | None = None) -> tuple[str, float]:
        token = f"ya29.fake-access-{secrets.token_urlsafe(24)}"
        expires_at = time.time() + (self.access_lifetime_s if lifetime_s is None else lifetime_s)
        self.access_tokens[token] = expires_at
        return token, expires_at

    def _tokens(self, scope: str, refresh: str | None) -> JSONResponse:
        access, _ = self._access()
        body: dict[str, Any] = {"access_token": access, "expires_in": int(self.access_lifetime_s)}
        body |= {"scope": scope, "token_type": "Bearer"}
        if refresh is not None:
            body["refresh_token"] = refresh
        return JSONResponse(body)

    async def _device_code(self, request: Request) -> JSONResponse:
        form = await _form(request)
        if str(form.get("client_id", "")) not in self.clients:
            return self._error(401, "invalid_client", "The OAuth client was not found.")
        scope = str(form.get("scope", ""))
        if not scope or not set(scope.split()) <= DEVICE_SCOPES:
            return self._error(400, "invalid_scope", "Invalid device flow scope: " + scope)
        grant = DeviceGrant(
            device_code=f"AH-1Ng{secrets.token_urlsafe(32)}",
            user_code=f"{secrets.token_hex(2).upper()}-{secrets.token_hex(2).upper()}",
            scope=scope,
            interval_s=self.interval_s,
            expires_at=time.monotonic() + self.code_lifetime_s,
            approve_after=self.approve_after,
        )
        self.grants.append(grant)
        body: dict[str, Any] = {"device_code": grant.device_code, "user_code": grant.user_code}
        body |= {"verification_url": VERIFICATION_URL, "expires_in": int(self.code_lifetime_s)}
        body["interval"] = self.interval_s  # Google sends whole seconds; tests need less
        return JSONResponse(body)

    async def _token(self, request: Request) -> JSONResponse:
        form = await _form(request)
        client_id = form.get("client_id", "")
        if self.clients.get(client_id) != form.get("client_secret"):
            return self._error(401, "invalid_client", "Unauthorized")
        grant_type = form.get("grant_type", "")
        if grant_type == DEVICE_GRANT:
            return self._device_poll(form.get("device_code", ""))
        if grant_type == "refresh_token":
            scope = self.refresh_tokens.get(form.get("refresh_token", ""))
            if scope is None:
                return self._error(400, "invalid_grant", "Token has been expired or revoked.")
            self.refreshes += 1
            return self._tokens(scope, None)
        return self._error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _device_poll(self, device_code: str) -> JSONResponse:
        grant = next((g for g in self.grants if g.device_code == device_code), None)
        if grant is None or grant.state == "used":
            return self._error(400, "invalid_grant", "Malformed auth code.")
        now = time.monotonic()
        previous = grant.polls[-1] if grant.polls else grant.issued_at
        grant.polls.append(now)
        if now - previous < grant.interval_s or grant.slow_downs > 0:
            grant.too_soon += now - previous < grant.interval_s
            grant.slow_downs = max(0, grant.slow_downs - 1)
            grant.interval_s += SLOW_DOWN_S
            return self._error(403, "slow_down", "Forbidden")
        if grant.approve_after is not None and len(grant.polls) >= grant.approve_after:
            grant.state = "approved" if grant.state == "pending" else grant.state
        if grant.state == "pending" and now > grant.expires_at:
            grant.state = "expired"
        if grant.state == "denied":
            return self._error(403, "access_denied", "Forbidden")
        if grant.state == "expired":
            return self._error(400, "expired_token", "Expired")
        if grant.state == "pending":
            return self._error(428, "authorization_pending", "Precondition Required")
        grant.state = "used"
        refresh = f"1//fake-refresh-{secrets.token_urlsafe(16)}"
        self.refresh_tokens[refresh] = grant.scope
        return self._tokens(grant.scope, refresh)


async def _form(request: Request) -> dict[str, str]:
    """The posted form (`application/x-www-form-urlencoded`, as Google takes it)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    return dict(parse_qsl((await request.body()).decode()))
