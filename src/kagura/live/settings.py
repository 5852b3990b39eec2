"""What the runner needs from config, environment and flags, resolved once at start.

The platform token comes from, in order: `--token`, `live.token`, the
`KAGURA_PLATFORM_TOKEN` environment variable, or — when the client shares the server's
config file — the platform token derived from the server's admin token (the same one
`kagura tokens` prints). Without any, the client connects without a token, which a
loopback server accepts. URLs are logged without their query (a `?token=` never shows).
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, fields
from urllib.parse import urlsplit

from kagura.auth import Role, known_admin_token, role_token
from kagura.config import KaguraConfig
from kagura.link import safe_url, with_query

PLATFORM_TOKEN_ENV = "KAGURA_PLATFORM_TOKEN"


class SettingError(ValueError):
    """A setting the client cannot start with; the text names it and what to do."""


@dataclass(frozen=True)
class RunnerSettings:
    proxy_url: str
    token: str
    buffer_events: int
    watchdog_s: float
    backoff_initial_s: float
    backoff_max_s: float
    status_interval_s: float
    forward_entries: bool
    forward_likes: bool

    @classmethod
    def load(
        cls, config: KaguraConfig, *, proxy_url: str | None = None, token: str | None = None
    ) -> RunnerSettings:
        live = config.live
        url = proxy_url or live.proxy_url
        if urlsplit(url).scheme not in ("ws", "wss"):
            raise SettingError(
                f"live.proxy_url / --proxy-url must be a ws:// or wss:// URL, got {safe_url(url)!r}"
            )
        # Every other setting is the `live` section's of the same name.
        same = {field.name for field in fields(cls)} - {"proxy_url", "token"}
        token = platform_token(config, token)
        return cls(proxy_url=url, token=token, **live.model_dump(include=same))


def platform_token(config: KaguraConfig, flag: str | None = None) -> str:
    """The token to present on `/proxy-ws` ("" for none); see the module docstring."""
    for candidate in (flag, config.live.token, os.environ.get(PLATFORM_TOKEN_ENV)):
        if candidate:
            return candidate.strip()
    admin = known_admin_token(config)
    return role_token(admin, Role.PLATFORM) if admin else ""


def with_role(url: str, role: str = "platform") -> str:
    """`url` asking for `role`: a platform client never holds more rights than it needs,
    even on a loopback server that would trust it as admin."""
    return with_query(url, "role", role)


def ssl_context(ca_file: str = "") -> ssl.SSLContext:
    """The system's trusted CAs, plus `ca_file` (a PEM, e.g. a test certificate)."""
    context = ssl.create_default_context()
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise SettingError(f"cannot read the CA file {ca_file!r} (--ca-file): {exc}") from None
    return context
