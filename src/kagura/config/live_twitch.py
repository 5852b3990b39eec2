"""`live.twitch`: Twitch chat over IRC on WebSocket (`kagura live twitch`)."""

from __future__ import annotations

import re

from pydantic import field_validator, model_validator

from .fields import F, Section
from .shared import CaFile, ReplyInChat, ReplyInterval, ReplyMaxChars, ReplyMaxPending

TWITCH_LOGIN = re.compile(r"^[a-z0-9_]{1,25}$")


class TwitchConfig(Section):
    channels: list[str] = F(
        default_factory=list,
        en="Channels to read (the name in twitch.tv/<name>). Several channels are read on one "
        "connection, each event tagged with its channel. `--channel` overrides this.",
        zh="要读取的频道（twitch.tv/<名字> 中的名字）。多个频道共用一个连接，每条事件都标明所属"
        "频道。`--channel` 会覆盖此项。",
    )
    login: str = F(
        "",
        en="Login name of the account whose token is below. Empty (with no token): read "
        "anonymously, which is all a reader needs.",
        zh="下面令牌所属账号的登录名。留空（且不填令牌）：匿名读取，只读聊天已足够。",
    )
    token: str = F(
        "",
        en="OAuth token of that account (chat:read scope), with or without `oauth:`. Secret: "
        "write ${TWITCH_TOKEN}; when empty, the TWITCH_TOKEN environment variable is used.",
        zh="该账号的 OAuth 令牌（chat:read 权限），可带或不带 `oauth:`。这是机密：请写成 "
        "${TWITCH_TOKEN}；留空时使用环境变量 TWITCH_TOKEN。",
    )
    irc_url: str = F(
        "wss://irc-ws.chat.twitch.tv:443",
        en="Twitch chat over WebSocket (IRC). `--irc-url` overrides it.",
        zh="Twitch 聊天的 WebSocket（IRC）地址。`--irc-url` 会覆盖此项。",
    )
    ca_file: CaFile = ""
    ping_s: float = F(
        30,
        en="Seconds between the client's PINGs: a quiet chat still shows it is alive (keep "
        "it below live.watchdog_s).",
        zh="客户端发送 PING 的间隔（秒）：聊天安静时也能确认连接正常（应小于 live.watchdog_s）。",
        gt=0,
        le=300,
    )
    reply_in_chat: ReplyInChat = False  # into the first channel; the token needs chat:edit
    reply_max_chars: ReplyMaxChars = 500
    reply_interval_s: ReplyInterval = 1.6  # Twitch takes 20 lines in 30 s from a non-moderator
    reply_max_pending: ReplyMaxPending = 20
    shared_chat: bool = F(
        False,
        en="Also pass on messages from the other channels of a Shared Chat session (not this "
        "channel's viewers).",
        zh="也转发共享聊天（Shared Chat）中其他频道的消息（不是本频道的观众）。",
    )

    @field_validator("channels")
    @classmethod
    def _channel_names(cls, channels: list[str]) -> list[str]:
        names = [name.strip().removeprefix("#").lower() for name in channels]
        for name in names:
            if not TWITCH_LOGIN.match(name):
                raise ValueError(f"{name!r} is not a Twitch channel name (letters, digits, _)")
        return list(dict.fromkeys(names))

    @model_validator(mode="after")
    def _login_with_token(self) -> TwitchConfig:
        if self.token and not self.login:
            raise ValueError("login: set it to the token's account login (or remove the token)")
        return self
