"""The fake Bilibili open platform API: signed `start`, `heartbeat`, `end`.

Every request's signature is checked the way the platform documents it (the body's MD5,
then the HMAC-SHA256 of the six `x-bili-*` lines under the app secret, a fresh timestamp,
a nonce never seen before); a bad one is answered with the platform's error code and
counted, so a test can assert that every call the client made was correctly signed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SIGNED = (
    "x-bili-accesskeyid",
    "x-bili-content-md5",
    "x-bili-signature-method",
    "x-bili-signature-nonce",
    "x-bili-signature-version",
    "x-bili-timestamp",
)
TIMESTAMP_TOLERANCE_S = 600


@dataclass
class OpenApiState:
    access_key_id: str
    access_key_secret: str
    app_id: int
    identity_code: str
    room_id: int
    danmaku_url: str = ""
    games: dict[str, str] = field(default_factory=dict)  # game id → its auth body
    active: set[str] = field(default_factory=set)
    started: list[str] = field(default_factory=list)
    heartbeats: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why each refused request was refused
    _nonces: set[str] = field(default_factory=set)

    def expire(self, game_id: str) -> None:
        """The platform closes the game (missed heartbeats): its heartbeats get 7003."""
        self.active.discard(game_id)

    def check_auth(self, body: str) -> int:
        return 0 if any(body == self.games[g] for g in self.active) else -101

    def refusal(self, request: Request, raw: bytes) -> tuple[int, str] | None:
        headers = request.headers
        if headers.get("x-bili-accesskeyid") != self.access_key_id:
            return 4001, "unknown access key id"
        if headers.get("x-bili-content-md5") != hashlib.md5(raw).hexdigest():
            return 4012, "content MD5 mismatch"
        try:
            stale = abs(time.time() - int(headers.get("x-bili-timestamp", "0")))
        except ValueError:
            stale = float("inf")
        if stale > TIMESTAMP_TOLERANCE_S:
            return 4003, "stale timestamp"
        nonce = headers.get("x-bili-signature-nonce", "")
        if not nonce or nonce in self._nonces:
            return 4004, "nonce reused"
        signed = "\n".join(f"{name}:{headers.get(name, '')}" for name in SIGNED)
        expected = hmac.new(self.access_key_secret.encode(), signed.encode(), hashlib.sha256)
        if not hmac.compare_digest(headers.get("authorization", ""), expected.hexdigest()):
            return 4002, "bad signature"
        if headers.get("content-type") != "application/json":
            return 4011, "Content-Type is not application/json"
        self._nonces.add(nonce)
        return None


def _answer(data: Any = None, code: int = 0, message: str = "ok") -> JSONResponse:
    body = {"code": code, "message": message, "request_id": secrets.token_hex(8), "data": data}
    return JSONResponse(body)


Body = dict[str, Any]


def routes(state: OpenApiState) -> list[Route]:
    def signed(answer: Callable[[Body], JSONResponse]) -> Callable[[Request], Awaitable[Response]]:
        """An endpoint that answers only a correctly signed request: `answer` gets its JSON
        body; a refusal is answered with the platform's code and kept in `state.refused`."""

        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            refusal = state.refusal(request, raw)
            if refusal is not None:
                state.refused.append(f"{request.url.path}: {refusal[1]}")
                return _answer(None, *refusal)
            return answer(json.loads(raw or b"{}"))

        return endpoint

    def start(body: Body) -> JSONResponse:
        if body.get("code") != state.identity_code:
            return _answer(None, 7007, "身份码错误")
        if body.get("app_id") != state.app_id:
            return _answer(None, 8002, "项目无权限访问")
        game_id = secrets.token_hex(16)
        auth_body = json.dumps({"roomid": state.room_id, "protover": 2, "uid": 0,
                                "key": secrets.token_urlsafe(24), "group": "open"})  # fmt: skip
        state.active.clear()
        state.games[game_id] = auth_body
        state.active.add(game_id)
        state.started.append(game_id)
        return _answer({
            "game_info": {"game_id": game_id},
            "websocket_info": {"auth_body": auth_body, "wss_link": [state.danmaku_url]},
            "anchor_info": {"room_id": state.room_id, "uname": "主播", "uface": "",
                            "uid": 777, "open_id": "anchor-open-id", "union_id": ""},
        })  # fmt: skip

    def heartbeat(body: Body) -> JSONResponse:
        game_id = str(body.get("game_id"))
        state.heartbeats.append(game_id)
        if game_id not in state.active:
            return _answer(None, 7003, "心跳过期")
        return _answer({})

    def end(body: Body) -> JSONResponse:
        game_id = str(body.get("game_id"))
        state.ended.append(game_id)
        if game_id not in state.active:
            return _answer(None, 7000, "不在游戏内")
        state.active.discard(game_id)
        return _answer({})

    return [
        Route("/v2/app/start", signed(start), methods=["POST"]),
        Route("/v2/app/heartbeat", signed(heartbeat), methods=["POST"]),
        Route("/v2/app/end", signed(end), methods=["POST"]),
    ]
