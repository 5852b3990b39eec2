"""The character's replies in a YouTube live chat (`liveChatMessages.insert`), posted as the
streamer's login (`kagura live youtube login`).

Lines are cut and paced by `ChatOut`; each goes to the chat the reader is reading, with an
access token the `TokenKeeper` keeps fresh, and costs 50 units from the replies' share of the
day's quota (`QuotaBudget.can_reply`): past the share, lines are dropped and counted. YouTube's
answers: 401 → one refresh and one more try; `rateLimitExceeded` → sent again after a pause;
`quotaExceeded` → replies pause (`quota_error_wait_s`, or until the reset); the chat over →
dropped; `forbidden` (a banned account, a members-only chat) or a login that cannot be
refreshed → said once, and posting ends. Reading never waits on any of it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kagura.config import YouTubeConfig
from kagura.live.chat_out import ChatOut, LineDropped, PostingRefused, TooFast
from kagura.live.platform import Finished, Link
from kagura.live.replies import ChatReplies

from . import login_file
from .api import INSERT_COST, ApiError, YouTubeApi
from .client import ENDED, QUOTA, TOO_SOON, YouTubeChat
from .items import PLATFORM
from .login_file import LOGIN_COMMAND, LoginFileError
from .oauth import OAuthClient
from .own import OwnMessages
from .tokens import TokenKeeper

log = logging.getLogger(__name__)

CLIENT_SETTING = "live.youtube.oauth_client_id (or YOUTUBE_OAUTH_CLIENT_ID)"
NO_PERMISSION = {"forbidden", "insufficientPermissions", "liveChatUserNotAllowed"}


class YouTubePoster:
    def __init__(
        self,
        api: YouTubeApi,
        tokens: TokenKeeper,
        chat_id: Callable[[], str],
        own: OwnMessages,
        config: YouTubeConfig,
    ) -> None:
        self.api = api
        self.tokens = tokens
        self.chat_id = chat_id
        self.own = own
        self.config = config
        self._paused_until = 0.0  # after quotaExceeded

    async def __call__(self, line: str) -> None:
        chat_id = self.chat_id()
        if not chat_id:
            raise LineDropped("no live chat to post in (the stream is not live)")
        if time.time() < self._paused_until:
            raise LineDropped(self._quota_pause())
        bearer = await self.tokens.bearer()
        try:
            answer = await self._insert(chat_id, line, bearer)
        except ApiError as exc:
            if exc.status != 401:
                raise self._refusal(exc) from None
            bearer = await self.tokens.renew(bearer)  # revoked early, or the clock is off
            try:
                answer = await self._insert(chat_id, line, bearer)
            except ApiError as again:
                if again.status == 401:
                    raise PostingRefused(
                        f"YouTube rejects the login's fresh access token too ({again.reason}): "
                        f"run `{LOGIN_COMMAND}` again"
                    ) from None
                raise self._refusal(again) from None
        self.own.posted(answer)

    async def _insert(self, chat_id: str, line: str, bearer: str) -> dict[str, Any]:
        budget = self.api.budget
        if not budget.can_reply(INSERT_COST):
            raise LineDropped(
                f"the replies' share of today's quota is spent ({budget.replies_spent} of "
                f"{budget.reply_units} units, live.youtube.reply_quota_share "
                f"{self.config.reply_quota_share:g}); replies resume when the quota resets "
                "at midnight Pacific Time, reading goes on"
            )
        self.own.sending(line)
        return await self.api.insert_message(chat_id, line, bearer)

    def _refusal(self, exc: ApiError) -> Exception:
        if exc.reason == QUOTA:
            budget = self.api.budget
            wait = min(self.config.quota_error_wait_s, budget.until_reset())
            self._paused_until = time.time() + wait
            return LineDropped(self._quota_pause())
        if exc.reason in ENDED:
            return LineDropped(f"the live chat is over ({exc.reason})")
        if exc.reason == TOO_SOON:
            return TooFast(str(exc))
        if exc.reason in NO_PERMISSION or exc.status == 403:
            return PostingRefused(
                f"YouTube refused the post ({exc.reason}): the logged-in account may not post "
                "in this chat (banned or timed out? a members-only or subscribers-only chat?)"
            )
        return exc

    def _quota_pause(self) -> str:
        left = max(0.0, self._paused_until - time.time())
        return (
            "YouTube says the daily quota is used up (quotaExceeded): replies paused for "
            f"{left / 60:.0f} min (live.youtube.quota_error_wait_s, or until the reset); "
            "reading goes on"
        )


class StreamReplies(ChatReplies):
    """Replies for as long as the stream is read: they end when the reader is over, so the
    process can exit when the stream does."""

    def __init__(self, out: ChatOut, label: str, proxy_url: str, token: str, chat: YouTubeChat):
        super().__init__(PLATFORM, label, proxy_url, token, out)
        self.chat = chat

    async def run(self, link: Link) -> None:
        session = asyncio.create_task(super().run(link))
        over = asyncio.create_task(self.chat.over.wait())
        try:
            await asyncio.wait([session, over], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (session, over):
                task.cancel()
            await asyncio.gather(session, over, return_exceptions=True)
        if self.chat.over.is_set():
            raise Finished("the stream is over: no more replies to post")
        session.result()  # how the widget session ended (a `Fatal` stops the process)


def login_problem(client_id: str, path: Path) -> str | None:
    """Why replies cannot be posted (said once at start; reading goes on), or None."""
    if not client_id:
        return (
            f"live.youtube.reply_in_chat needs an OAuth client: set {CLIENT_SETTING} and log "
            f"in with `{LOGIN_COMMAND}`"
        )
    try:
        login = login_file.read(path)
    except LoginFileError as exc:
        return f"live.youtube.reply_in_chat: {exc}"
    if login is None:
        return (
            f"live.youtube.reply_in_chat: not logged in to YouTube ({path}); run "
            f"`{LOGIN_COMMAND}` to post replies"
        )
    return None


def chat_replies(
    config: YouTubeConfig,
    api: YouTubeApi,
    chat: YouTubeChat,
    oauth: OAuthClient,
    path: Path,
    stage: tuple[str, str],
) -> ChatReplies:
    """The session that posts the character's replies in the chat `chat` reads (`stage`:
    the server's `/proxy-ws` URL and the platform token)."""
    assert chat.own is not None, "the reader must know the posted lines"
    tokens = TokenKeeper(oauth, path)
    label = f"youtube replies ({chat.label.removeprefix('youtube ')})"
    out = ChatOut(
        YouTubePoster(api, tokens, lambda: chat.chat_id, chat.own, config),
        label=label,
        max_chars=config.reply_max_chars,
        interval_s=config.reply_interval_s,
        max_pending=config.reply_max_pending,
        closing=tokens.aclose,
    )
    return StreamReplies(out, label, *stage, chat)
