"""The `live` section: the live-platform client processes (`kagura live ...`).

Each platform client is its own process: it reads one platform's chat and feeds the stage
through `/proxy-ws`. What every client shares (where the stage is, its token, buffering,
reconnecting) is set once here; each platform adds one sub-section. Every outside endpoint
is a setting, so a local fake (tests) or a mirror can stand in for the real service.

Secrets (`token`, `bilibili.sessdata`, `bilibili_open.access_key_secret`, the identity code,
`twitch.token`, `youtube.api_key`) are best written as `${VAR}` and set in the environment;
the clients never log them.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .fields import F, Section

DEFAULT_PROXY_URL = "ws://127.0.0.1:12393/proxy-ws"
# Bilibili signs the danmaku token for the User-Agent of the HTTP calls, so the WebSocket
# must present the same one; a current desktop browser's is the least conspicuous.
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/147.0.0.0 Safari/537.36"
)


class BilibiliConfig(Section):
    room_ids: list[Annotated[int, Field(ge=1)]] = F(
        default_factory=list,
        en="Rooms to read (the number in live.bilibili.com/<id>; short ids work). Several "
        "rooms are read at once, each event tagged with its room. `--room` overrides this.",
        zh="要读取的直播间（live.bilibili.com/<id> 中的数字，短号也可以）。可同时读取多个房间，"
        "每条事件都标明所属房间。`--room` 会覆盖此项。",
    )
    sessdata: str = F(
        "",
        en="SESSDATA cookie of a Bilibili account (any account; copy it from the browser "
        "after logging in). Without it Bilibili masks viewer names (X***). Secret: write "
        "${BILIBILI_SESSDATA} and set that environment variable.",
        zh="任意一个 B 站账号的 SESSDATA Cookie（登录网页后从浏览器复制）。不填时 B 站会隐藏"
        "观众名字（X***）。这是机密：请写成 ${BILIBILI_SESSDATA} 并设置该环境变量。",
    )
    web_api: str = F(
        "https://api.bilibili.com",
        en="Base URL of Bilibili's main API (login check, WBI keys, buvid). `--web-api` "
        "overrides it.",
        zh="B 站主站 API 的基础地址（登录检查、WBI 密钥、buvid）。`--web-api` 会覆盖此项。",
    )
    live_api: str = F(
        "https://api.live.bilibili.com",
        en="Base URL of Bilibili's live API (room info, danmaku servers). `--live-api` "
        "overrides it.",
        zh="B 站直播 API 的基础地址（房间信息、弹幕服务器）。`--live-api` 会覆盖此项。",
    )
    fallback_url: str = F(
        "wss://broadcastlv.chat.bilibili.com:443/sub",
        en="Danmaku server used when getDanmuInfo fails (anonymous: names masked).",
        zh="getDanmuInfo 失败时使用的弹幕服务器（匿名连接：名字会被隐藏）。",
    )
    ca_file: str = F(
        "",
        en="Extra CA certificate (PEM) to trust for TLS, e.g. a test certificate. "
        "`--ca-file` overrides it.",
        zh="额外信任的 CA 证书（PEM），例如测试证书。`--ca-file` 会覆盖此项。",
    )
    user_agent: str = F(
        BROWSER_USER_AGENT,
        en="User-Agent of every HTTP and WebSocket request (the same on both, as Bilibili "
        "expects).",
        zh="所有 HTTP 与 WebSocket 请求使用的 User-Agent（两者必须一致）。",
    )
    heartbeat_s: float = F(
        30,
        en="Seconds between heartbeats on the danmaku connection.",
        zh="弹幕连接上发送心跳的间隔（秒）。",
        gt=0,
        le=300,
    )
    mirrored_danmaku: bool = F(
        False,
        en="Also pass on DANMU_MSG_MIRROR: danmaku mirrored from another room (not this "
        "room's viewers).",
        zh="也转发 DANMU_MSG_MIRROR：从其他直播间同步过来的弹幕（不是本房间观众发的）。",
    )
    http_timeout_s: float = F(
        10,
        en="Deadline of each HTTP call to Bilibili, in seconds.",
        zh="每次调用 B 站 HTTP 接口的超时（秒）。",
        gt=0,
        le=120,
    )


class BilibiliOpenConfig(Section):
    access_key_id: str = F(
        "",
        en="access_key_id of your app on the Bilibili open platform (open-live.bilibili.com).",
        zh="你在 B 站直播开放平台（open-live.bilibili.com）上的应用的 access_key_id。",
    )
    access_key_secret: str = F(
        "",
        en="access_key_secret of that app. Secret: write ${BILIBILI_ACCESS_KEY_SECRET}.",
        zh="该应用的 access_key_secret。这是机密：请写成 ${BILIBILI_ACCESS_KEY_SECRET}。",
    )
    app_id: int = F(
        0,
        en="Project id (app_id) of that app.",
        zh="该应用的项目 ID（app_id）。",
        ge=0,
    )
    identity_code: str = F(
        "",
        en="The streamer's identity code (身份码), shown on the live-streaming page. Keep "
        "it private: write ${BILIBILI_IDENTITY_CODE}.",
        zh="主播身份码（在直播姬或开播页面查看）。请勿公开：写成 ${BILIBILI_IDENTITY_CODE}。",
    )
    open_api: str = F(
        "https://live-open.biliapi.com",
        en="Base URL of the open platform API. `--open-api` overrides it.",
        zh="开放平台 API 的基础地址。`--open-api` 会覆盖此项。",
    )
    ca_file: str = F(
        "",
        en="Extra CA certificate (PEM) to trust for TLS. `--ca-file` overrides it.",
        zh="额外信任的 CA 证书（PEM）。`--ca-file` 会覆盖此项。",
    )
    heartbeat_s: float = F(
        30,
        en="Seconds between heartbeats on the message connection.",
        zh="消息连接上发送心跳的间隔（秒）。",
        gt=0,
        le=300,
    )
    game_heartbeat_s: float = F(
        20,
        en="Seconds between the app heartbeats the open platform requires (HTTP).",
        zh="开放平台要求的应用心跳（HTTP）间隔（秒）。",
        gt=0,
        le=60,
    )
    http_timeout_s: float = F(
        10,
        en="Deadline of each HTTP call to the open platform, in seconds.",
        zh="每次调用开放平台 HTTP 接口的超时（秒）。",
        gt=0,
        le=120,
    )


TWITCH_LOGIN = re.compile(r"^[a-z0-9_]{1,25}$")
# The 11-character id in youtube.com/watch?v=ID, youtu.be/ID, youtube.com/live/ID.
YOUTUBE_VIDEO = re.compile(r"(?:[?&]v=|youtu\.be/|/live/|/shorts/)([A-Za-z0-9_-]{11})")
YOUTUBE_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
YOUTUBE_CHANNEL_ID = re.compile(r"^UC[A-Za-z0-9_-]{22}$")


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
    ca_file: str = F(
        "",
        en="Extra CA certificate (PEM) to trust for TLS. `--ca-file` overrides it.",
        zh="额外信任的 CA 证书（PEM）。`--ca-file` 会覆盖此项。",
    )
    ping_s: float = F(
        30,
        en="Seconds between the client's PINGs: a quiet chat still shows it is alive (keep "
        "it below live.watchdog_s).",
        zh="客户端发送 PING 的间隔（秒）：聊天安静时也能确认连接正常（应小于 live.watchdog_s）。",
        gt=0,
        le=300,
    )
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


class YouTubeConfig(Section):
    api_key: str = F(
        "",
        en="YouTube Data API v3 key (Google Cloud console → APIs & Services → Credentials). "
        "Secret: write ${YOUTUBE_API_KEY}; when empty, the YOUTUBE_API_KEY environment "
        "variable is used.",
        zh="YouTube Data API v3 的 API 密钥（Google Cloud 控制台 → API 和服务 → 凭据）。这是"
        "机密：请写成 ${YOUTUBE_API_KEY}；留空时使用环境变量 YOUTUBE_API_KEY。",
    )
    video_id: str = F(
        "",
        en="The live stream to read: its video id or URL. `--video` overrides it.",
        zh="要读取的直播：视频 ID 或网址。`--video` 会覆盖此项。",
    )
    channel_id: str = F(
        "",
        en="Or a channel id (UC…): its current live stream is found (a search costs 100 "
        "quota units). `--channel-id` overrides it.",
        zh="或者频道 ID（UC…）：自动找到它正在进行的直播（每次搜索消耗 100 配额单位）。"
        "`--channel-id` 会覆盖此项。",
    )
    api: str = F(
        "https://www.googleapis.com/youtube/v3",
        en="Base URL of the YouTube Data API. `--api` overrides it.",
        zh="YouTube Data API 的基础地址。`--api` 会覆盖此项。",
    )
    ca_file: str = F(
        "",
        en="Extra CA certificate (PEM) to trust for TLS. `--ca-file` overrides it.",
        zh="额外信任的 CA 证书（PEM）。`--ca-file` 会覆盖此项。",
    )
    quota_per_day: int = F(
        10_000,
        en="Quota units this client may spend per day (Google's default for a project is "
        "10,000; it resets at midnight Pacific Time). Reading chat costs 5 units a poll.",
        zh="本客户端每天可消耗的配额单位（Google 项目默认 10,000，太平洋时间午夜重置）。"
        "每次读取聊天消耗 5 单位。",
        ge=1,
    )
    budget_hours: float = F(
        4,
        en="Polls are spaced so that the units left today would last this many more hours "
        "at that pace: polling slows down as the quota runs low, and never runs out.",
        zh="轮询间隔按此计算：以当前速度，今天剩余的配额还能再用这么多小时。配额越少轮询"
        "越慢，永远不会用完。",
        gt=0,
        le=24,
    )
    check_interval_s: float = F(
        120,
        en="While waiting for a stream to start, look this often (never faster than the "
        "quota budget allows).",
        zh="等待直播开始时的检查间隔（秒；不会快于配额预算允许的速度）。",
        gt=0,
        le=3600,
    )
    quota_error_wait_s: float = F(
        1800,
        en="After YouTube answers quotaExceeded, try again after this long (or when the "
        "quota resets, if sooner).",
        zh="YouTube 返回 quotaExceeded 后，等待这么久再试（若配额更早重置则提前）。",
        gt=0,
    )
    on_end: Literal["exit", "wait"] = F(
        "exit",
        en="When the stream ends: `exit` (code 0), or `wait` for the channel's next stream "
        "(with a channel id).",
        zh="直播结束时：`exit` 退出（代码 0），或 `wait` 等待该频道的下一场直播（需频道 ID）。",
    )
    backlog_s: float = F(
        30,
        en="Chat from before the client started is passed on only if it is at most this old.",
        zh="客户端启动前的聊天消息，只转发不超过这么多秒的。",
        ge=0,
    )
    http_timeout_s: float = F(
        10,
        en="Deadline of each call to the API, in seconds.",
        zh="每次调用 API 的超时（秒）。",
        gt=0,
        le=120,
    )

    @field_validator("video_id")
    @classmethod
    def _video(cls, value: str) -> str:
        value = value.strip()
        found = YOUTUBE_VIDEO.search(value)
        video = found.group(1) if found else value
        if video and not YOUTUBE_VIDEO_ID.match(video):
            raise ValueError(f"{value!r} is not a YouTube video id or URL")
        return video

    @field_validator("channel_id")
    @classmethod
    def _channel(cls, value: str) -> str:
        value = value.strip().rstrip("/").rpartition("/")[2]
        if value and not YOUTUBE_CHANNEL_ID.match(value):
            raise ValueError(
                f"{value!r} is not a channel id: it starts with UC and has 24 characters "
                "(youtube.com/account_advanced shows yours)"
            )
        return value


class LiveConfig(Section):
    proxy_url: str = F(
        DEFAULT_PROXY_URL,
        en="The stage endpoint of `kagura serve` that the clients feed. `--proxy-url` "
        "overrides it.",
        zh="平台客户端要连接的 `kagura serve` 舞台端点。`--proxy-url` 会覆盖此项。",
    )
    token: str = F(
        "",
        en="The platform token (printed by `kagura tokens`) presented to the stage. Empty: "
        "the KAGURA_PLATFORM_TOKEN environment variable, else one derived from this file's "
        "admin token (system.auth_token, KAGURA_AUTH_TOKEN or the token the server saved in "
        "data_dir), else none (a loopback server that requires no token). `--token` "
        "overrides it.",
        zh="向舞台出示的平台令牌（由 `kagura tokens` 打印）。留空：使用环境变量 "
        "KAGURA_PLATFORM_TOKEN；否则由本文件的管理员令牌（system.auth_token、KAGURA_AUTH_TOKEN "
        "或服务器保存在 data_dir 中的令牌）推导；否则不使用令牌（不要求令牌的本机服务器）。"
        "`--token` 会覆盖此项。",
    )
    buffer_events: int = F(
        1000,
        en="Events kept while the stage is unreachable, sent once it is back; when full, the "
        "oldest are dropped (and counted).",
        zh="舞台无法连接时暂存的事件数，恢复连接后发送；满了就丢弃最旧的（并计数）。",
        ge=1,
        le=100_000,
    )
    watchdog_s: float = F(
        75,
        en="Reconnect to a platform that has sent nothing (not even a heartbeat reply) for "
        "this many seconds.",
        zh="平台连续这么多秒没有任何数据（包括心跳回复）时重新连接。",
        gt=0,
        le=3600,
    )
    backoff_initial_s: float = F(
        1,
        en="First wait before reconnecting (to the platform or the stage); it doubles on "
        "each failure, with random jitter.",
        zh="重新连接（平台或舞台）前的首次等待；每次失败加倍，并带随机抖动。",
        gt=0,
        le=600,
    )
    backoff_max_s: float = F(
        60,
        en="Longest wait between reconnection attempts.",
        zh="两次重连尝试之间的最长等待。",
        gt=0,
        le=3600,
    )
    status_interval_s: float = F(
        60,
        en="Seconds between status lines (events in, sent, dropped; reconnects). 0: none.",
        zh="状态行的间隔秒数（收到、发送、丢弃的事件；重连次数）。0 表示不输出。",
        ge=0,
        le=86_400,
    )
    forward_entries: bool = F(
        False,
        en="Pass on viewers entering the room (the stage does not answer them).",
        zh="转发观众进入直播间的事件（舞台不会回应它们）。",
    )
    forward_likes: bool = F(
        False,
        en="Pass on likes (the stage does not answer them).",
        zh="转发点赞事件（舞台不会回应它们）。",
    )
    bilibili: BilibiliConfig = F(
        default_factory=BilibiliConfig,
        en="Bilibili through its web danmaku protocol (`kagura live bilibili`).",
        zh="通过网页弹幕协议连接 B 站（`kagura live bilibili`）。",
    )
    bilibili_open: BilibiliOpenConfig = F(
        default_factory=BilibiliOpenConfig,
        en="Bilibili through the official open platform (`kagura live bilibili-open`): "
        "names are never masked, but it needs an app's keys and the streamer's identity code.",
        zh="通过官方直播开放平台连接 B 站（`kagura live bilibili-open`）：名字不会被隐藏，"
        "但需要应用的密钥和主播身份码。",
    )
    twitch: TwitchConfig = F(
        default_factory=TwitchConfig,
        en="Twitch chat over IRC/WebSocket (`kagura live twitch`): anonymous by default.",
        zh="通过 IRC/WebSocket 连接 Twitch 聊天（`kagura live twitch`）：默认匿名。",
    )
    youtube: YouTubeConfig = F(
        default_factory=YouTubeConfig,
        en="YouTube live chat through the Data API v3 (`kagura live youtube`): needs an API "
        "key, and polls within a daily quota.",
        zh="通过 Data API v3 读取 YouTube 直播聊天（`kagura live youtube`）：需要 API 密钥，"
        "并在每日配额内轮询。",
    )

    @model_validator(mode="after")
    def _backoff_order(self) -> LiveConfig:
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError(
                f"backoff_max_s ({self.backoff_max_s:g}) must be at least backoff_initial_s "
                f"({self.backoff_initial_s:g})"
            )
        return self
