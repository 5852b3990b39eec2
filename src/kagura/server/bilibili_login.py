"""The stage page's Bilibili login: the QR code on the admin panel, for a streamer who never
opens a terminal.

`POST /stage/bilibili-login` starts an attempt (or returns the one under way), `GET` says
how far it got, `DELETE` gives it up. The attempt runs in the server, one at a time, and
saves the login where `kagura live bilibili login` does (`live.bilibili.login_file`, else
data_dir/bilibili-login.json); `kagura live bilibili` uses it when it starts. Only the QR
code (a one-time key) and the account's name leave the server, never a cookie; the route is
the admin's (`kagura.permissions.HTTP`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Request

from kagura.config import KaguraConfig
from kagura.live.bilibili import login_file

log = logging.getLogger(__name__)

router = APIRouter(prefix="/stage")

State = Literal["idle", "starting", "waiting", "scanned", "confirmed", "failed"]
UNDER_WAY: tuple[State, ...] = ("starting", "waiting", "scanned")
# Saving the login and naming the account, once the phone confirmed.
FINISH_S = 30.0


@dataclass
class Attempt:
    """One login, as the page sees it."""

    state: State = "starting"
    qr: str | None = None  # the QR code as an SVG data URI
    account: str = ""
    error: str = ""
    expires: float = 0.0  # when the QR code expires (time.monotonic)

    def view(self, path: str) -> dict[str, Any]:
        under_way = self.state in UNDER_WAY
        left = max(0.0, self.expires - time.monotonic())
        return {
            "state": self.state,
            "qr": self.qr if under_way else None,
            "expires_in_s": round(left) if under_way else None,
            "account": self.account,
            "error": self.error,
            "path": path,
        }


class _Watcher:
    """What `log_in` says, kept for the page to read."""

    def __init__(self, attempt: Attempt) -> None:
        self._attempt = attempt

    def qr(self, url: str) -> None:
        import segno

        from kagura.live.bilibili.qr_login import QR_LIFETIME_S

        self._attempt.qr = segno.make(url, error="l").svg_data_uri(scale=6, border=2)
        self._attempt.expires = time.monotonic() + QR_LIFETIME_S
        self._attempt.state = "waiting"

    def state(self, code: int) -> None:
        from kagura.live.bilibili.passport import QR_SCANNED, QR_WAITING

        if code == QR_SCANNED:
            self._attempt.state = "scanned"
        elif code == QR_WAITING:
            self._attempt.state = "waiting"


class LoginDesk:
    """The server's one login attempt at a time, and the task that runs it."""

    def __init__(self, config: KaguraConfig) -> None:
        self._config = config
        self._attempt: Attempt | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def path(self) -> str:
        return str(login_file.where(self._config, self._config.live.bilibili))

    def view(self) -> dict[str, Any]:
        if self._attempt is None:
            return Attempt(state="idle").view(self.path)
        return self._attempt.view(self.path)

    def start(self) -> dict[str, Any]:
        """A new attempt, unless one is under way (two pages, one QR code)."""
        if self._attempt is None or self._attempt.state not in UNDER_WAY:
            self._attempt = Attempt()
            self._task = asyncio.create_task(self._run(self._attempt))
        return self.view()

    async def cancel(self) -> dict[str, Any]:
        await self.aclose()
        if self._attempt is not None and self._attempt.state in UNDER_WAY:
            self._attempt.state, self._attempt.error = "failed", "cancelled"
        return self.view()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self, attempt: Attempt) -> None:
        # Imported when a streamer logs in, not with the server: the passport brings RSA.
        from kagura.live.bilibili.qr_login import QR_LIFETIME_S, WAIT_SLACK_S, LoginFailed, log_in

        section = self._config.live.bilibili
        path = login_file.where(self._config, section)
        try:
            async with asyncio.timeout(QR_LIFETIME_S + WAIT_SLACK_S + FINISH_S):
                attempt.account = await log_in(section, path, _Watcher(attempt))
        except LoginFailed as exc:
            attempt.state, attempt.error = "failed", str(exc)
        except TimeoutError:
            attempt.state, attempt.error = "failed", "the passport stopped answering"
        except OSError as exc:
            attempt.state = "failed"
            attempt.error = f"cannot save the login to {path}: {exc.strerror or exc}"
        else:
            attempt.state = "confirmed"
            log.info("logged in to Bilibili from the stage page; saved to %s", path)
            return
        log.warning("Bilibili login from the stage page failed: %s", attempt.error)


def desk(request: Request) -> LoginDesk:
    found: LoginDesk | None = getattr(request.app.state, "bilibili_login", None)
    if found is None:
        found = LoginDesk(request.app.state.runtime.config)
        request.app.state.bilibili_login = found
    return found


@router.get("/bilibili-login")
async def login_status(request: Request) -> dict[str, Any]:
    """How far the login got: idle, starting, waiting (the QR code to scan), scanned
    (confirm on the phone), confirmed (`account` named) or failed (`error` says why)."""
    return desk(request).view()


@router.post("/bilibili-login")
async def login_start(request: Request) -> dict[str, Any]:
    """Show a QR code to scan with the Bilibili app (the one under way, if any)."""
    return desk(request).start()


@router.delete("/bilibili-login")
async def login_cancel(request: Request) -> dict[str, Any]:
    """Give up the login under way; nothing is saved."""
    return await desk(request).cancel()
