"""`kagura live ...`: one command per platform, each a separate light process.

Every command takes the same `--proxy-url`, `--token` and `--config`; settings come from
the `live` section of the config file (default `./conf.yaml`), flags override them. A
new platform adds one command here that builds its `LivePlatform`s and hands them to
`run_platforms`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import typer

from kagura.config import (
    BilibiliConfig,
    BilibiliOpenConfig,
    TwitchConfig,
)

from .launch import (
    CaFileOption,
    ConfigOption,
    ProxyUrlOption,
    TokenOption,
    fail,
    fixed,
    load,
    override,
    run_platforms,
    secret,
    sharing,
)
from .platform import LivePlatform
from .settings import RunnerSettings
from .youtube.cli import youtube_app

__all__ = ["ConfigOption", "ProxyUrlOption", "TokenOption", "fail", "live_app", "load"]

live_app = typer.Typer(
    help="Live-platform clients: read a platform's chat and feed the stage (/proxy-ws).",
    no_args_is_help=True,
)

bilibili_app = typer.Typer(
    help="Read Bilibili rooms over the web danmaku protocol; `login` logs in by QR code.",
    no_args_is_help=False,
)
live_app.add_typer(bilibili_app, name="bilibili")
live_app.add_typer(youtube_app, name="youtube")

PassportOption = Annotated[
    str | None,
    typer.Option("--passport-api", help="Passport base URL (live.bilibili.passport_api)."),
]
WebApiOption = Annotated[
    str | None, typer.Option("--web-api", help="Main API base URL (live.bilibili.web_api).")
]


@bilibili_app.callback(invoke_without_command=True)
def bilibili(
    ctx: typer.Context,
    room: Annotated[
        list[int] | None,
        typer.Option(
            "--room", help="A room id; repeat for several rooms (live.bilibili.room_ids)."
        ),
    ] = None,
    web_api: WebApiOption = None,
    live_api: Annotated[
        str | None, typer.Option("--live-api", help="Live API base URL (live.bilibili.live_api).")
    ] = None,
    home_url: Annotated[
        str | None, typer.Option("--home-url", help="Home page URL (live.bilibili.home_url).")
    ] = None,
    passport_api: PassportOption = None,
    ca_file: CaFileOption = None,
    proxy_url: ProxyUrlOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """Read Bilibili rooms over the web danmaku protocol (logged in with
    live.bilibili.sessdata, else the login file of `kagura live bilibili login`)."""
    if ctx.invoked_subcommand is not None:
        return  # `login`: its own options
    from .bilibili import login_file
    from .bilibili.api import BilibiliApi
    from .bilibili.client import BilibiliRoom
    from .bilibili.cookie_refresh import refreshing
    from .bilibili.send import chat_replies

    settings = load(config)
    section: BilibiliConfig = override(
        settings.live.bilibili,
        "live.bilibili",
        room_ids=room or None,
        web_api=web_api,
        live_api=live_api,
        home_url=home_url,
        passport_api=passport_api,
        ca_file=ca_file,
    )
    if not section.room_ids:
        raise fail("no room to read: pass --room ID or set live.bilibili.room_ids")
    section = section.model_copy(
        update={"login_file": str(login_file.where(settings, section))}
    )

    @asynccontextmanager
    async def sessions() -> AsyncIterator[list[LivePlatform]]:
        api = BilibiliApi(section)
        try:
            async with refreshing(section, api.http):  # the login file's cookies kept fresh
                rooms: list[LivePlatform] = [
                    BilibiliRoom(room, api, section) for room in section.room_ids
                ]
                if section.reply_in_chat:
                    stage = RunnerSettings.load(settings, proxy_url=proxy_url, token=token)
                    rooms.append(chat_replies(api, section, stage.proxy_url, stage.token))
                yield rooms
        finally:
            await api.aclose()

    run_platforms(settings, proxy_url, token, sessions)


@bilibili_app.command("login")
def bilibili_login(
    passport_api: PassportOption = None,
    web_api: WebApiOption = None,
    ca_file: CaFileOption = None,
    config: ConfigOption = None,
) -> None:
    """Log in by scanning a QR code with the Bilibili app; the cookies are saved (readable
    only by you) for `kagura live bilibili` to show viewers' names."""
    from .bilibili import login_file
    from .bilibili.qr_login import LoginFailed, TerminalWatcher, log_in

    settings = load(config)
    section: BilibiliConfig = override(
        settings.live.bilibili,
        "live.bilibili",
        passport_api=passport_api,
        web_api=web_api,
        ca_file=ca_file,
    )
    path = login_file.where(settings, section)
    try:
        who = asyncio.run(log_in(section, path, TerminalWatcher(typer.echo)))
    except LoginFailed as exc:
        raise fail(f"{exc} (nothing saved)") from None
    except OSError as exc:
        raise fail(f"cannot save the login to {path}: {exc.strerror or exc}") from None
    except KeyboardInterrupt:
        raise fail("interrupted (nothing saved)") from None
    typer.echo(f"Logged in to Bilibili as {who}.")
    typer.echo(f"Saved to {path} (readable only by you); delete that file to log out.")
    if section.sessdata:
        typer.echo(
            "Note: live.bilibili.sessdata is set and is used instead of this login; empty it "
            "to use the login."
        )


@live_app.command("bilibili-open")
def bilibili_open(
    open_api: Annotated[
        str | None,
        typer.Option("--open-api", help="Open platform base URL (live.bilibili_open.open_api)."),
    ] = None,
    ca_file: CaFileOption = None,
    proxy_url: ProxyUrlOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """Read the streamer's Bilibili room through the official open platform."""
    from .bilibili.open_api import OpenApi
    from .bilibili.open_client import BilibiliOpen

    settings = load(config)
    section: BilibiliOpenConfig = override(
        settings.live.bilibili_open,
        "live.bilibili_open",
        open_api=open_api,
        ca_file=ca_file,
    )

    app = sharing(lambda: OpenApi(section), lambda api: [BilibiliOpen(section, api)])
    run_platforms(settings, proxy_url, token, app)


@live_app.command("twitch")
def twitch(
    channel: Annotated[
        list[str] | None,
        typer.Option(
            "--channel", help="A channel name; repeat for several channels (live.twitch.channels)."
        ),
    ] = None,
    irc_url: Annotated[
        str | None, typer.Option("--irc-url", help="Chat server URL (live.twitch.irc_url).")
    ] = None,
    ca_file: CaFileOption = None,
    proxy_url: ProxyUrlOption = None,
    token: TokenOption = None,
    config: ConfigOption = None,
) -> None:
    """Read Twitch channels' chat (IRC over WebSocket), anonymously or with a token."""
    from .twitch.client import TwitchChat
    from .twitch.send import chat_replies

    settings = load(config)
    section: TwitchConfig = override(
        settings.live.twitch,
        "live.twitch",
        channels=channel or None,
        irc_url=irc_url,
        ca_file=ca_file,
    )
    if not section.channels:
        raise fail("no channel to read: pass --channel NAME or set live.twitch.channels")
    oauth = secret(section.token, "TWITCH_TOKEN")
    if oauth and not section.login:
        raise fail("live.twitch.login: set it to the login of the account whose token is used")

    def sessions() -> list[LivePlatform]:
        chats: list[LivePlatform] = [TwitchChat(section, oauth)]
        if section.reply_in_chat:
            stage = RunnerSettings.load(settings, proxy_url=proxy_url, token=token)
            chats.append(chat_replies(section, oauth, stage.proxy_url, stage.token))
        return chats

    run_platforms(settings, proxy_url, token, fixed(sessions))
