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
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.server import ServerConnection

from kagura.testing.background import BackgroundFake
from kagura.testing.ws_server import WebSocketServer

API_NAME = "VTubeStudioPublicAPI"
API_VERSION = "1.0"
VERSION = "1.28.15"
OPEN_REQUESTS = {"APIStateRequest", "AuthenticationTokenRequest", "AuthenticationRequest"}
DEFAULT_PARAMETERS = frozenset(
    {"MouthOpen", "MouthSmile", "FaceAngleX", "FaceAngleY", "FaceAngleZ", "EyeOpenLeft"}
)
VALUE_LIMIT = 1_000_000
DECISION_TIMEOUT_S = 600.0  # a pop-up nobody answers is not held forever


@dataclass
class FakeHotkey:
    name: str
    type: str
    file: str = ""
    id: str = field(default_factory=lambda: secrets.token_hex(16))

    def wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "description": self.type,
            "file": self.file,
            "hotkeyID": self.id,
            "keyCombination": [],
            "onScreenButtonID": -1,
        }


def default_hotkeys() -> list[FakeHotkey]:
    """A model rigged the usual way: expression toggles and an animation."""
    return [
        FakeHotkey("Smile", "ToggleExpression", "Smile.exp3.json"),
        FakeHotkey("Sad", "ToggleExpression", "Sad.exp3.json"),
        FakeHotkey("Angry face", "ToggleExpression", "Angry.exp3.json"),
        FakeHotkey("Wave", "TriggerAnimation", "Wave.motion3.json"),
        FakeHotkey("Next model", "ChangeVTSModel", "Other.vtube.json"),
    ]


class _Error(Exception):
    def __init__(self, error_id: int, message: str) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.message = message


@dataclass(eq=False)
class _Session:
    ws: ServerConnection
    token: str = ""  # the token it authenticated with ("" before)


