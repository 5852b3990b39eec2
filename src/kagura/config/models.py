"""The configuration schema: one pydantic model per section of ``conf.yaml``.

Every model forbids unknown keys, so a typo in the YAML file is reported instead of
silently falling back to a default. Every field carries an English description and a
Chinese one (``json_schema_extra["description_zh"]``); the commented default files are
rendered from them, so the schema is the single source of truth for the documentation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import PrivateAttr

from .engines import ASRConfig, LLMConfig, TTSConfig, VADConfig
from .fields import F, Section
from .widget import WidgetConfig

DEFAULT_PERSONA = (
    "You are Kagura, a cheerful and curious virtual streamer who loves chatting with viewers. "
    "Be warm, playful and kind, and keep the conversation flowing. "
    "Answer in one to three short sentences of plain spoken language, without emojis, "
    "lists or markdown, because everything you write is read aloud."
)


# --- system -----------------------------------------------------------------------------


class SystemConfig(Section):
    host: str = F(
        "127.0.0.1",
        en="Address the server listens on. Use 0.0.0.0 to accept other machines.",
        zh="服务器监听的地址。设为 0.0.0.0 可接受其他机器的连接。",
    )
    port: int = F(12393, en="TCP port of the server.", zh="服务器的 TCP 端口。", ge=1, le=65535)
    auth_token: str = F(
        "",
        en="Token that /client-ws and /proxy-ws clients present (?token=... or an "
        "'Authorization: Bearer' header). It is required when the server listens beyond "
        "this machine. Empty: use the KAGURA_AUTH_TOKEN environment variable, else a token "
        "generated on first start, saved in data_dir/auth_token and printed.",
        zh="/client-ws 与 /proxy-ws 客户端提供的令牌（?token=... 或 'Authorization: Bearer' "
        "请求头）。服务器监听本机以外的地址时必须提供。留空：使用环境变量 KAGURA_AUTH_TOKEN，"
        "否则在首次启动时生成、保存到 data_dir/auth_token 并打印出来。",
    )
    require_token_on_loopback: bool = F(
        False,
        en="Also require the token from clients on this machine (127.0.0.1 / ::1).",
        zh="本机（127.0.0.1 / ::1）的客户端也必须提供令牌。",
    )
    allowed_origins: list[str] = F(
        default_factory=list,
        en="Extra browser origins allowed to connect, e.g. https://example.com.",
        zh="额外允许连接的浏览器来源，例如 https://example.com。",
    )
    data_dir: str = F(
        "data",
        en="Directory for runtime data such as the SQLite chat history.",
        zh="运行数据目录，例如 SQLite 聊天记录。",
    )
    characters_dir: str = F(
        "characters",
        en="Directory of character presets (*.yaml).",
        zh="角色预设（*.yaml）所在目录。",
    )
    backgrounds_dir: str = F(
        "backgrounds", en="Directory of background images.", zh="背景图片所在目录。"
    )
    models_dir: str = F(
        "live2d-models", en="Directory of Live2D models.", zh="Live2D 模型所在目录。"
    )
    log_level: Literal["debug", "info", "warning", "error"] = F(
        "info", en="How much the server logs.", zh="日志详细程度。"
    )
    max_frame_bytes: int = F(
        4_000_000,
        en="Largest WebSocket frame accepted, in bytes.",
        zh="可接受的最大 WebSocket 帧（字节）。",
        ge=1024,
        le=268_435_456,
    )
    history_max_messages: int = F(
        1000,
        en="Most messages sent to a client in one history-data message.",
        zh="一条 history-data 消息中最多发送的消息条数。",
        ge=1,
        le=100_000,
    )


# --- character --------------------------------------------------------------------------


class CharacterConfig(Section):
    conf_name: str = F(
        "Kagura",
        en="Name of this character configuration, shown in the preset list.",
        zh="此角色配置的名称，显示在预设列表中。",
        min_length=1,
    )
    conf_uid: str = F(
        "kagura-default",
        en="Stable unique id of this character; chat history is stored under it.",
        zh="此角色的固定唯一 ID，聊天记录按它保存。",
        min_length=1,
    )
    name: str = F("Kagura", en="The AI's display name.", zh="AI 的显示名称。", min_length=1)
    avatar: str = F(
        "",
        en="Avatar image shown in the chat. Empty means none.",
        zh="聊天中显示的头像图片。留空表示不使用。",
    )
    human_name: str = F(
        "Human", en="Display name of the human speaker.", zh="人类说话者的显示名称。"
    )
    persona: str = F(
        DEFAULT_PERSONA,
        en="System prompt describing who the character is and how it speaks.",
        zh="描述角色身份与说话方式的系统提示词。",
    )
    live2d_model: str = F(
        "haru",
        en="Name of the Live2D model (a folder in system.models_dir).",
        zh="Live2D 模型名称（system.models_dir 中的文件夹）。",
    )


# --- conversation -----------------------------------------------------------------------


class ConversationConfig(Section):
    first_segment_min_words: int = F(
        3,
        en="The first spoken segment is cut at the first clause boundary once it has "
        "this many words, so speech starts early.",
        zh="第一段语音达到这么多词后在第一个分句处切分，让角色尽早开口。",
        ge=1,
        le=50,
    )
    max_segment_chars: int = F(
        220,
        en="Longest segment sent to TTS, in characters.",
        zh="发送给 TTS 的最长片段（字符数）。",
        ge=20,
        le=2000,
    )
    playback_margin_s: float = F(
        3.0,
        en="Seconds added to the remaining audio time when waiting for the client's "
        "playback acknowledgement.",
        zh="等待客户端播放确认时，在剩余音频时长之外额外等待的秒数。",
        ge=0,
        le=60,
    )
    playback_timeout_max_s: float = F(
        120,
        en="Longest wait for a playback acknowledgement, in seconds.",
        zh="等待播放确认的最长时间（秒）。",
        gt=0,
        le=3600,
    )


# --- placeholders for later work --------------------------------------------------------


class LiveConfig(Section):
    enabled: bool = F(False, en="Read chat from live platforms.", zh="从直播平台读取弹幕。")


class LaneConfig(Section):
    capacity: int = F(
        50,
        en="Most events waiting in this lane; at the limit the oldest is dropped.",
        zh="此通道最多排队的事件数；满了就丢弃最旧的一条。",
        ge=1,
        le=10_000,
    )
    ttl_s: float = F(
        30,
        en="Seconds an event may wait; older ones are dropped instead of answered late.",
        zh="事件最多等待的秒数；超时的事件被丢弃，而不是迟到地回答。",
        gt=0,
        le=86_400,
    )


def _lane(capacity: int, ttl_s: float) -> Any:
    return lambda: LaneConfig(capacity=capacity, ttl_s=ttl_s)


class LanesConfig(Section):
    """The stage's queues, highest priority first: a lane is served only when every lane
    above it is empty."""

    streamer: LaneConfig = F(
        default_factory=_lane(20, 300),
        en="Text from the streamer (admin clients).",
        zh="主播（管理员客户端）发送的文字。",
    )
    superchat: LaneConfig = F(
        default_factory=_lane(100, 900),
        en="Super chats: always answered by the LLM.",
        zh="醒目留言（SC）：总是由 LLM 回答。",
    )
    membership: LaneConfig = F(
        default_factory=_lane(50, 300),
        en="Memberships and guards (舰长).",
        zh="会员与大航海（舰长等）。",
    )
    gift: LaneConfig = F(
        default_factory=_lane(100, 120), en="Gifts and follows.", zh="礼物与关注。"
    )
    danmaku: LaneConfig = F(
        default_factory=_lane(50, 30), en="Plain chat (danmaku).", zh="普通弹幕。"
    )
    idle: LaneConfig = F(
        default_factory=_lane(1, 10),
        en="Idle talk: a topic the character starts itself.",
        zh="闲聊：角色自己开启的话题。",
    )


class StageConfig(Section):
    enabled: bool = F(True, en="Serve the stage page.", zh="提供舞台页面。")
    lanes: LanesConfig = F(
        default_factory=LanesConfig,
        en="Priority lanes of the chat queue: capacity and time-to-live of each.",
        zh="弹幕队列的优先级通道：每个通道的容量与存活时间。",
    )
    dedup_window_s: float = F(
        10,
        en="The same text from the same user within this many seconds is answered once.",
        zh="同一用户在这么多秒内发送的相同文字只回答一次。",
        ge=0,
        le=3600,
    )
    user_rate_per_min: float = F(
        6,
        en="Chat messages per minute one viewer may queue (gifts and super chats are "
        "not limited). 0 means no limit.",
        zh="每位观众每分钟最多可排队的弹幕数（礼物和醒目留言不受限制）。0 表示不限制。",
        ge=0,
        le=6000,
    )
    user_burst: int = F(
        3,
        en="Chat messages a viewer may send at once before the rate limit applies.",
        zh="速率限制生效前，观众可一次连续发送的弹幕数。",
        ge=1,
        le=1000,
    )
    blocked_users: list[str] = F(
        default_factory=list,
        en="Viewer names or ids whose events are ignored.",
        zh="忽略其事件的观众名称或 ID。",
    )
    blocked_words: list[str] = F(
        default_factory=list,
        en="Events whose text contains any of these words (any case) are ignored.",
        zh="文字中包含任一这些词（不区分大小写）的事件会被忽略。",
    )
    ignore_prefix: str = F(
        "#",
        en="Chat starting with this prefix is not answered. Empty disables it.",
        zh="以此前缀开头的弹幕不回答。留空表示不启用。",
        max_length=8,
    )
    max_text_chars: int = F(
        200,
        en="Longer viewer text is dropped (streamer text is not limited).",
        zh="超过此长度的观众文字会被丢弃（主播文字不受限制）。",
        ge=1,
        le=4000,
    )
    batch_max: int = F(
        4,
        en="Most waiting chat messages answered together in one turn, naming the viewers. "
        "1 answers one at a time.",
        zh="一轮中最多合并回答的排队弹幕数，回答时会提到观众的名字。1 表示逐条回答。",
        ge=1,
        le=20,
    )
    batch_min: int = F(
        3,
        en="Chat messages that must be waiting before they are answered together.",
        zh="至少有这么多条弹幕在排队时才合并回答。",
        ge=2,
        le=20,
    )
    gift_llm_min_amount: float = F(
        10,
        en="Gifts worth less than this (in their currency) get a template thank-you "
        "without the LLM; 0 sends every gift to the LLM.",
        zh="价值低于此数（按其货币计）的礼物使用模板致谢，不调用 LLM；0 表示所有礼物都交给 LLM。",
        ge=0,
    )
    gift_thanks: str = F(
        "Thank you {names} for the {gifts}!",
        en="Template thank-you for small gifts and follows; {names} and {gifts} are "
        "filled in.",
        zh="小礼物与关注的模板致谢；会填入 {names} 和 {gifts}。",
        max_length=300,
    )
    idle_after_s: float = F(
        0,
        en="After this many seconds without chat the character starts a topic itself. "
        "0 disables idle talk.",
        zh="这么多秒没有弹幕后，角色会自己开启话题。0 表示不启用。",
        ge=0,
        le=86_400,
    )
    turn_timeout_s: float = F(
        300,
        en="Longest one stage turn may take, playback wait included, before it is stopped.",
        zh="舞台上一轮对话（包括等待播放）的最长时间，超时即停止。",
        gt=0,
        le=3600,
    )
    client_queue_frames: int = F(
        128,
        en="Messages buffered for one stage client; a client this far behind is "
        "disconnected (close code 1013).",
        zh="每个舞台客户端的发送缓冲条数；落后这么多的客户端会被断开（关闭码 1013）。",
        ge=4,
        le=10_000,
    )
    stats_log_interval_s: float = F(
        60,
        en="How often the stage's event counters are logged, in seconds. 0 disables it.",
        zh="记录舞台事件计数的间隔（秒）。0 表示不记录。",
        ge=0,
        le=86_400,
    )


# --- the whole file ---------------------------------------------------------------------


class KaguraConfig(Section):
    """The whole configuration file.

    Relative paths in it are relative to the file's directory (see ``resolve_path``), so
    a config keeps working whatever directory the server is started from.
    """

    system: SystemConfig = F(
        default_factory=SystemConfig,
        en="Server, security and directories.",
        zh="服务器、安全与目录设置。",
    )
    character: CharacterConfig = F(
        default_factory=CharacterConfig,
        en="Who the AI is.",
        zh="AI 的角色设定。",
    )
    llm: LLMConfig = F(
        default_factory=LLMConfig,
        en="The language model that writes replies.",
        zh="生成回复的语言模型。",
    )
    tts: TTSConfig = F(default_factory=TTSConfig, en="Text to speech.", zh="语音合成（TTS）。")
    asr: ASRConfig = F(default_factory=ASRConfig, en="Speech recognition.", zh="语音识别（ASR）。")
    vad: VADConfig = F(
        default_factory=VADConfig,
        en="Voice activity detection: when the human starts and stops talking.",
        zh="语音活动检测：判断人何时开始和停止说话。",
    )
    conversation: ConversationConfig = F(
        default_factory=ConversationConfig,
        en="How replies are split into spoken segments and paced.",
        zh="回复如何切分为语音片段以及播放节奏。",
    )
    live: LiveConfig = F(default_factory=LiveConfig, en="Live platform chat.", zh="直播平台弹幕。")
    stage: StageConfig = F(default_factory=StageConfig, en="The stage page.", zh="舞台页面。")
    widget: WidgetConfig = F(
        default_factory=WidgetConfig,
        en="The widget channel: replies and status lines pushed to Live2D widget pages.",
        zh="小部件通道：把回复和状态推送到 Live2D 小部件页面。",
    )

    # Directory of the file this config was loaded from; None means "use the CWD".
    _base_dir: Path | None = PrivateAttr(default=None)

    @property
    def base_dir(self) -> Path:
        """Directory that relative paths are resolved against."""
        return self._base_dir if self._base_dir is not None else Path.cwd()

    def resolve_path(self, p: str) -> Path:
        """Turn a path from the config into one usable from any working directory.

        Absolute paths (and ``~``) are kept; relative paths are joined to the config
        file's directory, or to the current directory when there is no file.
        """
        path = Path(p).expanduser()
        if path.is_absolute():
            return path
        return self.base_dir / path
