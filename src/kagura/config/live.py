"""The `live` section: the live-platform client processes (`kagura live ...`).

Each platform client is its own process: it reads one platform's chat and feeds the stage
through `/proxy-ws`. What every client shares (where the stage is, its token, buffering,
reconnecting) is set once here; each platform adds one sub-section. Every outside endpoint
is a setting, so a local fake (tests) or a mirror can stand in for the real service.

Secrets (`token`, `bilibili.sessdata`, `bilibili_open.access_key_secret`, the identity code,
`twitch.token`, `youtube.api_key`, `youtube.oauth_client_secret`) are best written as
`${VAR}` and set in the environment; the clients never log them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from .fields import F, Section
from .live_twitch import TwitchConfig
from .live_youtube import YouTubeConfig
from .shared import (
    CaFile,
    HttpTimeout,
    ReplyInChat,
    ReplyInterval,
    ReplyMaxChars,
    ReplyMaxPending,
)

DEFAULT_PROXY_URL = "ws://127.0.0.1:12393/proxy-ws"
# Bilibili signs the danmaku token for the User-Agent of the HTTP calls, so the WebSocket
# must present the same one; a current desktop browser's is the least conspicuous.
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/147.0.0.0 Safari/537.36"
)

# Bilibili's published public key for the cookie refresh (the DER body of its PEM).
BILIBILI_REFRESH_KEY = (
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDLgd2OAkcGVtoE3ThUREbio0EgUc/prcajMKXvkCKFCWhJYJcL"
    "kcM2DKKcSeFpD/j6Boy538YXnR6VhcuUJOhH2x71nzPjfdTcqMz7djHum0qSZA0AyCBDABUqCrfNgCiJ00Ra7GmR"
    "j+YCK1NJEuewlb40JNrRuoEUXpabUzGB8QIDAQAB"
)

# Both Bilibili clients keep their danmaku WebSocket alive the same way.
Heartbeat = Annotated[
    float,
    F(
        en="Seconds between heartbeats on the danmaku connection (WebSocket).",
        zh="弹幕连接（WebSocket）上发送心跳的间隔（秒）。",
        gt=0,
        le=300,
    ),
]


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
    bili_jct: str = F(
        "",
        en="bili_jct cookie of the same login as sessdata: needed only to post the "
        "character's replies in chat (reply_in_chat). Secret: write ${BILIBILI_BILI_JCT}.",
        zh="与 sessdata 同一登录的 bili_jct Cookie：只有在弹幕中发送角色回复（reply_in_chat）时"
        "需要。这是机密：请写成 ${BILIBILI_BILI_JCT}。",
    )
    reply_in_chat: ReplyInChat = False  # into the first room of room_ids
    reply_max_chars: ReplyMaxChars = 20  # most accounts; more with a higher user level
    reply_interval_s: ReplyInterval = 2.0
    reply_max_pending: ReplyMaxPending = 20
    login_file: str = F(
        "",
        en="Where `kagura live bilibili login` keeps the account's cookies and refresh "
        "token (readable only by you); used when sessdata is empty. Empty: "
        "data_dir/bilibili-login.json. Delete the file to log out.",
        zh="`kagura live bilibili login` 保存账号 Cookie 与 refresh_token 的文件（仅本人可读）；"
        "sessdata 为空时使用。留空表示 data_dir/bilibili-login.json。删除该文件即退出登录。",
    )
    passport_api: str = F(
        "https://passport.bilibili.com",
        en="Base URL of Bilibili's passport (QR-code login, cookie refresh). "
        "`--passport-api` overrides it.",
        zh="B 站通行证接口的基础地址（扫码登录、Cookie 刷新）。`--passport-api` 会覆盖此项。",
    )
    refresh_key: str = F(
        BILIBILI_REFRESH_KEY,
        en="Bilibili's RSA public key (base64 DER) that encrypts the cookie refresh's "
        "correspond path; change it only for a stand-in service.",
        zh="B 站用于加密 Cookie 刷新 correspond 路径的 RSA 公钥（base64 DER）；"
        "仅在使用替身服务时修改。",
    )
    refresh_every_h: float = F(
        4.0,
        en="Hours between checks whether the logged-in cookies need refreshing (also "
        "checked at start).",
        zh="检查登录 Cookie 是否需要刷新的间隔（小时；启动时也会检查）。",
        gt=0,
        le=72,
    )
    login_poll_s: float = F(
        1.0,
        en="Seconds between asks whether the login QR code was scanned.",
        zh="询问登录二维码是否已扫描的间隔（秒）。",
        ge=0.05,
        le=10,
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
    home_url: str = F(
        "https://www.bilibili.com/",
        en="Bilibili's home page: its buvid3 cookie is used when the buvid endpoint "
        "(finger/spi) refuses. `--home-url` overrides it.",
        zh="B 站首页：buvid 接口（finger/spi）拒绝时，使用首页下发的 buvid3 Cookie。"
        "`--home-url` 会覆盖此项。",
    )
    fallback_url: str = F(
        "wss://broadcastlv.chat.bilibili.com:443/sub",
        en="Danmaku server used when getDanmuInfo fails (anonymous: names masked).",
        zh="getDanmuInfo 失败时使用的弹幕服务器（匿名连接：名字会被隐藏）。",
    )
    ca_file: CaFile = ""
    user_agent: str = F(
        BROWSER_USER_AGENT,
        en="User-Agent of every HTTP and WebSocket request (the same on both, as Bilibili "
        "expects).",
        zh="所有 HTTP 与 WebSocket 请求使用的 User-Agent（两者必须一致）。",
    )
    heartbeat_s: Heartbeat = 30
    mirrored_danmaku: bool = F(
        False,
        en="Also pass on DANMU_MSG_MIRROR: danmaku mirrored from another room (not this "
        "room's viewers).",
        zh="也转发 DANMU_MSG_MIRROR：从其他直播间同步过来的弹幕（不是本房间观众发的）。",
    )
    http_timeout_s: HttpTimeout = 10


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
    ca_file: CaFile = ""
    heartbeat_s: Heartbeat = 30
    game_heartbeat_s: float = F(
        20,
        en="Seconds between the app heartbeats the open platform requires (HTTP).",
        zh="开放平台要求的应用心跳（HTTP）间隔（秒）。",
        gt=0,
        le=60,
    )
    http_timeout_s: HttpTimeout = 10


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
        True,
        en="Pass on viewers entering the room: the stage greets arrivals in batches "
        "(stage.greet_every_s), never answering each one.",
        zh="转发观众进入直播间的事件：舞台会分批问候新到的观众（stage.greet_every_s），"
        "不会逐条回应。",
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
