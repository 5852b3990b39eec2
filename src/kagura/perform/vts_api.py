"""VTube Studio's public plugin API on one WebSocket: requests, their answers, its errors.

Every message names the API (`apiName`, `apiVersion`) and carries a `requestID` that the
answer repeats; an answer of type `APIError` carries an `errorID` (VTube Studio's
`Files/ErrorID.cs`) and a message. `call` sends a request and waits (bounded) for its
answer; `send` does not wait, for what is sent many times a second (the mouth): its answer
is read all the same, and an error in it goes to `on_error`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable
from enum import IntEnum
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

log = logging.getLogger(__name__)

API_NAME = "VTubeStudioPublicAPI"
API_VERSION = "1.0"
UNWAITED_ID = "kagura-stream"  # the requestID of the requests nobody waits for
MAX_PENDING = 64  # requests waiting for their answer at once; more is a bug, not a load


class ErrorID(IntEnum):
    """The errors the performer tells apart (VTube Studio's `ErrorID.cs`)."""

    API_ACCESS_DEACTIVATED = 1
    REQUIRES_AUTHENTICATION = 8
    TOKEN_REQUEST_DENIED = 50
    TOKEN_REQUEST_ONGOING = 51
    HOTKEY_QUEUE_FULL = 200
    HOTKEY_NO_MODEL = 201
    HOTKEY_NOT_FOUND = 202
    HOTKEY_COOLDOWN = 203
    INJECT_PARAM_NOT_FOUND = 453
    INJECT_PARAM_CONTROLLED_ELSEWHERE = 454
    EXPRESSION_FILE_NOT_FOUND = 651
    EXPRESSION_NO_MODEL = 652


# Errors that mean the plugin is not (or no longer) allowed: a new token is needed.
NOT_ALLOWED = {ErrorID.TOKEN_REQUEST_DENIED, ErrorID.REQUIRES_AUTHENTICATION}


class VTSError(Exception):
    """VTube Studio answered a request with `APIError`."""

    def __init__(self, request: str, error_id: int, message: str) -> None:
        self.request = request
        self.error_id = error_id
        self.message = message
        super().__init__(f"{request}: error {error_id}: {message}")


def request(message_type: str, data: dict[str, Any] | None, request_id: str) -> str:
    message: dict[str, Any] = {
        "apiName": API_NAME,
        "apiVersion": API_VERSION,
        "requestID": request_id,
        "messageType": message_type,
    }
    if data is not None:
        message["data"] = data
    return json.dumps(message)


class VTSConnection:
    """One open connection to VTube Studio; `run()` reads it until it closes."""

    def __init__(
        self,
        ws: ClientConnection,
        *,
        timeout_s: float,
        on_error: Callable[[VTSError], None],
    ) -> None:
        self.ws = ws
        self.timeout_s = timeout_s
        self.on_error = on_error
        self._ids = itertools.count(1)
        self._pending: dict[str, tuple[str, asyncio.Future[dict[str, Any]]]] = {}

    async def call(
        self, message_type: str, data: dict[str, Any] | None = None, timeout_s: float | None = None
    ) -> dict[str, Any]:
        """Send a request and return its answer's `data`; `VTSError` for an `APIError`,
        `TimeoutError` when no answer comes in time, `ConnectionClosed` when it closes."""
        if len(self._pending) >= MAX_PENDING:
            raise RuntimeError(f"{MAX_PENDING} VTube Studio requests already wait for answers")
        request_id = f"kagura-{next(self._ids)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = (message_type, future)
        try:
            async with asyncio.timeout(self.timeout_s if timeout_s is None else timeout_s):
                await self.ws.send(request(message_type, data, request_id))
                return await future
        finally:
            self._pending.pop(request_id, None)

    async def send(self, message_type: str, data: dict[str, Any]) -> None:
        """Send a request without waiting for its answer (an error goes to `on_error`);
        `TimeoutError` if VTube Studio does not even read it in time."""
        async with asyncio.timeout(self.timeout_s):
            await self.ws.send(request(message_type, data, UNWAITED_ID))

    async def run(self) -> None:
        """Read answers until the connection ends; every waiting `call` then fails."""
        try:
            async for frame in self.ws:
                with contextlib.suppress(ValueError, TypeError):
                    self._answer(json.loads(frame))
        except ConnectionClosed:
            pass
        finally:
            for _, future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("VTube Studio closed the connection"))

    def _answer(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        data = message.get("data")
        data = data if isinstance(data, dict) else {}
        waiting = self._pending.get(str(message.get("requestID")))
        name = waiting[0] if waiting is not None else "a streamed request"
        error = None
        if message.get("messageType") == "APIError":
            error = VTSError(name, int(data.get("errorID", -1)), str(data.get("message", "")))
        if waiting is None:
            if error is not None:
                self.on_error(error)
            return  # an answer to `send`, or an event: nothing waits for it
        future = waiting[1]
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(data)


HINTS = {
    ErrorID.API_ACCESS_DEACTIVATED: "its plugin API is switched off (Settings → Start API)",
    ErrorID.INJECT_PARAM_NOT_FOUND: "the model has no such parameter (perform.vts.mouth_parameter)",
    ErrorID.INJECT_PARAM_CONTROLLED_ELSEWHERE: "another plugin drives the mouth",
    ErrorID.HOTKEY_NOT_FOUND: "the hotkey is gone (was another model loaded?)",
    ErrorID.HOTKEY_NO_MODEL: "no model is loaded",
    ErrorID.EXPRESSION_NO_MODEL: "no model is loaded",
}


def explain(error: VTSError) -> str:
    """The error, with what it means for the streamer when that is known."""
    hint = next((text for code, text in HINTS.items() if code == error.error_id), "")
    return f"{error} ({hint})" if hint else str(error)
