"""`kagura live youtube login`: Google's device flow, for a machine without a browser.

The command asks Google for a code, shows the address to open on any phone or computer (and
a QR code of it) and the code to type there, then asks Google every `interval` seconds
whether the streamer allowed access, slower when Google says `slow_down`. Each outcome is
said once and plainly: still waiting, denied, expired. On success the tokens go to the
login file (mode 0600, see `login_file`). Nothing secret is printed: the user code is
useless without the device code, which never leaves this process, and the tokens are only
written to the file.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from kagura.config import YouTubeConfig
from kagura.live.qr import qr_text

from . import login_file
from .login_file import LOGIN_COMMAND, YouTubeLogin
from .oauth import SCOPE, DeviceCode, OAuthClient, OAuthError, Tokens

SLOW_DOWN_S = 5.0  # RFC 8628: after `slow_down`, every later poll waits this much longer
WAIT_SLACK_S = 10.0  # past the code's lifetime, in case Google never says `expired_token`
MAX_POLL_FAILURES = 3  # consecutive polls that cannot reach Google
CLIENT_SETTINGS = "live.youtube.oauth_client_id and oauth_client_secret"

# What each of Google's refusals means for the streamer, and what to do.
EXPLAINED = {
    "access_denied": "access was denied on Google's consent screen: run "
    f"`{LOGIN_COMMAND}` again and choose Allow",
    "expired_token": "the code expired before access was allowed: run "
    f"`{LOGIN_COMMAND}` again for a new code",
    "invalid_grant": f"Google no longer knows this code: run `{LOGIN_COMMAND}` again",
    "invalid_client": "Google does not know this OAuth client, or it is not of the type "
    f'"TVs and Limited Input devices": check {CLIENT_SETTINGS}',
    "unauthorized_client": "this OAuth client may not use the device flow: create one of the "
    f'type "TVs and Limited Input devices" and set {CLIENT_SETTINGS}',
    "invalid_scope": f"Google refused the scope {SCOPE} for this client: is the YouTube Data "
    "API v3 enabled in its project?",
    "org_internal": "the OAuth client's project admits only its organisation's accounts: log "
    "in with one, or make the consent screen's user type External",
    "admin_policy_enforced": "the account's Google Workspace administrator does not allow "
    "this app to use YouTube",
    "rate_limit_exceeded": "this OAuth client asked Google for too many codes: wait a while "
    "and try again",
}

Say = Callable[[str], None]


class LoginFailed(Exception):
    """The login did not happen; the text says why and what to do."""


def explain(exc: OAuthError) -> str:
    known = EXPLAINED.get(exc.error)
    if known is None:
        return f"Google's OAuth server refused: {exc}"
    return f"{known} ({exc.error}{': ' + exc.description if exc.description else ''})"


async def log_in(
    config: YouTubeConfig, client_id: str, client_secret: str, path: Path, say: Say
) -> YouTubeLogin:
    """Log in with the device flow and save the tokens at `path`."""
    oauth = OAuthClient(config, client_id, client_secret)
    try:
        try:
            code = await oauth.device_code()
        except OAuthError as exc:
            raise LoginFailed(f"cannot get a code from Google: {explain(exc)}") from None
        say(qr_text(code.verification_url))
        say(f"On a phone or computer, open {code.verification_url} (or scan the QR code),")
        say(f"enter the code  {code.user_code}  and allow access to your YouTube account.")
        say(f"The code is valid for {code.expires_in / 60:.0f} min.")
        tokens = await _wait_for_consent(oauth, code, say)
    finally:
        await oauth.aclose()
    if not tokens.refresh_token:
        raise LoginFailed("Google sent no refresh token: run the login again")
    login = YouTubeLogin(
        client_id=client_id,
        refresh_token=tokens.refresh_token,
        access_token=tokens.access_token,
        expires_at=tokens.expires_at,
        scope=tokens.scope,
    )
    login_file.write(path, login)
    return login


async def _wait_for_consent(oauth: OAuthClient, code: DeviceCode, say: Say) -> Tokens:
    interval = code.interval
    deadline = time.monotonic() + code.expires_in + WAIT_SLACK_S
    waiting_said, failures = False, 0
    while time.monotonic() < deadline:
        await asyncio.sleep(interval)
        try:
            tokens = await oauth.poll(code.device_code)
        except OAuthError as exc:
            if exc.error == "authorization_pending":
                failures = 0
                if not waiting_said:
                    waiting_said = True
                    say("Waiting for you to enter the code and allow access…")
                continue
            if exc.error == "slow_down":
                interval += SLOW_DOWN_S
                say(f"Google asked to be asked less often: every {interval:g} s now.")
                continue
            if exc.error in ("unreachable", "bad_answer") or exc.status >= 500:
                failures += 1
                if failures >= MAX_POLL_FAILURES:
                    problem = f"cannot ask Google whether access was allowed: {exc}"
                    raise LoginFailed(problem) from None
                continue
            raise LoginFailed(explain(exc)) from None
        say("Access allowed.")
        return tokens
    raise LoginFailed(f"{EXPLAINED['expired_token']} (no answer within the code's lifetime)")
