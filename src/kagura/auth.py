"""Who may connect, and what each connection may send.

A token is required on `/client-ws` and `/proxy-ws` whenever the server listens beyond this
machine (and on loopback too with `require_token_on_loopback`). Browsers cannot set headers
on a WebSocket, so the token may come as `?token=...`; programs should prefer an
`Authorization: Bearer ...` header, which stays out of access logs. Browser origins are
checked on every connection: a page from another site cannot drive the character, and a
loopback server only answers to loopback host names (no DNS rebinding).

This module is plain Python (no web framework): the server, `/widget-ws` and the standalone
widget listener hand it a `Handshake` — headers and query — whatever library carried it.

Roles: `platform` (chat clients), `page` (stage page, OBS overlay) and `admin` (the streamer);
what each may send on each endpoint is `kagura.permissions`' table. The token decides the role:
the configured token is the admin's, and the page and platform tokens are derived from it
(`kagura tokens` prints all three), so an overlay URL can never drive the stage. A platform
token may also be bound to one platform (`platform_token`, `kagura tokens --platform NAME`):
its connection may only speak for that platform. `?role=` may
only lower a role. Without a token requirement (a loopback server, the default) local clients
are trusted and `?role=` (default `admin`) is taken as is. A refused connection is accepted
and closed at once with a close code and a reason, so the client can tell what was wrong.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from kagura.config import KaguraConfig

log = logging.getLogger(__name__)

TOKEN_ENV = "KAGURA_AUTH_TOKEN"
TOKEN_FILE = "auth_token"
CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
# What each refusal means, for the client that hears it: it will not change by retrying.
REFUSALS: dict[int, str] = {
    CLOSE_BAD_REQUEST: "bad request",
    CLOSE_UNAUTHORIZED: "wrong or missing token",
    CLOSE_FORBIDDEN: "forbidden",
}
# A listener that refuses before the upgrade answers with the HTTP status of the same meaning.
REFUSAL_STATUS: dict[int, HTTPStatus] = {
    CLOSE_BAD_REQUEST: HTTPStatus.BAD_REQUEST,
    CLOSE_UNAUTHORIZED: HTTPStatus.UNAUTHORIZED,
    CLOSE_FORBIDDEN: HTTPStatus.FORBIDDEN,
}
LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


class Role(StrEnum):
    ADMIN = "admin"
    PAGE = "page"
    PLATFORM = "platform"


RANK = {Role.PLATFORM: 0, Role.PAGE: 1, Role.ADMIN: 2}
# A platform name a token may be bound to (`platform_token`): what platform clients send as
# `source.platform` ("bilibili", "twitch", "youtube", ...).
PLATFORM_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")


def role_token(admin_token: str, role: Role) -> str:
    """The token of `role`: the admin token itself, or one derived from it that cannot be
    turned back into it."""
    if role is Role.ADMIN:
        return admin_token
    digest = hmac.new(admin_token.encode(), f"kagura-role:{role.value}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def platform_token(admin_token: str, platform: str) -> str:
    """A platform token that speaks for `platform` only: `<platform>.<mac>`. Its connection
    may send events of that platform and no other (the plain platform token is bound by its
    first event instead). Derived like the role tokens, so nothing needs to be stored."""
    if not PLATFORM_NAME.fullmatch(platform):
        raise ValueError(f"a platform name is 1-32 letters, digits, '-' or '_', got {platform!r}")
    message = f"kagura-role:platform:{platform.casefold()}".encode()
    digest = hmac.new(admin_token.encode(), message, hashlib.sha256).hexdigest()[:32]
    return f"{platform.casefold()}.{digest}"


@dataclass(frozen=True)
class Grant:
    """What a connection was granted: its role, and for a platform token bound to one
    platform, that platform's name ("": not bound by its token)."""

    role: Role
    platform: str = ""


@dataclass(frozen=True)
class Handshake:
    """What the checks read from an HTTP or WebSocket handshake: headers and the query."""

    headers: Mapping[str, str]  # names in lower case
    query: Mapping[str, str]  # names and values percent-decoded; the last value wins

    @classmethod
    def of(cls, headers: Iterable[tuple[str, str]], query_string: str) -> Handshake:
        return cls(
            {name.lower(): value for name, value in headers},
            dict(parse_qsl(query_string, keep_blank_values=True)),
        )


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin_allowed(origin: str | None, host: str, allowed: frozenset[str]) -> bool:
    """Whether a page from `origin` may connect to the server addressed as `host`: no Origin
    (not a browser), the same origin, a page on this machine, or one of `allowed` (lower
    case, no trailing slash; "*" allows every origin)."""
    if origin is None or "*" in allowed:
        return True
    origin = origin.rstrip("/").lower()
    same_origin = urlsplit(origin).netloc == host.lower()
    return same_origin or is_loopback(urlsplit(origin).hostname or "") or origin in allowed


