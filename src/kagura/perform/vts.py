"""Kagura as a VTube Studio plugin: connect, be allowed, learn the model, perform on it.

The connection is kept with a backoff, forever: VTube Studio may start after the performer,
be restarted, or have its API switched off for a while. Whatever happens on this side, the
voice plays on: VTube Studio missing or the plugin denied is said once, clearly, and the
model simply does not move.

Being allowed: the token saved by an earlier run authenticates the session; without one
(or when VTube Studio no longer accepts it: the streamer revoked the plugin) a new one is
requested, which makes VTube Studio ask the streamer in a pop-up. A denial is final for
this run: asking again and again would pester the streamer in the middle of a stream.

Performing: emotions switch the mapped expression (`emotions`) through a short queue of
actions, one at a time, so a slow answer never holds the mouth back; the mouth is sent
without waiting for answers, many times a second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from kagura.backoff import Backoff
from kagura.link import describe as describe_error

from .model import VTSModel
from .token_file import TokenFile
from .vts_api import NOT_ALLOWED, ErrorID, VTSConnection, VTSError, explain

log = logging.getLogger(__name__)

OPEN_TIMEOUT_S = 5.0
CLOSE_TIMEOUT_S = 2.0
MAX_FRAME_BYTES = 4 * 2**20  # the model's hotkey and expression lists are the largest answers
ACTION_QUEUE = 16  # emotions waiting to be shown; when full the oldest goes (it is stale)
STABLE_S = 10.0  # a connection that lived this long starts the backoff over
# Errors that mean the model is not the one learnt: learn it again.
STALE_MODEL = {
    ErrorID.HOTKEY_NOT_FOUND,
    ErrorID.HOTKEY_NO_MODEL,
    ErrorID.EXPRESSION_FILE_NOT_FOUND,
    ErrorID.EXPRESSION_NO_MODEL,
}


class Denied(Exception):
    """The streamer did not allow the plugin: nothing more is asked this run."""


@dataclass(frozen=True)
class VTSSettings:
    url: str
    token_file: Path
    plugin_name: str
    plugin_developer: str
    hotkeys: dict[str, str]
    request_timeout_s: float
    approval_timeout_s: float
    backoff_initial_s: float
    backoff_max_s: float


Action = tuple[Literal["show", "rest", "refresh"], str]


class VTubeStudio:
    def __init__(self, settings: VTSSettings) -> None:
        self.settings = settings
        self.tokens = TokenFile(settings.token_file)
        self.denied = False
        self._conn: VTSConnection | None = None  # set once allowed: the mouth may be sent
        self._actions: asyncio.Queue[Action] = asyncio.Queue(ACTION_QUEUE)
        self.model = VTSModel(settings.hotkeys)
        self._closing: asyncio.Task[None] | None = None
        self._said: set[int] = set()  # streamed errors already logged on this connection
        self._connected_once = False
        self._told_down = False

    # -- what the performer asks for --------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._conn is not None

    def set_emotions(self, emotions: list[str]) -> None:
        """The character's emotion tags (its model's emotionMap keys)."""
        if emotions != self.model.emotions:
            self.model.emotions = emotions
            if self.ready:
                self.model.map()

    def show(self, emotion: str) -> None:
        """Switch to `emotion`'s expression (or fire its hotkey)."""
        self._act(("show", emotion))

    def rest(self) -> None:
        """Switch off the expression an emotion switched on."""
        self._act(("rest", ""))

    def refresh(self) -> None:
        """Learn the model's hotkeys again (the streamer may have loaded another model)."""
        self._act(("refresh", ""))

    async def mouth(self, values: dict[str, float]) -> None:
        """Set tracking parameters (mouth, smile) now; nothing while not connected."""
        conn = self._conn
        if conn is None:
            return
        parameters = [{"id": name, "value": round(value, 4)} for name, value in values.items()]
        data = {"faceFound": False, "mode": "set", "parameterValues": parameters}
        try:
            await conn.send("InjectParameterDataRequest", data)
        except (ConnectionClosed, OSError):
            pass  # the session ends, and reconnects
        except TimeoutError:
            log.warning("VTube Studio stopped reading; reconnecting")
            self._close(conn)

    def _act(self, action: Action) -> None:
        if not self.ready and action[0] != "rest":
            return  # the model is learnt on connecting; one not connected shows nothing
        if self._actions.full():
            self._actions.get_nowait()
        self._actions.put_nowait(action)

    # -- the connection -----------------------------------------------------------------------

    async def run(self) -> None:
        """Stay connected until cancelled, or until the streamer denies the plugin."""
        settings = self.settings
        backoff = Backoff(settings.backoff_initial_s, settings.backoff_max_s, stable_s=STABLE_S)
        while True:
            opened_at: float | None = None
            problem = "VTube Studio closed the connection"
            try:
                async with connect(
                    settings.url,
                    open_timeout=OPEN_TIMEOUT_S,
                    close_timeout=CLOSE_TIMEOUT_S,
                    max_size=MAX_FRAME_BYTES,
                    user_agent_header="kagura-perform",
                ) as ws:
                    opened_at = time.monotonic()
                    await self._session(
                        VTSConnection(
                            ws, timeout_s=settings.request_timeout_s, on_error=self._streamed_error
                        )
                    )
            except Denied as exc:
                self.denied = True
                log.error("VTube Studio: %s; the model will not move, the voice plays on", exc)
                return
            except VTSError as exc:
                problem = explain(exc)
            except (OSError, TimeoutError, WebSocketException) as exc:
                problem = describe_error(exc)
            finally:
                self._conn = None
            delay = backoff.after(None if opened_at is None else time.monotonic() - opened_at)
            self._tell_down(problem, delay)
            await asyncio.sleep(delay)

    def _tell_down(self, problem: str, delay: float) -> None:
        """Said once until VTube Studio is back; then only in the debug log."""
        if self._told_down:
            log.debug("VTube Studio: %s; trying again in %.1f s", problem, delay)
            return
        self._told_down = True
        if self._connected_once:
            log.warning(
                "lost VTube Studio (%s); the voice plays on, reconnecting in the background",
                problem,
            )
        else:
            log.warning(
                "VTube Studio does not answer at %s (%s): is it running, with 'Start API' on "
                "in its settings? The voice plays on; trying again in the background",
                self.settings.url,
                problem,
            )

    async def _session(self, conn: VTSConnection) -> None:
        reader = asyncio.create_task(conn.run())
        try:
            state = await conn.call("APIStateRequest")
            await self._authenticate(conn)
            self._said.clear()
            self._conn = conn
            await self.model.learn(conn)
            again = " again" if self._connected_once else ""
            log.info(
                "VTube Studio %s connected%s: the plugin %r is allowed",
                state.get("vTubeStudioVersion", "?"),
                again,
                self.settings.plugin_name,
            )
            self._connected_once = True
            self._told_down = False
            await self._perform(conn, reader)
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    async def _perform(self, conn: VTSConnection, reader: asyncio.Task[None]) -> None:
        """Carry out the queued actions, one at a time, until the connection ends."""
        while not reader.done():
            getting = asyncio.ensure_future(self._actions.get())
            await asyncio.wait([getting, reader], return_when=asyncio.FIRST_COMPLETED)
            if not getting.done():
                getting.cancel()
                break
            kind, emotion = getting.result()
            try:
                await self._carry_out(conn, kind, emotion)
            except VTSError as exc:
                if exc.error_id in NOT_ALLOWED:
                    raise  # the plugin lost its access: a new session asks again
                log.warning("VTube Studio: %s", explain(exc))
                if exc.error_id in STALE_MODEL:
                    self.refresh()
            except (TimeoutError, ConnectionError) as exc:
                log.warning("VTube Studio did not carry out %s: %s", kind, describe_error(exc))

    async def _carry_out(self, conn: VTSConnection, kind: str, emotion: str) -> None:
        if kind == "refresh":
            await self.model.learn(conn)
        elif kind == "rest":
            await self.model.rest(conn)
        elif kind == "show":
            await self.model.show(conn, emotion)

    # -- being allowed -------------------------------------------------------------------------

    async def _authenticate(self, conn: VTSConnection) -> None:
        token = self.tokens.read()
        if token:
            if await self._login(conn, token):
                return
            log.warning(
                "VTube Studio no longer accepts the saved plugin token (was the plugin's "
                "access revoked?); asking the streamer again"
            )
        token = await self._ask(conn)
        try:
            self.tokens.write(token)
        except OSError as exc:
            log.warning(
                "cannot save the VTube Studio token in %s (%s): the streamer will be "
                "asked again next time",
                self.tokens.path,
                exc,
            )
        if not await self._login(conn, token):
            raise VTSError(
                "AuthenticationRequest", -1, "the token VTube Studio just gave is refused"
            )

    async def _login(self, conn: VTSConnection, token: str) -> bool:
        data = await conn.call(
            "AuthenticationRequest", {**self._plugin(), "authenticationToken": token}
        )
        return bool(data.get("authenticated"))

    async def _ask(self, conn: VTSConnection) -> str:
        timeout = self.settings.approval_timeout_s
        log.warning(
            "VTube Studio asks the streamer to allow the plugin %r: click 'Allow' in its "
            "pop-up (waiting up to %g s)",
            self.settings.plugin_name,
            timeout,
        )
        try:
            data = await conn.call("AuthenticationTokenRequest", self._plugin(), timeout)
        except VTSError as exc:
            if exc.error_id == ErrorID.TOKEN_REQUEST_DENIED:
                raise Denied(
                    f"the streamer denied the plugin {self.settings.plugin_name!r} (to ask "
                    "again, restart `kagura perform vts`)"
                ) from None
            raise
        except TimeoutError:
            raise TimeoutError(f"nobody allowed the plugin within {timeout:g} s") from None
        token = str(data.get("authenticationToken", "")).strip()
        if not token:
            raise VTSError("AuthenticationTokenRequest", -1, "VTube Studio sent no token")
        return token

    def _plugin(self) -> dict[str, Any]:
        return {
            "pluginName": self.settings.plugin_name,
            "pluginDeveloper": self.settings.plugin_developer,
        }

    # -- errors ----------------------------------------------------------------------------------

    def _streamed_error(self, error: VTSError) -> None:
        """An error in the answer to the mouth: said once per connection; a lost access ends
        the connection, so that the next one asks again."""
        conn = self._conn
        if error.error_id in NOT_ALLOWED and conn is not None:
            self._close(conn)
            return
        if error.error_id not in self._said:
            self._said.add(error.error_id)
            log.warning("VTube Studio: %s", explain(error))

    def _close(self, conn: VTSConnection) -> None:
        """End this session from outside it: the next one starts over (and asks again)."""
        self._conn = None
        self._closing = asyncio.ensure_future(conn.ws.close())
