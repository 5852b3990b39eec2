"""`kagura live bilibili login`: log in by scanning a QR code with the Bilibili app.

The QR code is drawn in the terminal (Unicode half blocks); the passport is then asked
every `login_poll_s` how far the phone got, and each new state is said once: not scanned
yet, scanned (confirm on the phone), expired (run the command again). On success the
cookies and the refresh token go to the login file (mode 0600, see `login_file`) and the
account is named. Nothing secret is printed: the QR code's URL carries only a one-time
key, which is useless once the login is done or expired.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from pathlib import Path

import segno

from kagura.config import BilibiliConfig

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


class LoginFailed(Exception):
    """The login did not happen; the text says why and what to do."""


def qr_text(url: str) -> str:
    """The QR code of `url` in Unicode half blocks, dark on light as phones expect."""
    out = io.StringIO()
    segno.make(url, error="l").terminal(out=out, compact=True, border=2)
    return out.getvalue()


async def log_in(config: BilibiliConfig, path: Path, say: Say) -> str:
    """Log in by QR code and save the login at `path`; returns who is logged in."""
    passport = Passport(config)
    try:
        try:
            url, key = await passport.qr_generate()
        except ApiError as exc:
            raise LoginFailed(f"cannot get a QR code from the passport: {exc}") from None
        say(qr_text(url))
        say("Scan this QR code with the Bilibili app (it expires in three minutes).")
        login = await _wait_for_phone(passport, key, config.login_poll_s, say)
        login_file.write(path, login)
        who = await passport.who(login)
    finally:
        await passport.aclose()
    return who


async def _wait_for_phone(
    passport: Passport, key: str, poll_s: float, say: Say
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
            say("Confirmed.")
            return poll.login
        if poll.code == QR_EXPIRED:
            raise LoginFailed(
                "the QR code expired before the login was confirmed: run "
                "`kagura live bilibili login` again and scan the new one"
            )
        if poll.code not in SAID:
            raise LoginFailed(f"the passport answered code {poll.code} ({poll.message})")
        if poll.code != last:
            say(SAID[poll.code])
            last = poll.code
        await asyncio.sleep(poll_s)
    raise LoginFailed(
        f"no confirmation within {QR_LIFETIME_S + WAIT_SLACK_S:.0f} s: run "
        "`kagura live bilibili login` again"
    )
