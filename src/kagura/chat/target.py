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
from urllib.parse import urlsplit, urlunsplit

from kagura.auth import Role, is_loopback, known_admin_token, role_token
from kagura.config import KaguraConfig
from kagura.live.settings import safe_url

STAGE_PATH = "/proxy-ws"
ANY_ADDRESS = {"0.0.0.0", "::", ""}


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
        given = url or _configured(config)
        parts = urlsplit(given)
        if parts.scheme not in ("ws", "wss", "http", "https") or not parts.hostname:
            raise TargetError(
                f"--url must be the stage's ws://host:port{STAGE_PATH} or the server's "
                f"http://host:port, got {safe_url(given)!r}"
            )
        secure = parts.scheme in ("wss", "https")
        netloc = parts.netloc.rpartition("@")[2]  # never user info
        path = parts.path.rstrip("/")
        if parts.scheme.startswith("http") or not path:
            path = f"{path}{STAGE_PATH}" if not path.endswith(STAGE_PATH) else path
        base_path = path.removesuffix(STAGE_PATH)
        stage = urlunsplit(("wss" if secure else "ws", netloc, path, "", ""))
        base = urlunsplit(("https" if secure else "http", netloc, base_path, "", ""))
        return cls(stage, base, (token or known_admin_token(config)).strip())


def _configured(config: KaguraConfig) -> str:
    """Where `kagura serve` with this config listens (any address: this machine's loopback)."""
    host = config.system.host
    host = "127.0.0.1" if host in ANY_ADDRESS else host
    if ":" in host:
        host = f"[{host}]"
    return f"ws://{host}:{config.system.port}{STAGE_PATH}"
