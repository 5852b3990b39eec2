"""Settings that mean the same thing in several sections, declared once.

Each is an annotated type that carries the description (English and Chinese) and the
bounds; a section uses it as the field's type and gives its own default, e.g.
``ca_file: CaFile = ""``. The words and limits then cannot drift apart between sections.
One shared only within a module stays there (``ModelName`` in engines, ``Heartbeat`` in live).
"""

from __future__ import annotations

from typing import Annotated

from .fields import F

# --- the live-platform clients (`live.<platform>`) ------------------------------------

CaFile = Annotated[
    str,
    F(
        en="Extra CA certificate (PEM) to trust for TLS, e.g. a test certificate. "
        "`--ca-file` overrides it.",
        zh="额外信任的 CA 证书（PEM），例如测试证书。`--ca-file` 会覆盖此项。",
    ),
]

HttpTimeout = Annotated[
    float,
    F(
        en="Deadline of each HTTP call to the platform, in seconds.",
        zh="每次调用平台 HTTP 接口的超时（秒）。",
        gt=0,
        le=120,
    ),
]

ReplyInChat = Annotated[
    bool,
    F(
        en="Also post the character's finished replies (after the safety guard and the "
        "stream delay) in the platform's chat, from the logged-in account, for viewers "
        "without sound.",
        zh="同时用已登录账号把角色说完的回复（经过安全检查与直播延迟之后）发到平台聊天里，"
        "方便没开声音的观众。",
    ),
]

ReplyMaxChars = Annotated[
    int,
    F(
        en="Longest chat line the account may send: replies are cut into lines this long, at "
        "sentence ends where possible.",
        zh="该账号可发送的最长聊天消息：回复按此长度分行，尽量在句末断开。",
        ge=5,
        le=500,
    ),
]

ReplyInterval = Annotated[
    float,
    F(
        en="Least time between two chat lines the client sends (the platform refuses faster "
        "ones).",
        zh="客户端发送两条聊天消息之间的最短间隔（更快会被平台拒绝）。",
        ge=0.5,
        le=60,
    ),
]

ReplyMaxPending = Annotated[
    int,
    F(
        en="Most reply lines waiting to be sent; beyond it the oldest are dropped (counted).",
        zh="等待发送的回复行上限；超出时丢弃最旧的（并计数）。",
        ge=1,
        le=500,
    ),
]

# --- the server's push channels (`stage`, `widget`) -----------------------------------

ClientQueue = Annotated[
    int,
    F(
        en="Messages buffered for one client; a client this far behind is disconnected "
        "(close code 1013).",
        zh="每个客户端的发送缓冲条数；落后这么多的客户端会被断开（关闭码 1013）。",
        ge=4,
        le=10_000,
    ),
]