class FakeVTS(BackgroundFake):
    loop_name = "fake-vts"

    def __init__(self, port: int = 0) -> None:
        super().__init__()
        self.approve: bool | None = True  # the streamer's answer to a token request
        self.model_name = "Streamer's model"
        self.model_loaded = True
        self.hotkeys = default_hotkeys()
        self.expressions: dict[str, bool] = {  # file → active
            "Smile.exp3.json": False,
            "Sad.exp3.json": False,
            "Angry.exp3.json": False,
            "Surprised.exp3.json": False,
        }
        self.parameters = set(DEFAULT_PARAMETERS)
        self.tokens: set[str] = set()  # valid tokens
        self.token_requests: list[tuple[str, str]] = []  # (pluginName, pluginDeveloper)
        self.logins: list[tuple[str, bool]] = []  # (token presented, accepted)
        self.triggered: list[tuple[float, str]] = []  # (time.monotonic(), hotkey name)
        self.expression_changes: list[tuple[float, str, bool]] = []
        self.injected: list[tuple[float, dict[str, float]]] = []  # (time, id → value)
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
                "triggered": list(self.triggered),
                "expression_changes": list(self.expression_changes),
                "injected": list(self.injected),
                "expressions": dict(self.expressions),
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
                raise _Error(2, "The JSON payload is invalid.") from None
            if not isinstance(message, dict):
                raise _Error(2, "The JSON payload is invalid.")
            request_id = message.get("requestID")
            kind = self._check(message)
            self.requests.append(kind)
            given = message.get("data")
            data: dict[str, Any] = given if isinstance(given, dict) else {}  # null: ignored
            if kind not in OPEN_REQUESTS:
                self._authorised(session)
            answer = await self._handle(session, kind, data)
            return _message(f"{kind.removesuffix('Request')}Response", request_id, answer)
        except _Error as error:
            data = {"errorID": error.error_id, "message": error.message}
            return _message("APIError", request_id, data)

    def _check(self, message: dict[str, Any]) -> str:
        if message.get("apiName") != API_NAME:
            raise _Error(3, f"apiName must be {API_NAME}.")
        if message.get("apiVersion") != API_VERSION:
            raise _Error(4, f"apiVersion must be {API_VERSION}.")
        request_id = message.get("requestID")
        if request_id is not None and (
            not isinstance(request_id, str)
            or not 1 <= len(request_id) <= 64
            or not request_id.isascii()
        ):
            raise _Error(5, "requestID must be 1 to 64 ASCII characters.")
        kind = message.get("messageType")
        if not isinstance(kind, str) or not kind:
            raise _Error(6, "messageType is missing or empty.")
        if kind not in HANDLED:
            raise _Error(7, f"Unknown request type {kind}.")
        return kind

    def _authorised(self, session: _Session) -> None:
        if not session.token:
            raise _Error(8, "This request requires authentication.")
        if session.token not in self.tokens:
            raise _Error(50, "User has denied API access for your plugin.")

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
                return {
                    **self._model(),
                    "availableHotkeys": [h.wire() for h in self.hotkeys]
                    if self.model_loaded
                    else [],
                }
            case "HotkeyTriggerRequest":
                return self._trigger(data)
            case "ExpressionStateRequest":
                return self._expression_state(data)
            case "ExpressionActivationRequest":
                return self._activate(data)
            case "InjectParameterDataRequest":
                return self._inject(data)
        raise _Error(7, f"Unknown request type {kind}.")  # pragma: no cover

    async def _token_request(self, data: dict[str, Any]) -> dict[str, Any]:
        name, developer = data.get("pluginName"), data.get("pluginDeveloper")
        if not isinstance(name, str) or not 3 <= len(name) <= 32:
            raise _Error(52, "pluginName must be 3 to 32 characters.")
        if not isinstance(developer, str) or not 3 <= len(developer) <= 32:
            raise _Error(53, "pluginDeveloper must be 3 to 32 characters.")
        if self._decision is not None and not self._decision.done():
            raise _Error(51, "A token request is currently ongoing.")
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
            raise _Error(50, "User has denied API access for your plugin.")
        token = secrets.token_hex(32)
        self.tokens.add(token)
        return {"authenticationToken": token}

    def _authenticate(self, session: _Session, data: dict[str, Any]) -> dict[str, Any]:
        token = data.get("authenticationToken")
        if not isinstance(token, str) or not token:
            raise _Error(100, "authenticationToken is missing.")
        if not data.get("pluginName"):
            raise _Error(101, "pluginName is missing.")
        if not data.get("pluginDeveloper"):
            raise _Error(102, "pluginDeveloper is missing.")
        accepted = token in self.tokens
        self.logins.append((token, accepted))
        if not accepted:
            return {"authenticated": False, "reason": "Token invalid or revoked."}
        session.token = token
        return {
            "authenticated": True,
            "reason": "Token valid. The plugin is authenticated for the duration of this session.",
        }

    def _model(self) -> dict[str, Any]:
        if not self.model_loaded:
            return {"modelLoaded": False, "modelName": "", "modelID": ""}
        return {"modelLoaded": True, "modelName": self.model_name, "modelID": "fake-model-id"}

    def _trigger(self, data: dict[str, Any]) -> dict[str, Any]:
        wanted = str(data.get("hotkeyID", ""))
        if not self.model_loaded:
            raise _Error(201, "No model is loaded.")
        hotkey = next((h for h in self.hotkeys if h.id == wanted), None) or next(
            (h for h in self.hotkeys if h.name and h.name.casefold() == wanted.casefold()), None
        )
        if hotkey is None:
            raise _Error(202, f"Hotkey {wanted!r} not found in model.")
        self.triggered.append((time.monotonic(), hotkey.name))
        if hotkey.type == "ToggleExpression" and hotkey.file in self.expressions:
            self._set_expression(hotkey.file, not self.expressions[hotkey.file])
        return {"hotkeyID": hotkey.id}

    def _expression_state(self, data: dict[str, Any]) -> dict[str, Any]:
        file = str(data.get("expressionFile") or "")
        if file and not file.endswith(".exp3.json"):
            raise _Error(600, "expressionFile must end in .exp3.json.")
        if file and file not in self.expressions:
            raise _Error(601, f"Expression {file!r} not found in model.")
        files = [file] if file else list(self.expressions) if self.model_loaded else []
        return {**self._model(), "expressions": [self._expression(f) for f in files]}

    def _expression(self, file: str) -> dict[str, Any]:
        return {
            "name": file.removesuffix(".exp3.json"),
            "file": file,
            "active": self.expressions[file],
            "deactivateWhenKeyIsLetGo": False,
            "autoDeactivateAfterSeconds": False,
            "secondsRemaining": 0,
            "usedInHotkeys": [],
            "parameters": [],
        }

    def _activate(self, data: dict[str, Any]) -> dict[str, Any]:
        file = str(data.get("expressionFile") or "")
        if not file.endswith(".exp3.json"):
            raise _Error(650, "expressionFile must end in .exp3.json.")
        if not self.model_loaded:
            raise _Error(652, "No model is loaded.")
        if file not in self.expressions:
            raise _Error(651, f"Expression {file!r} not found in model.")
        self._set_expression(file, bool(data.get("active")))
        return {}

    def _set_expression(self, file: str, active: bool) -> None:
        self.expressions[file] = active
        self.expression_changes.append((time.monotonic(), file, active))

    def _inject(self, data: dict[str, Any]) -> dict[str, Any]:
        mode = data.get("mode", "set")
        if mode not in ("set", "add", None):
            raise _Error(455, f"Unknown mode {mode!r}.")
        values = data.get("parameterValues")
        if not isinstance(values, list) or not values:
            raise _Error(450, "No data provided.")
        received: dict[str, float] = {}
        for item in values:
            if not isinstance(item, dict):
                raise _Error(450, "No data provided.")
            name, value = item.get("id"), item.get("value")
            if not isinstance(value, int | float) or not -VALUE_LIMIT <= value <= VALUE_LIMIT:
                raise _Error(451, f"Value for {name!r} is invalid.")
            weight = item.get("weight", 1)
            if not isinstance(weight, int | float) or not 0 <= weight <= 1:
                raise _Error(452, f"Weight for {name!r} is invalid.")
            if name not in self.parameters:
                raise _Error(453, f"Parameter {name!r} not found.")
            received[str(name)] = float(value)
        self.injected.append((time.monotonic(), received))
        return {}


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
