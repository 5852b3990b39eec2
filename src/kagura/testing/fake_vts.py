"""A local stand-in for VTube Studio's public plugin API: its JSON messages over WebSocket.

    with FakeVTS() as vts:                 # vts.url: ws://127.0.0.1:<port>
        vts.approve = False                # the streamer clicks "Deny" in the pop-up
        # kagura perform vts --vts-url {vts.url}
        vts.read(lambda: vts.triggered)    # the hotkeys fired, with the time they came

It answers as VTube Studio does (github.com/DenchiSoft/VTubeStudio, README and
Files/ErrorID.cs): every message must name `apiName` "VTubeStudioPublicAPI" and
`apiVersion` "1.0" (errors 3, 4), a `requestID` of 1 to 64 ASCII characters (5) and a known
`messageType` (6, 7); the answer repeats the requestID and carries `timestamp` and `data`;
an error is `messageType: "APIError"` with `data.errorID` and a message. A session must
authenticate before anything but the state and the two authentication requests (8). A
token request holds its answer until the streamer decides (`approve`; `None`: until the
test calls `decide`), a denial is error 50, a second request meanwhile error 51; a token
the streamer revoked (`revoke`) fails `AuthenticationRequest` with `authenticated: false`,
and a session that was using it gets error 50 on its next request. Hotkeys fire by ID or
name (any case; 202 when unknown, 201 without a model); ToggleExpression hotkeys toggle
their expression. Expressions are queried and switched (600/601, 650/651). Parameter data
is checked (450-453, 455) and recorded with the time it came.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import websockets
from websockets.asyncio.server import ServerConnection

from kagura.testing.background import BackgroundFake
from kagura.testing.vts_model import FakeHotkey, FakeModel, Refusal, default_hotkeys
from kagura.testing.ws_server import WebSocketServer

API_NAME = "VTubeStudioPublicAPI"
API_VERSION = "1.0"
VERSION = "1.28.15"
OPEN_REQUESTS = {"APIStateRequest", "AuthenticationTokenRequest", "AuthenticationRequest"}
DECISION_TIMEOUT_S = 600.0  # a pop-up nobody answers is not held forever


@dataclass(eq=False)
class _Session:
    ws: ServerConnection
    token: str = ""  # the token it authenticated with ("" before)


class FakeVTS(BackgroundFake):
    loop_name = "fake-vts"

    def __init__(self, port: int = 0) -> None:
        super().__init__()
        self.approve: bool | None = True  # the streamer's answer to a token request
        self.model = FakeModel()
        self.tokens: set[str] = set()  # valid tokens
        self.token_requests: list[tuple[str, str]] = []  # (pluginName, pluginDeveloper)
        self.logins: list[tuple[str, bool]] = []  # (token presented, accepted)
        self.connections = 0
        self.requests: list[str] = []  # every messageType received
        self._sessions: set[_Session] = set()
        self._decision: asyncio.Future[bool] | None = None
        self._server = WebSocketServer(self._serve, port=port, ping_interval=None)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.port}"

    @property
    def port(self) -> int:
        return self._server.port

    async def _start(self) -> None:
        await self._server.start()

    async def _stop(self) -> None:
        await self._server.stop()

    # -- driving it ------------------------------------------------------------------------

    def decide(self, allow: bool) -> None:
        """The streamer answers the pop-up that is showing (`approve = None`)."""

        def answer() -> None:
            if self._decision is not None and not self._decision.done():
                self._decision.set_result(allow)

        self.read(answer)

    def revoke(self) -> None:
        """The streamer revokes every token (VTube Studio's plugin settings)."""
        self.read(self.tokens.clear)

    def snapshot(self) -> dict[str, Any]:
        """The records, copied on the fake's thread."""

        def copy() -> dict[str, Any]:
            return {
                "token_requests": list(self.token_requests),
                "logins": list(self.logins),
                "triggered": list(self.model.triggered),
                "expression_changes": list(self.model.expression_changes),
                "injected": list(self.model.injected),
                "expressions": dict(self.model.expressions),
                "connections": self.connections,
                "authenticated": sum(bool(s.token) for s in self._sessions),
            }

        result: dict[str, Any] = self.read(copy)
        return result

    # -- the server ------------------------------------------------------------------------

    async def _serve(self, ws: ServerConnection) -> None:
        self.connections += 1
        session = _Session(ws)
        self._sessions.add(session)
        try:
            async for frame in ws:
                # VTube Studio answers each request in turn; a token request waits for the
                # streamer, and the session waits with it.
                await ws.send(json.dumps(await self._answer(session, frame)))
        except websockets.ConnectionClosed:
            pass
        finally:
            self._sessions.discard(session)

    async def _answer(self, session: _Session, frame: str | bytes) -> dict[str, Any]:
        request_id: Any = None
        try:
            try:
                message = json.loads(frame)
            except ValueError:
                raise Refusal(2, "The JSON payload is invalid.") from None
            if not isinstance(message, dict):
                raise Refusal(2, "The JSON payload is invalid.")
            request_id = message.get("requestID")
            kind = self._check(message)
            self.requests.append(kind)
            given = message.get("data")
            data: dict[str, Any] = given if isinstance(given, dict) else {}  # null: ignored
            if kind not in OPEN_REQUESTS:
                self._authorised(session)
            answer = await self._handle(session, kind, data)
            return _message(f"{kind.removesuffix('Request')}Response", request_id, answer)
        except Refusal as error:
            data = {"errorID": error.error_id, "message": error.message}
            return _message("APIError", request_id, data)

    def _check(self, message: dict[str, Any]) -> str:
        if message.get("apiName") != API_NAME:
            raise Refusal(3, f"apiName must be {API_NAME}.")
        if message.get("apiVersion") != API_VERSION:
            raise Refusal(4, f"apiVersion must be {API_VERSION}.")
        request_id = message.get("requestID")
        if request_id is not None and (
            not isinstance(request_id, str)
            or not 1 <= len(request_id) <= 64
            or not request_id.isascii()
        ):
            raise Refusal(5, "requestID must be 1 to 64 ASCII characters.")
        kind = message.get("messageType")
        if not isinstance(kind, str) or not kind:
            raise Refusal(6, "messageType is missing or empty.")
        if kind not in HANDLED:
            raise Refusal(7, f"Unknown request type {kind}.")
        return kind

    def _authorised(self, session: _Session) -> None:
        if not session.token:
            raise Refusal(8, "This request requires authentication.")
        if session.token not in self.tokens:
            raise Refusal(50, "User has denied API access for your plugin.")

    async def _handle(self, session: _Session, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        match kind:
            case "APIStateRequest":
                authenticated = bool(session.token) and session.token in self.tokens
                return {
                    "active": True,
                    "vTubeStudioVersion": VERSION,
                    "currentSessionAuthenticated": authenticated,
                }
            case "AuthenticationTokenRequest":
                return await self._token_request(data)
            case "AuthenticationRequest":
                return self._authenticate(session, data)
            case "HotkeysInCurrentModelRequest":
                return self.model.hotkey_list()
            case "HotkeyTriggerRequest":
                return self.model.trigger(data)
            case "ExpressionStateRequest":
                return self.model.expression_state(data)
            case "ExpressionActivationRequest":
                return self.model.activate(data)
            case "InjectParameterDataRequest":
                return self.model.inject(data)
        raise Refusal(7, f"Unknown request type {kind}.")  # pragma: no cover

    async def _token_request(self, data: dict[str, Any]) -> dict[str, Any]:
        name, developer = data.get("pluginName"), data.get("pluginDeveloper")
        if not isinstance(name, str) or not 3 <= len(name) <= 32:
            raise Refusal(52, "pluginName must be 3 to 32 characters.")
        if not isinstance(developer, str) or not 3 <= len(developer) <= 32:
            raise Refusal(53, "pluginDeveloper must be 3 to 32 characters.")
        if self._decision is not None and not self._decision.done():
            raise Refusal(51, "A token request is currently ongoing.")
        self.token_requests.append((name, developer))
        if self.approve is None:
            self._decision = asyncio.get_running_loop().create_future()
            try:
                allowed = await asyncio.wait_for(self._decision, DECISION_TIMEOUT_S)
            except TimeoutError:
                allowed = False
        else:
            allowed = self.approve
        if not allowed:
            raise Refusal(50, "User has denied API access for your plugin.")
        token = secrets.token_hex(32)
        self.tokens.add(token)
        return {"authenticationToken": token}

    def _authenticate(self, session: _Session, data: dict[str, Any]) -> dict[str, Any]:
        token = data.get("authenticationToken")
        if not isinstance(token, str) or not token:
            raise Refusal(100, "authenticationToken is missing.")
        if not data.get("pluginName"):
            raise Refusal(101, "pluginName is missing.")
        if not data.get("pluginDeveloper"):
            raise Refusal(102, "pluginDeveloper is missing.")
        accepted = token in self.tokens
        self.logins.append((token, accepted))
        if not accepted:
            return {"authenticated": False, "reason": "Token invalid or revoked."}
        session.token = token
        return {
            "authenticated": True,
            "reason": "Token valid. The plugin is authenticated for the duration of this session.",
        }


HANDLED = frozenset(
    OPEN_REQUESTS
    | {
        "HotkeysInCurrentModelRequest",
        "HotkeyTriggerRequest",
        "ExpressionStateRequest",
        "ExpressionActivationRequest",
        "InjectParameterDataRequest",
    }
)


def _message(kind: str, request_id: Any, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiName": API_NAME,
        "apiVersion": API_VERSION,
        "timestamp": int(time.time() * 1000),
        "messageType": kind,
        "requestID": request_id if isinstance(request_id, str) else secrets.token_hex(16),
        "data": data,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--deny", action="store_true", help="deny every token request")
    args = parser.parse_args()
    with FakeVTS(port=args.port) as fake:
        fake.approve = not args.deny
        print(f"fake VTube Studio API at {fake.url} (Ctrl+C stops)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)
                records = fake.snapshot()
                print(
                    f"\rhotkeys fired {len(records['triggered'])}, parameter frames "
                    f"{len(records['injected'])}",
                    end="",
                    flush=True,
                )


if __name__ == "__main__":
    main()


__all__ = ["FakeHotkey", "FakeVTS", "default_hotkeys"]
