"""The file `kagura live youtube login` writes: the streamer's OAuth tokens.

It holds the refresh token (which lasts until the streamer revokes access) and the current
access token with its expiry (about an hour), plus the OAuth client they belong to. Whoever
reads it can post as the channel, so it is private (`kagura.live.private_file`: mode 0600
from the first byte, replaced atomically). Deleting the file logs out; revoking the access
at myaccount.google.com/permissions ends it for good.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from kagura.config import KaguraConfig, YouTubeConfig
from kagura.live.private_file import read_private, write_private

from .oauth import Tokens

DEFAULT_NAME = "youtube-login.json"
LOGIN_COMMAND = "kagura live youtube login"


class LoginFileError(Exception):
    """The login file exists but cannot be read as one (the text says why, never what)."""


@dataclass(frozen=True)
class YouTubeLogin:
    client_id: str
    refresh_token: str
    access_token: str = ""
    expires_at: float = 0.0  # unix time
    scope: str = ""

    def with_tokens(self, tokens: Tokens) -> YouTubeLogin:
        """After a refresh: the new access token (and a new refresh token, if Google sent
        one; it usually does not)."""
        return dataclasses.replace(
            self,
            access_token=tokens.access_token,
            expires_at=tokens.expires_at,
            refresh_token=tokens.refresh_token or self.refresh_token,
            scope=tokens.scope or self.scope,
        )


def where(settings: KaguraConfig, section: YouTubeConfig) -> Path:
    """Where the login is kept: live.youtube.login_file, else data_dir/youtube-login.json,
    resolved as the config file's other paths (the login command and the reader agree)."""
    if section.login_file:
        return settings.resolve_path(section.login_file)
    return settings.resolve_path(settings.system.data_dir) / DEFAULT_NAME


def read(path: Path) -> YouTubeLogin | None:
    """The login saved at `path`; None when there is none. `LoginFileError` when the file
    is there but unreadable or malformed."""
    try:
        text = read_private(path)
    except OSError as exc:
        raise LoginFileError(f"{path}: cannot read it ({exc.strerror})") from None
    if text is None:
        return None
    try:
        data = json.loads(text)
        login = YouTubeLogin(
            client_id=str(data["client_id"]),
            refresh_token=str(data["refresh_token"]),
            access_token=str(data.get("access_token") or ""),
            expires_at=float(data.get("expires_at") or 0),
            scope=str(data.get("scope") or ""),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise LoginFileError(
            f"{path}: not a YouTube login file (run `{LOGIN_COMMAND}` again)"
        ) from None
    if not login.refresh_token:
        raise LoginFileError(f"{path}: no refresh token in it (run `{LOGIN_COMMAND}` again)")
    return login


def write(path: Path, login: YouTubeLogin) -> None:
    write_private(path, json.dumps(dataclasses.asdict(login), indent=2).encode())
