"""`kagura live youtube` (read a live chat, and post the character's replies in it) and
`kagura live youtube login` (the streamer's OAuth login, needed only to post)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated

import typer

from kagura.config import KaguraConfig, YouTubeConfig
from kagura.live.launch import (
    CaFileOption,
    ConfigOption,
    ProxyUrlOption,
    TokenOption,
    fail,
    load,
    override,
    run_platforms,
    secret,
)
from kagura.live.platform import LivePlatform
from kagura.live.settings import RunnerSettings

log = logging.getLogger(__name__)

QUOTA_LEDGER = "youtube-quota.json"
CLIENT_ID_ENV, CLIENT_SECRET_ENV = "YOUTUBE_OAUTH_CLIENT_ID", "YOUTUBE_OAUTH_CLIENT_SECRET"

youtube_app = typer.Typer(
    help="Read a YouTube live chat through the Data API v3 (and post replies in it); "
    "`login` logs in for posting.",
    no_args_is_help=False,
)

OAuthApiOption = Annotated[
    str | None,
    typer.Option("--oauth-api", help="Google's OAuth server (live.youtube.oauth_api)."),
]


def oauth_client(section: YouTubeConfig) -> tuple[str, str]:
    """The OAuth client's id and secret, from the config or the environment."""
    client_id = secret(section.oauth_client_id, CLIENT_ID_ENV)
    return client_id, secret(section.oauth_client_secret, CLIENT_SECRET_ENV)


@youtube_app.callback(invoke_without_command=True)
def youtube(
    ctx: typer.Context,
    video: Annotated[
        str | None,
        typer.Option("--video", help="The live stream's video id or URL (live.youtube.video_id)."),
    ] = None,
    channel_id: Annotated[
        str | None,
        typer.Option(
            "--channel-id", help="Or a channel id (UC…): its live stream (live.youtube.channel_id)."
        ),
    ] = None,
    api: Annotated[
        str | None, typer.Option("--api", help="Data API base URL (live.youtube.api).")
    ] = None,
    oauth_api: OAuthApiOption = None,
    ca_file: CaFileOption = None,
    proxy_url: ProxyUrlOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """Read a YouTube live chat through the Data API v3, within a daily quota (and, with
    live.youtube.reply_in_chat, post the character's replies in it)."""
    if ctx.invoked_subcommand is not None:
        return  # `login`: its own options
    settings = load(config)
    if video or channel_id:  # a flag chooses the stream: the other setting no longer applies
        video, channel_id = video or "", channel_id or ""
    section: YouTubeConfig = override(
        settings.live.youtube,
        "live.youtube",
        video_id=video,
        channel_id=channel_id,
        api=api,
        oauth_api=oauth_api,
        ca_file=ca_file,
    )
    if bool(section.video_id) == bool(section.channel_id):
        raise fail(
            "say which stream to read: --video ID (or live.youtube.video_id) or --channel-id "
            "UC… (or live.youtube.channel_id), one of them"
        )
    key = secret(section.api_key, "YOUTUBE_API_KEY")
    if not key:
        raise fail(
            "no API key: set live.youtube.api_key (e.g. ${YOUTUBE_API_KEY}) or the "
            "YOUTUBE_API_KEY environment variable to a key of a Google Cloud project with the "
            "YouTube Data API v3 enabled"
        )
    run_platforms(settings, proxy_url, token, _sessions(settings, section, key, proxy_url, token))


def _sessions(
    settings: KaguraConfig,
    section: YouTubeConfig,
    key: str,
    proxy_url: str | None,
    token: str | None,
) -> Callable[[], AbstractAsyncContextManager[list[LivePlatform]]]:
    """The chat reader, and with reply_in_chat (and a login) the replies' session; built
    once logging is set up, so that a missing login is said in the log."""
    from .api import YouTubeApi
    from .client import YouTubeChat
    from .login_file import where
    from .oauth import OAuthClient
    from .own import OwnMessages
    from .quota import QuotaBudget
    from .send import chat_replies, login_problem

    @asynccontextmanager
    async def sessions() -> AsyncIterator[list[LivePlatform]]:
        client_id, client_secret = oauth_client(section)
        path = where(settings, section)
        replying = section.reply_in_chat
        if replying and (problem := login_problem(client_id, path)):
            log.warning("%s; reading chat only", problem)
            replying = False
        ledger = settings.resolve_path(settings.system.data_dir) / QUOTA_LEDGER
        share = section.reply_quota_share if replying else 0.0
        budget = QuotaBudget(
            section.quota_per_day, section.budget_hours, key, ledger, reply_share=share
        )
        api = YouTubeApi(section, key, budget)
        try:
            chat = YouTubeChat(section, api, OwnMessages() if replying else None)
            platforms: list[LivePlatform] = [chat]
            if replying:
                stage = RunnerSettings.load(settings, proxy_url=proxy_url, token=token)
                oauth = OAuthClient(section, client_id, client_secret)
                stage_link = (stage.proxy_url, stage.token)
                platforms.append(chat_replies(section, api, chat, oauth, path, stage_link))
            yield platforms
        finally:
            await api.aclose()

    return sessions


@youtube_app.command("login")
def youtube_login(
    oauth_api: OAuthApiOption = None,
    ca_file: CaFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Log in with a code typed on any phone or computer (Google's device flow); the
    tokens are saved (readable only by you) for replies in chat."""
    from .device_login import LoginFailed, log_in
    from .login_file import where

    settings = load(config)
    section: YouTubeConfig = override(
        settings.live.youtube, "live.youtube", oauth_api=oauth_api, ca_file=ca_file
    )
    client_id, client_secret = oauth_client(section)
    if not client_id:
        raise fail(
            f"no OAuth client: set live.youtube.oauth_client_id (or {CLIENT_ID_ENV}) and "
            f"oauth_client_secret (or {CLIENT_SECRET_ENV}) to those of an OAuth client of the "
            'type "TVs and Limited Input devices" (Google Cloud console → Google Auth '
            "platform → Clients → Create client)"
        )
    path = where(settings, section)
    try:
        asyncio.run(log_in(section, client_id, client_secret, path, typer.echo))
    except LoginFailed as exc:
        raise fail(f"{exc} (nothing saved)") from None
    except OSError as exc:
        raise fail(f"cannot save the login to {path}: {exc.strerror or exc}") from None
    except KeyboardInterrupt:
        raise fail("interrupted (nothing saved)") from None
    typer.echo("Logged in to YouTube.")
    typer.echo(f"Saved to {path} (readable only by you); delete that file to log out.")
    if not section.reply_in_chat:
        typer.echo("Set live.youtube.reply_in_chat: true to post the character's replies.")
