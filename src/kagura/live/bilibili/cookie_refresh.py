"""Keep a QR-code login alive: Bilibili's cookie refresh, at start and every few hours.

Bilibili asks web sessions to refresh their cookies now and then (`cookie/info` says
when); a session that never does is eventually logged out, and the names go back to
`A***`. The refresh runs beside the reader, never in its way: the rooms start with the
cookies they have, a refresh that works hands the new ones to the running web client
and rewrites the login file, and one that fails costs one warning and is tried again
later (with backoff), the old cookies still in use.

The file is read again at each check, so a `kagura live bilibili login` made while the
client runs (or a refresh by another client on the same file) is picked up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import httpx

from kagura.backoff import Backoff
from kagura.config import BilibiliConfig

from . import login_file
from .api import ApiError
from .login_file import LoginFileError
from .passport import Passport

log = logging.getLogger(__name__)

RETRY_INITIAL_S = 300.0  # after a failed refresh; doubling up to the check interval


def apply(http: httpx.AsyncClient, cookies: Mapping[str, str]) -> None:
    """Give the running web client new cookies (they replace the ones it started with)."""
    for name, value in cookies.items():
        http.cookies.set(name, value)


class CookieRefresher:
    def __init__(self, config: BilibiliConfig, path: Path, http: httpx.AsyncClient) -> None:
        self.config = config
        self.path = path
        self.http = http
        self.every_s = config.refresh_every_h * 3600
        self.refreshed = 0

    async def refresh_once(self, passport: Passport) -> bool:
        """Refresh if Bilibili asks for it; whether it did."""
        login = login_file.read(self.path)
        if login is None:
            return False  # logged out meanwhile
        if not login.refresh_token:
            raise LoginFileError(f"{self.path}: no refresh_token (log in again to keep it fresh)")
        due, timestamp_ms = await passport.needs_refresh(login)
        if not due:
            return False
        refresh_csrf = await passport.refresh_csrf(login, timestamp_ms)
        fresh = await passport.refresh(login, refresh_csrf)
        login_file.write(self.path, fresh)  # saved before the old ones are retired
        apply(self.http, fresh.cookies)
        await passport.confirm(fresh, login.refresh_token)
        self.refreshed += 1
        log.info("Bilibili cookies refreshed (%s)", self.path)
        return True

    async def run(self) -> None:
        """Check now, then every `refresh_every_h`; after a failure sooner, with backoff."""
        backoff = Backoff(min(RETRY_INITIAL_S, self.every_s), self.every_s)
        failing = False
        passport = Passport(self.config)
        try:
            while True:
                try:
                    await self.refresh_once(passport)
                except (ApiError, LoginFileError, ValueError, OSError) as exc:
                    delay = backoff.next_delay()
                    if not failing:
                        log.warning(
                            "refreshing the Bilibili login failed (%s); the current cookies "
                            "stay in use, next try in %.0f s",
                            exc,
                            delay,
                        )
                    failing = True
                    await asyncio.sleep(delay)
                    continue
                if failing:
                    log.info("refreshing the Bilibili login works again")
                failing = False
                backoff.reset()
                await asyncio.sleep(self.every_s)
        finally:
            await passport.aclose()


@contextlib.asynccontextmanager
async def refreshing(config: BilibiliConfig, http: httpx.AsyncClient) -> AsyncIterator[None]:
    """While inside: the login file's cookies kept fresh in `http` (nothing to do when
    the cookies come from `live.bilibili.sessdata`)."""
    path = login_file.login_path(config)
    if path is None:
        yield
        return
    task = asyncio.create_task(CookieRefresher(config, path, http).run(), name="cookie-refresh")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
