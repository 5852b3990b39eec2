"""The configuration schema: one pydantic model per section of ``conf.yaml``.

Every model forbids unknown keys, so a typo in the YAML file is reported instead of
silently falling back to a default. Every field carries an English description and a
Chinese one (``json_schema_extra["description_zh"]``); the commented default files are
rendered from them, so the schema is the single source of truth for the documentation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import PrivateAttr, field_validator

from .engines import ASRConfig, LLMConfig, VADConfig
from .fields import F, Section
from .live import LiveConfig
from .memory import MemoryConfig
from .perform import PerformConfig
from .safety import SafetyConfig
from .stage import StageConfig
from .tts import TTSConfig
from .voice import VoiceConfig
from .widget import WidgetConfig

DEFAULT_PERSONA = (
    "You are Kagura, a cheerful and curious virtual streamer who loves chatting with viewers. "
    "Be warm, playful and kind, and keep the conversation flowing. "
    "Keep your answers short, in plain spoken language, without emojis, lists or markdown, "
    "because everything you write is read aloud."
)


# --- system -----------------------------------------------------------------------------


def is_origin(value: str) -> bool:
    """A browser origin as sent in the Origin header: scheme://host[:port] (file:// has no
    host), `null` for opaque origins, or `*` for any."""
    if value in ("*", "null"):
        return True
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return False
    has_host = bool(parts.netloc) or parts.scheme == "file"
    return bool(parts.scheme) and has_host and parts.path in ("", "/") and not parts.query


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
        "generated on first start and saved in data_dir/auth_token (`kagura tokens` prints it).",
        zh="/client-ws 与 /proxy-ws 客户端提供的令牌（?token=... 或 'Authorization: Bearer' "
        "请求头）。服务器监听本机以外的地址时必须提供。留空：使用环境变量 KAGURA_AUTH_TOKEN，"
        "否则在首次启动时生成并保存到 data_dir/auth_token（用 `kagura tokens` 查看）。",
    )
    require_token_on_loopback: bool = F(
        False,
        en="Also require the token from clients on this machine (127.0.0.1 / ::1).",
        zh="本机（127.0.0.1 / ::1）的客户端也必须提供令牌。",
    )
    allowed_origins: list[str] = F(
        default_factory=list,
        en="Extra browser origins allowed to connect to /client-ws and /proxy-ws (and to load "
        "the files below), e.g. http://127.0.0.1:18000 for a frontend served elsewhere, "
        "app://... or null for a desktop app (null: pages opened from file://). Pages from "
        "this machine and from this server are always allowed.",
        zh="额外允许连接 /client-ws 与 /proxy-ws（并加载下列文件）的浏览器来源，例如另行托管的前端 "
        "http://127.0.0.1:18000，桌面应用的 app://... 或 null（null：从 file:// 打开的页面）。"
        "本机页面和本服务器自己的页面总是允许的。",
    )
    cors_origins: list[str] = F(
        default_factory=list,
        en="Extra browser origins that may load the public files (Live2D models, backgrounds, "
        "avatars, the pages' scripts) from another site, besides this machine's pages, this "
        "server's own and allowed_origins. '*' lets every site load them; it never opens "
        "the WebSocket endpoints.",
        zh="额外允许从其他网站加载公开文件（Live2D 模型、背景、头像、页面脚本）的浏览器来源；"
        "本机页面、本服务器自己的页面和 allowed_origins 之外的来源。'*' 允许所有网站加载这些文件，"
        "但不会开放 WebSocket 端点。",
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
        "live2d-models",
        en="Directory of Live2D models, served at /live2d-models. Models are registered in "
        "its model_dict.json, or in the one beside it (the Open-LLM-VTuber layout).",
        zh="Live2D 模型所在目录，在 /live2d-models 提供。模型登记在其中的 model_dict.json，"
        "或与它同级的 model_dict.json（Open-LLM-VTuber 的布局）。",
    )
    avatars_dir: str = F(
        "avatars",
        en="Directory of avatar images, served at /avatars.",
        zh="头像图片所在目录，在 /avatars 提供。",
    )
    frontend_dir: str = F(
        "",
        en="A prebuilt web frontend (a folder with an index.html, e.g. Open-LLM-VTuber's "
        "frontend folder) served at /. Empty: / opens Kagura's stage page, /stage.",
        zh="在 / 提供的预构建网页前端（含 index.html 的文件夹，例如 Open-LLM-VTuber 的 frontend "
        "文件夹）。留空：/ 打开 Kagura 的舞台页面 /stage。",
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
    max_connections_per_address: int = F(
        64,
        en="Most connections (HTTP and WebSocket) open at once from one address; more are "
        "cut at once. Raise it for load tests from this machine.",
        zh="同一地址可同时打开的最多连接数（HTTP 与 WebSocket）；超出的连接会被立即断开。"
        "在本机做压力测试时可调高。",
        ge=1,
        le=100_000,
    )
    handshake_timeout_s: float = F(
        10.0,
        en="Seconds a client has to send a request's headers (a WebSocket's upgrade included); "
        "slower connections are cut.",
        zh="客户端发送请求头（包括 WebSocket 升级请求）的最长时间（秒）；更慢的连接会被断开。",
        gt=0,
        le=300,
    )
    stalled_send_timeout_s: float = F(
        20.0,
        en="Seconds a client may take no data at all while the server has some for it; then "
        "its connection is cut (a client that stopped reading holds no memory or socket).",
        zh="服务器有数据待发送而客户端完全不接收的最长时间（秒）；之后断开该连接"
        "（停止读取的客户端不再占用内存和套接字）。",
        gt=0,
        le=3600,
    )
    history_max_messages: int = F(
        1000,
        en="Most messages sent to a client in one history-data message.",
        zh="一条 history-data 消息中最多发送的消息条数。",
        ge=1,
        le=100_000,
    )

    @field_validator("allowed_origins", "cors_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if not is_origin(origin):
                raise ValueError(
                    f"{origin!r} is not a browser origin: write scheme://host[:port] without "
                    "a path (http://127.0.0.1:18000, https://example.com, app://my-app), "
                    "null (pages opened from file://) or *"
                )
        return origins


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
    topics: list[str] = F(
        default_factory=list,
        en="Topics for idle talk on the stage (stage.idle_after_s): each is used at most "
        "once a stream; then idle talk draws on long-term memory.",
        zh="舞台闲聊的话题（stage.idle_after_s）：每场直播每个话题最多用一次；"
        "用完后闲聊取材于长期记忆。",
        max_length=1000,
    )


# --- conversation -----------------------------------------------------------------------


class ConversationConfig(Section):
    short_sentence_words: int = F(
        5,
        en="After the first segment, a sentence with fewer words than this (a CJK character "
        "counts as half a word) waits to be spoken together with the next one, as long as "
        "merge_ahead_s of audio is still to play. 0 never merges. The first segment is always "
        "cut at the first clause boundary, however short, so speech starts at once.",
        zh="第一段之后，少于这么多词的句子（一个汉字算半个词）会与下一句合并朗读，前提是还有 "
        "merge_ahead_s 秒的音频待播放。0 表示从不合并。第一段总是在第一个分句处切分，无论多短，"
        "让角色立刻开口。",
        ge=0,
        le=100,
    )
    merge_ahead_s: float = F(
        1.5,
        en="Seconds of audio that must still be queued to play before a short sentence waits "
        "for the next one; with less, it is spoken at once so playback never pauses.",
        zh="短句等待与下一句合并时，至少还要有这么多秒的音频待播放；不足时立即朗读，避免播放中断。",
        ge=0,
        le=60,
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
    turn_timeout_s: float = F(
        300,
        en="Longest one /client-ws turn may take, playback wait included, before it is "
        "stopped (the stage has its own, stage.turn_timeout_s).",
        zh="/client-ws 上一轮对话（包括等待播放）的最长时间，超时即停止"
        "（舞台另有 stage.turn_timeout_s）。",
        gt=0,
        le=3600,
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
    voice: VoiceConfig = F(
        default_factory=VoiceConfig,
        en="Spoken input: pre-roll, end of turn, and interrupting the character by voice.",
        zh="语音输入：预录、本轮结束判断，以及用语音打断角色。",
    )
    conversation: ConversationConfig = F(
        default_factory=ConversationConfig,
        en="How replies are split into spoken segments and paced.",
        zh="回复如何切分为语音片段以及播放节奏。",
    )
    live: LiveConfig = F(
        default_factory=LiveConfig,
        en="Live-platform clients (`kagura live ...`): where the stage is, buffering, "
        "reconnecting, and each platform's settings.",
        zh="直播平台客户端（`kagura live ...`）：舞台地址、缓冲、重连以及各平台的设置。",
    )
    stage: StageConfig = F(
        default_factory=StageConfig,
        en="The shared stage (/proxy-ws): live chat queueing, flood policy and broadcast.",
        zh="共享舞台（/proxy-ws）：直播弹幕排队、防刷屏策略与广播。",
    )
    widget: WidgetConfig = F(
        default_factory=WidgetConfig,
        en="The widget channel: replies and status lines pushed to Live2D widget pages.",
        zh="小部件通道：把回复和状态推送到 Live2D 小部件页面。",
    )
    perform: PerformConfig = F(
        default_factory=PerformConfig,
        en="The character on the streamer's own avatar app (`kagura perform vts`: VTube "
        "Studio), its voice on a sound device (see docs/avatars.md).",
        zh="在主播自己的形象软件上表演角色（`kagura perform vts`：VTube Studio），"
        "语音从声音设备播放（见 docs/avatars.md）。",
    )
    memory: MemoryConfig = F(
        default_factory=MemoryConfig,
        en="Long-term memory: viewer profiles, facts and stream summaries, recalled into the "
        "prompt (see docs/memory.md).",
        zh="长期记忆：观众档案、事实与直播摘要，回忆进提示词（见 docs/memory.md）。",
    )
    safety: SafetyConfig = F(
        default_factory=SafetyConfig,
        en="Live safety: what the character may say on stream. Every segment of a reply "
        "passes these lists before it is spoken (see docs/safety.md).",
        zh="直播安全：角色在直播中可以说什么。回复的每个片段在朗读前都要通过这些词表"
        "（见 docs/safety.md）。",
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
