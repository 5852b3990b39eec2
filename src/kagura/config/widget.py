"""The `widget` section: the seed's small broadcast channel to Live2D widget pages.

Its limits live here (not as constants in the hub) because the right size depends on how
the user runs it: one overlay on a laptop, or many pages behind a reverse proxy.
"""

from __future__ import annotations

from pydantic import model_validator

from .fields import F, Section
from .shared import ClientQueue

DEFAULT_IDLE_TIPS = [
    "I'm here. Say something!",
    "Waiting for the next reply...",
]


class WidgetConfig(Section):
    host: str = F(
        "127.0.0.1",
        en="Address the standalone widget server (`kagura widget serve`) listens on.",
        zh="独立小部件服务器（`kagura widget serve`）监听的地址。",
    )
    port: int = F(
        8765,
        en="Port of the standalone widget WebSocket server.",
        zh="独立小部件 WebSocket 服务器的端口。",
        ge=1,
        le=65535,
    )
    listen_in_serve: bool = F(
        False,
        en="Inside `kagura serve`, also listen on widget.host:widget.port (the page and "
        "programs can always use /widget-ws on the main port).",
        zh="在 `kagura serve` 中也监听 widget.host:widget.port（页面和程序总可以使用主端口上的 "
        "/widget-ws）。",
    )
    publish_stage_replies: bool = F(
        True,
        en="Send every finished stage reply to the widget pages, with its first emotion "
        "as an expression.",
        zh="把舞台的每条完整回复发送到小部件页面，并把其中第一个情绪作为表情发送。",
    )
    duration_ms: int = F(
        8000,
        en="How long a stage reply stays in the widget's speech bubble, in milliseconds.",
        zh="舞台回复在小部件对话气泡中显示的时长（毫秒）。",
        ge=500,
        le=600_000,
    )
    live2d_model: str = F(
        "",
        en="Live2D model of the widget page. Empty: the character's model.",
        zh="小部件页面使用的 Live2D 模型。留空：使用角色的模型。",
    )
    reconnect_attempts: int = F(
        5,
        en="How many times the widget page tries to reconnect before it gives up and "
        "offers a retry button.",
        zh="小部件页面放弃并显示重试按钮之前尝试重新连接的次数。",
        ge=0,
        le=1000,
    )
    idle_tips: list[str] = F(
        default_factory=lambda: list(DEFAULT_IDLE_TIPS),
        en="Lines the widget shows now and then when nothing else is shown. Empty: none.",
        zh="没有其他内容时小部件偶尔显示的提示语。留空：不显示。",
    )
    max_connections_per_address: int = F(
        64,
        en="Most connections open at once from one address on the widget channel's own "
        "port; more are refused (HTTP 429).",
        zh="小部件通道自身端口上同一地址可同时打开的最多连接数；超出的会被拒绝（HTTP 429）。",
        ge=1,
        le=100_000,
    )
    client_queue_messages: ClientQueue = 64
    replay_messages: int = F(
        5,
        en="The last messages replayed to a widget that connects late; at most half of "
        "client_queue_messages. 0 disables replay.",
        zh="向晚连接的小部件重放的最近消息条数；最多为 client_queue_messages 的一半。"
        "0 表示不重放。",
        ge=0,
        le=1000,
    )
    replay_max_age_s: float = F(
        60,
        en="Messages older than this many seconds are not replayed.",
        zh="超过这么多秒的消息不再重放。",
        gt=0,
        le=86_400,
    )
    ack_timeout_s: float = F(
        5,
        en="How long a delivery report waits for the widgets' acknowledgements, in seconds.",
        zh="投递报告等待小部件确认的时长（秒）。",
        gt=0,
        le=600,
    )
    max_pending_acks: int = F(
        256,
        en="Most messages awaiting acknowledgements; at the limit the oldest is reported "
        "as it stands.",
        zh="最多同时等待确认的消息数；满了就按当前状态报告最旧的一条。",
        ge=1,
        le=100_000,
    )
    max_content_chars: int = F(
        2000,
        en="Longest text of one message; longer messages are refused with an error.",
        zh="单条消息文字的最大长度；更长的消息会被拒绝并返回错误。",
        ge=1,
        le=100_000,
    )
    ssl_certfile: str = F(
        "",
        en="PEM certificate for wss:// on the standalone server. Empty: plain ws://.",
        zh="独立服务器 wss:// 使用的 PEM 证书。留空：使用普通 ws://。",
    )
    ssl_keyfile: str = F(
        "",
        en="PEM private key of ssl_certfile (empty if the certificate file holds it).",
        zh="ssl_certfile 的 PEM 私钥（若证书文件已包含私钥则留空）。",
    )
    allowed_origins: list[str] = F(
        default_factory=list,
        en="Extra browser origins allowed to connect to the standalone server, e.g. "
        "https://example.com; '*' allows every origin. Pages from this machine are "
        "always allowed.",
        zh="额外允许连接独立服务器的浏览器来源，例如 https://example.com；'*' 表示允许所有来源。"
        "本机的页面总是允许的。",
    )

    @model_validator(mode="after")
    def _replay_fits_queue(self) -> WidgetConfig:
        # The replay goes through the late widget's own queue: a replay that fills it closes
        # that widget (1013) as it connects, so half the queue stays for live messages.
        if self.replay_messages > self.client_queue_messages // 2:
            raise ValueError(
                f"replay_messages ({self.replay_messages}) must be at most half of "
                f"client_queue_messages ({self.client_queue_messages})"
            )
        return self
