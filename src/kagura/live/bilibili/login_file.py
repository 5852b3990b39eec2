"""The file `kagura live bilibili login` writes: the account's cookies and refresh token.

It holds what a browser would keep after a QR-code login (`SESSDATA`, `bili_jct`,
`DedeUserID`, ...) plus the `refresh_token` the cookie refresh needs. Whoever reads it can
act as the account, so it is private (`kagura.live.private_file`: mode 0600 from the first
byte, replaced atomically). Deleting the file logs out.

The web client takes its cookies from here when `live.bilibili.sessdata` is empty
(`cookies_for`), so one login serves every later `kagura live bilibili`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kagura.config import BilibiliConfig, KaguraConfig
from kagura.live.private_file import read_private, write_private

log = logging.getLogger(__name__)

DEFAULT_NAME = "bilibili-login.json"
# The cookies a QR-code login or a refresh sets that the web client sends back.
KEPT = ("SESSDATA", "bili_jct", "DedeUserID", "DedeUserID__ckMd5", "sid")


class LoginFileError(Exception):
    """The login file exists but cannot be read as one (the text says why, never what)."""


@dataclass(frozen=True)
class Login:
    cookies: dict[str, str] = field(default_factory=dict)
    refresh_token: str = ""

    @property
    def uid(self) -> int:
        try:
            return int(self.cookies.get("DedeUserID", "0"))
        except ValueError:
            return 0

    @property
    def csrf(self) -> str:
        return self.cookies.get("bili_jct", "")

    def with_cookies(self, cookies: Mapping[str, str], refresh_token: str) -> Login:
        kept = {name: value for name, value in cookies.items() if name in KEPT and value}
        return Login({**self.cookies, **kept}, refresh_token)


def read(path: Path) -> Login | None:
    """The login saved at `path`; None when there is none. `LoginFileError` when the file is
    there but unreadable or malformed."""
    try:
        text = read_private(path)
    except OSError as exc:
        raise LoginFileError(f"{path}: cannot read it ({exc.strerror})") from None
    if text is None:
        return None
    try:
        data = json.loads(text)
        cookies = {str(k): str(v) for k, v in dict(data["cookies"]).items()}
        refresh_token = str(data.get("refresh_token") or "")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise LoginFileError(
            f"{path}: not a Bilibili login file (run `kagura live bilibili login` again)"
        ) from None
    if not cookies.get("SESSDATA"):
        raise LoginFileError(f"{path}: no SESSDATA in it (run `kagura live bilibili login`)")
    return Login(cookies, refresh_token)


def write(path: Path, login: Login) -> None:
    """Replace the file at `path` with `login`, atomically, readable only by the user."""
    body = {"cookies": login.cookies, "refresh_token": login.refresh_token}
    write_private(path, json.dumps(body, indent=2).encode())


def where(settings: KaguraConfig, section: BilibiliConfig) -> Path:
    """Where the login is kept: live.bilibili.login_file, else data_dir/bilibili-login.json,
    resolved as the config file's other paths (the login command, the reader and the stage
    page's login all agree)."""
    if section.login_file:
        return settings.resolve_path(section.login_file)
    return settings.resolve_path(settings.system.data_dir) / DEFAULT_NAME


def login_path(config: BilibiliConfig) -> Path | None:
    """The login file the client uses (None: none, `sessdata` is set in the config).
    `cli` resolves `login_file` to an absolute path before the client starts."""
    if config.sessdata or not config.login_file:
        return None
    return Path(config.login_file)


def cookies_for(config: BilibiliConfig) -> dict[str, str] | None:
    """The cookies the web client starts with: `sessdata` from the config when set, else
    the login file's (None: anonymous). An unreadable file costs one warning."""
    if config.sessdata:
        cookies = {"SESSDATA": config.sessdata}
        if config.bili_jct:  # the CSRF token of that login: needed to post replies in chat
            cookies["bili_jct"] = config.bili_jct
        return cookies
    path = login_path(config)
    if path is None:
        return None
    try:
        login = read(path)
    except LoginFileError as exc:
        log.warning("%s; reading anonymously (viewer names masked)", exc)
        return None
    if login is None:
        log.info("no Bilibili login (%s): run `kagura live bilibili login` to see names", path)
        return None
    return dict(login.cookies)
