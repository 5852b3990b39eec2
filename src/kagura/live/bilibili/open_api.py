"""The Bilibili open platform's HTTP API: signed `start`, `heartbeat` and `end` calls.

Every call is a JSON POST signed with the app's key: six `x-bili-*` headers (the key id,
the body's MD5, method, a nonce, version and timestamp) and `Authorization`, the hex
HMAC-SHA256 of those six `name:value` lines under the app's secret. `start` opens an app
session ("game") in the streamer's room (identified by the identity code) and returns
the message servers and the auth body; the session must be kept alive with `heartbeat`
every 20 s and closed with `end`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from kagura.config import BilibiliOpenConfig
from kagura.live.platform import Fatal
from kagura.live.settings import ssl_context

from .api import ApiError, answer_data

log = logging.getLogger(__name__)

START = "/v2/app/start"
HEARTBEAT = "/v2/app/heartbeat"
END = "/v2/app/end"
GAME_GONE = {7000, 7003}  # not in a game / the game expired
ROOM_BUSY = 7002  # a session of this app is already open in the room
# Codes that retrying cannot cure, with what to check.
FATAL = {
    4001: "the app key is not valid: check live.bilibili_open.access_key_id",
    4002: "the signature was refused: check live.bilibili_open.access_key_secret",
    4003: "the request time was refused: check this machine's clock",
    4007: "this machine's IP address is not on the app's whitelist",
    4008: "the app may not call this API",
    5004: "this room may not use the app yet: an app must pass Bilibili's review before "
    "streamers other than its developer can use it",
    5005: "this room is blacklisted for the app",
    7007: "the identity code (身份码) is wrong: check live.bilibili_open.identity_code",
    8002: "the app id is wrong: check live.bilibili_open.app_id",
}


@dataclass(frozen=True)
class Game:
    """An open app session in the streamer's room."""

    game_id: str
    auth_body: str
    urls: tuple[str, ...]
    room_id: int
    anchor: str


def signed_headers(body: bytes, key_id: str, secret: str) -> dict[str, str]:
    """The headers that sign `body` (the order of the six signed lines matters)."""
    headers = {
        "x-bili-accesskeyid": key_id,
        "x-bili-content-md5": hashlib.md5(body).hexdigest(),
        "x-bili-signature-method": "HMAC-SHA256",
        "x-bili-signature-nonce": uuid.uuid4().hex,
        "x-bili-signature-version": "1.0",
        "x-bili-timestamp": str(int(time.time())),
    }
    signed = "\n".join(f"{name}:{value}" for name, value in headers.items())
    signature = hmac.new(secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
    return {
        **headers,
        "Authorization": signature,
        "Content-Type": "application/json",
        "Accept": "application/json",
    }


class OpenApi:
    def __init__(self, config: BilibiliOpenConfig) -> None:
        missing = [
            name
            for name in ("access_key_id", "access_key_secret", "identity_code")
            if not getattr(config, name)
        ]
        if not config.app_id:
            missing.append("app_id")
        if missing:
            raise Fatal(
                "the open platform needs live.bilibili_open."
                + ", live.bilibili_open.".join(missing)
                + " (from your app on open-live.bilibili.com and the streamer's identity code)"
            )
        self.config = config
        self.base = config.open_api.rstrip("/")
        self.http = httpx.AsyncClient(
            verify=ssl_context(config.ca_file), timeout=config.http_timeout_s
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def start(self) -> Game:
        body = {"code": self.config.identity_code, "app_id": self.config.app_id}
        try:
            data = await self._post(START, body)
        except ApiError as exc:
            if exc.code == ROOM_BUSY:
                raise ApiError(
                    START,
                    "a session of this app is still open in the room (7002); it closes "
                    "within a minute of its last heartbeat",
                    exc.code,
                ) from None
            raise
        try:
            info = data["websocket_info"]
            return Game(
                game_id=str(data["game_info"]["game_id"]),
                auth_body=str(info["auth_body"]),
                urls=tuple(str(url) for url in info["wss_link"]),
                room_id=int(data["anchor_info"]["room_id"]),
                anchor=str(data["anchor_info"].get("uname", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError(START, f"unexpected answer ({exc!r})") from None

    async def heartbeat(self, game_id: str) -> None:
        await self._post(HEARTBEAT, {"game_id": game_id})

    async def end(self, game_id: str) -> None:
        try:
            await self._post(END, {"app_id": self.config.app_id, "game_id": game_id})
        except ApiError as exc:
            if exc.code not in GAME_GONE:  # already closed counts as closed
                raise

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        endpoint = f"{self.base}{path}"
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = signed_headers(raw, self.config.access_key_id, self.config.access_key_secret)
        try:
            response = await self.http.post(endpoint, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            raise ApiError(path, f"cannot reach {endpoint} ({type(exc).__name__})") from None
        try:
            return answer_data(response, path, "the open platform's") or {}
        except ApiError as exc:
            if exc.code in FATAL:
                code = exc.code
                raise Fatal(f"Bilibili open platform {path}: {FATAL[code]} (code {code})") from None
            raise
