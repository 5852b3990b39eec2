"""Which server `kagura chat` talks to, and as whom.

The chat is the streamer's voice on the stage, so it connects to `/proxy-ws` as the admin.
The URL comes from `--url` (a `ws://…/proxy-ws` URL, or the server's `http://` base), else
from the config's `system.host` and `system.port`, as `kagura serve` would listen. The
token: `--token`, else the admin token this machine knows (`kagura.auth.known_admin_token`:
the config's, `KAGURA_AUTH_TOKEN`, or the one the server saved); without one a loopback
server trusts the chat as it trusts every local client.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from kagura.auth import Role, is_loopback, known_admin_token, role_token
from kagura.config import KaguraConfig
from kagura.link import StageUrlError, safe_url, served_stage_url, stage_address


class TargetError(ValueError):
    """A URL or token the chat cannot use; the text names it and what to do."""


@dataclass(frozen=True)
class Target:
    stage_url: str  # ws(s)://host:port/proxy-ws, without a query
    base_url: str  # http(s)://host:port
    token: str  # the admin token, "" for none

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.base_url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def local(self) -> bool:
        """A server on this machine: one the chat may start itself."""
        return is_loopback(self.host)

    @property
    def health_url(self) -> str:
        return f"{self.base_url}/health"

    @property
    def shown(self) -> str:
        """The stage URL fit for messages and logs (never a token)."""
        return safe_url(self.stage_url)

    def page_url(self) -> str:
        """The stage page; with the page token (never the admin's) when there is a token,
        so the browser's history holds nothing that could drive the character."""
        page = f"{self.base_url}/stage"
        return f"{page}?token={role_token(self.token, Role.PAGE)}" if self.token else page

    @classmethod
    def resolve(cls, config: KaguraConfig, url: str | None, token: str | None) -> Target:
        try:
            stage, base = stage_address(url or served_stage_url(config))
        except StageUrlError as exc:
            raise TargetError(str(exc)) from None
        return cls(stage, base, (token or known_admin_token(config)).strip())
