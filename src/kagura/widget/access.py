"""Who may use the widget channel: `kagura serve`'s rules (`kagura.auth`), on both carriers
of the hub.

The standalone server answers on a port of its own, so it checks what the main server
checks, with the same code: on loopback the Host header (a DNS-rebinding page reaches
127.0.0.1 under its own name, and its Origin then looks like the same origin), browser
origins always, and the token whenever it listens beyond this machine — where it refuses to
start without one rather than serve everyone. A widget reads every reply and a sender puts
words on every page, so only the admin role may connect as a sender.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit

from kagura.auth import (
    CLOSE_BAD_REQUEST,
    CLOSE_FORBIDDEN,
    TOKEN_ENV,
    AuthSettings,
    Handshake,
    Refused,
    Role,
)
from kagura.config import WidgetConfig

from .hub import Kind

log = logging.getLogger(__name__)


class WidgetAuthError(RuntimeError):
    """The standalone server would listen beyond loopback without a token."""


def peer_kind(query: str) -> Kind | None:
    """`?kind=widget` (the default) or `?kind=sender`; None for anything else."""
    kind = parse_qs(query).get("kind", ["widget"])[-1]
    return kind if kind in ("widget", "sender") else None  # type: ignore[return-value]


def widget_auth(
    host: str, config: WidgetConfig, *, token: str = "", require_on_loopback: bool = False
) -> AuthSettings:
    """The rules for a listener on `host`: `token` (else `KAGURA_AUTH_TOKEN`) required
    beyond loopback, the Host header checked on loopback, `config.allowed_origins` extra."""
    return AuthSettings.for_host(
        host,
        token=token,
        require_on_loopback=require_on_loopback,
        allowed_origins=config.allowed_origins,
    )


def require_token(auth: AuthSettings, host: str) -> None:
    """Refuse (`WidgetAuthError`) to listen where a token is required but none is set."""
    if auth.required and not auth.token:
        where = "beyond this machine" if not auth.loopback_only else "with a required token"
        message = (
            f"the widget server would listen on {host!r} ({where}) without a token: set "
            f"system.auth_token or {TOKEN_ENV}, or listen on 127.0.0.1"
        )
        log.error("%s", message)
        raise WidgetAuthError(message)


def admit_kind(role: Role, query: str) -> Kind:
    """The peer's kind, or `Refused`: a bad `?kind=`, or a sender without the admin role."""
    kind = peer_kind(query)
    if kind is None:
        raise Refused(CLOSE_BAD_REQUEST, "kind must be widget or sender")
    if kind == "sender" and role is not Role.ADMIN:
        raise Refused(CLOSE_FORBIDDEN, "only the admin role may connect as a sender")
    return kind


def admit(auth: AuthSettings, path: str, headers: Iterable[tuple[str, str]]) -> Kind:
    """Check a handshake that did not come through Starlette (the `websockets` listener)."""
    query = urlsplit(path).query
    return admit_kind(auth.check(Handshake.of(headers, query)), query)
