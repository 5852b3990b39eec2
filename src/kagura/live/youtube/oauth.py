"""Google's OAuth 2.0 server, as a TV or limited-input device uses it.

- `POST {oauth_api}/device/code` (client_id, scope) → a `device_code` for polling, and the
  `user_code` and `verification_url` the streamer types on any phone or computer;
- `POST {oauth_api}/token` with `grant_type=urn:ietf:params:oauth:grant-type:device_code`
  → the tokens once the streamer allowed access, else an error: `authorization_pending`
  (428), `slow_down` (403: poll less often), `access_denied` (403), `expired_token`;
- `POST {oauth_api}/token` with `grant_type=refresh_token` → a fresh access token.

The device flow allows only a few scopes; of YouTube's, `youtube` and `youtube.readonly`.
`youtube` is the one that may post in live chat (`youtube.force-ssl` may too, but the device
flow refuses it). Errors are `OAuthError`s carrying Google's `error` code. Nothing here logs:
the forms and the answers hold the client secret and the tokens.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from kagura.config import YouTubeConfig
from kagura.link import safe_url
from kagura.live.settings import ssl_context

from .api import USER_AGENT

SCOPE = "https://www.googleapis.com/auth/youtube"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_POLL_S = 5.0  # when the answer leaves out `interval`


class OAuthError(Exception):
    """Google's OAuth server said no; `error` is its code (e.g. `access_denied`), or
    "unreachable" / "bad_answer"."""

    def __init__(self, endpoint: str, status: int, error: str, description: str = "") -> None:
        detail = f": {description[:200]}" if description else ""
        super().__init__(f"{endpoint}: HTTP {status} {error}{detail}")
        self.status = status
        self.error = error
        self.description = description


@dataclass(frozen=True, slots=True)
class DeviceCode:
    device_code: str
    user_code: str
    verification_url: str
    expires_in: float
    interval: float


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    expires_at: float  # unix time
    refresh_token: str  # "" in a refresh's answer (the old one stays valid)
    scope: str


class OAuthClient:
    def __init__(self, config: YouTubeConfig, client_id: str, client_secret: str) -> None:
        self.base = config.oauth_api.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.http = httpx.AsyncClient(
            verify=ssl_context(config.ca_file),
            timeout=config.http_timeout_s,
            headers={"User-Agent": USER_AGENT},
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def device_code(self) -> DeviceCode:
        answer = await self._post("/device/code", {"client_id": self.client_id, "scope": SCOPE})
        try:
            return DeviceCode(
                device_code=str(answer["device_code"]),
                user_code=str(answer["user_code"]),
                verification_url=str(answer.get("verification_url") or answer["verification_uri"]),
                expires_in=float(answer.get("expires_in") or 1800),
                interval=float(answer.get("interval") or DEFAULT_POLL_S),
            )
        except (KeyError, TypeError, ValueError):
            raise self._bad_answer("/device/code") from None

    async def poll(self, device_code: str) -> Tokens:
        """The tokens, once access is allowed; until then an `OAuthError`
        (`authorization_pending`, `slow_down`, ...)."""
        form = {**self._client(), "device_code": device_code, "grant_type": DEVICE_GRANT}
        return self._tokens(await self._post("/token", form))

    async def refresh(self, refresh_token: str) -> Tokens:
        form = {**self._client(), "refresh_token": refresh_token, "grant_type": "refresh_token"}
        return self._tokens(await self._post("/token", form))

    def _client(self) -> dict[str, str]:
        form = {"client_id": self.client_id}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        return form

    def _tokens(self, answer: dict[str, Any]) -> Tokens:
        try:
            return Tokens(
                access_token=str(answer["access_token"]),
                expires_at=time.time() + float(answer["expires_in"]),
                refresh_token=str(answer.get("refresh_token") or ""),
                scope=str(answer.get("scope") or ""),
            )
        except (KeyError, TypeError, ValueError):
            raise self._bad_answer("/token") from None

    def _bad_answer(self, path: str) -> OAuthError:
        return OAuthError(safe_url(self.base + path), 200, "bad_answer", "not what Google sends")

    async def _post(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        endpoint = safe_url(self.base + path)
        try:
            response = await self.http.post(self.base + path, data=form)
        except httpx.HTTPError as exc:
            raise OAuthError(endpoint, 0, "unreachable", str(exc) or type(exc).__name__) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise OAuthError(endpoint, response.status_code, "bad_answer", "not JSON")
        if response.status_code == 200 and "error" not in answer:
            return answer
        # `error` per RFC 6749; the device-code quota answer says `error_code`.
        error = str(answer.get("error") or answer.get("error_code") or "unknown")
        description = str(answer.get("error_description") or "")
        raise OAuthError(endpoint, response.status_code, error, description)