@dataclass(frozen=True)
class AuthSettings:
    token: str
    required: bool
    loopback_only: bool  # the server listens on loopback only
    allowed_origins: frozenset[str]

    @classmethod
    def for_host(
        cls,
        host: str,
        *,
        token: str = "",
        require_on_loopback: bool = False,
        allowed_origins: Iterable[str] = (),
    ) -> AuthSettings:
        """The rules for a listener on `host`: a token (`token`, else `KAGURA_AUTH_TOKEN`)
        required beyond loopback, the Host header checked on loopback."""
        loopback_only = is_loopback(host)
        return cls(
            token=token or os.environ.get(TOKEN_ENV, ""),
            required=not loopback_only or require_on_loopback,
            loopback_only=loopback_only,
            allowed_origins=frozenset(origin.rstrip("/").lower() for origin in allowed_origins),
        )

    @classmethod
    def load(cls, config: KaguraConfig) -> AuthSettings:
        """The main server's rules; its token: config, environment, the saved or a new one."""
        system = config.system
        settings = cls.for_host(
            system.host,
            token=system.auth_token,
            require_on_loopback=system.require_token_on_loopback,
            allowed_origins=system.allowed_origins,
        )
        if settings.required:
            log.info("clients must present the auth token (?token=... or a Bearer header)")
            if not settings.token:
                token = _saved_or_new_token(config.resolve_path(system.data_dir) / TOKEN_FILE)
                settings = replace(settings, token=token)
        return settings

    def check(self, handshake: Handshake) -> Role:
        """The connection's role, or `Refused` with the close code and a reason."""
        return self.grant(handshake).role

    def grant(self, handshake: Handshake) -> Grant:
        """The connection's role and bound platform, or `Refused` (code and reason)."""
        self._check_origin(handshake.headers)
        asked = handshake.query.get("role")
        try:
            requested = Role(asked) if asked is not None else None
        except ValueError:
            raise Refused(CLOSE_BAD_REQUEST, "role must be admin, page or platform") from None
        presented = _presented_token(handshake)
        if presented is not None and self.token:
            granted = self._grant_of(presented)
        elif self.required:
            raise Refused(CLOSE_UNAUTHORIZED, "a token is required (?token=...)")
        else:
            granted = Grant(Role.ADMIN)  # nothing to check: local clients are trusted
        if requested is None:
            return granted
        if RANK[requested] > RANK[granted.role]:
            raise Refused(CLOSE_FORBIDDEN, f"this token is for the {granted.role.value} role")
        # Lowering an admin's role gives a platform connection bound by its first event.
        return granted if requested is granted.role else Grant(requested)

    def _grant_of(self, presented: str) -> Grant:
        """Which role's token this is, or which platform's; comparisons are constant-time."""
        matched = None
        for role in Role:
            expected = role_token(self.token, role).encode()
            if secrets.compare_digest(presented.encode(), expected):
                matched = Grant(role)
        platform, dot, _ = presented.partition(".")
        if matched is None and dot and PLATFORM_NAME.fullmatch(platform):
            expected = platform_token(self.token, platform).encode()
            if secrets.compare_digest(presented.encode(), expected):
                matched = Grant(Role.PLATFORM, platform.casefold())
        if matched is None:
            raise Refused(CLOSE_UNAUTHORIZED, "wrong token")
        return matched

    def _check_origin(self, headers: Mapping[str, str]) -> None:
        host = urlsplit(f"//{headers.get('host', '')}").hostname or ""
        if self.loopback_only and not is_loopback(host) and not self._allowed_host(host):
            raise Refused(CLOSE_FORBIDDEN, f"host {host!r} not allowed")
        origin = headers.get("origin")
        if not origin_allowed(origin, headers.get("host", ""), self.allowed_origins):
            raise Refused(CLOSE_FORBIDDEN, f"origin {origin!r} not allowed")

    def _allowed_host(self, host: str) -> bool:
        return any(urlsplit(origin).hostname == host for origin in self.allowed_origins)


def known_admin_token(config: KaguraConfig) -> str:
    """The admin token a program on this machine can find without asking: the config's,
    `KAGURA_AUTH_TOKEN`, or the one the server generated and saved in its data folder
    ("" when there is none, e.g. a loopback server that needs none)."""
    token = config.system.auth_token or os.environ.get(TOKEN_ENV, "")
    if token:
        return token.strip()
    try:
        return (config.resolve_path(config.system.data_dir) / TOKEN_FILE).read_text("utf-8").strip()
    except OSError:
        return ""


def _presented_token(handshake: Handshake) -> str | None:
    authorization = handshake.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return handshake.query.get("token")


def _saved_or_new_token(path: Path) -> str:
    """The token saved on an earlier start, or a new one, saved (owner-only)."""
    try:
        saved = path.read_text("utf-8").strip()
    except OSError:
        saved = ""
    if saved:
        log.info("auth token loaded from %s", path)
        return saved
    token = secrets.token_urlsafe(24)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(token + "\n")
    # The token itself stays out of the log: `kagura tokens` prints it for the streamer.
    log.warning("generated an auth token, saved in %s; `kagura tokens` prints it", path)
    return token
