"""Log in to Bilibili by scanning a QR code with the Bilibili app.

The passport gives a QR code, then is asked every `login_poll_s` how far the phone got;
whoever watches (`Watcher`: the terminal of `kagura live bilibili login`, or the stage
page's admin panel through the server) is told the QR code and each new state once: not
scanned yet, scanned (confirm on the phone); an expired code is a `LoginFailed`. On success
the cookies and the refresh token go to the login file (mode 0600, see `login_file`) and the
account is named. Nothing secret is shown: the QR code's URL carries only a one-time key,
which is useless once the login is done or expired.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from kagura.config import BilibiliConfig
from kagura.live.qr import qr_text

from . import login_file
from .api import ApiError
from .passport import QR_EXPIRED, QR_SCANNED, QR_SUCCESS, QR_WAITING, Passport

QR_LIFETIME_S = 180.0  # Bilibili's QR keys expire after three minutes
WAIT_SLACK_S = 20.0  # beyond that, in case the passport never says "expired"
MAX_POLL_FAILURES = 3  # consecutive polls that cannot reach the passport

SAID = {
    QR_WAITING: "Not scanned yet: open the Bilibili app, tap the scan icon and point it here.",
    QR_SCANNED: "Scanned: now confirm the login on your phone.",
}

Say = Callable[[str], None]


class Watcher(Protocol):
    """Who is shown the QR code and told how far the phone got."""

    def qr(self, url: str) -> None:
        """The QR code to scan encodes `url`."""

    def state(self, code: int) -> None:
        """The passport's new state: QR_WAITING, QR_SCANNED or QR_SUCCESS."""


class TerminalWatcher:
    """The QR code drawn with `say` (a terminal), each state in words."""

    def __init__(self, say: Say) -> None:
        self._say = say

    def qr(self, url: str) -> None:
        self._say(qr_text(url))
        self._say("Scan this QR code with the Bilibili app (it expires in three minutes).")

    def state(self, code: int) -> None:
        self._say(SAID.get(code, "Confirmed."))


class LoginFailed(Exception):
    """The login did not happen; the text says why and what to do."""


async def log_in(config: BilibiliConfig, path: Path, watcher: Watcher) -> str:
    """Log in by QR code and save the login at `path`; returns who is logged in."""
    passport = Passport(config)
    try:
        try:
            url, key = await passport.qr_generate()
        except ApiError as exc:
            raise LoginFailed(f"cannot get a QR code from the passport: {exc}") from None
        watcher.qr(url)
        login = await _wait_for_phone(passport, key, config.login_poll_s, watcher)
        login_file.write(path, login)
        who = await passport.who(login)
    finally:
        await passport.aclose()
    return who


async def _wait_for_phone(
    passport: Passport, key: str, poll_s: float, watcher: Watcher
) -> login_file.Login:
    deadline = time.monotonic() + QR_LIFETIME_S + WAIT_SLACK_S
    last, failures = None, 0
    while time.monotonic() < deadline:
        try:
            poll = await passport.qr_poll(key)
        except ApiError as exc:
            failures += 1
            if failures >= MAX_POLL_FAILURES:
                raise LoginFailed(f"cannot ask whether the QR code was scanned: {exc}") from None
            await asyncio.sleep(poll_s)
            continue
        failures = 0
        if poll.code == QR_SUCCESS and poll.login is not None:
            watcher.state(QR_SUCCESS)
            return poll.login
        if poll.code == QR_EXPIRED:
            raise LoginFailed(
                "the QR code expired before the login was confirmed: run "
                "`kagura live bilibili login` again and scan the new one"
            )
        if poll.code not in SAID:
            raise LoginFailed(f"the passport answered code {poll.code} ({poll.message})")
        if poll.code != last:
            watcher.state(poll.code)
            last = poll.code
        await asyncio.sleep(poll_s)
    raise LoginFailed(
        f"no confirmation within {QR_LIFETIME_S + WAIT_SLACK_S:.0f} s: run "
        "`kagura live bilibili login` again"
    )
