"""`live.youtube`: YouTube live chat through the Data API v3 (`kagura live youtube`)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator

from .fields import F, Section
from .shared import CaFile, HttpTimeout, ReplyInChat, ReplyInterval, ReplyMaxChars, ReplyMaxPending

# The 11-character id in youtube.com/watch?v=ID, youtu.be/ID, youtube.com/live/ID.
YOUTUBE_VIDEO = re.compile(r"(?:[?&]v=|youtu\.be/|/live/|/shorts/)([A-Za-z0-9_-]{11})")
YOUTUBE_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
YOUTUBE_CHANNEL_ID = re.compile(r"^UC[A-Za-z0-9_-]{22}$")
YOUTUBE_MAX_CHARS = 200  # the longest message YouTube's live chat takes


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
    ca_file: CaFile = ""
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
    http_timeout_s: HttpTimeout = 10
    reply_in_chat: ReplyInChat = False  # needs `kagura live youtube login` first
    reply_max_chars: ReplyMaxChars = YOUTUBE_MAX_CHARS
    reply_interval_s: ReplyInterval = 2.0
    reply_max_pending: ReplyMaxPending = 10
    reply_quota_share: float = F(
        0.25,
        en="Share of quota_per_day that posting replies may spend (each line costs 50 units); "
        "reading chat paces itself on the rest, so replies never starve it. Once the share "
        "is spent, lines are dropped (counted) until the quota resets.",
        zh="发送回复最多可用的 quota_per_day 比例（每行消耗 50 单位）；读取聊天按剩余部分"
        "控制节奏，回复永远不会挤占读取。额度用完后，回复行会被丢弃（并计数），直到配额重置。",
        gt=0,
        le=0.9,
    )
    oauth_client_id: str = F(
        "",
        en="Client id of an OAuth client of type \"TVs and Limited Input devices\" in your "
        "Google Cloud project, for `kagura live youtube login` (needed only to post replies). "
        "When empty, the YOUTUBE_OAUTH_CLIENT_ID environment variable is used.",
        zh="Google Cloud 项目中类型为“电视和输入受限设备”的 OAuth 客户端 ID，用于 "
        "`kagura live youtube login`（只有发送回复时需要）。留空时使用环境变量 "
        "YOUTUBE_OAUTH_CLIENT_ID。",
    )
    oauth_client_secret: str = F(
        "",
        en="That OAuth client's secret. Secret: write ${YOUTUBE_OAUTH_CLIENT_SECRET}; when "
        "empty, that environment variable is used.",
        zh="该 OAuth 客户端的密钥。这是机密：请写成 ${YOUTUBE_OAUTH_CLIENT_SECRET}；留空时"
        "使用该环境变量。",
    )
    oauth_api: str = F(
        "https://oauth2.googleapis.com",
        en="Base URL of Google's OAuth 2.0 server (device login, token refresh). "
        "`--oauth-api` overrides it.",
        zh="Google OAuth 2.0 服务器的基础地址（设备登录、令牌刷新）。`--oauth-api` 会覆盖此项。",
    )
    login_file: str = F(
        "",
        en="Where `kagura live youtube login` keeps the refresh and access tokens (readable "
        "only by you). Empty: data_dir/youtube-login.json. Delete the file to log out.",
        zh="`kagura live youtube login` 保存刷新令牌与访问令牌的文件（仅本人可读）。留空表示 "
        "data_dir/youtube-login.json。删除该文件即退出登录。",
    )

    @field_validator("reply_max_chars")
    @classmethod
    def _youtube_length(cls, value: int) -> int:
        if value > YOUTUBE_MAX_CHARS:
            raise ValueError(f"YouTube takes chat lines of at most {YOUTUBE_MAX_CHARS} characters")
        return value

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
