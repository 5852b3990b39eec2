"""The one way Kagura's own clients connect to Kagura.

Four programs are clients of a Kagura server: `kagura live`'s link to `/proxy-ws` (role
platform), `kagura chat` (role admin on `/proxy-ws`), `kagura perform` (role page on
`/proxy-ws`) and the widget channel's sender client.
They connect the same way: the token as a Bearer header (it stays out of access logs), one
set of limits (open and close timeouts, one heartbeat), a user agent that names the client,
and an incoming frame limit that fits what that client hears (`Client`).

Kagura refuses a token, role or origin either before the upgrade (HTTP 400/401/403, as the
standalone widget listener does) or just after it (close 4400/4401/4403, as `/proxy-ws`
does). Neither changes by retrying, so `keep_connected` raises `Refusal` instead of trying
again; any other end is retried after the one `Backoff`, which starts over only once a
connection has lived a while, so that a server that accepts and drops at once is not hammered.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.frames import Close

from kagura.auth import REFUSAL_STATUS, REFUSALS
from kagura.backoff import Backoff
from kagura.config import KaguraConfig

log = logging.getLogger(__name__)

OPEN_TIMEOUT_S = 10.0  # TCP, TLS and the WebSocket handshake together
CLOSE_TIMEOUT_S = 2.0  # for the server's answer to our close; a Kagura server answers at once
HEARTBEAT_S = 20.0  # a ping this often; no pong within as long and the connection is dead
# When no setting says otherwise (the widget sender): 0.5 s, doubling up to 10 s.
RECONNECT_INITIAL_S = 0.5
RECONNECT_MAX_S = 10.0
MAX_REASON_CHARS = 200  # of a refusal's reason or an error, in messages and logs
# The HTTP statuses that mean a refusal, each with the close code of the same meaning.
REFUSED_STATUSES: dict[int, int] = {status: code for code, status in REFUSAL_STATUS.items()}


@dataclass(frozen=True)
class Client:
    """One of Kagura's clients: how it names itself, and the largest frame it accepts (a
    larger one closes the connection with 1009, so a confused server cannot flood it)."""

    user_agent: str
    max_frame_bytes: int


# `kagura chat` hears the show: each reply segment comes as a base64 WAV frame.
CHAT = Client("kagura-chat", 32 * 2**20)
# `kagura perform` hears the same show, as a page does.
PERFORM = Client("kagura-perform", 32 * 2**20)
# A platform client hears only its greeting, errors and acknowledgements; the largest frame
# is the connect sequence's `set-model-and-conf`, well under this.
LIVE = Client("kagura-live", 2**20)
# The widget server answers a sender with small receipts and delivery reports only.
WIDGET_SENDER = Client("kagura-widget-sender", 64 * 2**10)


def connect(
    url: str, *, token: str, client: Client, ssl_context: ssl.SSLContext | None = None
) -> ws_connect:
    """A connection to Kagura at `url` with `client`'s limits: await it, or `async with` it.
    `token` ("" for none) goes in the Authorization header; without `ssl_context` a wss://
    URL is checked against the system's CAs."""
    tls: dict[str, Any] = {"ssl": ssl_context} if ssl_context is not None else {}
    return ws_connect(
        url,
        additional_headers={"Authorization": f"Bearer {token}"} if token else {},
        user_agent_header=client.user_agent,
        max_size=client.max_frame_bytes,
        open_timeout=OPEN_TIMEOUT_S,
        close_timeout=CLOSE_TIMEOUT_S,
        ping_interval=HEARTBEAT_S,
        ping_timeout=HEARTBEAT_S,
        **tls,
    )


STAGE_PATH = "/proxy-ws"
ANY_ADDRESS = {"0.0.0.0", "::", ""}


class StageUrlError(ValueError):
    """A stage address a client cannot use; the text says what it must look like."""


