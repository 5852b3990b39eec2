"""A valid access token for posting, from the login file, refreshed before it expires.

Google's access tokens last about an hour; the refresh token in the login file gets new
ones (`grant_type=refresh_token`). The token is refreshed when less than
`REFRESH_MARGIN_S` of it is left, and at once after YouTube answered 401 (revoked early).
A refresh that fails for a passing reason (the network, Google's 5xx) is tried
`REFRESH_TRIES` times with backoff, then costs this line only (`RefreshFailed`); one that
cannot succeed (the login revoked or expired: `invalid_grant`; a wrong client) ends posting
with what to do (`PostingRefused`). Reading chat never depends on any of it: it uses the
API key.

The file is read again whenever it changed, so a `kagura live youtube login` made while
the client runs is picked up; a fresh token is saved back (0600), so a restart reuses it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from kagura.backoff import Backoff
from kagura.live.chat_out import PostingRefused

from . import login_file
from .login_file import LOGIN_COMMAND, LoginFileError, YouTubeLogin
from .oauth import OAuthClient, OAuthError

log = logging.getLogger(__name__)

REFRESH_MARGIN_S = 60.0
REFRESH_TRIES = 3
RETRY_INITIAL_S, RETRY_MAX_S = 1.0, 8.0
# Refusals that another try cannot turn around.
LASTING = {"invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope"}


class RefreshFailed(Exception):
    """The access token could not be refreshed just now; a later line tries again."""


class TokenKeeper:
    def __init__(
        self, oauth: OAuthClient, path: Path, clock: Callable[[], float] = time.time
    ) -> None:
        self.oauth = oauth
        self.path = path
        self.clock = clock
        self.refreshed = 0
        self._login: YouTubeLogin | None = None
        self._version: float | None = None  # the file's mtime when it was read
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self.oauth.aclose()

    async def bearer(self) -> str:
        """An access token with at least `REFRESH_MARGIN_S` left."""
        async with self._lock:
            login = self._current()
            if login.access_token and login.expires_at - REFRESH_MARGIN_S > self.clock():
                return login.access_token
            return await self._refresh(login)

    async def renew(self, rejected: str) -> str:
        """A new access token after YouTube rejected `rejected` (unless another was got
        meanwhile)."""
        async with self._lock:
            login = self._current()
            if login.access_token != rejected:
                return login.access_token
            return await self._refresh(login)

    def _current(self) -> YouTubeLogin:
        try:
            version: float | None = self.path.stat().st_mtime
        except OSError:
            version = None
        if self._login is None or version != self._version:
            self._login = self._read()
            self._version = version
        return self._login

    def _read(self) -> YouTubeLogin:
        try:
            login = login_file.read(self.path)
        except LoginFileError as exc:
            raise PostingRefused(str(exc)) from None
        if login is None:
            raise PostingRefused(f"not logged in to YouTube ({self.path}): run `{LOGIN_COMMAND}`")
        if login.client_id != self.oauth.client_id:
            raise PostingRefused(
                f"the login in {self.path} was made with another OAuth client than "
                f"live.youtube.oauth_client_id: run `{LOGIN_COMMAND}` again"
            )
        return login

    async def _refresh(self, login: YouTubeLogin) -> str:
        backoff = Backoff(RETRY_INITIAL_S, RETRY_MAX_S)
        problem: OAuthError | None = None
        for attempt in range(REFRESH_TRIES):
            if attempt:
                await asyncio.sleep(backoff.next_delay())
            try:
                tokens = await self.oauth.refresh(login.refresh_token)
            except OAuthError as exc:
                if exc.error in LASTING:
                    raise PostingRefused(
                        f"Google refused to refresh the YouTube login ({exc.error}"
                        f"{': ' + exc.description if exc.description else ''}): it was revoked "
                        f"or has expired; run `{LOGIN_COMMAND}` again"
                    ) from None
                problem = exc
                continue
            fresh = login.with_tokens(tokens)
            self._save(fresh)
            self.refreshed += 1
            log.info("YouTube access token refreshed (valid for %.0f min)", self._minutes(fresh))
            return fresh.access_token
        raise RefreshFailed(f"cannot refresh the YouTube login: {problem}")

    def _save(self, login: YouTubeLogin) -> None:
        self._login = login
        try:
            login_file.write(self.path, login)
            self._version = self.path.stat().st_mtime
        except OSError as exc:  # the fresh token still works for this run
            log.warning("cannot save the refreshed YouTube login to %s: %s", self.path, exc)

    def _minutes(self, login: YouTubeLogin) -> float:
        return max(0.0, login.expires_at - self.clock()) / 60
