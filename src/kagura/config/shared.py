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