def safe_url(url: str) -> str:
    """`url` fit for a log line: no user info, no query, no fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def stage_address(given: str) -> tuple[str, str]:
    """The stage's ws(s)://host:port/proxy-ws and the server's http(s)://host:port, from
    either (a user types whichever they have at hand); never with user info or a query."""
    parts = urlsplit(given)
    if parts.scheme not in ("ws", "wss", "http", "https") or not parts.hostname:
        raise StageUrlError(
            f"--url must be the stage's ws://host:port{STAGE_PATH} or the server's "
            f"http://host:port, got {safe_url(given)!r}"
        )
    secure = parts.scheme in ("wss", "https")
    netloc = parts.netloc.rpartition("@")[2]
    path = parts.path.rstrip("/")
    if not path.endswith(STAGE_PATH):
        path = f"{path}{STAGE_PATH}"
    stage = urlunsplit(("wss" if secure else "ws", netloc, path, "", ""))
    base_path = path.removesuffix(STAGE_PATH)
    base = urlunsplit(("https" if secure else "http", netloc, base_path, "", ""))
    return stage, base


def served_stage_url(config: KaguraConfig) -> str:
    """Where `kagura serve` with this config listens (any address: this machine's loopback)."""
    host = config.system.host
    host = "127.0.0.1" if host in ANY_ADDRESS else host
    if ":" in host:
        host = f"[{host}]"
    return f"ws://{host}:{config.system.port}{STAGE_PATH}"


def with_query(url: str, name: str, value: str) -> str:
    """`url` with `name=value` in its query, replacing any value it had."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    query.append((name, value))
    return urlunsplit(parts._replace(query=urlencode(query)))


class Refusal(Exception):
    """Kagura refused this client (its token, role or origin): retrying cannot help.
    `code` is the close code of the refusal's meaning; `status` the HTTP status when the
    server refused before the upgrade."""

    def __init__(self, code: int, reason: str, *, status: int | None = None) -> None:
        self.code = code
        self.status = status
        self.reason = reason.strip()[:MAX_REASON_CHARS]
        super().__init__(code, self.reason)

    def __str__(self) -> str:
        """What the server said, as it said it: `close 4401: wrong token`."""
        said = f"close {self.code}" if self.status is None else f"HTTP {self.status}"
        return f"{said}: {self.reason}" if self.reason else said

    @property
    def meaning(self) -> str:
        return REFUSALS.get(self.code, "refused")

    def explained(self) -> str:
        """What it means, then what the server said: `wrong or missing token (close 4401:
        wrong token)`."""
        return f"{self.meaning} ({self})"


def refusal_of(ws: ClientConnection) -> Refusal | None:
    """The refusal the server closed `ws` with, if it did."""
    close = ws.protocol.close_rcvd
    if close is None or close.code not in REFUSALS:
        return None
    return Refusal(close.code, close.reason)


def refusal_of_status(exc: InvalidStatus) -> Refusal | None:
    """The refusal an HTTP answer to the upgrade means, if it is one."""
    status = exc.response.status_code
    code = REFUSED_STATUSES.get(status)
    if code is None:
        return None
    return Refusal(code, bytes(exc.response.body).decode(errors="replace"), status=status)


def why_it_ended(ws: ClientConnection) -> str:
    """How a connection ended, for a log line: which side closed it, with what code."""
    protocol = ws.protocol
    if protocol.close_sent is not None and not protocol.close_rcvd_then_sent:
        return f"closed here ({_close(protocol.close_sent)})"  # e.g. 1009, a frame too large
    if protocol.close_rcvd is not None:
        return f"closed ({_close(protocol.close_rcvd)})"
    return "connection lost"


def describe(exc: BaseException) -> str:
    """An error, short enough for a log line."""
    return (str(exc) or type(exc).__name__)[:MAX_REASON_CHARS]


async def keep_connected(
    opening: Callable[[], ws_connect],
    serve: Callable[[ClientConnection], Awaitable[None]],
    backoff: Backoff,
    retrying: Callable[[str, float], None],
) -> NoReturn:
    """Open a connection (`opening()`, e.g. a `connect` with its arguments), `serve` it until
    it ends, wait `backoff`, again, until cancelled; raises `Refusal` when Kagura refuses.
    `retrying(problem, delay)` hears every retry. An error in `serve` is logged and the
    connection retried: a bug must not end a client that is meant to stay up."""
    while True:
        ws: ClientConnection | None = None
        opened_at: float | None = None
        problem = ""
        try:
            async with opening() as ws:
                opened_at = time.monotonic()
                await serve(ws)
        except InvalidStatus as exc:
            refused = refusal_of_status(exc)
            if refused is not None:
                raise refused from None
            problem = f"HTTP {exc.response.status_code}"
        except (OSError, TimeoutError, WebSocketException) as exc:
            problem = describe(exc)
        except Exception as exc:
            log.exception("unexpected error on a connection to Kagura; reconnecting")
            problem = f"unexpected error: {describe(exc)}"
        if ws is not None:
            refused = refusal_of(ws)
            if refused is not None:
                raise refused
            problem = problem or why_it_ended(ws)
        delay = backoff.after(None if opened_at is None else time.monotonic() - opened_at)
        retrying(problem, delay)
        await asyncio.sleep(delay)


def _close(close: Close) -> str:
    return f"{close.code} {close.reason}".strip()
